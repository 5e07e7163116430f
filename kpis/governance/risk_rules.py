"""What a valid risk is: its fields, ranks and statuses, and the rule for each field,
checked against the catalogue. Every problem is collected, each with its row, column,
value and a hint, then :class:`RiskError` is raised once. The owner may be given by
initials or by role title (``owners`` in the catalogue); the initials are stored."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from kpis import errors
from kpis.catalogue import Catalogue
from kpis.errors import PROBLEM_COLUMNS, ExtractError

T = TypeVar("T")


class RiskRank(StrEnum):
    """A risk's rank, most severe first (the order of the register)."""

    V_HIGH = "V High"
    HIGH = "High"
    MODERATE = "Moderate"
    LOW = "Low"


class RiskStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


RANKS = tuple(RiskRank)  # most severe first
STATUSES = tuple(RiskStatus)
RISK_COLUMNS = [
    "risk_id",
    "programme",
    "description",
    "rank",
    "owner",
    "mitigation",
    "status",
    "workstream",
    "indicators",
    "next_review",
]
REGISTER_COLUMNS = [*RISK_COLUMNS, "version", "saved_by", "saved_at"]
MAX_TEXT = 10_000  # description, mitigation
MAX_PROGRAMME = 255
_RANK_WORDS = {"very high": RiskRank.V_HIGH, "vhigh": RiskRank.V_HIGH, **{r.lower(): r for r in RiskRank}}
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")  # how Excel saves a date in a UK locale


class RiskError(ExtractError):
    """A risk, or a file of risks, was refused. ``problems`` has :data:`PROBLEM_COLUMNS`
    (row 0: the risk as a whole, or the file). Nothing was written."""

    def describe(self, limit: int = 50) -> str:
        lines = [f"{self.file_name}: rejected, nothing was written ({len(self.problems)} problem(s))"]
        shown: Iterable[Any] = self.problems.head(limit).itertuples(index=False)  # named tuples of PROBLEM_COLUMNS
        for p in shown:
            where = [f"row {p.row}"] if p.row else []
            where += [f"column {p.column}"] if p.column else []
            where += [f"value {p.value!r}"] if p.value not in (None, "") else []
            lines.append(f"  {', '.join(where)}{': ' if where else ''}{p.problem}. Hint: {p.hint}")
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class Risk:
    """One version of a risk, valid against the catalogue: make it with :func:`validate_risk`."""

    description: str
    rank: RiskRank
    owner: str  # initials, a key of the catalogue's owners
    status: RiskStatus = RiskStatus.OPEN
    programme: str = ""
    mitigation: str = ""
    workstream: str = ""  # a workstream id; "": none
    indicators: tuple[str, ...] = ()  # indicator ids
    next_review: date | None = None


_problem = errors.problem


def reject(source: str, problems: list[dict]) -> RiskError:
    return RiskError(source, pd.DataFrame(problems, columns=PROBLEM_COLUMNS))


# Validation -----------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, problem: str, hint: str):
        self.problem, self.hint = problem, hint


