"""The risk register: high level risks and issues per project or programme, each edit kept
as a new version with who saved it and when (``store.risk_versions``), imported from and
exported to CSV.

A risk is validated against the catalogue once (:func:`validate_risk`, :func:`read_csv`)
by the rules of :mod:`kpis.governance.risk_rules`, whose names are also this module's.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.engine import Connection

from kpis import store
from kpis.catalogue import Catalogue
from kpis.errors import ExtractError, Problems, StaleEditError
from kpis.errors import problem as _problem
from kpis.governance import versions
from kpis.governance.risk_rules import (
    MAX_PROGRAMME,
    MAX_TEXT,
    RANKS,
    REGISTER_COLUMNS,
    RISK_COLUMNS,
    STATUSES,
    Risk,
    RiskError,
    RiskRank,
    RiskStatus,
    cell_text,
    checked_risk,
    reject,
    validate_risk,
)
from kpis.ingest import read
from kpis.ingest.plan import PlanStatus
from kpis.spreadsheet import FORMULA_START, safe_csv

__all__ = [  # the register's names, and the rules' that its users read here
    "MAX_BYTES",
    "MAX_PROGRAMME",
    "MAX_ROWS",
    "MAX_TEXT",
    "RANKS",
    "REGISTER_COLUMNS",
    "RISK_COLUMNS",
    "STATUSES",
    "ImportResult",
    "ImportedRisk",
    "Risk",
    "RiskError",
    "RiskRank",
    "RiskStatus",
    "StaleEditError",
    "changes",
    "current",
    "history",
    "import_csv",
    "overdue",
    "read_csv",
    "register",
    "save",
    "to_csv",
    "validate_risk",
]

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000

_SAVE_AS_UTF8 = "in Excel use File > Save As > 'CSV UTF-8 (Comma delimited)'"


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
            raise reject("risk", [_unknown_id_problem(0, risk_id)])
        risk_id, version, _ = _save(conn, risk, saved_by, risk_id, based_on, datetime.now(UTC))
    return risk_id, version


def _save(
    conn: Connection, risk: Risk, saved_by: str, risk_id: int | None, based_on: int | None, saved_at: datetime
) -> tuple[int, int, PlanStatus]:
    """Write one risk in the caller's write transaction: (risk id, version, new/revised/unchanged)."""
    new = risk_id is None
    risk_id = _next_risk_id(conn) if risk_id is None else risk_id
    version, written = versions.save_version(
        conn,
        store.risk_versions,
        {"risk_id": risk_id},
        {
            "programme": risk.programme or None,
            "description": risk.description,
            "rank": risk.rank,
            "owner": risk.owner,
            "mitigation": risk.mitigation,
            "status": risk.status,
            "workstream": risk.workstream or None,
            "indicators": ",".join(risk.indicators),
            "next_review": risk.next_review,
        },
        based_on=based_on,
        stale_check=based_on is not None,
        subject=f"Risk {risk_id}",
        saved_by=saved_by,
        saved_at=saved_at,
    )
    status = PlanStatus.NEW if new else PlanStatus.REVISED if written else PlanStatus.UNCHANGED
    return risk_id, version, status


def _next_risk_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(store.risk_versions.c.risk_id), 0))).scalar_one()) + 1


def _known_ids(conn: Connection, risk_ids: list[int]) -> set[int]:
    r = store.risk_versions.c
    return set(conn.execute(select(r.risk_id).where(r.risk_id.in_(risk_ids)).distinct()).scalars())


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


def _read(engine: Engine, query: Select) -> pd.DataFrame:
    """Stored rows as a register frame: ``programme`` and ``workstream`` "" for none,
    ``indicators`` their ids separated by "; " (as a file may write them),
    ``next_review`` a date (NaT: none), ``saved_at`` UTC."""
    frame = store.read_frame(engine, query)
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
        raise reject(file_name, problems)
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
        raise reject(file_name, problems)
    saved_at = datetime.now(UTC)
    with store.write_transaction(engine) as conn:
        if into_empty_only and _next_risk_id(conn) > 1:
            return ImportResult(0, 0, 0)
        known = _known_ids(conn, [i.risk_id for i in imported if i.risk_id is not None])
        unknown = [
            _unknown_id_problem(i.row, i.risk_id) for i in imported if i.risk_id is not None and i.risk_id not in known
        ]
        if unknown:
            raise reject(file_name, unknown)
        outcomes = [_save(conn, i.risk, saved_by, i.risk_id, None, saved_at)[2] for i in imported]
    return ImportResult(
        new=outcomes.count(PlanStatus.NEW),
        updated=outcomes.count(PlanStatus.REVISED),
        unchanged=outcomes.count(PlanStatus.UNCHANGED),
    )


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
    imported: list[ImportedRisk] = []
    first_row_of: dict[int, int] = {}
    for row, cells in rows:
        if len(cells) > len(names) and "".join(cells[len(names) :]).strip():
            problems.append(_wider_row_problem(row, cells, len(names)))
            continue
        fields = dict(zip(names, map(_undo_neutralise, cells), strict=False))
        risk, found = checked_risk(fields, catalogue, row)
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
    text = cell_text(value)
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
