"""kpis.report.status: what is due, the template officers fill in, and the coverage grid of
loaded, late and missing values grouped by owner."""

from __future__ import annotations

import pandas as pd

from kpis import periods
from kpis.catalogue import Frequency
from kpis.report import status

OCT, NOV = periods.parse_period("2020-10"), periods.parse_period("2020-11")


def observations(*rows: tuple[str, str, float, int]) -> pd.DataFrame:
    """(indicator, period, value, revision) → the frame the store gives."""
    frame = pd.DataFrame(rows, columns=["indicator", "period", "value", "revision"])
    frame["period"] = frame["period"].map(periods.parse_period)
    frame["indicator"] = frame["indicator"].astype("category")
    return frame


def test_monthly_indicators_are_due_every_month_and_quarterly_ones_at_quarter_end(catalogue):
    quarterly = {i.id for i in catalogue.indicators if i.frequency is Frequency.QUARTERLY}
    assert quarterly  # the shipped catalogue has some
    assert {i.id for i in status.due(catalogue, OCT)} == set(catalogue.indicator_ids) - quarterly
    december = periods.parse_period("2020-12")
    assert [i.id for i in status.due(catalogue, december)] == catalogue.indicator_ids


def test_coverage_marks_loaded_revised_late_missing_not_due_and_not_started(catalogue):
    obs = observations(
        ("nel_admissions", "2020-08", 1, 1),
        ("nel_admissions", "2020-10", 2, 2),  # September missing; October revised; November late
        ("larc_uptake", "2020-10", 30, 1),
        ("larc_uptake", "2020-11", 31, 1),
        ("iapt_access", "2020-09", 20, 1),  # quarterly
    )
    cover = status.coverage(obs, catalogue, NOV, months=4)
    assert list(cover.columns) == status.COVERAGE_COLUMNS
    states = cover.set_index(["indicator", "month"])["state"]

    def row(indicator: str) -> list[str]:
        return [str(states[(indicator, m)]) for m in range(NOV - 3, NOV + 1)]

    assert row("nel_admissions") == ["loaded", "missing", "revised", "late"]
    assert row("larc_uptake") == ["not started", "not started", "loaded", "loaded"]
    assert row("iapt_access") == ["not due", "loaded", "not due", "not due"]
    assert row("pathway2_discharged_48h") == ["not started", "not started", "not started", "late"]
    assert cover.groupby("indicator").size().eq(4).all()
    assert len(cover) == 4 * len(catalogue.indicators)
    owners = cover.drop_duplicates("indicator")["owner"].tolist()
    assert owners == sorted(owners)  # grouped by owner


def test_the_grid_has_a_row_per_indicator_and_a_column_per_month(catalogue):
    obs = observations(("nel_admissions", "2020-10", 2, 2), ("nel_admissions", "2020-11", 3, 1))
    grid = status.grid(status.coverage(obs, catalogue, NOV, months=2))
    assert list(grid.columns) == ["Owner", "Indicator", "id", "Oct 20", "Nov 20"]
    nel = grid.set_index("id").loc["nel_admissions"]
    assert nel["Owner"] == catalogue.indicator("nel_admissions").owner
    assert nel[["Oct 20", "Nov 20"]].tolist() == ["✓ rev.", "✓"]
    assert len(grid) == len(catalogue.indicators)


def test_late_and_missing_are_counted_per_owner(catalogue):
    obs = observations(("nel_admissions", "2020-09", 1, 1), ("larc_uptake", "2020-09", 1, 1))
    cover = status.coverage(obs, catalogue, NOV, months=3)
    summary = status.late_by_owner(cover).set_index("owner")
    expected = cover[cover["state"].isin(["late", "missing"])].groupby("owner")["state"].value_counts().unstack()
    for owner, counts in expected.iterrows():
        assert summary.loc[owner, "late"] == counts.get("late", 0)
        assert summary.loc[owner, "missing"] == counts.get("missing", 0)
    nel_owner = catalogue.indicator("nel_admissions").owner
    assert catalogue.indicator("nel_admissions").name in summary.loc[nel_owner, "late_indicators"]
    assert summary["late"].is_monotonic_decreasing