def cell_text(value: object) -> str:
    """A cell or form field as text: stripped, one kind of line break, "" for nothing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _limited(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise _Invalid(f"the {what} has {len(text):,} characters, more than {limit:,}", f"shorten the {what}")
    return text


def _description(value: object, catalogue: Catalogue) -> str:
    text = _limited(cell_text(value), MAX_TEXT, "description")
    if not text:
        raise _Invalid("the description is blank", "describe the risk or issue: what may happen and its effect")
    return text


def _rank(value: object, catalogue: Catalogue) -> RiskRank:
    words = " ".join(cell_text(value).replace(".", " ").split()).lower()
    if words in _RANK_WORDS:
        return _RANK_WORDS[words]
    problem = "the rank is blank" if not words else "is not a rank"
    raise _Invalid(problem, f"use one of {', '.join(RANKS)}")


def _owner(value: object, catalogue: Catalogue) -> str:
    text = cell_text(value)
    by_title = {title.lower(): initials for initials, title in catalogue.owners.items()}
    if text.upper() in catalogue.owners:
        return text.upper()
    if text.lower() in by_title:
        return by_title[text.lower()]
    problem = "the owner is blank" if not text else "is not an owner in the catalogue"
    raise _Invalid(
        problem, f"use the initials of one of the owners: {', '.join(catalogue.owners)} ('owners' in the catalogue)"
    )


def _status(value: object, catalogue: Catalogue) -> RiskStatus:
    text = cell_text(value).lower() or RiskStatus.OPEN  # a new risk is open unless said otherwise
    if text not in STATUSES:
        raise _Invalid("is not a status", f"use {' or '.join(STATUSES)}")
    return RiskStatus(text)


def _workstream(value: object, catalogue: Catalogue) -> str:
    text = cell_text(value).lower()
    ids = [w.id for w in catalogue.workstreams]
    if text and text not in ids:
        raise _Invalid("is not a workstream id", f"use one of {', '.join(ids)}, or leave it blank")
    return text


def _indicators(value: object, catalogue: Catalogue) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else re.split(r"[;,]", cell_text(value))
    codes = [code for code in (cell_text(item) for item in items) if code]
    found = {code: catalogue.lookup(code) for code in codes}  # an id or alias, any case: kept as the id
    ids = tuple(dict.fromkeys(indicator.id for indicator in found.values() if indicator is not None))
    unknown = [code for code, indicator in found.items() if indicator is None]
    if unknown:
        close = [catalogue.close_codes(i) for i in unknown]
        suggestions = [f"'{c[0]}' for '{i}'" for i, c in zip(unknown, close, strict=True) if c]
        did_you_mean = f"did you mean {', '.join(suggestions)}? " if suggestions else ""
        listed = ", ".join(f"'{i}'" for i in unknown)
        raise _Invalid(
            f"{listed} {'is not an indicator id' if len(unknown) == 1 else 'are not indicator ids'}",
            f"{did_you_mean}use the ids of config/kpis.yaml, separated by ; (or leave it blank)",
        )
    return ids


def _next_review(value: object, catalogue: Catalogue) -> date | None:
    if value is pd.NaT:  # a register frame's "no review date"
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = cell_text(value)
    if not text:
        return None
    iso, uk = _ISO_DATE.match(text), _UK_DATE.match(text)
    try:
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
        if uk:
            return date(int(uk[3]), int(uk[2]), int(uk[1]))
    except ValueError:
        raise _Invalid("is not a date in the calendar", "check the day and the month") from None
    raise _Invalid("is not a date", "write the date as YYYY-MM-DD, for example 2021-01-31 (or leave it blank)")


def _programme(value: object, catalogue: Catalogue) -> str:
    return _limited(cell_text(value), MAX_PROGRAMME, "project or programme")


def _mitigation(value: object, catalogue: Catalogue) -> str:
    return _limited(cell_text(value), MAX_TEXT, "mitigation")


def checked_risk(fields: Mapping[str, object], catalogue: Catalogue, row: int) -> tuple[Risk | None, list[dict]]:
    """The risk from its fields, or the problem of every field that is not valid."""
    problems: list[dict] = []

    def field(name: str, parse: Callable[[object, Catalogue], T], empty: T) -> T:
        try:
            return parse(fields.get(name), catalogue)
        except _Invalid as invalid:
            problems.append(
                _problem(row, name, cell_text(fields.get(name)), invalid.problem, invalid.hint, code=f"{name}.invalid")
            )
            return empty

    risk = Risk(
        programme=field("programme", _programme, ""),
        description=field("description", _description, ""),
        rank=field("rank", _rank, RiskRank.LOW),
        owner=field("owner", _owner, ""),
        mitigation=field("mitigation", _mitigation, ""),
        status=field("status", _status, RiskStatus.OPEN),
        workstream=field("workstream", _workstream, ""),
        indicators=field("indicators", _indicators, ()),
        next_review=field("next_review", _next_review, None),
    )
    return (None, problems) if problems else (risk, [])


def validate_risk(fields: Mapping[str, object], catalogue: Catalogue, source: str = "risk") -> Risk:
    """A :class:`Risk` from the fields of a form (the :data:`RISK_COLUMNS` but ``risk_id``;
    ``indicators`` text or a list, ``next_review`` a date or text), or :class:`RiskError`
    with every problem (row 0)."""
    risk, problems = checked_risk(fields, catalogue, 0)
    if risk is None:
        raise reject(source, problems)
    return risk
