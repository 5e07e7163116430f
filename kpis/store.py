"""The store: extracts and observations with revision history, and the versioned
workstream narrative and risk register, on SQLite or PostgreSQL.

Observations are append-only. A corrected value for an (indicator, period) is a new
row with the next ``revision``; the old row stays, so the report as it stood after any
extract can be rebuilt (``current_observations(..., as_of_extract=N)``). Rolling back an
extract is an extract too (``reverts``): it writes the values it restores as new
revisions, and a value that extract had brought for the first time as a withdrawn one
(``value`` NULL), so nothing is ever deleted. Writers take
a lock for the whole transaction (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory
lock), so concurrent ingests are serialised and never interleave.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Double,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from kpis import periods

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "kpis.sqlite"
DATABASE_ENV = "KPIS_DATABASE_URL"
_PG_LOCK_KEY = 7_240_531  # advisory lock id for writers

metadata = MetaData()

extracts = Table(
    "extracts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("file_name", String(255), nullable=False),
    Column("loaded_by", String(255), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("rows_total", Integer, nullable=False),
    Column("rows_new", Integer, nullable=False),
    Column("rows_revised", Integer, nullable=False),
    Column("rows_unchanged", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),  # the file exactly as loaded
    Column("reverts", Integer, ForeignKey("extracts.id")),  # a rollback: the extract it rolled back
)

observations = Table(
    "observations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("indicator", String(64), nullable=False),
    Column("period", String(7), nullable=False),  # YYYY-MM
    Column("revision", Integer, nullable=False),  # 1 for the first value, then 2, 3, ...
    Column("value", Double),  # NULL: withdrawn (a rollback took away the value)
    Column("numerator", Double),
    Column("denominator", Double),
    Column("note", Text),
    Column("extract_id", Integer, ForeignKey("extracts.id"), nullable=False),
    # Breakdowns and benchmarking: '' is the home area, the whole population.
    Column("area", String(16), nullable=False, server_default=""),
    Column("breakdown", String(32), nullable=False, server_default=""),
    Column("group", String(64), nullable=False, server_default=""),
    Column("lower_ci", Double),  # the source's own 95% limits (ci_method given)
    Column("upper_ci", Double),
    Column("lower_ci_998", Double),  # and 99.8% limits
    Column("upper_ci_998", Double),
    Column("population", Double),  # the group's population: the SII's weight
    UniqueConstraint(
        "indicator", "period", "area", "breakdown", "group", "revision", name="uq_observation_key_revision"
    ),
    Index("ix_observations_extract", "extract_id"),
)
KEY_COLUMNS = ["area", "breakdown", "group"]
BREAKDOWN_VALUE_COLUMNS = ["lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998", "population"]

# The workstream narrative (kpis/governance/narrative.py) and the risk register (kpis/governance/risks.py):
# append-only like observations, every saved version kept with who saved it and when.

commentaries = Table(
    "commentaries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workstream", String(64), nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM
    Column("version", Integer, nullable=False),  # 1, 2, 3, ... per workstream and month
    Column("text", Text, nullable=False),  # Markdown as the officer wrote it
    Column("saved_by", String(255), nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("workstream", "month", "version", name="uq_commentary_version"),
)

risk_versions = Table(
    "risk_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("risk_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),  # 1, 2, 3, ... per risk
    Column("programme", String(255)),
    Column("description", Text, nullable=False),
    Column("rank", String(16), nullable=False),
    Column("owner", String(64), nullable=False),
    Column("mitigation", Text, nullable=False, server_default=""),
    Column("status", String(16), nullable=False),
    Column("workstream", String(64)),  # NULL: not linked to a workstream
    Column("indicators", Text, nullable=False, server_default=""),  # indicator ids, comma-separated
    Column("next_review", Date),
    Column("saved_by", String(255), nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("risk_id", "version", name="uq_risk_version"),
)

VALUE_COLUMNS = ["value", "numerator", "denominator", "note"]


def database_url(url: str | None = None) -> str:
    """The URL given, else ``KPIS_DATABASE_URL``, else the embedded SQLite file."""
    return url or os.environ.get(DATABASE_ENV) or f"sqlite:///{DEFAULT_PATH}"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event, not the driver, open transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("write_lock", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _use_wal(engine: Engine, attempts: int = 100) -> None:
    """Switch a SQLite file to write-ahead logging (it persists in the file). A brand-new
    file opened by several processes at once can refuse the switch while another holds
    it ("database is locked", which the busy timeout does not cover): retry."""
    for attempt in range(attempts):
        try:
            raw = engine.raw_connection()  # outside any transaction, as the pragma needs
            try:
                raw.cursor().execute("PRAGMA journal_mode=WAL")
            finally:
                raw.close()
            return
        except (OperationalError, sqlite3.OperationalError) as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def connect(url: str | None = None) -> Engine:
    """An engine on the store, with the schema created if absent. Safe to call from
    several processes at once on a new, empty database."""
    url = database_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        _sqlite_setup(engine)
        _use_wal(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if not _has_schema(engine):
        with write_transaction(engine) as conn:  # serialised with other creators
            metadata.create_all(conn)
    if _needs_migration(engine):
        with write_transaction(engine) as conn:
            if _needs_migration(conn):  # another process may have done it meanwhile
                _migrate_to_rollbacks(conn)
    if _needs_breakdown_migration(engine):
        with write_transaction(engine) as conn:
            if _needs_breakdown_migration(conn):
                _migrate_to_breakdowns(conn)
    return engine


def _has_schema(engine: Engine) -> bool:
    return {t.name for t in metadata.sorted_tables} <= set(inspect(engine).get_table_names())


def _needs_migration(connectable: Engine | Connection) -> bool:
    """A store made before rollbacks: ``extracts`` has no ``reverts`` column."""
    return "reverts" not in {c["name"] for c in inspect(connectable).get_columns("extracts")}


def _migrate_to_rollbacks(conn: Connection) -> None:
    """Bring a store made by the first schema up to date, keeping every row: add
    ``extracts.reverts`` and let ``observations.value`` be NULL (withdrawn). SQLite cannot
    drop a NOT NULL constraint, so there the table is rebuilt and its rows copied."""
    conn.exec_driver_sql("ALTER TABLE extracts ADD COLUMN reverts INTEGER REFERENCES extracts(id)")
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql("ALTER TABLE observations ALTER COLUMN value DROP NOT NULL")
        return
    _rebuild_observations(conn, "observations_first_schema")


def _rebuild_observations(conn: Connection, old_name: str) -> None:
    """SQLite: the observations table made again with the current schema, every row
    copied (columns it did not have take their defaults)."""
    had = {c["name"] for c in inspect(conn).get_columns("observations")}
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(c.name) for c in observations.columns if c.name in had)
    conn.exec_driver_sql(f"ALTER TABLE observations RENAME TO {old_name}")
    for index in observations.indexes:
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {index.name}")
    observations.create(conn)
    conn.exec_driver_sql(f"INSERT INTO observations ({columns}) SELECT {columns} FROM {old_name} ORDER BY id")
    conn.exec_driver_sql(f"DROP TABLE {old_name}")


def _needs_breakdown_migration(connectable: Engine | Connection) -> bool:
    """A store made before breakdowns: ``observations`` has no ``area`` column."""
    return "area" not in {c["name"] for c in inspect(connectable).get_columns("observations")}


def _migrate_to_breakdowns(conn: Connection) -> None:
    """Bring a store made before breakdowns up to date, keeping every row and revision:
    add the area, breakdown and group keys (every stored row is the home area's whole
    population: '') and the given limits and population, and make the unique key
    (indicator, period, area, breakdown, group, revision). SQLite cannot change a
    table's constraints, so there the table is rebuilt and its rows copied."""
    if conn.dialect.name == "sqlite":
        _rebuild_observations(conn, "observations_before_breakdowns")
        return
    quote = conn.dialect.identifier_preparer.quote
    added = [
        f"ADD COLUMN {quote(c.name)} {c.type.compile(conn.dialect)}"
        + (" NOT NULL DEFAULT ''" if c.name in KEY_COLUMNS else "")
        for c in observations.columns
        if c.name in KEY_COLUMNS + BREAKDOWN_VALUE_COLUMNS
    ]
    conn.exec_driver_sql(f"ALTER TABLE observations {', '.join(added)}")
    conn.exec_driver_sql("ALTER TABLE observations DROP CONSTRAINT IF EXISTS uq_observation_revision")
    key = ", ".join(quote(c) for c in ["indicator", "period", *KEY_COLUMNS, "revision"])
    conn.exec_driver_sql(f"ALTER TABLE observations ADD CONSTRAINT uq_observation_key_revision UNIQUE ({key})")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction holding the store's write lock until commit or rollback."""
    with engine.connect().execution_options(write_lock=True) as conn, _writer_page_cache(conn), conn.begin():
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        yield conn


