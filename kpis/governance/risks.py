"""The risk register: high level risks and issues per project or programme, each edit kept
as a new version with who saved it and when (``store.risk_versions``), imported from and
exported to CSV.

A risk is validated against the catalogue once (:func:`validate_risk`, :func:`read_csv`):
every problem is collected, each with its row, column, value and a hint, then
:class:`RiskError` is raised once. The owner may be given by initials or by role title
(``owners`` in the catalogue); the initials are stored.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.engine import Connection

from kpis import errors, store
from kpis.catalogue import Catalogue
from kpis.errors import PROBLEM_COLUMNS, ExtractError, Problems, StaleEditError
from kpis.ingest import read
from kpis.spreadsheet import FORMULA_START, safe_csv

RANKS = ("V High", "High", "Moderate", "Low")  # most severe first
STATUSES = ("open", "closed")
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
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"
_RANK_WORDS = {"v high": "V High", "very high": "V High", "vhigh": "V High", **{r.lower(): r for r in RANKS[1:]}}
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")  # how Excel saves a date in a UK locale
_SAVE_AS_UTF8 = "in Excel use File > Save As > 'CSV UTF-8 (Comma delimited)'"


class RiskError(ExtractError):
    """A risk, or a file of risks, was refused. ``problems`` has :data:`PROBLEM_COLUMNS`
    (row 0: the risk as a whole, or the file). Nothing was written."""

    def describe(self, limit: int = 50) -> str:
        lines = [f"{self.file_name}: rejected, nothing was written ({len(self.problems)} problem(s))"]
        for p in self.problems.head(limit).itertuples(index=False):
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
    rank: str  # one of RANKS
    owner: str  # initials, a key of the catalogue's owners
    status: str = "open"  # one of STATUSES
    programme: str = ""
    mitigation: str = ""
    workstream: str = ""  # a workstream id; "": none
    indicators: tuple[str, ...] = ()  # indicator ids
    next_review: date | None = None


@dataclass(frozen=True)
class ImportedRisk:
    row: int  # the row of the file it came from (the header is row 1)
    risk_id: int | None  # None: a new risk
    risk: Risk


@dataclass(frozen=True)
class ImportResult:
    new: int
    updated: int
    unchanged: int

    @property
    def message(self) -> str:
        return f"{self.new} new, {self.updated} updated, {self.unchanged} unchanged"


_problem = errors.problem


def _reject(source: str, problems: list[dict]) -> RiskError:
    return RiskError(source, pd.DataFrame(problems, columns=PROBLEM_COLUMNS))


# Validation -----------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, problem: str, hint: str):
        self.problem, self.hint = problem, hint


def _text(value: object) -> str:
    """A cell or form field as text: stripped, one kind of line break, "" for nothing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def _limited(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise _Invalid(f"the {what} has {len(text):,} characters, more than {limit:,}", f"shorten the {what}")
    return text


def _description(value: object, catalogue: Catalogue) -> str:
    text = _limited(_text(value), MAX_TEXT, "description")
    if not text:
        raise _Invalid("the description is blank", "describe the risk or issue: what may happen and its effect")
    return text


def _rank(value: object, catalogue: Catalogue) -> str:
    words = " ".join(_text(value).replace(".", " ").split()).lower()
    if words in _RANK_WORDS:
        return _RANK_WORDS[words]
    problem = "the rank is blank" if not words else "is not a rank"
    raise _Invalid(problem, f"use one of {', '.join(RANKS)}")


def _owner(value: object, catalogue: Catalogue) -> str:
    text = _text(value)
    by_title = {title.lower(): initials for initials, title in catalogue.owners.items()}
    if text.upper() in catalogue.owners:
        return text.upper()
    if text.lower() in by_title:
        return by_title[text.lower()]
    problem = "the owner is blank" if not text else "is not an owner in the catalogue"
    raise _Invalid(
        problem, f"use the initials of one of the owners: {', '.join(catalogue.owners)} ('owners' in the catalogue)"
    )


def _status(value: object, catalogue: Catalogue) -> str:
    text = _text(value).lower() or "open"  # a new risk is open unless said otherwise
    if text not in STATUSES:
        raise _Invalid("is not a status", f"use {' or '.join(STATUSES)}")
    return text


def _workstream(value: object, catalogue: Catalogue) -> str:
    text = _text(value).lower()
    ids = [w.id for w in catalogue.workstreams]
    if text and text not in ids:
        raise _Invalid("is not a workstream id", f"use one of {', '.join(ids)}, or leave it blank")
    return text


def _indicators(value: object, catalogue: Catalogue) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else re.split(r"[;,]", _text(value))
    codes = [code for code in (_text(item) for item in items) if code]
    found = {code: catalogue.lookup(code) for code in codes}  # an id or alias, any case: kept as the id
    ids = tuple(dict.fromkeys(found[code].id for code in codes if found[code]))
    unknown = list(dict.fromkeys(code for code in codes if not found[code]))
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
    text = _text(value)
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
    return _limited(_text(value), MAX_PROGRAMME, "project or programme")


def _mitigation(value: object, catalogue: Catalogue) -> str:
    return _limited(_text(value), MAX_TEXT, "mitigation")


_FIELDS = {
    "programme": _programme,
    "description": _description,
    "rank": _rank,
    "owner": _owner,
    "mitigation": _mitigation,
    "status": _status,
    "workstream": _workstream,
    "indicators": _indicators,
    "next_review": _next_review,
}


def _checked(fields: Mapping[str, object], catalogue: Catalogue, row: int) -> tuple[Risk | None, list[dict]]:
    """The risk from its fields, or the problem of every field that is not valid."""
    values, problems = {}, []
    for name, parse in _FIELDS.items():
        try:
            values[name] = parse(fields.get(name), catalogue)
        except _Invalid as invalid:
            problems.append(
                _problem(row, name, _text(fields.get(name)), invalid.problem, invalid.hint, code=f"{name}.invalid")
            )
    return (None, problems) if problems else (Risk(**values), [])


def validate_risk(fields: Mapping[str, object], catalogue: Catalogue, source: str = "risk") -> Risk:
    """A :class:`Risk` from the fields of a form (the :data:`RISK_COLUMNS` but ``risk_id``;
    ``indicators`` text or a list, ``next_review`` a date or text), or :class:`RiskError`
    with every problem (row 0)."""
    risk, problems = _checked(fields, catalogue, 0)
    if problems:
        raise _reject(source, problems)
    return risk


# Writing --------------------------------------------------------------------------------


def save(
    engine: Engine, risk: Risk, saved_by: str, risk_id: int | None = None, based_on: int | None = None
) -> tuple[int, int]:
    """Save a risk: a new one (``risk_id`` None, it gets the next id) or a new version of
    risk ``risk_id``; its id and the version now current. ``based_on`` is the version the
    editor started from: if someone saved a newer one meanwhile, :class:`StaleEditError`
    and nothing is written (None: no check). Content identical to the current version
    writes nothing."""
    with store.write_transaction(engine) as conn:
        if risk_id is not None and not _known_ids(conn, [risk_id]):
            raise _reject("risk", [_unknown_id_problem(0, risk_id)])
        risk_id, version, _ = _save(conn, risk, saved_by, risk_id, based_on, datetime.now(UTC))
    return risk_id, version


def _save(
    conn: Connection, risk: Risk, saved_by: str, risk_id: int | None, based_on: int | None, saved_at: datetime
) -> tuple[int, int, str]:
    """Write one risk in the caller's write transaction: (risk id, version, new/updated/unchanged)."""
    if risk_id is None:
        risk_id = _next_risk_id(conn)
        _insert(conn, risk, risk_id, 1, saved_by, saved_at)
        return risk_id, 1, NEW
    latest = _latest_version(conn, risk_id)
    if _risk_of(latest) == risk:
        return risk_id, latest.version, UNCHANGED
    if based_on is not None and based_on != latest.version:
        raise StaleEditError(f"Risk {risk_id}", based_on, latest.version, latest.saved_by, latest.saved_at)
    _insert(conn, risk, risk_id, latest.version + 1, saved_by, saved_at)
    return risk_id, latest.version + 1, UPDATED


def _insert(conn: Connection, risk: Risk, risk_id: int, version: int, saved_by: str, saved_at: datetime) -> None:
    conn.execute(
        insert(store.risk_versions).values(
            risk_id=risk_id,
            version=version,
            programme=risk.programme or None,
            description=risk.description,
            rank=risk.rank,
            owner=risk.owner,
            mitigation=risk.mitigation,
            status=risk.status,
            workstream=risk.workstream or None,
            indicators=",".join(risk.indicators),
            next_review=risk.next_review,
            saved_by=saved_by[:255],
            saved_at=saved_at,
        )
    )


def _next_risk_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(store.risk_versions.c.risk_id), 0))).scalar()) + 1


