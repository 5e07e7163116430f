"""Typed errors that carry every problem found, each located and with a hint.

The engine raises these; the pages and the command line turn them into messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class CatalogueProblem:
    location: str  # e.g. ``indicators[12].target``
    value: object
    problem: str
    hint: str
    code: str = "catalogue.invalid"  # ``catalogue.<kind>``: the kind of problem, for tools

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

    def frame(self) -> pd.DataFrame:
        """The problems as every refusal is tabled (:data:`PROBLEM_COLUMNS`): the file, the
        key's location as the column, and no row (a YAML line, where it is known, is in
        the location)."""
        return pd.DataFrame(
            [
                problem(
                    0,
                    p.location,
                    "" if p.value is _MISSING else preview(p.value, quote=False),
                    p.problem,
                    p.hint,
                    code=p.code,
                    file=self.source,
                )
                for p in self.problems
            ],
            columns=PROBLEM_COLUMNS,
        )


PROBLEM_COLUMNS = ["code", "file", "sheet", "row", "column", "value", "problem", "hint"]
"""Every refusal of a file, as a row: a stable ``code`` (``period.format``; the README
lists them), where it is (``file``, ``sheet`` of a workbook, ``row``: the line or sheet
row, 0 for the file as a whole; ``column`` as its header says), the ``value`` as written,
what is wrong (``problem``) and how to fix it (``hint``)."""


def problem(
    row: int, column: str, value: object, problem: str, hint: str, *, code: str = "", file: str = "", sheet: str = ""
) -> dict:
    """One row of a problems frame (:data:`PROBLEM_COLUMNS`); the value as text."""
    return {
        "code": code,
        "file": file,
        "sheet": sheet,
        "row": row,
        "column": column,
        "value": "" if value is None else str(value),
        "problem": problem,
        "hint": hint,
    }


@dataclass
class Problems:
    """Makes the located problems of one file (and sheet)."""

    file: str
    sheet: str = ""

    def row(self, code: str, row: int, column: str, value: object, problem_text: str, hint: str) -> dict:
        return problem(row, column, value, problem_text, hint, code=code, file=self.file, sheet=self.sheet)

    def frame(self, rows: list[dict]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=PROBLEM_COLUMNS)

    def at(self, code: str, row: int, column: str, value: object, problem_text: str, hint: str) -> pd.DataFrame:
        return self.frame([self.row(code, row, column, value, problem_text, hint)])

    def whole_file(self, code: str, problem_text: str, hint: str, value: object = "") -> pd.DataFrame:
        return self.at(code, 0, "", value, problem_text, hint)


class ExtractError(Exception):
    """A file was rejected. ``problems`` is a frame with :data:`PROBLEM_COLUMNS`: the
    file's line number (the header is row 1), the column, the value as written, what is
    wrong and how to fix it. Nothing was written."""

    def __init__(self, file_name: str, problems: pd.DataFrame, total: int | None = None):
        self.file_name = file_name
        problems = problems.reset_index(drop=True).reindex(columns=PROBLEM_COLUMNS)
        defaults = {"code": "", "file": file_name, "sheet": ""}
        self.problems = problems.fillna(defaults).astype({"row": "int64"}) if len(problems) else problems
        self.total = max(total or 0, len(self.problems))  # a hopeless file's problems are kept only in part
        super().__init__(self.describe())

    @property
    def counted(self) -> str:
        """``3 problem(s)``, or ``25,000 problems; the first 10,000 are listed``."""
        if self.total > len(self.problems):
            return first_listed(self.total, len(self.problems))
        return f"{len(self.problems)} problem(s)"

    def describe(self, limit: int = 50) -> str:
        lines = [f"{self.file_name}: rejected, nothing was written ({self.counted})"]
        shown: Iterable[Any] = self.problems.head(limit).itertuples(index=False)  # named tuples of PROBLEM_COLUMNS
        for p in shown:
            where = f"row {p.row}" if p.row else "file"
            sheet = f"sheet {p.sheet!r}, " if p.sheet else ""
            column = f", column {p.column}" if p.column else ""
            value = f", value {preview(p.value, 200)}" if p.value not in (None, "") else ""
            lines.append(f"  {sheet}{where}{column}{value}: {p.problem}. Hint: {p.hint}")
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)


def first_listed(total: int, listed: int) -> str:
    """``25,000 problems; the first 10,000 are listed``: how a file with more problems than
    are kept is counted, in the command line and on the upload page."""
    return f"{total:,} problems; the first {listed:,} are listed"


def reject(problems: pd.DataFrame, total: int | None = None) -> ExtractError:
    """The error for a file's problems (their ``file`` names it); ``total``: how many were
    found, when only some are kept."""
    return ExtractError(str(problems["file"].iloc[0]), problems, total)


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