WRITER_CACHE_KIB = 65_536


@contextmanager
def _writer_page_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, a page cache of ``WRITER_CACHE_KIB`` for one write transaction, then the
    size it had (one writer at a time holds it): a month of every indicator touches every
    leaf page of the key index, more than the default 2 MB (docs/benchmarks.md, "Engine")."""
    if conn.dialect.name != "sqlite":
        yield
        return
    driver = conn.connection.driver_connection
    assert driver is not None  # a live connection's
    before = driver.execute("PRAGMA cache_size").fetchone()[0]
    driver.execute(f"PRAGMA cache_size={-WRITER_CACHE_KIB}")
    try:
        yield
    finally:
        with suppress(sqlite3.Error):
            driver.execute(f"PRAGMA cache_size={before}")


def add_extract(
    conn: Connection,
    *,
    content: bytes,
    sha256: str,
    file_name: str,
    loaded_by: str,
    rows_total: int,
    rows_new: int,
    rows_revised: int,
    rows_unchanged: int,
    reverts: int | None = None,
) -> int:
    """Record an extract (a loaded file, or a rollback with the extract it ``reverts``),
    loaded now; its id. Names longer than their columns are cut."""
    key = conn.execute(
        insert(extracts).values(
            sha256=sha256,
            file_name=file_name[:255],
            loaded_by=loaded_by[:255],
            loaded_at=datetime.now(UTC),
            rows_total=rows_total,
            rows_new=rows_new,
            rows_revised=rows_revised,
            rows_unchanged=rows_unchanged,
            content=content,
            # Left out when None: NULL, and a store of the first schema has no such column.
            **({} if reverts is None else {"reverts": reverts}),
        )
    ).inserted_primary_key
    assert key is not None  # an insert's
    return int(key[0])


def set_extract_counts(conn: Connection, extract_id: int, total: int, new: int, revised: int, unchanged: int) -> None:
    """An extract's counts of rows (all, new, revised and unchanged), once its last row is planned."""
    conn.execute(
        update(extracts)
        .where(extracts.c.id == extract_id)
        .values(rows_total=total, rows_new=new, rows_revised=revised, rows_unchanged=unchanged)
    )


