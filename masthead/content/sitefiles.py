"""Front matter as static site generators write it: YAML `---`, TOML `+++` or a JSON
object, after any blank lines; YAML that only Ruby's parser accepts (trailing tabs) is
read once more without its trailing spaces."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from masthead.content.frontmatter import FrontMatterError, YamlDocument, parse_yaml

__all__ = ["SiteFile", "read_site_file", "read_text", "read_yaml_mapping"]


@dataclass(frozen=True)
class SiteFile:
    meta: YamlDocument
    body: str
    kind: str
    """`yaml`, `toml`, `json` or `none` (no front matter)."""
    note: str | None = None


def read_text(path: Path) -> str:
    """A file's text; raises FrontMatterError when it cannot be read as UTF-8."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise FrontMatterError(line, f"not UTF-8 text: {error.reason}") from None
    except OSError as error:
        raise FrontMatterError(1, f"cannot read the file: {error.strerror}") from None


def read_site_file(text: str) -> SiteFile:
    """Split the front matter from the body; raises FrontMatterError with the file's line."""
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start == len(lines):
        return SiteFile(YamlDocument({}, None), "", "none")
    opener = lines[start].strip()
    if opener in ("---", "+++"):
        for end in range(start + 1, len(lines)):
            if lines[end].strip() == opener:
                inner = "".join(lines[start + 1 : end])
                body = "".join(lines[end + 1 :])
                first = start + 2
                if opener == "+++":
                    return SiteFile(_toml(inner, first), body, "toml")
                meta, note = _yaml(inner, first)
                return SiteFile(meta, body, "yaml", note)
        raise FrontMatterError(start + 1, f"front matter is not closed: no second {opener!r} line")
    if opener.startswith("{"):
        return _json(lines, start)
    return SiteFile(YamlDocument({}, None), text, "none")


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    """A YAML file that holds a mapping (`_config.yml`, `_data/authors.yml`); {} for none.
    Raises FrontMatterError."""
    data = _yaml(read_text(path), 1)[0].data
    return data if isinstance(data, dict) else {}


def _yaml(text: str, first: int) -> tuple[YamlDocument, str | None]:
    try:
        meta, note = parse_yaml(text, first_line=first), None
    except FrontMatterError:
        stripped = "\n".join(line.rstrip() for line in text.split("\n"))
        if stripped == text:
            raise
        meta = parse_yaml(stripped, first_line=first)
        note = "front matter read after removing trailing spaces and tabs"
    if meta.data is None:
        meta = YamlDocument({}, None, first_line=first)
    if not isinstance(meta.data, dict):
        raise FrontMatterError(first, "front matter must be a mapping of fields")
    return meta, note


def _toml(text: str, first: int) -> YamlDocument:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = first + (getattr(error, "lineno", 1) or 1) - 1
        raise FrontMatterError(line, f"malformed TOML: {error.args[0]}") from None
    return YamlDocument(_plain(data), _toml_lines(text), first_line=first)


def _toml_lines(text: str) -> yaml.Node | None:
    """A stand-in node that knows the line of each top-level key of TOML front matter."""
    pairs = []
    for number, line in enumerate(text.split("\n")):
        key = line.split("=", 1)[0].strip()
        if "=" in line and key and not line.lstrip().startswith("#"):
            mark = yaml.Mark("toml", 0, number, 0, "", 0)
            pairs.append(
                (yaml.ScalarNode("tag:yaml.org,2002:str", key, mark, mark),
                 yaml.ScalarNode("tag:yaml.org,2002:str", "", mark, mark))
            )  # fmt: skip
    start = yaml.Mark("toml", 0, 0, 0, "", 0)
    return yaml.MappingNode("tag:yaml.org,2002:map", pairs, start, start)


def _json(lines: list[str], start: int) -> SiteFile:
    text = "".join(lines[start:])
    decoder = json.JSONDecoder()
    try:
        data, end = decoder.raw_decode(text)
    except json.JSONDecodeError as error:
        raise FrontMatterError(start + error.lineno, f"malformed JSON: {error.msg}") from None
    if not isinstance(data, dict):
        raise FrontMatterError(start + 1, "front matter must be a mapping of fields")
    return SiteFile(YamlDocument(_plain(data), None, first_line=start + 1), text[end:], "json")


def _plain(data: Any) -> Any:
    """TOML dates and times as text, as the YAML reader leaves them."""
    if isinstance(data, dict):
        return {str(key): _plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_plain(item) for item in data]
    if hasattr(data, "isoformat") and not isinstance(data, str):
        return data.isoformat()
    return data
