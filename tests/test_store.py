"""The store on a real SQLite file and a real PostgreSQL database: schema, SQLite pragmas,
the default URL, revisions written by ``ingest`` and read back as they stood after any
extract, the extract log and its exact content, and the constraints the database enforces."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Index, MetaData, Table, UniqueConstraint, create_engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from kpis import ingest, periods, store
from kpis.governance import rollback
from tests.conftest import store_snapshot

REPO_ROOT = Path(__file__).resolve().parent.parent


def csv_bytes(*lines: str, header: str = "indicator,period,value", newline: str = "\n") -> bytes:
    return newline.join([header, *lines, ""]).encode("utf-8")


def month(text: str) -> int:
    return periods.from_text(text)


# Three extracts, oldest first: (file name, loaded by, content).
EXTRACT_1 = (
    "extract-1.csv",
    "alice",
    csv_bytes(
        "mofd_bed_occupancy,2020-09,10",
        "mofd_bed_occupancy,2020-10,16",
        "larc_uptake,2020-10,30",
    ),
)
EXTRACT_2 = (
    "extract-2.csv",
    "bob",
    csv_bytes(
        "mofd_bed_occupancy,2020-09,10",  # unchanged
        "mofd_bed_occupancy,2020-10,17",  # revised: revision 2
        "discharged_home_with_support,2020-10,80",  # new
    ),
)
# With a byte order mark, CRLF line ends and a note: the store keeps the bytes as they were.
EXTRACT_3 = (
    "extract-3.csv",
    "carol",
    b"\xef\xbb\xbf"
    + csv_bytes(
        "mofd_bed_occupancy,2020-10,18,validated figure",  # revised: revision 3
        "mofd_bed_occupancy,2020-11,15,",  # new
        header="indicator,period,value,note",
        newline="\r\n",
    ),
)


@pytest.fixture
def loaded(engine, catalogue):
    """The store after the three extracts, with their ingest results."""
    return engine, [
        ingest.ingest(engine, content, name, catalogue, loaded_by=user)
        for name, user, content in (EXTRACT_1, EXTRACT_2, EXTRACT_3)
    ]


def values(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[float, int, int]]:
    """(indicator, YYYY-MM) → (value, revision, extract_id) of a current_observations frame."""
    return {
        (row.indicator, periods.to_text(int(row.period))): (row.value, int(row.revision), int(row.extract_id))
        for row in frame.itertuples(index=False)
    }


# Schema --------------------------------------------------------------------------------


def test_connect_creates_the_schema_on_an_empty_database(database_url, tmp_path):
    if database_url.startswith("sqlite"):
        path = tmp_path / "kpis.sqlite"
        assert not path.exists()
    engine = store.connect(database_url)
    try:
        if database_url.startswith("sqlite"):
            assert path.is_file()
        inspector = inspect(engine)
        assert {"extracts", "observations"} <= set(inspector.get_table_names())
        assert {c["name"] for c in inspector.get_columns("extracts")} == {
            "id",
            "sha256",
            "file_name",
            "loaded_by",
            "loaded_at",
            "rows_total",
            "rows_new",
            "rows_revised",
            "rows_unchanged",
            "content",
            "reverts",
        }
        assert {c["name"] for c in inspector.get_columns("observations")} == {
            "id",
            "indicator",
            "period",
            "revision",
            "value",
            "numerator",
            "denominator",
            "note",
            "extract_id",
            # breakdowns and benchmarking ('' area, breakdown, group: the home area's whole population)
            "area",
            "breakdown",
            "group",
            "lower_ci",
            "upper_ci",
            "lower_ci_998",
            "upper_ci_998",
            "population",
        }
        uniques = inspector.get_unique_constraints("observations")
        key = {"indicator", "period", "area", "breakdown", "group", "revision"}
        assert any(set(u["column_names"]) == key for u in uniques), uniques
        foreign = inspector.get_foreign_keys("observations")
        assert [(f["constrained_columns"], f["referred_table"], f["referred_columns"]) for f in foreign] == [
            (["extract_id"], "extracts", ["id"])
        ]
        assert store.data_version(engine) == 0
        assert store.current_observations(engine).empty
    finally:
        engine.dispose()


def _first_schema() -> MetaData:
    """The store's tables as the first release made them: no ``extracts.reverts`` and a
    value in every observation."""
    legacy = MetaData()
    Table("extracts", legacy, *(c._copy() for c in store.extracts.columns if c.name != "reverts"))
    columns = [c._copy() for c in store.observations.columns]
    for column in columns:
        column.nullable = column.nullable and column.name != "value"
    Table(
        "observations",
        legacy,
        *columns,
        UniqueConstraint("indicator", "period", "revision", name="uq_observation_revision"),
        Index("ix_observations_extract", "extract_id"),
    )
    return legacy


def test_a_store_made_by_the_first_schema_is_migrated_keeping_every_row(database_url, catalogue):
    first, legacy = create_engine(database_url), _first_schema()
    legacy.create_all(first)
    for name, user, content in (EXTRACT_1, EXTRACT_2):  # loaded by the first release
        ingest.ingest(first, content, name, catalogue, loaded_by=user)
    with pytest.raises(IntegrityError), first.begin() as conn:  # there, every observation needs a value
        conn.execute(insert(store.observations).values(indicator="a", period="2020-10", revision=1, extract_id=1))
    with first.connect() as conn:
        extracts_before, observations_before = (
            pd.DataFrame(conn.execute(select(legacy.tables[name]).order_by(legacy.tables[name].c.id)).fetchall())
            for name in ("extracts", "observations")
        )
    first.dispose()

    engine = store.connect(database_url)
    try:
        columns = {c["name"]: c for c in inspect(engine).get_columns("observations")}
        assert columns["value"]["nullable"]
        assert "reverts" in {c["name"] for c in inspect(engine).get_columns("extracts")}
        extracts_after, observations_after = store_snapshot(engine)
        pd.testing.assert_frame_equal(observations_after, observations_before)
        pd.testing.assert_frame_equal(extracts_after.drop(columns="reverts"), extracts_before)
        assert extracts_after["reverts"].isna().all()
        assert rollback.rollback(engine, 2, "admin").withdrawn == 1  # a withdrawn value can now be stored
        assert not store._needs_migration(store.connect(database_url))  # done once
    finally:
        engine.dispose()


def _schema_before_breakdowns() -> MetaData:
    """The store's tables as they were before breakdowns: observations keyed by
    (indicator, period, revision), without area, breakdown, group, limits or population."""
    legacy = MetaData()
    Table("extracts", legacy, *(c._copy() for c in store.extracts.columns))
    added = {*store.KEY_COLUMNS, *store.BREAKDOWN_VALUE_COLUMNS}
    Table(
        "observations",
        legacy,
        *(c._copy() for c in store.observations.columns if c.name not in added),
        UniqueConstraint("indicator", "period", "revision", name="uq_observation_revision"),
        Index("ix_observations_extract", "extract_id"),
    )
    return legacy


def test_a_store_made_before_breakdowns_is_migrated_keeping_every_row_and_its_history(database_url, catalogue):
    before, legacy = create_engine(database_url), _schema_before_breakdowns()
    legacy.create_all(before)
    extract = {"sha256": "0" * 64, "loaded_by": "alice", "rows_total": 2, "rows_new": 2, "rows_revised": 0}
    with before.begin() as conn:
        for k in (1, 2):
            conn.execute(
                insert(legacy.tables["extracts"]).values(
                    file_name=f"e{k}.csv",
                    loaded_at=pd.Timestamp("2020-11-01", tz="UTC"),
                    rows_unchanged=0,
                    content=b"x",
                    **extract,
                )
            )
        for revision, value, extract_id in ((1, 16.0, 1), (2, 17.0, 2), (3, None, 2)):  # the last withdrawn
            conn.execute(
                insert(legacy.tables["observations"]).values(
                    indicator="mofd_bed_occupancy",
                    period="2020-10",
                    revision=revision,
                    value=value,
                    extract_id=extract_id,
                )
            )
        conn.execute(
            insert(legacy.tables["observations"]).values(
                indicator="larc_uptake",
                period="2020-10",
                revision=1,
                value=30.0,
                numerator=300.0,
                denominator=1000.0,
                note="checked",
                extract_id=1,
            )
        )
        observations_before = pd.DataFrame(
            conn.execute(select(legacy.tables["observations"]).order_by(legacy.tables["observations"].c.id)).fetchall()
        )
    before.dispose()

    engine = store.connect(database_url)
    try:
        assert not store._needs_breakdown_migration(engine)
        uniques = inspect(engine).get_unique_constraints("observations")
        assert [set(u["column_names"]) for u in uniques] == [
            {"indicator", "period", "area", "breakdown", "group", "revision"}
        ]
        _, observations_after = store_snapshot(engine)
        pd.testing.assert_frame_equal(observations_after[observations_before.columns], observations_before)
        assert (observations_after[store.KEY_COLUMNS] == "").all().all()
        assert observations_after[store.BREAKDOWN_VALUE_COLUMNS].isna().all().all()
        assert values(store.current_observations(engine)) == {("larc_uptake", "2020-10"): (30.0, 1, 1)}
        content = csv_bytes(
            "larc_uptake,2020-10,,imd_quintile,1,18",
            "mofd_bed_occupancy,2020-10,,,,19",
            header="indicator,period,area,breakdown,group,value",
        )
        result = ingest.ingest(engine, content, "groups.csv", catalogue, loaded_by="bob")
        assert (result.new, result.revised) == (2, 0)  # after a withdrawn value, a new one (revision 4)
        current = store.current_breakdowns(engine)
        assert current[["indicator", "group", "value", "revision"]].values.tolist() == [
            ["larc_uptake", "", 30.0, 1],
            ["larc_uptake", "1", 18.0, 1],
            ["mofd_bed_occupancy", "", 19.0, 4],
        ]
    finally:
        engine.dispose()


def test_connect_again_keeps_the_data(database_url, catalogue):
    engine = store.connect(database_url)
    ingest.ingest(engine, EXTRACT_1[2], EXTRACT_1[0], catalogue, loaded_by="alice")
    before = store_snapshot(engine)
    engine.dispose()
    again = store.connect(database_url)
    try:
        after = store_snapshot(again)
        pd.testing.assert_frame_equal(before[0], after[0])
        pd.testing.assert_frame_equal(before[1], after[1])
        assert store.data_version(again) == 1
    finally:
        again.dispose()


def _at_once(task, count: int = 8) -> list[str]:
    """Run ``task`` in ``count`` threads released together; the errors they raised."""
    barrier = threading.Barrier(count)
    errors: list[str] = []

    def run() -> None:
        barrier.wait()
        try:
            task()
        except Exception as error:
            errors.append(f"{type(error).__name__}: {str(error).splitlines()[0]}")

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def test_concurrent_first_connects_to_an_empty_database_all_succeed(database_url, tmp_path):
    """The dashboard and the command line may open a new store at the same moment: every
    ``connect`` must succeed and the schema be made once. (The schema is created outside
    the store's write lock: on SQLite the CREATE TABLE upgrades a deferred transaction
    and fails at once with "database is locked" despite busy_timeout; on PostgreSQL two
    CREATE TABLEs race and one fails with a unique violation on pg_type. Less often, on a
    SQLite file not yet in WAL mode, the connect hook's ``PRAGMA journal_mode=WAL`` fails
    with "database is locked" too.)"""

    # Several fresh SQLite files (the race is lost most of the time, not always); the
    # PostgreSQL database is fresh once.
    urls = [database_url]
    if database_url.startswith("sqlite"):
        urls += [f"sqlite:///{tmp_path / f'fresh-{n}.sqlite'}" for n in range(4)]
    for url in urls:

        def open_store(url: str = url) -> None:
            engine = store.connect(url)
            try:
                assert store.data_version(engine) == 0
            finally:
                engine.dispose()

        assert _at_once(open_store) == [], url


def test_concurrent_ingests_are_serialised(engine, catalogue):
    """Eight loads of a new value for the same cell at once: each gets its own revision."""
    counter = iter(range(1, 9))
    lock = threading.Lock()

    def load() -> None:
        with lock:
            value = next(counter)
        ingest.ingest(engine, csv_bytes(f"larc_uptake,2020-10,{value}"), f"f{value}.csv", catalogue, loaded_by="t")

    assert _at_once(load) == []
    history = store.observation_history(engine, "larc_uptake")
    assert list(history["revision"]) == list(range(1, 9))
    assert list(history["extract_id"]) == list(range(1, 9))
    assert sorted(history["value"]) == [float(v) for v in range(1, 9)]
    assert store.current_observations(engine)["revision"].tolist() == [8]


def test_connect_creates_missing_directories_for_a_sqlite_file(tmp_path):
    path = tmp_path / "a" / "b" / "kpis.sqlite"
    engine = store.connect(f"sqlite:///{path}")
    try:
        assert path.is_file()
        assert store.data_version(engine) == 0
    finally:
        engine.dispose()


def test_sqlite_pragmas_are_set_on_every_connection(sqlite_url):
    engine = store.connect(sqlite_url)
    try:
        for _ in range(2):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar().lower() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            engine.dispose()  # the next round opens a fresh DBAPI connection
    finally:
        engine.dispose()


# The default URL -----------------------------------------------------------------------


def test_database_url_defaults_to_the_embedded_sqlite_file(monkeypatch):
    monkeypatch.delenv(store.DATABASE_ENV, raising=False)
    url = store.database_url()
    assert url == f"sqlite:///{REPO_ROOT / 'data' / 'kpis.sqlite'}"
    assert store.DEFAULT_PATH == REPO_ROOT / "data" / "kpis.sqlite"
    monkeypatch.setenv(store.DATABASE_ENV, "")
    assert store.database_url() == url


def test_database_url_comes_from_the_environment(monkeypatch, tmp_path):
    env_url = f"sqlite:///{tmp_path / 'from-env.sqlite'}"
    monkeypatch.setenv(store.DATABASE_ENV, env_url)
    assert store.database_url() == env_url
    assert store.database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    engine = store.connect()
    try:
        assert (tmp_path / "from-env.sqlite").is_file()
        assert engine.url.database == str(tmp_path / "from-env.sqlite")
    finally:
        engine.dispose()


# Revisions -----------------------------------------------------------------------------


def test_ingest_results_count_new_revised_and_unchanged(loaded):
    _, results = loaded
    assert [r.extract_id for r in results] == [1, 2, 3]
    assert [(r.rows, r.new, r.revised, r.unchanged) for r in results] == [(3, 3, 0, 0), (3, 1, 1, 1), (2, 1, 1, 0)]
    assert [r.same_file_as for r in results] == [None, None, None]


def test_current_observations_returns_the_latest_revision(loaded):
    engine, _ = loaded
    current = store.current_observations(engine)
    assert list(current.columns) == [
        "indicator",
        "period",
        "value",
        "numerator",
        "denominator",
        "note",
        "revision",
        "extract_id",
    ]
    assert values(current) == {
        ("discharged_home_with_support", "2020-10"): (80.0, 1, 2),
        ("larc_uptake", "2020-10"): (30.0, 1, 1),
        ("mofd_bed_occupancy", "2020-09"): (10.0, 1, 1),
        ("mofd_bed_occupancy", "2020-10"): (18.0, 3, 3),
        ("mofd_bed_occupancy", "2020-11"): (15.0, 1, 3),
    }
    # Sorted by indicator then period; period is a month index.
    assert list(current["indicator"]) == sorted(current["indicator"])
    mofd = current[current["indicator"] == "mofd_bed_occupancy"]
    assert list(mofd["period"]) == [month("2020-09"), month("2020-10"), month("2020-11")]
    notes = dict(zip(periods.texts(mofd["period"]), mofd["note"], strict=True))
    assert notes["2020-10"] == "validated figure"
    assert pd.isna(notes["2020-11"]) and pd.isna(notes["2020-09"])
    assert current["numerator"].isna().all() and current["denominator"].isna().all()


def test_current_observations_for_some_indicators(loaded):
    engine, _ = loaded
    frame = store.current_observations(engine, indicators=["larc_uptake", "discharged_home_with_support"])
    assert values(frame) == {
        ("discharged_home_with_support", "2020-10"): (80.0, 1, 2),
        ("larc_uptake", "2020-10"): (30.0, 1, 1),
    }
    assert store.current_observations(engine, indicators=[]).empty


def test_current_observations_as_they_stood_after_each_extract(loaded):
    engine, _ = loaded
    after_1 = {
        ("larc_uptake", "2020-10"): (30.0, 1, 1),
        ("mofd_bed_occupancy", "2020-09"): (10.0, 1, 1),
        ("mofd_bed_occupancy", "2020-10"): (16.0, 1, 1),
    }
    after_2 = {
        **after_1,
        ("discharged_home_with_support", "2020-10"): (80.0, 1, 2),
        ("mofd_bed_occupancy", "2020-10"): (17.0, 2, 2),
    }
    assert values(store.current_observations(engine, as_of_extract=1)) == after_1
    assert values(store.current_observations(engine, as_of_extract=2)) == after_2
    assert values(store.current_observations(engine, as_of_extract=3)) == values(store.current_observations(engine))
    assert store.current_observations(engine, as_of_extract=0).empty
    mofd_after_1 = store.current_observations(engine, indicators=["mofd_bed_occupancy"], as_of_extract=1)
    assert list(mofd_after_1["value"]) == [10.0, 16.0]


def test_observation_history_lists_every_revision_with_its_extract(loaded):
    engine, _ = loaded
    history = store.observation_history(engine, "mofd_bed_occupancy")
    assert list(history.columns) == [
        "period",
        "revision",
        "value",
        "numerator",
        "denominator",
        "note",
        "extract_id",
        "file_name",
        "loaded_by",
        "loaded_at",
    ]
    rows = list(
        history[["period", "revision", "value", "extract_id", "file_name", "loaded_by"]].itertuples(
            index=False, name=None
        )
    )
    assert rows == [
        ("2020-09", 1, 10.0, 1, "extract-1.csv", "alice"),
        ("2020-10", 1, 16.0, 1, "extract-1.csv", "alice"),
        ("2020-10", 2, 17.0, 2, "extract-2.csv", "bob"),
        ("2020-10", 3, 18.0, 3, "extract-3.csv", "carol"),
        ("2020-11", 1, 15.0, 3, "extract-3.csv", "carol"),
    ]
    assert history["loaded_at"].notna().all()
    assert list(history["note"].fillna("")) == ["", "", "", "validated figure", ""]
    assert store.observation_history(engine, "larc_uptake")["value"].tolist() == [30.0]
    assert store.observation_history(engine, "pathway2_discharged_48h").empty


def test_extract_log_newest_first_with_counts(loaded):
    engine, _ = loaded
    log = store.extract_log(engine)
    assert "content" not in log.columns
    assert list(log["id"]) == [3, 2, 1]
    assert list(log["file_name"]) == ["extract-3.csv", "extract-2.csv", "extract-1.csv"]
    assert list(log["loaded_by"]) == ["carol", "bob", "alice"]
    assert list(log["sha256"]) == [hashlib.sha256(c).hexdigest() for _, _, c in (EXTRACT_3, EXTRACT_2, EXTRACT_1)]
    counts = log[["rows_total", "rows_new", "rows_revised", "rows_unchanged"]].to_numpy().tolist()
    assert counts == [[2, 1, 1, 0], [3, 1, 1, 1], [3, 3, 0, 0]]
    loaded_at = pd.to_datetime(log["loaded_at"], utc=True) if log["loaded_at"].dtype == object else log["loaded_at"]
    assert loaded_at.is_monotonic_decreasing


def test_extract_content_is_the_file_exactly_as_loaded(loaded):
    engine, _ = loaded
    for extract_id, (_, _, content) in enumerate((EXTRACT_1, EXTRACT_2, EXTRACT_3), start=1):
        stored = store.extract_content(engine, extract_id)
        assert isinstance(stored, bytes)
        assert stored == content
    assert store.extract_content(engine, 3).startswith(b"\xef\xbb\xbfindicator,period,value,note\r\n")
    with pytest.raises(KeyError):
        store.extract_content(engine, 99)


def test_data_version_is_zero_then_the_latest_extract(engine, catalogue):
    assert store.data_version(engine) == 0
    name, user, content = EXTRACT_1
    ingest.ingest(engine, content, name, catalogue, loaded_by=user)
    assert store.data_version(engine) == 1
    again = ingest.ingest(engine, content, "extract-1-again.csv", catalogue, loaded_by=user)
    assert again.extract_id is None and again.same_file_as == 1
    assert store.data_version(engine) == 1  # nothing written, nothing changed
    name, user, content = EXTRACT_2
    ingest.ingest(engine, content, name, catalogue, loaded_by=user)
    assert store.data_version(engine) == 2
    with engine.connect() as conn:  # also through a connection
        assert store.data_version(conn) == 2


def test_latest_month(engine, catalogue):
    assert store.latest_month(engine) is None
    name, user, content = EXTRACT_1
    ingest.ingest(engine, content, name, catalogue, loaded_by=user)
    assert store.latest_month(engine) == month("2020-10")
    ingest.ingest(engine, csv_bytes("larc_uptake,2019-12,31"), "older.csv", catalogue, loaded_by="dave")
    assert store.latest_month(engine) == month("2020-10")
    ingest.ingest(engine, csv_bytes("larc_uptake,2021-01,32"), "newer.csv", catalogue, loaded_by="dave")
    assert store.latest_month(engine) == month("2021-01")


def test_no_changes_writes_nothing(engine, catalogue):
    name, user, content = EXTRACT_1
    ingest.ingest(engine, content, name, catalogue, loaded_by=user)
    before = store_snapshot(engine)
    # The same values in another file (reordered): nothing new, nothing written.
    reordered = csv_bytes("larc_uptake,2020-10,30.0", "mofd_bed_occupancy,2020-10,16", "mofd_bed_occupancy,2020-09,10")
    result = ingest.ingest(engine, reordered, "reordered.csv", catalogue, loaded_by="bob")
    assert (result.extract_id, result.rows, result.unchanged, result.same_file_as) == (None, 3, 3, None)
    after = store_snapshot(engine)
    pd.testing.assert_frame_equal(before[0], after[0])
    pd.testing.assert_frame_equal(before[1], after[1])


# Constraints the database enforces -------------------------------------------------------


def _an_extract(conn) -> int:
    return conn.execute(
        insert(store.extracts).values(
            sha256="0" * 64,
            file_name="manual.csv",
            loaded_by="test",
            loaded_at=pd.Timestamp("2020-11-30T12:00:00Z").to_pydatetime(),
            rows_total=1,
            rows_new=1,
            rows_revised=0,
            rows_unchanged=0,
            content=b"indicator,period,value\n",
        )
    ).inserted_primary_key[0]


def _observation(extract_id: int, revision: int = 1, value: float = 1.0) -> dict:
    return {
        "indicator": "larc_uptake",
        "period": "2020-10",
        "revision": revision,
        "value": value,
        "extract_id": extract_id,
    }


def test_a_duplicate_revision_is_rejected(engine):
    with engine.begin() as conn:
        extract_id = _an_extract(conn)
        conn.execute(insert(store.observations).values(**_observation(extract_id)))
    before = store_snapshot(engine)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(store.observations).values(**_observation(extract_id, value=2.0)))
    after = store_snapshot(engine)
    pd.testing.assert_frame_equal(before[1], after[1])
    # The next revision is accepted.
    with engine.begin() as conn:
        conn.execute(insert(store.observations).values(**_observation(extract_id, revision=2, value=2.0)))
    assert values(store.current_observations(engine)) == {("larc_uptake", "2020-10"): (2.0, 2, extract_id)}


def test_a_duplicate_revision_from_a_write_transaction_is_rejected(engine, catalogue):
    name, user, content = EXTRACT_1
    ingest.ingest(engine, content, name, catalogue, loaded_by=user)
    before = store_snapshot(engine)
    with pytest.raises(IntegrityError), store.write_transaction(engine) as conn:
        conn.execute(
            insert(store.observations).values(
                indicator="mofd_bed_occupancy", period="2020-10", revision=1, value=99.0, extract_id=1
            )
        )
    after = store_snapshot(engine)
    pd.testing.assert_frame_equal(before[1], after[1])


def test_an_observation_of_a_missing_extract_is_rejected(engine):
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(store.observations).values(**_observation(extract_id=999)))
    with engine.connect() as conn:
        assert conn.execute(select(store.observations)).fetchall() == []


def test_an_extract_with_observations_cannot_be_deleted(engine, catalogue):
    name, user, content = EXTRACT_1
    ingest.ingest(engine, content, name, catalogue, loaded_by=user)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(store.extracts.delete().where(store.extracts.c.id == 1))
    assert store.data_version(engine) == 1