_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # sqlite3; psycopg takes %s for positional values


def insert_rows(
    conn: Connection, table: Table, columns: list[str], rows: list[tuple], literals: dict[str, int] | None = None
) -> None:
    """Insert many rows by the driver's own ``executemany`` (no per-row processing by
    SQLAlchemy: docs/benchmarks.md, "Engine"): ``rows`` are tuples of plain values (``None``
    for NULL) in ``columns`` order; ``literals``, whole numbers the same in every row."""
    if not rows:
        return
    literals = literals or {}
    quote = conn.dialect.identifier_preparer.quote
    marker = _MARKERS[conn.dialect.paramstyle]
    names = [*columns, *literals]
    values = [marker] * len(columns) + [str(int(v)) for v in literals.values()]  # int(): never text in SQL
    conn.exec_driver_sql(
        f"INSERT INTO {conn.dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(c) for c in names)}) VALUES ({', '.join(values)})",
        rows,
    )


def _whole_home(columns) -> list:
    """The conditions of a home-area, whole-population row (what the KPI table reads)."""
    return [columns.area == "", columns.breakdown == "", columns.group == ""]


def current_observations(
    connectable: Engine | Connection,
    indicators: list[str] | None = None,
    as_of_extract: int | None = None,
    periods_in: list[str] | None = None,
    *,
    with_withdrawn: bool = False,
    with_limits: bool = False,
) -> pd.DataFrame:
    """The value in force for every (indicator, period) of the home area's whole population,
    sorted by indicator and period: columns ``indicator`` (categorical), ``period`` (month
    index), ``value, numerator, denominator, note, revision, extract_id``, optionally as it
    stood right after extract ``as_of_extract``. ``indicators`` and ``periods_in``
    (``YYYY-MM``) narrow it down; ``with_withdrawn`` keeps withdrawn values (``value`` NaN)
    and ``with_limits`` adds :data:`BREAKDOWN_VALUE_COLUMNS`, as an ingest plan needs them.

    Every revision asked for is read as the database finds it (by its unique index, no
    sort), then sorted here and the last of each cell kept: faster than a join on the
    latest revisions or an ``ORDER BY`` (docs/benchmarks.md, "Store reads")."""
    o = observations.c
    names = ["indicator", "period", *VALUE_COLUMNS, "revision", "extract_id"]
    names += BREAKDOWN_VALUE_COLUMNS if with_limits else []
    query = select(*(o[c] for c in names)).where(*_whole_home(o))
    if as_of_extract is not None:
        query = query.where(o.extract_id <= as_of_extract)
    if indicators is not None:
        query = query.where(o.indicator.in_(indicators))
    months = sorted(set(periods_in)) if periods_in is not None else []
    if periods_in is not None:
        query = query.where(o.period.between(months[0], months[-1]) if _consecutive(months) else o.period.in_(months))
    _, rows = _rows(connectable, query, raw=True)
    if not rows:
        return _typed(pd.DataFrame([], columns=names))
    column = {name: list(map(itemgetter(k), rows)) for k, name in enumerate(names)}
    del rows
    codes, indicator_names = pd.factorize(np.array(column["indicator"], dtype=object), sort=True)
    month = periods.from_texts(pd.Series(column["period"], dtype=object)).to_numpy()
    revision = np.array(column["revision"], dtype=np.int64)
    order = np.lexsort((revision, month, codes))
    codes, month = codes[order], month[order]
    keep = np.ones(len(order), dtype=bool)  # the last revision of each cell: the next row is another cell
    keep[:-1] = (codes[1:] != codes[:-1]) | (month[1:] != month[:-1])
    value = _floats(column["value"])[order]
    if not with_withdrawn:  # a withdrawn value: none in force
        keep &= ~np.isnan(value)
    taken = order[keep]
    return pd.DataFrame(
        {
            "indicator": pd.Categorical.from_codes(codes[keep], categories=pd.Index(indicator_names, dtype="str")),
            "period": month[keep],
            "value": value[keep],
            **{key: _floats(column[key])[taken] for key in ("numerator", "denominator")},
            "note": np.array(column["note"], dtype=object)[taken].tolist(),
            "revision": revision[taken],
            "extract_id": np.array(column["extract_id"], dtype=np.int64)[taken],
            **{key: _floats(column[key])[taken] for key in names[8:]},
        }
    )


