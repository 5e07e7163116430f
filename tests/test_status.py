"""kpis.report.status: what is due, the template officers fill in, and the coverage grid of
loaded, late and missing values grouped by owner."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from kpis import periods, sample, store
from kpis.catalogue import Frequency
from kpis.report import status

OCT, NOV = periods.parse_period("2020-10"), periods.parse_period("2020-11")


def observations(*rows: tuple[str, str, float, int]) -> pd.DataFrame:
    """(indicator, period, value, revision) → the frame the store gives."""
    frame = pd.DataFrame(rows, columns=["indicator", "period", "value", "revision"])
    frame["period"] = frame["period"].map(periods.parse_period)
    frame["indicator"] = frame["indicator"].astype("category")
    return frame


@pytest.fixture(scope="module")
def sample_observations(tmp_path_factory, catalogue) -> Iterator[pd.DataFrame]:
    """The values in force of the illustrative sample, loaded into a real SQLite file."""
    engine = store.connect(f"sqlite:///{tmp_path_factory.mktemp('status') / 'kpis.sqlite'}")
    sample.load_sample(engine, catalogue)
    yield store.current_observations(engine)
    engine.dispose()


@pytest.fixture
def unlagged(catalogue):
    """The shipped catalogue with every figure expected in its own month (no lags)."""
    return catalogue.model_copy(
        update={"indicators": tuple(i.model_copy(update={"lag": None}) for i in catalogue.indicators)}
    )


def test_monthly_indicators_are_due_every_month_and_quarterly_ones_at_quarter_end(catalogue):
    quarterly = {i.id for i in catalogue.indicators if i.frequency is Frequency.QUARTERLY}
    assert quarterly  # the shipped catalogue has some
    assert {i.id for i in status.due(catalogue, OCT)} == set(catalogue.indicator_ids) - quarterly
    december = periods.parse_period("2020-12")
    assert [i.id for i in status.due(catalogue, december)] == catalogue.indicator_ids


def test_coverage_marks_loaded_revised_late_missing_not_due_and_not_started(unlagged):
    obs = observations(
        ("nel_admissions", "2020-08", 1, 1),
        ("nel_admissions", "2020-10", 2, 2),  # September missing; October revised; November late
        ("larc_uptake", "2020-10", 30, 1),
        ("larc_uptake", "2020-11", 31, 1),
        ("iapt_access", "2020-09", 20, 1),  # quarterly
    )
    cover = status.coverage(obs, unlagged, NOV, months=4)
    assert list(cover.columns) == status.COVERAGE_COLUMNS
    states = cover.set_index(["indicator", "month"])["state"]

    def row(indicator: str) -> list[str]:
        return [str(states[(indicator, m)]) for m in range(NOV - 3, NOV + 1)]

    assert row("nel_admissions") == ["loaded", "missing", "revised", "late"]
    assert row("larc_uptake") == ["not started", "not started", "loaded", "loaded"]
    assert row("iapt_access") == ["not due", "loaded", "not due", "not due"]
    assert row("pathway2_discharged_48h") == ["not started", "not started", "not started", "late"]
    assert cover.groupby("indicator").size().eq(4).all()
    assert len(cover) == 4 * len(unlagged.indicators)
    owners = cover.drop_duplicates("indicator")["owner"].tolist()
    assert owners == sorted(owners)  # grouped by owner


def test_the_grid_has_a_row_per_indicator_and_a_column_per_month(unlagged):
    obs = observations(("nel_admissions", "2020-10", 2, 2), ("nel_admissions", "2020-11", 3, 1))
    grid = status.grid(status.coverage(obs, unlagged, NOV, months=2))
    assert list(grid.columns) == ["Owner", "Indicator", "id", "Oct 20", "Nov 20"]
    nel = grid.set_index("id").loc["nel_admissions"]
    assert nel["Owner"] == unlagged.indicator("nel_admissions").owner
    assert nel[["Oct 20", "Nov 20"]].tolist() == ["✓ rev.", "✓"]
    assert len(grid) == len(unlagged.indicators)


def test_the_indicators_to_chase_are_those_with_a_value_late_or_missing(unlagged):
    obs = observations(
        ("nel_admissions", "2020-09", 1, 1),  # October and November late or missing
        ("larc_uptake", "2020-09", 1, 1),
        ("larc_uptake", "2020-10", 1, 1),
        ("larc_uptake", "2020-11", 1, 1),  # every month in: complete
    )
    cover = status.coverage(obs, unlagged, NOV, months=3)
    chased = status.to_chase(cover)
    assert "nel_admissions" in set(chased["indicator"]) and "larc_uptake" not in set(chased["indicator"])
    expected = set(cover.loc[cover["state"].isin([status.LATE, status.MISSING]), "indicator"])
    assert set(chased["indicator"]) == expected
    assert len(chased) == 3 * len(expected)  # each indicator chased keeps all its months
    assert list(chased.columns) == list(cover.columns)


def test_late_and_missing_are_counted_per_owner(unlagged):
    obs = observations(("nel_admissions", "2020-09", 1, 1), ("larc_uptake", "2020-09", 1, 1))
    cover = status.coverage(obs, unlagged, NOV, months=3)
    summary = status.late_by_owner(cover).set_index("owner")
    expected = cover[cover["state"].isin(["late", "missing"])].groupby("owner")["state"].value_counts().unstack()
    for owner, counts in expected.iterrows():
        assert summary.loc[owner, "late"] == counts.get("late", 0)
        assert summary.loc[owner, "missing"] == counts.get("missing", 0)
    nel_owner = unlagged.indicator("nel_admissions").owner
    assert unlagged.indicator("nel_admissions").name in summary.loc[nel_owner, "late_indicators"]
    assert summary["late"].is_monotonic_decreasing


# Reporting lag and the report month -----------------------------------------------------


def test_within_its_lag_a_figure_is_expected_later_not_late(catalogue):
    """nel_admissions arrives a month behind (lag 1): in the Nov report October is due and
    November is expected later; reablement (lag 0) is late for November itself."""
    assert (catalogue.lag_for(catalogue.indicator("nel_admissions")), catalogue.lag) == (1, 0)
    obs = observations(("nel_admissions", "2020-09", 1, 1), ("reablement_no_ongoing_care", "2020-10", 80, 1))
    states = status.coverage(obs, catalogue, NOV, months=3).set_index(["indicator", "month"])["state"]
    assert [str(states[("nel_admissions", m)]) for m in (NOV - 2, NOV - 1, NOV)] == ["loaded", "late", "expected later"]
    assert [str(states[("reablement_no_ongoing_care", m)]) for m in (NOV - 1, NOV)] == ["loaded", "late"]


def test_the_sample_is_the_november_report_with_nothing_late(catalogue, sample_observations):
    """The shipped lags are the 2020/21 report's: every figure it shows is in, none late."""
    assert status.report_month(sample_observations, catalogue) == NOV
    assert status.arrivals(sample_observations, catalogue, NOV) == (33, 33)
    cover = status.coverage(sample_observations, catalogue, NOV)
    assert not cover["state"].isin([status.LATE]).any()
    assert status.report_heading(sample_observations, catalogue, NOV) == "Report for Nov 2020"


