"""kpis.report.plausibility: the one rule that picks values far from their indicator's own
history for the officer to confirm, on plans built as the upload preview builds them."""

from __future__ import annotations

import pandas as pd
import pytest

from kpis import periods
from kpis.report import plausibility
from tests.coded import coded_catalogue

NOV = periods.parse_period("2020-11")


def history(indicator: str, values: list[float], last: int = NOV - 1) -> pd.DataFrame:
    """``values`` for the months up to ``last``, oldest first."""
    months = range(last - len(values) + 1, last + 1)
    return pd.DataFrame({"indicator": indicator, "period": list(months), "value": values})


def plan(*rows: tuple[str, int, float], status: str = "new") -> pd.DataFrame:
    return pd.DataFrame(
        [{"indicator": i, "period": p, "value": v, "status": status} for i, p, v in rows],
    )


@pytest.mark.parametrize(
    ("value", "flagged"),
    [
        (100.0, False),
        (500.0, False),  # exactly 5 times: not more than
        (500.5, True),
        (20.0, False),  # exactly a fifth
        (19.9, True),
        (0.0, True),  # a zero where the usual is 100 (a blank read as 0, say)
        (6000.0, True),  # 60 times: the case
    ],
)
def test_the_rule_is_five_times_either_way_of_the_median(catalogue, value, flagged):
    past = history("nel_admissions", [90, 100, 110, 100, 95, 105, 100, 100, 98, 102, 100, 100])
    found = plausibility.unusual(plan(("nel_admissions", NOV, value)), past, catalogue)
    assert len(found) == int(flagged)
    if flagged:
        assert found["median"].tolist() == [100.0]
        assert found["ratio"].tolist() == [pytest.approx(value / 100)]


def test_the_window_is_the_twelve_months_before_the_period(catalogue):
    # Twelve months at 1,000 before November, and older months at 10 that must not count.
    past = pd.concat([history("nel_admissions", [10.0] * 12, last=NOV - 13), history("nel_admissions", [1000.0] * 12)])
    assert plausibility.unusual(plan(("nel_admissions", NOV, 1200.0)), past, catalogue).empty
    far = plausibility.unusual(plan(("nel_admissions", NOV, 60.0)), past, catalogue)
    assert far["reason"].tolist() == ["60 is 0.06 of the median of its last 12 months (1,000)"]


def test_too_little_history_or_a_zero_median_is_not_judged(catalogue):
    two = history("nel_admissions", [100.0, 100.0])
    zeros = history("nel_admissions", [0.0, 0.0, 0.0, 0.0])
    assert plausibility.unusual(plan(("nel_admissions", NOV, 9999.0)), two, catalogue).empty
    assert plausibility.unusual(plan(("nel_admissions", NOV, 9999.0)), zeros, catalogue).empty


def test_unchanged_rows_and_other_areas_are_not_judged(catalogue):
    past = history("nel_admissions", [100.0] * 12)
    same = plan(("nel_admissions", NOV, 9999.0), status="unchanged")
    assert plausibility.unusual(same, past, catalogue).empty
    area = plan(("nel_admissions", NOV, 9999.0)).assign(area="E08000026", breakdown="", group="")
    assert plausibility.unusual(area, past, catalogue).empty


def test_a_whole_year_in_one_file_is_judged_month_by_month(catalogue):
    """The history is the store as the load leaves it: the file's own earlier months count."""
    months = list(range(NOV - 11, NOV + 1))
    values = [100.0] * 11 + [7000.0]
    rows = plan(*[("nel_admissions", m, v) for m, v in zip(months, values, strict=True)])
    after = rows[["indicator", "period", "value"]]
    found = plausibility.unusual(rows, after, catalogue)
    assert found["period"].tolist() == [NOV]
    assert found["reason"].tolist() == ["7,000 is 70.0 times the median of its last 12 months (100)"]


def test_units_that_allow_negative_figures_are_not_judged(tmp_path):
    """A budget line can swing across zero: 60 times its median means nothing there."""
    coded = coded_catalogue(tmp_path)
    past = history("ASCOF 2A(1)", [100.0] * 12)
    assert coded.lookup("ASCOF 2A(1)").unit.allows_negative
    assert plausibility.unusual(plan(("ASCOF 2A(1)", NOV, -6000.0)), past, coded).empty
