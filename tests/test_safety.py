"""Data safety, with real ``python -m kpis ingest`` processes on a real store (a SQLite file
and a PostgreSQL database): two ingests at once both land, each revision recorded once; an
ingest killed inside its write transaction leaves the store as it was, unlocked and intact;
a file over the size or row limit is refused by the command line, nothing written.

The extracts are generated: tens of thousands of distinct (indicator, period) cells, so
that writing them takes long enough to contend for the store and to be killed in. The
catalogue has ten monthly count indicators, so the cells reach back centuries from last
month (the extract format only forbids periods after the current month).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from pandas.testing import assert_frame_equal
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from kpis import ingest, periods, store
from kpis.catalogue import DEFAULT_PATH, Catalogue, Frequency, Unit, load_catalogue
from tests.conftest import require, store_snapshot

REPO_ROOT = Path(__file__).resolve().parent.parent
LAST_MONTH = periods.current_month() - 1
TAG = 1_000_000  # a value is tag * TAG + cell number: the tag says which file wrote it
OBSERVATION_KEY = ["indicator", "period", "revision"]
WAIT = 60.0  # seconds before a test gives up waiting for a process or a lock

# Generated extracts -----------------------------------------------------------------------


MANY = Path(tempfile.mkdtemp(prefix="kpis-safety-")) / "kpis.yaml"  # the catalogue below, for the processes


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The shipped catalogue and 2,000 more count indicators, so that the large files here
    hold their cells in recent months (a period before 1990 is refused)."""
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    workstream = raw["workstreams"][0]["id"]
    raw["indicators"] += [
        {
            "id": f"load_test_{k:04d}",
            "name": f"Load test {k}",
            "workstream": workstream,
            "unit": "count",
            "direction": "none",
        }
        for k in range(2_000)
    ]
    MANY.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return load_catalogue(MANY)


def count_indicators(catalogue: Catalogue) -> list[str]:
    """The catalogue's monthly count indicators that take a plain value: any whole number
    is a valid figure for them."""
    return [
        i.id
        for i in catalogue.indicators
        if i.unit is Unit.COUNT and i.frequency is Frequency.MONTHLY and not i.aggregation.uses_ratio
    ]


def cells(indicators: list[str], first: int, count: int, tag: int) -> pd.DataFrame:
    """Rows ``indicator, period, value`` of cells number ``first`` to ``first + count - 1``:
    the indicators in turn, month by month back from last month; value ``tag * TAG + number``."""
    number = np.arange(first, first + count)
    return pd.DataFrame(
        {
            "indicator": np.asarray(indicators, dtype=object)[number % len(indicators)],
            "period": periods.texts(pd.Series(LAST_MONTH - number // len(indicators))).to_numpy(),
            "value": tag * TAG + number,
        }
    )


def extract_bytes(*parts: pd.DataFrame) -> bytes:
    return pd.concat(parts).to_csv(index=False, lineterminator="\n").encode("utf-8")


def write_extract(path: Path, *parts: pd.DataFrame) -> Path:
    path.write_bytes(extract_bytes(*parts))
    return path


def as_stored(rows: pd.DataFrame, revision: int, extract_id: int) -> pd.DataFrame:
    """An extract's rows as the store holds them: ``indicator, period, revision, value, extract_id``."""
    return rows.assign(revision=revision, value=rows["value"].astype(float), extract_id=extract_id)[
        [*OBSERVATION_KEY, "value", "extract_id"]
    ]


def in_cell_order(frame: pd.DataFrame) -> pd.DataFrame:
    # Sorted here, not by the database: PostgreSQL's collation may order "_" differently.
    return frame.astype({"indicator": str, "period": str}).sort_values(OBSERVATION_KEY, ignore_index=True)


def stored_observations(engine: Engine) -> pd.DataFrame:
    """Every stored observation, in the columns of :func:`as_stored`."""
    o = store.observations.c
    with engine.connect() as conn:
        result = conn.execute(select(o.indicator, o.period, o.revision, o.value, o.extract_id))
        frame = pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))
    return in_cell_order(frame.astype({"revision": np.int64, "value": float, "extract_id": np.int64}))