def test_a_month_partly_in_leaves_the_report_month_where_it_was(catalogue, sample_observations):
    """December's report gets three of its figures only: the report stays November's."""
    december = [
        ("reablement_no_ongoing_care", "2020-12", 81, 1),  # lag 0: December's own
        ("home_care_hours_per_week", "2020-12", 2000, 1),  # lag 0
        ("mofd_bed_occupancy", "2020-11", 14, 1),  # lag 1: November's, due in December's report
    ]
    partly = pd.concat([sample_observations, observations(*december)], ignore_index=True)
    assert status.report_month(partly, catalogue) == NOV
    expected = status.arrivals(partly, catalogue, NOV + 1)
    assert expected[0] == 3
    assert status.report_heading(partly, catalogue, NOV) == (
        f"Report for Nov 2020 · Dec 2020 data partly in (3 of {expected[1]})"
    )


def test_when_every_figure_due_is_in_the_report_month_moves_on(catalogue, sample_observations):
    december = []
    for indicator in catalogue.indicators:
        month = NOV + 1 - catalogue.lag_for(indicator)
        if status.is_due(indicator, month):
            december.append((indicator.id, periods.to_text(month), 1.0, 1))
    complete = pd.concat([sample_observations, observations(*december)], ignore_index=True)
    assert status.report_month(complete, catalogue) == NOV + 1
    assert status.report_heading(complete, catalogue, NOV) == (
        f"Report for Nov 2020 · Dec 2020 data in ({len(december)} of {len(december)})"
    )


def test_an_indicator_not_started_does_not_hold_the_report_back(catalogue):
    obs = observations(("reablement_no_ongoing_care", "2020-11", 80, 1))
    assert status.report_month(obs, catalogue) == NOV  # the other 32 have no figure yet
    assert status.report_month(observations(), catalogue) is None


def test_a_month_missing_further_back_does_not_hold_every_later_report(catalogue, sample_observations):
    """A gap is *missing* in the data status; the report month still follows the latest figures."""
    july = periods.parse_period("2020-07")
    gap = sample_observations[
        ~((sample_observations["indicator"] == "nel_admissions") & (sample_observations["period"] == july))
    ]
    assert status.report_month(gap, catalogue) == NOV
    cover = status.coverage(gap, catalogue, NOV).set_index(["indicator", "month"])["state"]
    assert cover[("nel_admissions", july)] == status.MISSING


def test_an_indicator_late_holds_the_report_at_its_last_month_in(catalogue, sample_observations):
    """MOFD (lag 1) last in for September: the report can only be October's."""
    october = periods.parse_period("2020-10")
    late = sample_observations[
        ~((sample_observations["indicator"] == "mofd_bed_occupancy") & (sample_observations["period"] == october))
    ]
    assert status.report_month(late, catalogue) == october


def test_an_indicator_stopped_over_a_year_ago_is_not_waited_for(catalogue, sample_observations):
    stopped = sample_observations[
        (sample_observations["indicator"] != "mofd_bed_occupancy")
        | (sample_observations["period"] < periods.parse_period("2019-09"))
    ]
    assert status.report_month(stopped, catalogue) == NOV
