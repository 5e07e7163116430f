"""Step 4 of a load, and the pipeline: read → check → plan → load, all or nothing.

:func:`check_extract` reads a file chunk by chunk and checks every chunk, so a file of
millions of rows is held only as compact typed rows; :func:`ingest` plans and writes each
chunk as soon as it is checked, in one transaction that a problem anywhere in the file
rolls back: all of the file, or nothing.
"""

from __future__ import annotations

import collections
import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from kpis import periods, store
from kpis.catalogue import Catalogue
from kpis.errors import PROBLEM_COLUMNS, ExtractError, Problems, reject
from kpis.ingest import parse, rules
from kpis.ingest import plan as planning
from kpis.ingest.read import CELL_COLUMNS, read_cells
from kpis.ingest.records import Source, sheet_names

OBSERVATION_COLUMNS = ["indicator", "period", "revision", "value", "numerator", "denominator", "note", "extract_id"]
BREAKDOWN_COLUMNS = [*store.KEY_COLUMNS, *store.BREAKDOWN_VALUE_COLUMNS]  # written when a plan has them
MAX_PROBLEMS = 10_000  # kept of a hopeless file (its count is still told)

Progress = Callable[[int], None]  # told the rows read so far


@dataclass(frozen=True)
class IngestResult:
    file_name: str
    sha256: str
    extract_id: int | None  # None: nothing changed, nothing written
    rows: int
    new: int
    revised: int
    unchanged: int
    same_file_as: int | None  # an earlier extract with the same content

    @property
    def message(self) -> str:
        if self.extract_id is None:
            again = f" (the same file was loaded as extract {self.same_file_as})" if self.same_file_as else ""
            return f"{self.file_name}: no changes: all {self.rows} rows match the stored values{again}; nothing written"
        return (
            f"{self.file_name}: loaded as extract {self.extract_id}: {self.rows} rows, "
            f"{self.new} new, {self.revised} revised, {self.unchanged} unchanged"
        )


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def read_extract(
    content: bytes, file_name: str, catalogue: Catalogue | None = None, sheet: str | None = None
) -> pd.DataFrame:
    """The whole long frame of cells (:data:`CELL_COLUMNS`) of a file, as written."""
    chunks = list(read_cells(Source(content, file_name, sheet), catalogue))
    return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=CELL_COLUMNS)


def validate_extract(
    cells: pd.DataFrame, catalogue: Catalogue, file_name: str, today: pd.Timestamp | None = None, sheet: str = ""
) -> pd.DataFrame:
    """Typed rows of a frame of cells; raises with every problem."""
    return _joined(_checked(iter([cells]), catalogue, Problems(file_name, sheet), today))