def _known_ids(conn: Connection, risk_ids: list[int]) -> set[int]:
    r = store.risk_versions.c
    return set(conn.execute(select(r.risk_id).where(r.risk_id.in_(risk_ids)).distinct()).scalars())


def _latest_version(conn: Connection, risk_id: int):
    r = store.risk_versions.c
    return conn.execute(
        select(store.risk_versions).where(r.risk_id == risk_id).order_by(r.version.desc()).limit(1)
    ).first()


def _risk_of(row) -> Risk:
    """The :class:`Risk` a stored version holds."""
    return Risk(
        description=row.description,
        rank=row.rank,
        owner=row.owner,
        status=row.status,
        programme=row.programme or "",
        mitigation=row.mitigation,
        workstream=row.workstream or "",
        indicators=tuple(i for i in row.indicators.split(",") if i),
        next_review=row.next_review,
    )


def _unknown_id_problem(row: int, risk_id: int) -> dict:
    return _problem(
        row,
        "risk_id",
        risk_id,
        f"there is no risk {risk_id} in the register",
        "leave risk_id blank to add a new risk, or use the id of a risk in the register to update it",
        code="risk_id.unknown",
    )


# Reading --------------------------------------------------------------------------------


def current(engine: Engine) -> pd.DataFrame:
    """The latest version of every risk, by risk id (:data:`REGISTER_COLUMNS`)."""
    r = store.risk_versions.c
    latest = select(r.risk_id, func.max(r.version).label("version")).group_by(r.risk_id).subquery("latest")
    query = (
        _versions().join(latest, (r.risk_id == latest.c.risk_id) & (r.version == latest.c.version)).order_by(r.risk_id)
    )
    return _read(engine, query)


