"""YAML loading that remembers where every value came from, so errors can say `file:line: field: message`.

Every user-editable file (question banks, config.yaml, personas) goes through :func:`load_located` and
:func:`validate_located`, which turn YAML syntax errors, duplicate keys and pydantic validation errors into
:class:`SourceError` lines, all at once, with nothing half-loaded.

Example::

    >>> doc = load_located("a:\\n  b: 1\\n", "x.yaml")
    >>> doc.data, doc.line_of(("a", "b"))
    ({'a': {'b': 1}}, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class SourceProblem:
    """One problem in a user-edited file."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file  # line 0: not from a file (env var)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class SourceError(Exception):
    """All the problems found in one or more files; raised instead of returning anything half-valid."""

    def __init__(self, problems: Sequence[SourceProblem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class LocatedDoc:
    """Parsed YAML plus the line (1-based) of every mapping key and sequence item."""

    file: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int:
        """Line of the deepest known prefix of `loc` (pydantic locs may go deeper than the YAML)."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def sub(self, loc: Loc) -> LocatedDoc:
        """The document below `loc`, with its lines re-keyed relative to it."""
        node: Any = self.data
        for key in loc:
            node = node[key]
        n = len(loc)
        lines = {k[n:]: v for k, v in self.lines.items() if k[:n] == loc}
        return LocatedDoc(self.file, node, lines)


def _construct(node: yaml.Node, loc: Loc, lines: dict[Loc, int], file: str, problems: list[SourceProblem]) -> Any:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # scalar keys only: YAML's complex keys make no sense in SIMA's files
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in out:
                problems.append(SourceProblem(file, line, _dotted((*loc, key)), "duplicate key"))
                continue
            lines[(*loc, key)] = line
            out[key] = _construct(value_node, (*loc, key), lines, file, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            lines[(*loc, i)] = item.start_mark.line + 1
            items.append(_construct(item, (*loc, i), lines, file, problems))
        return items
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    return yaml.SafeLoader("").construct_object(node, deep=True)


def load_located(text: str, file: str) -> LocatedDoc:
    """Parse YAML text; raise :class:`SourceError` for syntax errors and duplicate keys."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise SourceError([SourceProblem(file, line, "", f"YAML syntax error: {problem}")]) from exc
    doc = LocatedDoc(file, None)
    if root is None:
        doc.lines[()] = 1
        return doc
    problems: list[SourceProblem] = []
    doc.data = _construct(root, (), doc.lines, file, problems)
    if problems:
        raise SourceError(problems)
    return doc


def load_located_file(path: Path) -> LocatedDoc:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError([SourceProblem(str(path), 1, "", f"cannot read file: {exc.strerror}")]) from exc
    return load_located(text, str(path))


def _dotted(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a bad mapping key; the key itself is already named
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def problems_from_validation(doc: LocatedDoc, exc: ValidationError, prefix: Loc = ()) -> list[SourceProblem]:
    """Turn each pydantic error into a located problem; unknown keys point at the key's own line."""
    out = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        full = (*prefix, *loc)
        message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        message = message.removeprefix("Value error, ")
        out.append(SourceProblem(doc.file, doc.line_of(full), _dotted(full), message))
    return out


def validate_located(model: type[M], doc: LocatedDoc, context: dict[str, Any] | None = None) -> M:
    """Validate a located document into `model` or raise :class:`SourceError` listing every problem."""
    try:
        return model.model_validate(doc.data if doc.data is not None else {}, context=context)
    except ValidationError as exc:
        raise SourceError(problems_from_validation(doc, exc)) from exc