def _floats(values: list) -> np.ndarray:
    """Stored numbers as floats, NaN for NULL; a column of NULLs without converting each."""
    if values.count(None) == len(values):
        return np.full(len(values), np.nan)
    return np.array(values, dtype=float)


KEYED_COLUMNS = [
    "indicator",
    "period",
    *KEY_COLUMNS,
    "value",
    "numerator",
    "denominator",
    "note",
    *BREAKDOWN_VALUE_COLUMNS,
    "revision",
    "extract_id",
]


def current_breakdowns(
    connectable: Engine | Connection,
    indicators: list[str] | None = None,
    as_of_extract: int | None = None,
    periods_in: list[str] | None = None,
    with_withdrawn: bool = False,
) -> pd.DataFrame:
    """The value in force for every key (indicator, period, area, breakdown, group) —
    every area and group, the home area's whole population too ('' area, breakdown and
    group) — columns :data:`KEYED_COLUMNS`, sorted by the key. ``with_withdrawn`` keeps
    withdrawn values (NaN), as an ingest plan needs them."""
    o = observations.c
    key = [o.indicator, o.period, o.area, o.breakdown, o.group]
    revisions = select(*key, func.max(o.revision).label("revision"))
    if as_of_extract is not None:
        revisions = revisions.where(o.extract_id <= as_of_extract)
    if indicators is not None:
        revisions = revisions.where(o.indicator.in_(indicators))
    if periods_in is not None:
        revisions = revisions.where(o.period.in_(periods_in))
    latest = revisions.group_by(*key).subquery("latest")
    query = select(*(o[c] for c in KEYED_COLUMNS)).join(
        latest,
        (o.indicator == latest.c.indicator)
        & (o.period == latest.c.period)
        & (o.area == latest.c.area)
        & (o.breakdown == latest.c.breakdown)
        & (o.group == latest.c.group)
        & (o.revision == latest.c.revision),
    )
    if not with_withdrawn:
        query = query.where(o.value.is_not(None))
    frame = read_frame(connectable, query.order_by(*key))
    out = _typed(frame.astype({c: float for c in BREAKDOWN_VALUE_COLUMNS}))
    return out.astype({c: object for c in KEY_COLUMNS})