def history(engine: Engine, risk_id: int) -> pd.DataFrame:
    """Every version of one risk, newest first (:data:`REGISTER_COLUMNS`)."""
    r = store.risk_versions.c
    return _read(engine, _versions().where(r.risk_id == risk_id).order_by(r.version.desc()))


def _versions():
    return select(*(store.risk_versions.c[name] for name in REGISTER_COLUMNS))


def _read(engine: Engine, query) -> pd.DataFrame:
    """Stored rows as a register frame: ``programme`` and ``workstream`` "" for none,
    ``indicators`` their ids separated by "; " (as a file may write them),
    ``next_review`` a date (NaT: none), ``saved_at`` UTC."""
    with engine.connect() as conn:
        frame = pd.DataFrame([tuple(row) for row in conn.execute(query)], columns=REGISTER_COLUMNS)
    texts = ["programme", "description", "rank", "owner", "mitigation", "status", "workstream", "saved_by"]
    return frame.assign(
        **{name: frame[name].fillna("").astype(str) for name in texts},
        risk_id=frame["risk_id"].astype(int),
        version=frame["version"].astype(int),
        indicators=frame["indicators"].fillna("").astype(str).str.replace(",", "; ", regex=False),
        next_review=pd.to_datetime(frame["next_review"]).astype("datetime64[s]"),
        saved_at=pd.to_datetime(frame["saved_at"], utc=True),
    )


def overdue(register: pd.DataFrame, today: date) -> pd.Series:
    """Open risks whose next review date is before ``today``."""
    late = (register["status"] == "open") & (register["next_review"] < pd.Timestamp(today))
    return late.rename("overdue")


def register(
    frame: pd.DataFrame,
    today: date,
    *,
    status: str | Iterable[str] | None = None,
    workstream: str | Iterable[str] | None = None,
    rank: str | Iterable[str] | None = None,
    owner: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """The register as the board reads it: the risks of ``frame`` (from :func:`current`)
    that match every filter given (a value or several), most severe first, then by next
    review date (none last) and risk id, with ``overdue`` (see :func:`overdue`)."""
    out = frame
    for column, wanted in (("status", status), ("workstream", workstream), ("rank", rank), ("owner", owner)):
        if wanted is not None:
            out = out[out[column].isin([wanted] if isinstance(wanted, str) else list(wanted))]
    severity = out["rank"].map({name: k for k, name in enumerate(RANKS)})
    return (
        out.assign(overdue=overdue(out, today), _severity=severity)
        .sort_values(["_severity", "next_review", "risk_id"], na_position="last", kind="stable")
        .drop(columns="_severity")
        .reset_index(drop=True)
    )


# What a change to each field reads as: short fields old → new; long text just "edited".
_COMPARED = [
    ("rank", "rank"),
    ("status", "status"),
    ("owner", "owner"),
    ("workstream", "workstream"),
    ("indicators", "indicators"),
    ("next_review", "next review"),
]
_EDITED = [("programme", "programme"), ("description", "description"), ("mitigation", "mitigation")]


def _shown_value(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)) or value == "":
        return "none"
    return str(value)


