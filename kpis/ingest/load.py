"""Step 4 of a load, and the pipeline: read → check → plan → load, all or nothing.

:func:`check_extract` reads a file chunk by chunk and checks every chunk, so a file of
millions of rows is held only as compact typed rows; :func:`ingest` plans and writes them
in one transaction, batch by batch (bounded memory again), or writes nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from kpis import periods, store
from kpis.catalogue import Catalogue
from kpis.errors import PROBLEM_COLUMNS, Problems, reject
from kpis.ingest import plan as planning
from kpis.ingest import rules
from kpis.ingest.read import CELL_COLUMNS, Source, read_cells, sheet_names

OBSERVATION_COLUMNS = ["indicator", "period", "revision", "value", "numerator", "denominator", "note", "extract_id"]
BREAKDOWN_COLUMNS = [*store.KEY_COLUMNS, *store.BREAKDOWN_VALUE_COLUMNS]  # written when a plan has them
MAX_PROBLEMS = 10_000  # kept of a hopeless file (its count is still told)
LOAD_BATCH = 200_000  # rows planned and written at a time

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
    return _checked(iter([cells]), catalogue, Problems(file_name, sheet), today)


def check_extract(
    content: bytes,
    file_name: str,
    catalogue: Catalogue,
    today: pd.Timestamp | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Read and check a file without touching the store: its typed rows
    (:data:`kpis.ingest.rules.ROW_COLUMNS`), or :class:`~kpis.errors.ExtractError` with
    every problem."""
    source = Source(content, file_name, sheet)
    problems = Problems(file_name, sheet or next(iter(sheet_names(source)), ""))
    return _checked(read_cells(source, catalogue), catalogue, problems, today, progress)


def _checked(
    chunks: Iterator[pd.DataFrame],
    catalogue: Catalogue,
    problems: Problems,
    today: pd.Timestamp | None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    typed: list[pd.DataFrame] = []
    found: list[pd.DataFrame] = []
    count, read = 0, 0
    for cells in chunks:
        parsed = rules.parse(cells, catalogue)
        chunk_problems = rules.check(parsed, catalogue, problems, today)
        count += len(chunk_problems)
        if len(chunk_problems) and sum(map(len, found)) < MAX_PROBLEMS:
            found.append(chunk_problems)
        typed.append(rules.typed(parsed, catalogue))
        read += len(cells)
        if progress is not None:
            progress(read)
    rows = pd.concat(typed, ignore_index=True)
    typed.clear()  # the chunks' copies, freed before anything else is made
    repeats = rules.repeated_keys(rows, problems)
    if count or len(repeats):
        every = rules.sorted_problems(pd.concat([*found, repeats], ignore_index=True))
        if len(every) > MAX_PROBLEMS:
            every = every.head(MAX_PROBLEMS)
        raise reject(every.reindex(columns=PROBLEM_COLUMNS))
    del rows["column"]  # in place: the rest are :data:`~kpis.ingest.rules.ROW_COLUMNS`, in order
    return rows


def _current_for(conn: Connection, rows: pd.DataFrame) -> pd.DataFrame:
    # Only the cells the rows touch: planning a month's file must not read years of history.
    if planning.has_breakdowns(rows):
        return store.current_breakdowns(
            conn,
            indicators=sorted(rows["indicator"].astype(str).unique()),
            periods_in=sorted(periods.texts(pd.Series(rows["period"].unique()))),
            with_withdrawn=True,
        )
    return store.current_observations(
        conn,
        indicators=sorted(rows["indicator"].astype(str).unique()),
        periods_in=sorted(periods.texts(pd.Series(rows["period"].unique()))),
        with_withdrawn=True,
        with_limits=True,
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


def _batches(rows: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """The rows in file order (as they are stored), a batch at a time."""
    for start in range(0, len(rows), LOAD_BATCH):
        yield rows.iloc[start : start + LOAD_BATCH]


def _nullable(values: pd.Series) -> list:
    """Plain Python values, ``None`` where missing."""
    return values.astype(object).where(values.notna(), None).tolist()


def observation_columns(changed: pd.DataFrame) -> list[str]:
    """The columns :func:`observation_rows` gives for ``changed``: the breakdown columns
    too when it has them (left out, they take their defaults: the home area's whole
    population, no given limits)."""
    return OBSERVATION_COLUMNS + (BREAKDOWN_COLUMNS if planning.has_breakdowns(changed) else [])


def observation_rows(changed: pd.DataFrame, extract_id: int) -> list[tuple]:
    """Parameter tuples (:func:`observation_columns`) for the rows of ``changed`` (a
    plan's new and revised rows, say), in their order, made column by column."""
    if planning.has_breakdowns(changed):
        return [
            (*row, *extra)
            for row, extra in zip(
                _observation_rows(changed, extract_id),
                zip(
                    *(changed[c].astype(object).tolist() for c in store.KEY_COLUMNS),
                    *(_nullable(changed[c]) for c in store.BREAKDOWN_VALUE_COLUMNS),
                    strict=True,
                ),
                strict=True,
            )
        ]
    return _observation_rows(changed, extract_id)


def _observation_rows(changed: pd.DataFrame, extract_id: int) -> list[tuple]:
    return list(
        zip(
            changed["indicator"].astype(object).tolist(),
            periods.texts(changed["period"]).tolist(),
            changed["revision"].astype(int).tolist(),
            _nullable(changed["value"]),
            _nullable(changed["numerator"]),
            _nullable(changed["denominator"]),
            _nullable(changed["note"]),
            [extract_id] * len(changed),
            strict=True,
        )
    )


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
    rows = check_extract(content, file_name, catalogue, today, sheet, progress)
    return load_rows(engine, rows, content, file_name, loaded_by, progress)


def load_rows(
    engine: Engine,
    rows: pd.DataFrame,
    content: bytes,
    file_name: str,
    loaded_by: str,
    progress: Progress | None = None,
) -> IngestResult:
    """Load a file's checked rows (:func:`check_extract`) in one transaction, and keep
    the file. A file that changes nothing writes nothing. The plan is made inside the
    write lock, so a file loaded meanwhile by someone else is taken into account."""
    digest = sha256(content)
    counts: dict[str, int] = dict.fromkeys((planning.NEW, planning.REVISED, planning.UNCHANGED), 0)
    with store.write_transaction(engine) as conn:
        same_file = conn.execute(
            select(store.extracts.c.id).where(store.extracts.c.sha256 == digest).order_by(store.extracts.c.id.desc())
        ).scalar()
        extract_id = None
        for batch in _batches(rows):
            plan = planning.plan_extract(batch, _current_for(conn, batch))
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
                        rows_total=len(rows),
                        rows_new=0,
                        rows_revised=0,
                        rows_unchanged=0,
                    )
                store.insert_rows(
                    conn, store.observations, observation_columns(changed), observation_rows(changed, extract_id)
                )
            if progress is not None:
                progress(sum(counts.values()))
        if extract_id is not None:
            store.set_extract_counts(
                conn, extract_id, counts[planning.NEW], counts[planning.REVISED], counts[planning.UNCHANGED]
            )
    return IngestResult(
        file_name=file_name,
        sha256=digest,
        extract_id=extract_id,
        rows=len(rows),
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
