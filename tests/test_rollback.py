"""kpis.governance.rollback: rolling back an extract restores what it replaced, withdraws what it
brought first and keeps what was revised since, as new revisions of a new extract; no
row is ever deleted. On a SQLite file and on PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest

from kpis import ingest, periods, store
from kpis.governance import rollback
from kpis.report.performance import build_kpi_table
from tests.conftest import store_snapshot
from tests.test_ingest import assert_store_unchanged, load, stored


def csv_bytes(*lines: str) -> bytes:
    return ("indicator,period,value\n" + "\n".join(lines) + "\n").encode()


@pytest.fixture
def three(engine, catalogue):
    """Extract 1: Sep and Oct; 2: revises Oct, adds Nov and a MOFD value; 3: revises that MOFD value."""
    load(engine, catalogue, csv_bytes("nel_admissions,2020-09,7000", "nel_admissions,2020-10,7039"), "a.csv")
    load(
        engine,
        catalogue,
        csv_bytes("nel_admissions,2020-10,7100", "nel_admissions,2020-11,7200", "mofd_bed_occupancy,2020-10,4"),
        "b.csv",
    )
    load(engine, catalogue, csv_bytes("mofd_bed_occupancy,2020-10,5"), "c.csv")
    return engine


def test_the_plan_says_what_each_value_would_do_and_writes_nothing(three):
    before = store_snapshot(three)
    plan = rollback.plan_rollback(three, 2)
    assert_store_unchanged(three, before)
    assert plan["indicator"].tolist() == ["mofd_bed_occupancy", "nel_admissions", "nel_admissions"]
    assert plan["period"].map(periods.to_text).tolist() == ["2020-10", "2020-10", "2020-11"]
    assert plan["action"].tolist() == ["keep", "restore", "withdraw"]
    assert plan["value"].tolist() == [5.0, 7100.0, 7200.0]  # in force now
    assert plan["restore_value"].fillna(-1).tolist() == [-1, 7039.0, -1]  # NaN: nothing before it
    assert plan["revision"].tolist() == [3, 3, 2]
    assert plan["revised_by"].tolist() == [3, pd.NA, pd.NA]


def test_a_rollback_restores_withdraws_and_keeps_as_a_new_extract(three):
    rows_before = len(store_snapshot(three)[1])
    result = rollback.rollback(three, 2, "Ann Admin")
    assert (result.extract_id, result.reverts, result.restored, result.withdrawn, result.kept) == (4, 2, 1, 1, 1)
    assert result.message == (
        "Extract 2 rolled back as extract 4: 1 values restored to their earlier revision, "
        "1 withdrawn (they were new in extract 2); 1 kept, revised since by later extracts"
    )
    assert stored(three) == [
        ("mofd_bed_occupancy", "2020-10", 5.0, None, None, None, 2),  # revised since by extract 3: kept
        ("nel_admissions", "2020-09", 7000.0, None, None, None, 1),  # not in extract 2: untouched
        ("nel_admissions", "2020-10", 7039.0, None, None, None, 3),  # extract 1's value, as revision 3
    ]  # 2020-11 was new in extract 2: withdrawn, so no value in force
    assert len(store_snapshot(three)[1]) == rows_before + 2  # nothing deleted, two revisions added
    log = store.extract_log(three).set_index("id")
    assert log.loc[4, ["file_name", "loaded_by", "rows_total", "rows_revised", "rows_unchanged"]].tolist() == [
        "rollback-of-extract-2.csv",
        "Ann Admin",
        3,
        2,
        1,
    ]
    assert log.loc[4, "reverts"] == 2
    assert store.extract_content(three, 4) == (
        b"indicator,period,value,numerator,denominator,note\nnel_admissions,2020-10,7039.0,,,\nnel_admissions,2020-11,,,,\n"
    )


def test_the_report_as_it_stood_before_a_rollback_can_still_be_rebuilt(three, catalogue):
    before = store.current_observations(three)
    rollback.rollback(three, 2, "admin")
    as_of_3 = store.current_observations(three, as_of_extract=3)
    pd.testing.assert_frame_equal(as_of_3, before)
    history = store.observation_history(three, "nel_admissions")
    november = history[history["period"] == "2020-11"]
    assert november["revision"].tolist() == [1, 2]
    assert november["value"].isna().tolist() == [False, True]  # the withdrawn revision has no value


def test_a_withdrawn_value_is_out_of_the_kpi_table_and_a_new_file_brings_it_back(three, catalogue):
    rollback.rollback(three, 2, "admin")
    november = 2020 * 12 + 10
    table = build_kpi_table(store.current_observations(three), catalogue, november).set_index("indicator")
    assert table.loc["nel_admissions", "period"] == periods.to_text(
        november - 1
    )  # November's value is gone: October is the latest
    plan = ingest.preview(
        three, csv_bytes("nel_admissions,2020-11,7250"), "d.csv", catalogue, pd.Timestamp("2020-11-20")
    )
    assert plan[["status", "previous_revision", "revision"]].iloc[0].tolist() == ["new", 2, 3]
    result = load(three, catalogue, csv_bytes("nel_admissions,2020-11,7250"), "d.csv")
    assert (result.new, result.revised) == (1, 0)
    assert ("nel_admissions", "2020-11", 7250.0, None, None, None, 3) in stored(three)


def test_rolling_back_a_rollback_puts_the_values_back(three):
    first = stored(three)
    rollback.rollback(three, 2, "admin")
    result = rollback.rollback(three, 4, "admin")
    assert (result.extract_id, result.restored, result.withdrawn, result.kept) == (5, 2, 0, 0)
    assert [row[:3] for row in stored(three)] == [row[:3] for row in first]


def test_rolling_back_twice_writes_nothing_the_second_time(three):
    rollback.rollback(three, 2, "admin")
    before = store_snapshot(three)
    result = rollback.rollback(three, 2, "admin")
    assert (result.extract_id, result.undone_by) == (None, 4)
    assert result.message == "Extract 2 was already rolled back by extract 4; nothing written"
    assert rollback.undone_by(three, 2) == 4
    assert_store_unchanged(three, before)


def test_an_extract_revised_since_but_never_rolled_back_says_so(three, catalogue):
    rollback.rollback(three, 3, "admin")  # the MOFD value goes back to extract 2's
    load_rows = csv_bytes("nel_admissions,2020-10,7300", "nel_admissions,2020-11,7400", "mofd_bed_occupancy,2020-10,6")
    ingest.ingest(three, load_rows, "e.csv", catalogue, "officer")
    result = rollback.rollback(three, 2, "admin")
    assert (result.extract_id, result.undone_by) == (None, None)
    assert result.message == (
        "Extract 2: nothing to roll back: all 3 of its values have been revised since by later extracts; nothing written"
    )


def test_a_rollback_rolled_back_no_longer_counts_as_undoing(three):
    rollback.rollback(three, 2, "admin")  # extract 4
    rollback.rollback(three, 4, "admin")  # extract 5 puts extract 2's values back
    assert rollback.undone_by(three, 2) is None


def test_the_changes_list_every_value_before_and_after(three):
    lines = rollback.changes(rollback.plan_rollback(three, 2))
    assert lines.columns.tolist() == rollback.CHANGE_COLUMNS
    assert lines[["indicator", "period", "action"]].values.tolist() == [
        ["nel_admissions", "2020-11", "withdraw"],
        ["nel_admissions", "2020-10", "restore"],
        ["mofd_bed_occupancy", "2020-10", "keep"],
    ]
    assert lines["now"].tolist() == [7200.0, 7100.0, 5.0]
    assert lines["after"].fillna(-1).tolist() == [-1, 7039.0, 5.0]  # withdrawn: no value; kept: as it is
    assert lines["revised_by"].tolist() == [pd.NA, pd.NA, 3]


def test_an_unknown_extract_is_refused_and_nothing_written(three):
    before = store_snapshot(three)
    with pytest.raises(rollback.RollbackError, match="there is no extract 9; see the extract history for the ids"):
        rollback.rollback(three, 9, "admin")
    assert_store_unchanged(three, before)
