"""Typed errors that carry every problem found, each located and with a hint.

The engine raises these; the pages and the command line turn them into messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd


@dataclass(frozen=True)
class CatalogueProblem:
    location: str  # e.g. ``indicators[12].target``
    value: object
    problem: str
    hint: str

    def __str__(self) -> str:
        shown = "(missing)" if self.value is _MISSING else preview(self.value)
        return f"{self.location}: {shown}: {self.problem}. Hint: {self.hint}"


PREVIEW_CHARS = 60


def preview(value: object, limit: int = PREVIEW_CHARS, quote: bool = True) -> str:
    """A value as quoted in a message: its ``repr`` (or its text, ``quote=False``) cut to
    ``limit`` characters with an ellipsis and the full length, so that a huge value (a
    whole file, an expanded alias) never makes a huge message."""
    text = repr(value) if quote else str(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"


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


def problem(row: int, column: str, value: object, problem: str, hint: str) -> dict:
    """One row of a problems frame (:data:`PROBLEM_COLUMNS`); the value as text."""
    return {
        "row": row,
        "column": column,
        "value": "" if value is None else str(value),
        "problem": problem,
        "hint": hint,
    }


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


class StaleEditError(Exception):
    """An edit started from a version that is no longer the latest: someone saved a newer
    one meanwhile. Nothing was written; saving anyway would silently overwrite their text."""

    def __init__(self, subject: str, based_on: int | None, version: int, saved_by: str, saved_at: datetime):
        self.subject = subject
        self.based_on = based_on
        self.version = version
        self.saved_by = saved_by
        self.saved_at = saved_at
        started = f"version {based_on}" if based_on else "no saved version"
        super().__init__(
            f"{subject}: {saved_by} saved version {version} on {_utc_text(saved_at)} after you started"
            f" editing from {started}; nothing was written. Hint: reload to see their version, then make"
            " your changes to it again."
        )


def _utc_text(moment: datetime) -> str:
    """``23 Nov 2020 14:05 UTC``; a naive time is UTC (SQLite returns them so)."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.strftime("%d %b %Y %H:%M UTC")