def assert_unchanged(engine: Engine, before: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    after = store_snapshot(engine)
    assert_frame_equal(after[0], before[0])
    assert_frame_equal(after[1], before[1])


# Processes ------------------------------------------------------------------------------


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    """The processes a test starts; any still running when it ends is killed, by its id."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def start_ingest(processes: list[subprocess.Popen], path: Path, url: str, user: str) -> subprocess.Popen:
    """``python -m kpis ingest PATH`` as an officer runs it, from the repository root, with
    the catalogue of many indicators (:func:`catalogue`)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "kpis", "ingest", str(path), "--database", url, "--user", user, "--config", str(MANY)],
        cwd=REPO_ROOT,
        # Unbuffered: its "loaded as extract" line reaches the pipe as soon as ingest returns.
        env={**os.environ, store.DATABASE_ENV: url, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    processes.append(process)
    return process


def run_ingest(processes: list[subprocess.Popen], path: Path, url: str) -> tuple[int, str, str]:
    process = start_ingest(processes, path, url, user="officer")
    stdout, stderr = process.communicate(timeout=180)
    return process.returncode, stdout, stderr


def process_stat(pid: int) -> tuple[str, int]:
    """A running process's state letter (R, S, D, T...) and the CPU time it has used, in ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return fields[0], int(fields[11]) + int(fields[12])


def has_open(pid: int, path: str) -> bool:
    """Whether a process has the file open (False once it has ended)."""
    try:
        descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in descriptors:
        try:
            if os.readlink(fd) == path:
                return True
        except OSError:  # closed meanwhile
            continue
    return False


def freeze(process: subprocess.Popen) -> None:
    """Stop the process (SIGSTOP) and wait until the kernel says it is stopped."""
    process.send_signal(signal.SIGSTOP)
    deadline = time.monotonic() + WAIT
    while process_stat(process.pid)[0] not in "Tt":
        assert time.monotonic() < deadline, "the process did not stop"
        time.sleep(0.001)


def wait_for(condition: Callable[[], bool], what: str, started: Sequence[subprocess.Popen] = ()) -> None:
    """Poll until ``condition()``; fail if a process in ``started`` ends first or time runs out."""
    deadline = time.monotonic() + WAIT
    while not condition():
        for process in started:
            if process.poll() is not None:
                stdout, stderr = process.communicate()
                pytest.fail(f"{what}: a process ended first, exit {process.returncode}\n{stdout}{stderr}")
        assert time.monotonic() < deadline, f"{what}: not after {WAIT} s"
        time.sleep(0.005)


def require_proc() -> None:
    require("Linux /proc", Path("/proc/self/stat").is_file(), "these tests watch processes through Linux's /proc")


# The store's write lock, seen from outside -------------------------------------------------


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def sqlite_path(engine: Engine) -> str:
    return str(Path(engine.url.database).resolve())


def sqlite_write_lock_held(path: str) -> bool:
    """Whether another connection holds the SQLite file's write lock: a probe's
    ``BEGIN IMMEDIATE`` that may not wait fails with "database is locked"."""
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "database is locked" not in str(error):
            raise
        return True
    finally:
        probe.close()  # rolls the probe's transaction back
    return False


PG_WRITE_LOCKS = text(
    """
    SELECT l.granted, a.query
    FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = :key AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    """
)


def pg_write_locks(engine: Engine) -> pd.DataFrame:
    """On PostgreSQL, the sessions holding (``granted``) or awaiting the store's write lock
    (the advisory lock ``store._PG_LOCK_KEY``) on this database, with their last statement."""
    with engine.connect() as conn:  # a new transaction each time: pg_stat_activity is cached per transaction
        rows = conn.execute(PG_WRITE_LOCKS, {"key": store._PG_LOCK_KEY}).fetchall()
    return pd.DataFrame([tuple(row) for row in rows], columns=["granted", "query"])


def pg_observations_size(engine: Engine) -> int:
    """Bytes of the observations table's heap: it grows as rows are inserted, committed or not."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_relation_size('observations')")).scalar_one()


def write_lock_free(engine: Engine) -> bool:
    if is_sqlite(engine):
        return not sqlite_write_lock_held(sqlite_path(engine))
    return pg_write_locks(engine).empty


def waiting_for_write_lock(engine: Engine, started: list[subprocess.Popen]) -> bool:
    """Whether every process in ``started`` is waiting for the store's write lock. On
    PostgreSQL the server says so. On SQLite a waiter sleeps in SQLite's busy handler: it
    has the store open and, for 0.3 s, sleeps and uses no CPU (once the command line has
    the store open, it does nothing else asleep)."""
    if not is_sqlite(engine):
        return int((~pg_write_locks(engine)["granted"].astype(bool)).sum()) == len(started)
    path = sqlite_path(engine)
    if not all(has_open(p.pid, path) for p in started):
        return False
    cpu_before = [process_stat(p.pid)[1] for p in started]
    for _ in range(30):
        time.sleep(0.01)
        if any(process_stat(p.pid)[0] != "S" for p in started):
            return False
    # A waking retry may be charged a clock tick; a process at work uses 30.
    return all(process_stat(p.pid)[1] - cpu <= 1 for p, cpu in zip(started, cpu_before, strict=True))


# 1. Two ingests at once -----------------------------------------------------------------

OVERLAP = 5_000  # cells of the base extract that both files revise
NEW_PER_FILE = 15_000  # cells only one file adds
ROUNDS = 1  # each round starts two processes (about 2 s on a busy 2-core machine); raise it to hunt a race


def test_two_ingests_at_once_both_land_each_revision_once(database_url, engine, catalogue, tmp_path, processes):
    """Each round, two processes load a file of 20,000 rows: both revise the same 5,000 cells
    and each adds 15,000 of its own. They are released together: the test holds the store's
    write lock until both are waiting for it, then lets go."""
    require_proc()
    indicators = count_indicators(catalogue)
    base = cells(indicators, 0, OVERLAP, tag=1)
    assert ingest.ingest(engine, extract_bytes(base), "base.csv", catalogue, loaded_by="base").extract_id == 1
    expected = [as_stored(base, revision=1, extract_id=1)]
    revision, next_cell, last_file = 1, OVERLAP, None
    for round_ in range(1, ROUNDS + 1):
        files = {}  # name -> (its revisions of the base cells, its new cells)
        for side in (0, 1):
            tag = 2 * round_ + side
            parts = (cells(indicators, 0, OVERLAP, tag), cells(indicators, next_cell, NEW_PER_FILE, tag))
            next_cell += NEW_PER_FILE
            files[write_extract(tmp_path / f"round-{round_}-{'ab'[side]}.csv", *parts).name] = parts
        with store.write_transaction(engine):  # the gate: both start while the test holds the lock
            started = [start_ingest(processes, tmp_path / name, database_url, user=name) for name in files]
            wait_for(lambda started=started: waiting_for_write_lock(engine, started), "both waiting", started)
        outcomes = [p.communicate(timeout=180) for p in started]
        assert [p.returncode for p in started] == [0, 0], outcomes

        log = store.extract_log(engine)
        extract_of = dict(zip(log["file_name"], log["id"].astype(int), strict=True))
        assert sorted(extract_of[name] for name in files) == [2 * round_, 2 * round_ + 1]
        for name, (stdout, stderr) in zip(files, outcomes, strict=True):
            assert (stdout, stderr) == (
                f"{name}: loaded as extract {extract_of[name]}: {OVERLAP + NEW_PER_FILE} rows, "
                f"{NEW_PER_FILE} new, {OVERLAP} revised, 0 unchanged\n",
                "",
            )
        for name in sorted(files, key=extract_of.get):  # in the order the write lock let them in
            revised, new = files[name]
            revision += 1
            expected += [as_stored(revised, revision, extract_of[name]), as_stored(new, 1, extract_of[name])]
            last_file = name
        records = log.set_index("file_name").loc[list(files)]
        assert records[
            ["loaded_by", "rows_total", "rows_new", "rows_revised", "rows_unchanged"]
        ].to_numpy().tolist() == [[name, OVERLAP + NEW_PER_FILE, NEW_PER_FILE, OVERLAP, 0] for name in files]
        for name in files:
            assert store.extract_content(engine, extract_of[name]) == (tmp_path / name).read_bytes()

    stored = stored_observations(engine)
    assert len(stored) == OVERLAP + ROUNDS * 2 * (OVERLAP + NEW_PER_FILE)
    assert_frame_equal(stored, in_cell_order(pd.concat(expected)))
    # Every base cell has one revision from each extract, in extract order: none lost, none twice.
    history = stored.merge(base[["indicator", "period"]]).groupby(["indicator", "period"])["extract_id"].agg(tuple)
    assert len(history) == OVERLAP
    assert set(history) == {tuple(range(1, 2 * ROUNDS + 2))}
    # The value in force is the later extract's.
    current = store.current_observations(engine, indicators=indicators)
    current = current.assign(indicator=current["indicator"].astype(str), period=periods.texts(current["period"]))
    in_force = current.merge(base[["indicator", "period"]])[[*OBSERVATION_KEY, "value", "extract_id"]]
    last = 2 * ROUNDS + 1
    assert_frame_equal(in_cell_order(in_force), in_cell_order(as_stored(files[last_file][0], last, last)))


# 2. An ingest killed inside its write transaction ------------------------------------------

BASE_CELLS = 10_000
BIG_ROWS = 150_000  # the base cells revised and new ones


def wal_frames(path: str) -> tuple[int, int]:
    """Whole frames of the current generation in a SQLite write-ahead log, and how many of
    them are commit frames (https://www.sqlite.org/fileformat.html#the_write_ahead_log: a
    32-byte header with the page size and two salts, then frames of a 24-byte header and a
    page; a frame whose salts differ from the header's is left over from an earlier
    generation; a commit frame gives the database's size in pages after the commit)."""
    log = Path(path).read_bytes() if Path(path).exists() else b""
    if len(log) < 32:
        return 0, 0
    size = 24 + int.from_bytes(log[8:12], "big")
    frames = commits = 0
    for start in range(32, len(log) - size + 1, size):
        if log[start + 8 : start + 16] != log[16:24]:
            break
        frames += 1
        commits += log[start + 4 : start + 8] != bytes(4)
    return frames, commits


def freeze_writing_its_commit_sqlite(engine: Engine, process: subprocess.Popen) -> None:
    """On SQLite a write transaction's pages stay in the writer's memory until COMMIT
    writes them to the write-ahead log, last of all a commit frame; only then is it
    committed. Wait until the ingest holds the write lock with the log empty, watch the log
    until it grows, freeze the ingest (SIGSTOP), and check while it is frozen that it still
    holds the lock and that the log holds its pages but no commit frame."""
    path = sqlite_path(engine)
    log = path + "-wal"
    wait_for(lambda: sqlite_write_lock_held(path), "the ingest holding the write lock", [process])
    assert wal_frames(log) == (0, 0), "the write-ahead log must start empty for the proof below"
    # Every millisecond: the commit writes tens of MB in tens of milliseconds.
    while not (os.path.exists(log) and os.path.getsize(log) > 32):
        if process.poll() is not None:
            pytest.fail("the ingest finished before its commit could be caught")
        time.sleep(0.001)
    freeze(process)
    frames, commits = wal_frames(log)
    assert sqlite_write_lock_held(path), "the ingest left its write transaction before it could be frozen"
    assert frames > 0 and commits == 0, (frames, commits)


def freeze_inserting_observations_pg(engine: Engine, process: subprocess.Popen, heap_before: int) -> None:
    """On PostgreSQL, wait until the ingest holds the store's advisory lock and the
    observations table has grown past ``heap_before`` bytes (its rows are being inserted),
    freeze it (SIGSTOP), and check while it is frozen that it still holds the lock and has
    not sent COMMIT (the transaction-level lock goes only at commit or rollback)."""

    def inserting() -> bool:
        return bool(pg_write_locks(engine)["granted"].any()) and pg_observations_size(engine) > heap_before

    wait_for(inserting, "the ingest inserting its observations", [process])
    freeze(process)
    holders = pg_write_locks(engine)
    assert holders["granted"].tolist() == [True], "the ingest left its write transaction before it could be frozen"
    assert holders["query"].str.strip().str.upper().tolist() != ["COMMIT"], holders


def freezer(engine: Engine) -> Callable[[subprocess.Popen], None]:
    """How to catch an ingest deep inside its write transaction, made ready before it starts."""
    if is_sqlite(engine):
        engine.dispose()  # the last connection's close checkpoints and removes the log
        return lambda process: freeze_writing_its_commit_sqlite(engine, process)
    heap_before = pg_observations_size(engine)
    return lambda process: freeze_inserting_observations_pg(engine, process, heap_before)


def test_an_ingest_killed_inside_its_write_transaction_changes_nothing(
    database_url, engine, catalogue, tmp_path, processes
):
    """A 150,000-row extract (revising 10,000 stored cells, adding 140,000) is killed with
    SIGKILL deep inside its write transaction (SQLite: while writing its commit; PostgreSQL:
    while inserting its rows): the store is as it was, unlocked and intact, and the next
    ingest loads after the base as if the killed one had never run."""
    require_proc()
    indicators = count_indicators(catalogue)
    base = cells(indicators, 0, BASE_CELLS, tag=1)
    assert ingest.ingest(engine, extract_bytes(base), "base.csv", catalogue, loaded_by="base").extract_id == 1
    big = write_extract(
        tmp_path / "big.csv",
        cells(indicators, 0, BASE_CELLS, tag=2),
        cells(indicators, BASE_CELLS, BIG_ROWS - BASE_CELLS, tag=2),
    )
    before = store_snapshot(engine)

    freeze_inside = freezer(engine)
    process = start_ingest(processes, big, database_url, user="killed")
    freeze_inside(process)
    process.send_signal(signal.SIGKILL)
    stdout, _ = process.communicate(timeout=WAIT)
    assert process.returncode == -signal.SIGKILL
    assert stdout == ""  # its ingest never returned: the result line is printed after the commit

    wait_for(lambda: write_lock_free(engine), "the write lock released")
    assert_unchanged(engine, before)
    if is_sqlite(engine):
        with closing(sqlite3.connect(sqlite_path(engine))) as check:
            assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    again = store.connect(database_url)
    try:
        revised, new = cells(indicators, 0, 10, tag=3), cells(indicators, BASE_CELLS, 10, tag=3)
        result = ingest.ingest(again, extract_bytes(revised, new), "after.csv", catalogue, loaded_by="next")
        # The killed ingest left no extract behind: the new one follows the base. (On
        # PostgreSQL its id skips the one the killed transaction drew from the sequence.)
        assert store.extract_log(again)["file_name"].tolist() == ["after.csv", "base.csv"]
        assert (result.new, result.revised) == (10, 10)
        assert result.extract_id == store.data_version(again)
        assert_frame_equal(
            stored_observations(again),
            in_cell_order(
                pd.concat(
                    [
                        as_stored(base, 1, 1),
                        as_stored(revised, 2, result.extract_id),
                        as_stored(new, 1, result.extract_id),
                    ]
                )
            ),
        )
    finally:
        again.dispose()


# 3. Files over the browser's limits load from the command line ----------------------------

FORMER_ROW_LIMIT = 200_000  # the command line refused more rows, and 8 MB, before it streamed files


def test_the_command_line_loads_a_file_over_the_former_row_and_size_limits(
    database_url, engine, catalogue, tmp_path, processes
):
    indicators = count_indicators(catalogue)
    ingest.ingest(engine, extract_bytes(cells(indicators, 0, 5, tag=1)), "base.csv", catalogue, loaded_by="base")
    rows = cells(indicators, 0, FORMER_ROW_LIMIT + 1, tag=2)
    path = write_extract(tmp_path / "long.csv", rows.assign(value=rows["value"].astype(str) + ".000000000000"))
    assert path.stat().st_size > 8 * 1024 * 1024

    code, out, err = run_ingest(processes, path, database_url)
    assert (code, err) == (0, ""), err
    assert out.startswith(f"long.csv: loaded as extract 2: {FORMER_ROW_LIMIT + 1} rows")
    current = store.current_observations(engine)
    assert len(current) == FORMER_ROW_LIMIT + 1