def check_extract(
    content: bytes,
    file_name: str,
    catalogue: Catalogue,
    today: pd.Timestamp | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Read and check a file without touching the store: its typed rows
    (:data:`kpis.ingest.parse.ROW_COLUMNS`), or :class:`~kpis.errors.ExtractError` with
    every problem."""
    return _joined(_checked_file(Source(content, file_name, sheet), catalogue, today, progress))


def _joined(chunks: Iterator[pd.DataFrame]) -> pd.DataFrame:
    """The typed rows of every checked chunk, as one frame."""
    return pd.concat(list(chunks), ignore_index=True)


def _checked_file(
    source: Source, catalogue: Catalogue, today: pd.Timestamp | None, progress: Progress | None
) -> Iterator[pd.DataFrame]:
    problems = Problems(source.file_name, source.sheet or next(iter(sheet_names(source)), ""))
    return _checked(read_cells(source, catalogue), catalogue, problems, today, progress)


REPEAT_COLUMNS = ["row", "indicator", "period", *rules.KEY_COLUMNS, "value", "column"]  # kept of every row
ROW_KEY = ["indicator", "period", *rules.KEY_COLUMNS]


def _checked(
    chunks: Iterator[pd.DataFrame],
    catalogue: Catalogue,
    problems: Problems,
    today: pd.Timestamp | None,
    progress: Progress | None = None,
) -> Iterator[pd.DataFrame]:
    """Each chunk's typed rows (:data:`~kpis.ingest.parse.ROW_COLUMNS`) as soon as it is
    checked, while the file has shown no problem; the rest of the file is still read and
    checked, and at the end :class:`~kpis.errors.ExtractError` is raised with every
    problem (rows repeated anywhere in the file too). Of each row only its key, value and
    place are kept to the end, so a file is never held whole as typed rows."""
    kept: list[pd.DataFrame] = []
    hashes: list[np.ndarray] = []
    found: list[pd.DataFrame] = []
    count, read, clean = 0, 0, True
    for cells in chunks:
        parsed = parse.parse(cells, catalogue)
        chunk_problems = rules.check(parsed, catalogue, problems, today)
        count += len(chunk_problems)
        if len(chunk_problems) and sum(len(f) for f in found) < MAX_PROBLEMS:
            found.append(chunk_problems)
        rows = rules.typed(parsed, catalogue)
        del parsed
        kept.append(rows[REPEAT_COLUMNS].copy())  # a copy: a selection would keep every column's block alive
        hashes.append(pd.util.hash_pandas_object(rows[ROW_KEY], index=False).to_numpy())
        read += len(cells)
        # A key repeated inside the chunk could not be planned; it is told at the end.
        clean = clean and not count and not rows.duplicated(ROW_KEY).any()  # exact: no hash may stop the writing
        if clean:
            yield rows.drop(columns="column")
        if progress is not None:
            progress(read)
    repeats = rules.repeated_keys(_maybe_repeated(kept, hashes), problems)
    if count or len(repeats):
        every = rules.sorted_problems(pd.concat([*found, repeats], ignore_index=True))
        raise reject(every.head(MAX_PROBLEMS).reindex(columns=PROBLEM_COLUMNS), total=count + len(repeats))


def _maybe_repeated(kept: list[pd.DataFrame], hashes: list[np.ndarray]) -> pd.DataFrame:
    """The rows whose key's hash occurs more than once in the file: every repeated key's
    rows (and, very rarely, a few that only share a hash, which
    :func:`~kpis.ingest.rules.repeated_keys` then tells apart), without joining the
    whole file's keys: one hash a row is all that is compared."""
    repeated = pd.Index(np.concatenate(hashes)).duplicated(keep=False)
    ends = np.cumsum([len(h) for h in hashes])
    return pd.concat([k[repeated[end - len(k) : end]] for k, end in zip(kept, ends, strict=True)], ignore_index=True)


def _current_for(conn: Connection, rows: pd.DataFrame) -> pd.DataFrame:
    # Only the cells the rows touch: planning a month's file must not read years of history.
    indicators = sorted(map(str, rows["indicator"].unique()))  # the distinct categories: no text per row
    months = sorted(periods.texts(pd.Series(rows["period"].unique())))
    if planning.has_breakdowns(rows):
        return store.current_breakdowns(conn, indicators=indicators, periods_in=months, with_withdrawn=True)
    return store.current_observations(
        conn, indicators=indicators, periods_in=months, with_withdrawn=True, with_limits=True
    )


def preview(
    engine: Engine,
    content: bytes,
    file_name: str,
    catalogue: Catalogue,
    today: pd.Timestamp | None = None,
    sheet: str | None = None,
) -> pd.DataFrame:
    """What loading the file would change, without writing anything."""
    rows = check_extract(content, file_name, catalogue, today, sheet)
    with engine.connect() as conn:
        return planning.plan_extract(rows, _current_for(conn, rows))


def _in_key_order(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows in the order of the store's unique key (indicator, period, area,
    breakdown, group, as text sorts): each write then appends to its index's pages rather
    than touching one page a row, as a file that runs month by month would (the numbers:
    docs/benchmarks.md)."""
    order = [_text_rank(rows["indicator"]), rows["period"].to_numpy()]
    order += [_text_rank(rows[c]) for c in rules.KEY_COLUMNS if c in rows]
    return rows.take(np.lexsort(order[::-1]))


def _text_rank(values: pd.Series) -> np.ndarray:
    """Each value's place among its categories sorted as text."""
    categories = values.cat.categories.astype(str)
    rank = np.empty(len(categories), dtype=np.int64)
    rank[np.argsort(categories.to_numpy(object), kind="stable")] = np.arange(len(categories))
    return rank[values.cat.codes.to_numpy()]  # codes are never -1 here: the rows are checked


def _nullable(values: pd.Series) -> list:
    """Plain Python values, ``None`` where missing."""
    if not values.hasnans:
        return values.tolist()
    return values.astype(object).where(values.notna(), None).tolist()


NULL_BY_DEFAULT = ["numerator", "denominator", "note", *store.BREAKDOWN_VALUE_COLUMNS]


def observation_columns(changed: pd.DataFrame) -> list[str]:
    """The columns written for ``changed``: the breakdown columns too when it has them
    (left out, they take their defaults: the home area's whole population, no given
    limits), and of :data:`NULL_BY_DEFAULT` only those with a value in some row (binding a
    NULL costs about as much as SQLite's own work for a value: docs/benchmarks.md)."""
    columns = OBSERVATION_COLUMNS + (BREAKDOWN_COLUMNS if planning.has_breakdowns(changed) else [])
    return [c for c in columns if c not in NULL_BY_DEFAULT or changed[c].notna().any()]


def write_observations(conn: Connection, changed: pd.DataFrame, extract_id: int) -> None:
    """Append the rows of ``changed`` (a plan's new and revised rows, a rollback's, in
    their order) as observations of extract ``extract_id``: the one way observations are
    written. The extract, and the revision when every row has the same, are written into
    the statement rather than bound a row at a time (docs/benchmarks.md)."""
    if changed.empty:
        return
    literals = {"extract_id": int(extract_id)}
    revisions = changed["revision"].unique()
    if len(revisions) == 1:
        literals["revision"] = int(revisions[0])
    bound = [c for c in observation_columns(changed) if c not in literals]
    rows = list(zip(*(_column_values(changed, c) for c in bound), strict=True))
    store.insert_rows(conn, store.observations, bound, rows, literals)


def _column_values(changed: pd.DataFrame, column: str) -> list:
    """One column of the rows written, as plain Python values."""
    if column == "indicator" or column in store.KEY_COLUMNS:
        return changed[column].astype(object).tolist()
    if column == "period":
        return periods.texts(changed["period"]).tolist()
    if column == "revision":
        return changed["revision"].astype(int).tolist()
    return _nullable(changed[column])


def ingest(
    engine: Engine,
    content: bytes,
    file_name: str,
    catalogue: Catalogue,
    loaded_by: str,
    today: pd.Timestamp | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Check and load one file in one transaction: all of its changes, or none."""
    progress_of = None if progress is None else (lambda _file_name: progress)
    return ingest_files(engine, [(content, file_name)], catalogue, loaded_by, today, sheet, progress_of)[0]


def ingest_files(
    engine: Engine,
    files: list[tuple[bytes, str]],
    catalogue: Catalogue,
    loaded_by: str,
    today: pd.Timestamp | None = None,
    sheet: str | None = None,
    progress_of: Callable[[str], Progress] | None = None,
) -> list[IngestResult]:
    """Check and load files (content, name), each an extract, in one transaction: all of
    them, or none. Each chunk of a file is planned and written as soon as it is checked
    (so a file is never held whole as typed rows); a problem anywhere stops the writing,
    every file is still read to its end, and :class:`~kpis.errors.ExtractError` (its
    ``problems`` name each file) rolls everything back. The plan is made inside the write
    lock, so a file loaded meanwhile by someone else is taken into account.
    ``progress_of(file_name)`` tells a file's rows read so far."""
    results: list[IngestResult] = []
    rejected: list[ExtractError] = []
    with store.write_transaction(engine) as conn:
        for content, file_name in files:
            try:
                progress = None if progress_of is None else progress_of(file_name)
                chunks = _checked_file(Source(content, file_name, sheet), catalogue, today, progress)
                if rejected:  # nothing more is written: the rest is only checked
                    collections.deque(chunks, maxlen=0)
                else:
                    results.append(_write(conn, chunks, content, file_name, loaded_by))
            except ExtractError as error:
                rejected.append(error)
        if rejected:  # leaves the transaction: rolled back
            problems = pd.concat([e.problems for e in rejected], ignore_index=True)
            raise reject(problems, total=sum(e.total for e in rejected))
    return results


def _write(
    conn: Connection, chunks: Iterator[pd.DataFrame], content: bytes, file_name: str, loaded_by: str
) -> IngestResult:
    """Plan and write a file's checked rows, chunk by chunk, in the caller's transaction;
    keep the file. A file that changes nothing writes nothing."""
    digest = sha256(content)
    counts: dict[str, int] = dict.fromkeys((planning.NEW, planning.REVISED, planning.UNCHANGED), 0)
    same_file = conn.execute(
        select(store.extracts.c.id).where(store.extracts.c.sha256 == digest).order_by(store.extracts.c.id.desc())
    ).scalar()
    extract_id = None
    for rows in chunks:
        rows = _in_key_order(rows)
        plan = planning.plan_extract(rows, _current_for(conn, rows))
        for status, n in plan["status"].value_counts().items():
            counts[str(status)] += int(n)
        changed = plan[plan["status"] != planning.UNCHANGED]
        if not changed.empty:
            if extract_id is None:
                extract_id = store.add_extract(
                    conn,
                    content=content,
                    sha256=digest,
                    file_name=file_name,
                    loaded_by=loaded_by,
                    rows_total=0,  # told once the last chunk is planned
                    rows_new=0,
                    rows_revised=0,
                    rows_unchanged=0,
                )
            write_observations(conn, changed, extract_id)
    total = sum(counts.values())
    if extract_id is not None:
        store.set_extract_counts(
            conn, extract_id, total, counts[planning.NEW], counts[planning.REVISED], counts[planning.UNCHANGED]
        )
    return IngestResult(
        file_name=file_name,
        sha256=digest,
        extract_id=extract_id,
        rows=total,
        new=counts[planning.NEW],
        revised=counts[planning.REVISED],
        unchanged=counts[planning.UNCHANGED],
        same_file_as=same_file,
    )


class ProgressLine:
    """``rows read, rows/s`` (or another ``doing``) on one terminal line, at most a few
    times a second."""

    def __init__(self, file_name: str, write: Callable[[str], object], doing: str = "read"):
        self.file_name, self.write, self.doing = file_name, write, doing
        self.started = self.shown = time.perf_counter()

    def __call__(self, rows_read: int) -> None:
        now = time.perf_counter()
        if now - self.shown < 0.25:
            return
        self.shown = now
        rate = rows_read / max(now - self.started, 1e-9)
        self.write(f"\r{self.file_name}: {rows_read:,} rows {self.doing}, {rate:,.0f} rows/s")
