"""The layers import one way: web | cli | queue → actions → site | store → content → domain.

Exactly these edges are allowed (each layer may also import itself), plus:
* `cli` may start `web`, `queue` and `mcp`; `web` mounts `mcp` (at /api/v1/mcp);
* `site` may read from `store`;
* faces (`web`, `cli`, `queue`, and `mcp` and `admin` to come) may use `store.engine` to
  open a unit of work; the records they need live in `domain`;
* every layer may use `errors`; faces and `actions` may use `settings`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "masthead"

FACE = {"actions", "domain", "errors", "settings", "store.engine"}
ALLOWED: dict[str, set[str]] = {
    "domain": {"errors"},
    "content": {"domain", "errors"},
    "store": {"content", "domain", "errors"},
    "site": {"store", "content", "domain", "errors"},
    "actions": {"site", "store", "content", "domain", "errors", "settings", "demo"},
    "queue": FACE,
    "web": FACE | {"mcp"},
    "mcp": FACE,
    "admin": FACE,
    "cli": FACE | {"web", "queue", "mcp"},
    "migrations": {"store"},
    "demo": set(),
}
THIRD_PARTY_IN_DOMAIN = {"anyascii"}


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path.parent != PACKAGE)


def _imports(source: str) -> set[str]:
    """The modules `source` imports; `from a import b` counts as `a.b` when b is a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                inner = f"{node.module}.{alias.name}"
                names.add(inner if _is_module(inner.split(".")[1:]) else node.module)
    return names


def forbidden_imports(layer: str, source: str) -> list[str]:
    """The imports in `source` (a module of `layer`) that the rule does not allow."""
    allowed = ALLOWED[layer] | {layer}
    found = []
    for name in sorted(_imports(source)):
        parts = name.split(".")
        if parts[0] != "masthead" or len(parts) < 2:
            continue
        target = ".".join(parts[1:3]) if parts[1] == "store" and len(parts) > 2 else parts[1]
        if parts[1] not in allowed and target not in allowed:
            found.append(name)
    return found


def _is_module(parts: list[str]) -> bool:
    """Whether `masthead.<parts>` names a package or module (not a name inside one)."""
    path = PACKAGE.joinpath(*parts)
    return path.is_dir() or path.with_suffix(".py").is_file()


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_each_module_imports_only_the_layers_below_it(path: Path) -> None:
    layer = path.relative_to(PACKAGE).parts[0]
    wrong = forbidden_imports(layer, path.read_text(encoding="utf-8"))
    assert wrong == [], f"{path.relative_to(PACKAGE)} ({layer}) imports {wrong}"


def test_the_rule_catches_a_face_reaching_into_the_store() -> None:
    """A deliberately wrong module: a web route reading posts straight from the store."""
    wrong = "from masthead.store.posts import list_posts\nfrom masthead.store import public\n"
    assert forbidden_imports("web", wrong) == ["masthead.store.posts", "masthead.store.public"]
    assert forbidden_imports("domain", "import masthead.store.engine\n") == [
        "masthead.store.engine"
    ]
    allowed = "from masthead.store.engine import UnitOfWork\nfrom masthead.actions import drafts\n"
    assert forbidden_imports("web", allowed) == []


def test_the_domain_does_no_io() -> None:
    io_modules = {"sqlalchemy", "httpx", "fastapi", "starlette", "os", "socket", "subprocess"}
    for path in (PACKAGE / "domain").glob("*.py"):
        roots = {name.split(".")[0] for name in _imports(path.read_text(encoding="utf-8"))}
        assert not roots & io_modules, f"{path.name} imports {roots & io_modules}"
        third_party = {
            root
            for root in roots
            if root not in {"masthead", "__future__"} and root not in sys.stdlib_module_names
        }
        assert third_party <= THIRD_PARTY_IN_DOMAIN, f"{path.name}: {third_party}"
