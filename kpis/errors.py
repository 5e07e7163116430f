"""Typed errors that carry every problem found, each located and with a hint.

The engine raises these; the pages and the command line turn them into messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class CatalogueProblem:
    location: str  # e.g. ``indicators[12].target``
    value: object
    problem: str
    hint: str

    def __str__(self) -> str:
        shown = "(missing)" if self.value is _MISSING else repr(self.value)
        return f"{self.location}: {shown}: {self.problem}. Hint: {self.hint}"


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING = _Missing()
MISSING = _MISSING


class CatalogueError(Exception):
    """The catalogue is not valid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[CatalogueProblem], source: str = "catalogue"):
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"  {p}" for p in problems))


PROBLEM_COLUMNS = ["row", "column", "value", "problem", "hint"]


class ExtractError(Exception):
    """An extract was rejected. ``problems`` is a frame with :data:`PROBLEM_COLUMNS`:
    the file's line number (the header is row 1), the column, the value as written,
    what is wrong and how to fix it. Nothing was written."""

    def __init__(self, file_name: str, problems: pd.DataFrame):
        self.file_name = file_name
        self.problems = problems.reset_index(drop=True)[PROBLEM_COLUMNS]
        super().__init__(self.describe())

    def describe(self, limit: int = 50) -> str:
        lines = [f"{self.file_name}: rejected, nothing was written ({len(self.problems)} problem(s))"]
        for p in self.problems.head(limit).itertuples(index=False):
            where = f"row {p.row}" if p.row else "file"
            column = f", column {p.column}" if p.column else ""
            value = f", value {p.value!r}" if p.value not in (None, "") else ""
            lines.append(f"  {where}{column}{value}: {p.problem}. Hint: {p.hint}")
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)
