"""YAML loading that remembers where every node came from.

PyYAML's composer keeps start marks on nodes; we walk the node tree once and build plain Python
data plus a map from each value's path to its `Location`, so that errors found later (by pydantic or
by cross-reference checks) can point at `file:line:col`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from point_mapping.errors import Location, SiteProblem

PathKey = tuple[str | int, ...]


@dataclass
class SourceDoc:
    """One YAML file: its data and where each path inside it starts."""

    file: str
    data: Any
    locations: dict[PathKey, Location] = field(default_factory=dict)

    def locate(self, path: PathKey) -> Location:
        """The location of `path`, or of its nearest ancestor that has one."""
        for end in range(len(path), -1, -1):
            found = self.locations.get(path[:end])
            if found is not None:
                return found
        return Location(self.file, 1, 1)


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader; duplicate mapping keys are reported by `_to_python`, not silently merged."""


def _loc(file: str, node: yaml.Node) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


def _to_python(
    file: str,
    node: yaml.Node,
    path: PathKey,
    loader: yaml.SafeLoader,
    doc: SourceDoc,
    problems: list[SiteProblem],
) -> Any:
    doc.locations[path] = _loc(file, node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves `<<:` merge keys
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                problems.append(SiteProblem(_loc(file, key_node), f"mapping key {key!r} must be text"))
                continue
            key = str(key)
            if key in result:
                problems.append(SiteProblem(_loc(file, key_node), f"duplicate key '{key}' in this mapping"))
                continue
            # the key's own position is the better pointer for "unknown key" errors
            doc.locations[(*path, key, "__key__")] = _loc(file, key_node)
            result[key] = _to_python(file, value_node, (*path, key), loader, doc, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(file, item, (*path, index), loader, doc, problems) for index, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as exc:  # e.g. 2025-13-45 matches YAML's timestamp pattern but is no date
        raw = node.value if isinstance(node.value, str) else "?"
        problems.append(SiteProblem(_loc(file, node), f"cannot read {raw!r}: {exc}; quote it if it is text"))
        return raw


def load_yaml_file(path: Path, display_name: str) -> tuple[SourceDoc, list[SiteProblem]]:
    """Parse one file. Syntax errors come back as problems with the parser's position."""
    doc = SourceDoc(file=display_name, data=None)
    problems: list[SiteProblem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return doc, [SiteProblem(Location(display_name, 1, 1), f"cannot read file: {exc}")]
    problem = yaml_problem(text, display_name)
    if problem is not None:
        return doc, [problem]
    loader = _UniqueKeyLoader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            doc.data = _to_python(display_name, root, (), loader, doc, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(display_name, mark.line + 1, mark.column + 1) if mark else Location(display_name, 1, 1)
        problems.append(SiteProblem(where, f"YAML syntax error: {exc.problem or exc}"))
    except yaml.YAMLError as exc:
        problems.append(SiteProblem(Location(display_name, 1, 1), f"YAML error: {exc}"))
    except RecursionError:
        problems.append(SiteProblem(Location(display_name, 1, 1), _TOO_DEEP))
    finally:
        loader.dispose()
    return doc, problems


# Site files nest a few levels; far deeper nesting is a broken or hostile file (and the parser recurses).
MAX_NESTING = 64
_TOO_DEEP = f"nesting deeper than {MAX_NESTING} levels; a site file needs a few"


def yaml_problem(text: str, file: str) -> SiteProblem | None:
    """What makes `text` unreadable as YAML before parsing: a character YAML forbids, or runaway nesting."""
    bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if bad is not None:
        index, code = bad.start(), ord(bad.group()[0])
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        return SiteProblem(Location(file, line, column), f"control character U+{code:04X} is not allowed in YAML")
    depth = deepest = 0
    for char in text:  # flow collections only; block nesting needs indentation, which bounds it by line width
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    if deepest > MAX_NESTING:
        return SiteProblem(Location(file, 1, 1), _TOO_DEEP)
    return None
