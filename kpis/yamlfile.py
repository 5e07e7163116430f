"""Reading a configuration file's YAML (the catalogue, the access configuration) safely.

Plain data only (the safe loader: no Python objects), and two things YAML allows that a
configuration file has no use for are refused with their line: anchors and aliases
(``&a`` / ``*a``: a few kilobytes of nested aliases expand to gigabytes, the "billion
laughs"), and a key written twice in one mapping (YAML keeps the last one silently, so a
second ``direction: higher`` would invert an indicator's ratings).
"""

from __future__ import annotations

from typing import Any

import yaml

from kpis.errors import MISSING, CatalogueError, CatalogueProblem, preview

# libyaml's parser where it is installed (PyYAML's wheels have it): the same results, faster.
_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SYNTAX_HINT = "check the indentation and quote values that contain ':' or '#'"


class _Refused(Exception):
    def __init__(self, mark, problem: str, hint: str):
        self.mark, self.problem, self.hint = mark, problem, hint


# PyYAML resolves a plain scalar's implicit type (int, float, bool, null, timestamp, merge,
# value) by its first character; any other plain scalar, and every quoted one, is text.
_IMPLICIT_FIRST = frozenset("-+0123456789.yYnNtTfFoO~<=")
_SCALARS = yaml.SafeLoader("")  # PyYAML's own resolver and safe constructor, for those scalars


def _scalar(event: yaml.ScalarEvent) -> Any:
    value = event.value
    plain = event.implicit[0] and event.tag in (None, "!")
    if plain and value and value[0] not in _IMPLICIT_FIRST:
        return value
    if not plain and event.tag in (None, "!", "tag:yaml.org,2002:str"):
        return value
    tag = event.tag if event.tag not in (None, "!") else _SCALARS.resolve(yaml.ScalarNode, value, event.implicit)
    node = yaml.ScalarNode(tag, value, _mark(event.start_mark), _mark(event.end_mark), event.style)
    return _SCALARS.construct_object(node, deep=True)


def _mark(mark: Any) -> yaml.error.Mark | None:
    """libyaml's mark (its own class) as PyYAML's, which a node holds for its errors' lines."""
    if mark is None or isinstance(mark, yaml.error.Mark):
        return mark
    return yaml.error.Mark(mark.name, mark.index, mark.line, mark.column, None, 0)


def _anchor_refused(event: yaml.Event) -> None:
    anchor = getattr(event, "anchor", None)
    if isinstance(event, yaml.AliasEvent):
        raise _Refused(
            event.start_mark,
            f"uses the YAML alias *{preview(anchor, 30, quote=False)}",
            "write the value out in full; anchors and aliases are not allowed in this file",
        )
    if anchor is not None:
        raise _Refused(
            event.start_mark,
            f"defines the YAML anchor &{preview(anchor, 30, quote=False)}",
            "write the value out in full; anchors and aliases are not allowed in this file",
        )


class _Mapping:
    """A mapping being built from events: its keys' first lines, and a key awaiting its value."""

    def __init__(self) -> None:
        self.data: dict[Any, Any] = {}
        self.first_line: dict[Any, int] = {}
        self.key: Any = None
        self.has_key = False

    def add(self, value: Any, start_mark) -> None:
        if not self.has_key:
            try:
                repeated = value in self.first_line
            except TypeError:  # a list or mapping as a key
                raise _Refused(start_mark, "is a key that is a list or a mapping", "write a plain key") from None
            line = start_mark.line + 1
            if repeated:
                raise _Refused(
                    start_mark,
                    f"repeats the key {preview(value)} of line {self.first_line[value]} in the same mapping",
                    f"keep one of lines {self.first_line[value]} and {line}: YAML would silently use the last",
                )
            self.first_line[value] = line
            self.key, self.has_key = value, True
        else:
            self.data[self.key] = value
            self.has_key = False


def _data(text: str) -> Any:
    """The document's data, built from libyaml's events in one pass: an anchor or alias is
    refused where it appears (before anything is expanded: a billion laughs stays cheap),
    and a key repeated in one mapping with both lines."""
    stack: list[Any] = []
    document: Any = None
    for event in yaml.parse(text, Loader=_BASE):
        _anchor_refused(event)
        if isinstance(event, yaml.ScalarEvent):
            value, done = _scalar(event), True
        elif isinstance(event, yaml.MappingStartEvent):
            stack.append((_Mapping(), event.start_mark))
            continue
        elif isinstance(event, yaml.SequenceStartEvent):
            stack.append(([], event.start_mark))
            continue
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            container, _ = stack.pop()
            value, done = (container.data if isinstance(container, _Mapping) else container), True
        else:
            continue
        if done and not stack:
            document = value
        elif done:
            parent = stack[-1][0]
            if isinstance(parent, _Mapping):
                parent.add(value, event.start_mark)
            else:
                parent.append(value)
    return document


def _where(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"


def load_yaml(text: str, source: str) -> Any:
    """The data in ``text`` (a file's contents; ``source`` names it in messages). Raises
    :class:`CatalogueError` with the problem's line and column for a syntax error, an
    anchor or alias, or a key repeated in one mapping."""
    try:
        return _data(text)
    except _Refused as refused:
        problem = CatalogueProblem(_where(refused.mark), MISSING, refused.problem, refused.hint)
    except yaml.YAMLError as error:
        reason = preview(getattr(error, "problem", None) or error, 120, quote=False)
        problem = CatalogueProblem(
            _where(getattr(error, "problem_mark", None)), MISSING, f"is not valid YAML ({reason})", SYNTAX_HINT
        )
    raise CatalogueError([problem], source)