def _consecutive(months: list[str]) -> bool:
    """Whether sorted texts are every month, as stored (``YYYY-MM``), from the first to the last."""
    try:
        first, last = periods.from_text(months[0]), periods.from_text(months[-1])
    except (IndexError, periods.PeriodError):
        return False
    return months == [periods.to_text(m) for m in range(first, last + 1)]


def read_frame(connectable: Engine | Connection, query: Select) -> pd.DataFrame:
    """The rows of a select as a frame, one column per selected column, by its name: the
    one way the engine reads rows (observations, extracts, narrative, risks)."""
    keys, rows = _rows(connectable, query)
    return pd.DataFrame(rows, columns=keys)


def _rows(connectable: Engine | Connection, query: Select, *, raw: bool = False) -> tuple[list[str], Sequence[Any]]:
    """The column names and rows of a select, as plain tuples (given SQLAlchemy Row objects,
    pandas takes a slow path per row). ``raw``: the driver's own values, unconverted (text,
    numbers; not for dates), which saves a conversion per value."""
    if isinstance(connectable, Engine):
        with connectable.connect() as conn:
            return _rows(conn, query, raw=raw)
    result = connectable.execute(query)
    keys = list(result.keys())
    if raw:
        rows = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
        return keys, rows
    return keys, [tuple(row) for row in result.fetchall()]


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Stored text to working types: periods as month indices, indicators categorical."""
    out = frame.astype({"value": float, "numerator": float, "denominator": float, "revision": int, "extract_id": int})
    out["indicator"] = out["indicator"].astype(str).astype("category")
    out["period"] = periods.from_texts(out["period"].astype(str)) if len(out) else pd.Series(dtype=int)
    return out.reset_index(drop=True)


def observation_history(connectable: Engine | Connection, indicator: str) -> pd.DataFrame:
    """Every revision of one indicator's values with the extract that brought it."""
    o, e = observations.c, extracts.c
    query = (
        select(
            o.period,
            o.revision,
            o.value,
            o.numerator,
            o.denominator,
            o.note,
            o.extract_id,
            e.file_name,
            e.loaded_by,
            e.loaded_at,
        )
        .join(extracts, o.extract_id == e.id)
        .where(o.indicator == indicator, *_whole_home(o))
        .order_by(o.period, o.revision)
    )
    frame = read_frame(connectable, query)
    return frame.astype({"value": float, "numerator": float, "denominator": float})


def extract_log(connectable: Engine | Connection) -> pd.DataFrame:
    """The extracts loaded, newest first (without their content)."""
    e = extracts.c
    query = select(
        e.id,
        e.file_name,
        e.sha256,
        e.loaded_by,
        e.loaded_at,
        e.rows_total,
        e.rows_new,
        e.rows_revised,
        e.rows_unchanged,
        e.reverts,
    ).order_by(e.id.desc())
    return read_frame(connectable, query).astype({"reverts": "Int64"})


def extract_content(connectable: Engine | Connection, extract_id: int) -> bytes:
    """The file of an extract exactly as it was loaded."""
    content = _first(connectable, select(extracts.c.content).where(extracts.c.id == extract_id))
    if content is None:
        raise KeyError(f"no extract {extract_id}")
    return bytes(content)


def data_version(connectable: Engine | Connection) -> int:
    """Id of the latest extract (0 for an empty store): changes whenever data changes."""
    return int(_first(connectable, select(func.coalesce(func.max(extracts.c.id), 0))))


def latest_month(connectable: Engine | Connection) -> int | None:
    """The latest period with any observation, as a month index."""
    value = _first(connectable, select(func.max(observations.c.period)))
    return None if value is None else periods.from_text(value)


def _first(connectable: Engine | Connection, query: Select) -> Any:
    """The first value of a select's first row (None: no row)."""
    _, rows = _rows(connectable, query)
    return rows[0][0] if rows else None