def changes(history: pd.DataFrame) -> list[str]:
    """What each version of a risk changed from the one before it, in the order of
    ``history`` (from :func:`kpis.governance.risks.history`): ``"rank High → V High; status open →
    closed"``, ``"description edited"``; the first version reads ``"added"``."""
    by_version = history.set_index("version")
    described = []
    for version in history["version"]:
        if version - 1 not in by_version.index:
            described.append("added" if version == 1 else "")
            continue
        before, after = by_version.loc[version - 1], by_version.loc[version]
        parts = [
            f"{label} {_shown_value(before[column])} → {_shown_value(after[column])}"
            for column, label in _COMPARED
            if _shown_value(before[column]) != _shown_value(after[column])
        ]
        parts += [f"{label} edited" for column, label in _EDITED if before[column] != after[column]]
        described.append("; ".join(parts) or "no change")
    return described


# Files ----------------------------------------------------------------------------------


def to_csv(frame: pd.DataFrame, columns: list[str] | None = None) -> bytes:
    """A register frame as CSV for Excel (:func:`kpis.spreadsheet.safe_csv`: UTF-8 with
    a BOM, text that Excel would run as a formula neutralised). By default the import
    format (:data:`RISK_COLUMNS`), so a file exported, edited and imported again updates
    the risks it holds; ``columns`` may add ``version``, ``saved_by``, ``saved_at``,
    ``overdue``."""
    out = frame[columns or RISK_COLUMNS].copy()
    if "next_review" in out:
        out["next_review"] = out["next_review"].dt.strftime("%Y-%m-%d").fillna("")
    if "saved_at" in out:
        out["saved_at"] = out["saved_at"].dt.strftime("%Y-%m-%d %H:%M:%S UTC")
    return safe_csv(out)


def read_csv(content: bytes, catalogue: Catalogue, file_name: str = "risks.csv") -> list[ImportedRisk]:
    """The risks of a register file (:data:`RISK_COLUMNS`, in any order; UTF-8 with or
    without a BOM), or :class:`RiskError` with every problem. Rows are numbered as a
    spreadsheet shows them: the header is row 1, a cell with line breaks stays in its row."""
    imported, problems = _read_file(content, catalogue, file_name)
    if problems:
        raise _reject(file_name, problems)
    return imported


def import_csv(
    engine: Engine,
    content: bytes,
    catalogue: Catalogue,
    saved_by: str,
    file_name: str = "risks.csv",
    *,
    into_empty_only: bool = False,
) -> ImportResult:
    """Import a register file in one write transaction: all of it or, if any row has a
    problem (an unknown ``risk_id`` included), nothing. A blank ``risk_id`` adds a risk;
    an existing one saves a new version of it unless the row is unchanged (the file is the
    decision: no stale-edit check). ``into_empty_only``: write only into an empty register
    (the sample: two first starts at once must not load it twice)."""
    imported, problems = _read_file(content, catalogue, file_name)
    if problems:
        raise _reject(file_name, problems)
    saved_at = datetime.now(UTC)
    with store.write_transaction(engine) as conn:
        if into_empty_only and _next_risk_id(conn) > 1:
            return ImportResult(0, 0, 0)
        known = _known_ids(conn, [i.risk_id for i in imported if i.risk_id is not None])
        unknown = [_unknown_id_problem(i.row, i.risk_id) for i in imported if i.risk_id not in (None, *known)]
        if unknown:
            raise _reject(file_name, unknown)
        outcomes = [_save(conn, i.risk, saved_by, i.risk_id, None, saved_at)[2] for i in imported]
    return ImportResult(outcomes.count(NEW), outcomes.count(UPDATED), outcomes.count(UNCHANGED))


