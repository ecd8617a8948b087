"""The layers import one way: web | cli | queue → actions → site | store → content → domain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "masthead"

# What each layer may import from inside the package (besides itself).
ALLOWED: dict[str, set[str]] = {
    "domain": {"errors"},
    "content": {"domain", "errors"},
    "store": {"content", "domain", "errors"},
    "site": {"store", "content", "domain", "errors"},
    "actions": {"site", "store", "content", "domain", "errors", "settings", "demo"},
    "queue": {"actions", "store", "content", "domain", "errors", "settings"},
    "web": {"actions", "site", "store", "content", "domain", "errors", "settings"},
    "cli": {"actions", "queue", "web", "store", "content", "domain", "errors", "settings"},
    "migrations": {"store"},
    "demo": set(),
}
THIRD_PARTY_IN_DOMAIN = {"anyascii"}


def _modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path.parent != PACKAGE)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_each_module_imports_only_the_layers_below_it(path: Path) -> None:
    layer = path.relative_to(PACKAGE).parts[0]
    allowed = ALLOWED[layer] | {layer}
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] == "masthead" and len(parts) > 1:
            assert parts[1] in allowed, f"{path.name} ({layer}) imports {name}"


def test_the_domain_does_no_io() -> None:
    stdlib_io = {"sqlalchemy", "httpx", "fastapi", "starlette", "os", "socket", "subprocess"}
    for path in (PACKAGE / "domain").glob("*.py"):
        roots = {name.split(".")[0] for name in _imports(path)}
        assert not roots & stdlib_io, f"{path.name} imports {roots & stdlib_io}"
        third_party = {
            root for root in roots if root not in {"masthead", "__future__"} and not _stdlib(root)
        }
        assert third_party <= THIRD_PARTY_IN_DOMAIN, f"{path.name}: {third_party}"


def _stdlib(name: str) -> bool:
    import sys

    return name in sys.stdlib_module_names
