"""Markdown files with YAML front matter, read with the line of every field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

__all__ = ["FrontMatterError", "SourceFile", "YamlDocument", "parse_front_matter", "parse_yaml"]

FENCE = "---"


class FrontMatterError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class YamlDocument:
    """Parsed YAML that still knows the line of every key and list item."""

    data: Any
    node: yaml.Node | None = None
    first_line: int = 1

    def line(self, *path: str | int) -> int:
        """The 1-based file line of the deepest part of `path` that exists."""
        node, found = self.node, (self.node.start_mark.line if self.node else 0)
        for step in path:
            node = _child(node, step)
            if node is None:
                break
            found = node.start_mark.line
        return self.first_line + found


def _child(node: yaml.Node | None, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int):
        return node.value[step] if 0 <= step < len(node.value) else None
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key_node, value_node in node.value:
            if key_node.value == step:
                scalar = isinstance(value_node, yaml.ScalarNode)
                found: yaml.Node = key_node if scalar else value_node
                return found
    return None


_FastBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_FastBase):  # type: ignore[valid-type,misc]
    """YAML's safe loader (libyaml's, when PyYAML has it: it parses once, in C), except
    that a timestamp stays text: the reader of each field checks its dates (so
    `2026-02-30` is a problem on its line, not a crash)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str, first_line: int = 1) -> YamlDocument:
    """Parse YAML safely; errors carry the line in the file (`first_line` = text's line 1)."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = first_line + (mark.line if mark else 0)
        raise FrontMatterError(line, f"malformed YAML: {error.problem or error}") from error
    except yaml.YAMLError as error:
        raise FrontMatterError(first_line, f"malformed YAML: {error}") from error
    finally:
        loader.dispose()
    return YamlDocument(data, node, first_line)


@dataclass(frozen=True)
class SourceFile:
    meta: YamlDocument
    body: str


def parse_front_matter(text: str) -> SourceFile:
    """Split `---` YAML `---` from the Markdown body after it."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != FENCE:
        raise FrontMatterError(1, "missing front matter: the file must start with a '---' line")
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            meta = parse_yaml("".join(lines[1:index]), first_line=2)
            if meta.data is None:
                meta = YamlDocument({}, None, first_line=1)
            if not isinstance(meta.data, dict):
                raise FrontMatterError(2, "front matter must be a mapping of fields")
            return SourceFile(meta, "".join(lines[index + 1 :]).strip("\n"))
    raise FrontMatterError(1, "front matter is not closed: no second '---' line")
