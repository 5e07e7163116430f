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


class _Loader(_BASE):  # type: ignore[misc, valid-type]
    def construct_mapping(self, node, deep=False):
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a complex key: left to the constructor, which refuses unhashable ones
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in first_line:
                raise _Refused(
                    key_node.start_mark,
                    f"repeats the key {preview(key)} of line {first_line[key]} in the same mapping",
                    f"keep one of lines {first_line[key]} and {line}: YAML would silently use the last",
                )
            first_line[key] = line
        return super().construct_mapping(node, deep=deep)


def _where(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"


def _refuse_anchors(text: str) -> None:
    """Refuse the first anchor or alias, before anything is built from them (the events
    are read without expanding aliases, so this stays fast on a billion laughs)."""
    for event in yaml.parse(text, Loader=_BASE):
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


def load_yaml(text: str, source: str) -> Any:
    """The data in ``text`` (a file's contents; ``source`` names it in messages). Raises
    :class:`CatalogueError` with the problem's line and column for a syntax error, an
    anchor or alias, or a key repeated in one mapping."""
    try:
        _refuse_anchors(text)
        return yaml.load(text, Loader=_Loader)  # _Loader is built on the safe loader
    except _Refused as refused:
        problem = CatalogueProblem(_where(refused.mark), MISSING, refused.problem, refused.hint)
    except yaml.YAMLError as error:
        reason = preview(getattr(error, "problem", None) or error, 120, quote=False)
        problem = CatalogueProblem(
            _where(getattr(error, "problem_mark", None)), MISSING, f"is not valid YAML ({reason})", SYNTAX_HINT
        )
    raise CatalogueError([problem], source)
