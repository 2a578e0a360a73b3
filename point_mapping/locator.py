"""Maps paths in the merged site data back to `file:line:col` in the YAML file they came from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from point_mapping.errors import Location, SiteProblem
from point_mapping.yaml_source import PathKey, SourceDoc


@dataclass
class Locator:
    """List sections are merged across files: item i of `meters` remembers its own file and index."""

    list_items: dict[str, list[tuple[SourceDoc, PathKey]]] = field(default_factory=dict)
    mappings: dict[str, tuple[SourceDoc, PathKey]] = field(default_factory=dict)
    fallback: Location = field(default_factory=lambda: Location("<site>", 1, 1))

    def at(self, *path: str | int) -> Location:
        """Location of a merged path such as ('meters', 3, 'device') or ('exposure', 'bacnet')."""
        if not path:
            return self.fallback
        section, rest = str(path[0]), path[1:]
        if section in self.list_items and rest and isinstance(rest[0], int):
            items = self.list_items[section]
            if rest[0] >= len(items):
                return self.fallback
            doc, base = items[rest[0]]
            rest = rest[1:]
        elif section in self.mappings:
            doc, base = self.mappings[section]
        else:
            return self.fallback
        return doc.locate(_existing_path(doc, base, rest))

    def key_at(self, *path: str | int) -> Location:
        """Location of the key naming `path` (better than its value for 'unknown key' errors)."""
        if len(path) >= 2:
            head = self.at(*path)
            section, rest = str(path[0]), path[1:]
            doc_base = self._doc_base(section, rest)
            if doc_base is not None:
                doc, base, tail = doc_base
                key_path = (*_existing_path(doc, base, tail), "__key__")
                if key_path in doc.locations:
                    return doc.locations[key_path]
            return head
        return self.at(*path)

    def problem(self, path: Iterable[str | int], message: str) -> SiteProblem:
        return SiteProblem(self.at(*path), message)

    def _doc_base(
        self, section: str, rest: tuple[str | int, ...]
    ) -> tuple[SourceDoc, PathKey, tuple[str | int, ...]] | None:
        if section in self.list_items and rest and isinstance(rest[0], int):
            items = self.list_items[section]
            if rest[0] < len(items):
                doc, base = items[rest[0]]
                return doc, base, rest[1:]
        elif section in self.mappings:
            doc, base = self.mappings[section]
            return doc, base, rest
        return None


def _existing_path(doc: SourceDoc, base: PathKey, rest: tuple[str | int, ...]) -> PathKey:
    """Follow `rest` through the document's data, skipping elements that are not in it.

    pydantic inserts union tags (e.g. 'modbus-tcp') into error paths; they are not YAML keys.
    """
    node: Any = doc.data
    for element in base:
        node = node[element]
    path = list(base)
    for element in rest:
        if isinstance(node, dict) and str(element) in node:
            node = node[str(element)]
            path.append(str(element))
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            node = node[element]
            path.append(element)
    return tuple(path)