def _read_file(content: bytes, catalogue: Catalogue, file_name: str) -> tuple[list[ImportedRisk], list[dict]]:
    """The risks of a file (CSV or a workbook, read by the extracts' reader) and every
    problem found in it."""
    source = read.Source(content, file_name)
    header_hint = f"write a header row '{','.join(RISK_COLUMNS)}' and one row per risk"
    try:
        read.refuse_oversized(content, file_name, MAX_BYTES)
        table = read.read_table(source, Problems(file_name), header_hint)
        problems = _header_problems(table.header, table.header_line)
        if problems:
            return [], problems
        rows = [record for chunk in table.body for record in read.records_of(chunk)]
    except ExtractError as error:
        return [], error.problems.to_dict("records")
    if len(rows) > MAX_ROWS:
        too_many = f"the file has more than {MAX_ROWS:,} risks"
        return [], [_problem(0, "", "", too_many, "split it into smaller files", code="file.too_many_rows")]
    names = [h.strip().lower() for h in table.header]
    imported, first_row_of = [], {}
    for row, cells in rows:
        if len(cells) > len(names) and "".join(cells[len(names) :]).strip():
            problems.append(_wider_row_problem(row, cells, len(names)))
            continue
        fields = dict(zip(names, map(_undo_neutralise, cells), strict=False))
        risk, found = _checked(fields, catalogue, row)
        risk_id = _risk_id(fields.get("risk_id"), row, first_row_of, found)
        problems += found
        if risk is not None and not found:
            imported.append(ImportedRisk(row, risk_id, risk))
    if not rows and not problems:
        no_rows = "the file has a header but no risks"
        problems.append(_problem(0, "", "", no_rows, "add one row per risk below the header", code="file.no_rows"))
    return imported, problems


def _header_problems(header: list[str], line: int = 1) -> list[dict]:
    names = [h.strip().lower() for h in header]
    problems = []
    for position, (name, written) in enumerate(zip(names, header, strict=True), start=1):
        if name not in RISK_COLUMNS:
            close = difflib.get_close_matches(name, RISK_COLUMNS, n=1)
            did_you_mean = f"did you mean '{close[0]}'? " if close else ""
            problems.append(
                _problem(
                    line,
                    written,
                    written,
                    f"column {position} is not a risk register column",
                    f"{did_you_mean}the columns are {', '.join(RISK_COLUMNS)}",
                    code="header.unknown_column",
                )
            )
        elif names.index(name) != position - 1:
            problems.append(
                _problem(
                    line,
                    written,
                    written,
                    "this column appears twice",
                    "keep one column of each name",
                    code="header.repeated_column",
                )
            )
    for name in RISK_COLUMNS:
        if name not in names:
            problems.append(
                _problem(
                    line,
                    name,
                    "",
                    f"the column '{name}' is missing",
                    f"the header row must name every column: {', '.join(RISK_COLUMNS)} (a cell may be blank)",
                    code="header.missing_column",
                )
            )
    return problems


def _wider_row_problem(row: int, cells: list[str], width: int) -> dict:
    return _problem(
        row,
        "",
        ",".join(cells),
        f"this row has {len(cells)} cells, the header has {width}",
        'quote text that contains commas ("checked, revised"), or delete the cells after the last column',
        code="row.too_wide",
    )


def _undo_neutralise(cell: str) -> str:
    """A cell as it was before :func:`to_csv` neutralised it (``'=A1`` → ``=A1``), so that
    an exported register imports unchanged."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_START):
        return cell[1:]
    return cell


def _risk_id(value: object, row: int, first_row_of: dict[int, int], problems: list[dict]) -> int | None:
    """A row's risk id (None: a new risk); a problem added for one that is not a number or
    is on an earlier row too."""
    text = _text(value)
    if not text:
        return None
    if not text.isdigit() or int(text) == 0:
        problems.append(
            _problem(
                row,
                "risk_id",
                text,
                "is not a risk id",
                "leave risk_id blank for a new risk, or write the number of a risk in the register",
                code="risk_id.format",
            )
        )
        return None
    risk_id = int(text)
    if risk_id in first_row_of:
        problems.append(
            _problem(
                row,
                "risk_id",
                text,
                f"risk {risk_id} is on row {first_row_of[risk_id]} too",
                "keep one row per risk",
                code="risk_id.repeated",
            )
        )
    first_row_of.setdefault(risk_id, row)
    return risk_id
