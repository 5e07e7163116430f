"""The board pack's static charts: round axis values, lines broken at gaps, the latest
point marked by its rating, and a message where there is nothing to draw."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kpis import periods
from kpis.catalogue import Unit
from kpis.publish import svgcharts
from kpis.report.palette import rag_palette

NOV_2020 = periods.parse_period("2020-11")


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0, 16, [0, 10, 20]),
        (0, 13_267, [0, 10_000, 20_000]),
        (0, 100, [0, 50, 100]),
        (0, 0.9, [0, 0.5, 1.0]),
        (-3, 4, [-5, 0, 5]),
        (5, 5, [5]),
    ],
)
def test_nice_ticks(low, high, expected):
    assert svgcharts.nice_ticks(low, high) == pytest.approx(expected)


def series(actual, last_year=None, target=None) -> pd.DataFrame:
    n = len(actual)
    months = list(range(NOV_2020 - n + 1, NOV_2020 + 1))
    return pd.DataFrame(
        {
            "period": months,
            "actual": actual,
            "last_year": last_year if last_year is not None else [np.nan] * n,
            "target": target if target is not None else [np.nan] * n,
        }
    )


def test_lines_break_at_a_missing_month_and_the_latest_point_carries_its_rating(catalogue):
    indicator = catalogue.indicator("nel_admissions")
    svg = svgcharts.indicator_svg(series([1, 2, np.nan, 4, 5], target=[3] * 5), indicator, ("Red", "target"), NOV_2020)
    actual = re.findall(r"<polyline fill='none' points='([^']*)' stroke='#1F3A5F'", svg)
    assert [len(points.split()) for points in actual] == [2, 2]  # two runs, either side of the gap
    target = re.findall(r"<polyline fill='none' points='([^']*)' stroke='#333333'", svg)
    assert len(target[0].split()) == 2 * 5  # steps: two points a month, and the end of the last
    assert f"fill='{rag_palette()['Red'].strong}'" in svg
    assert "<title>Latest: 5, Red against target</title>" in svg
    assert "Dec 2018" in svg and "Nov 2020" in svg


def test_nothing_to_draw_says_so(catalogue):
    svg = svgcharts.indicator_svg(
        series([np.nan] * 3), catalogue.indicator("nel_admissions"), ("n/a", "target"), NOV_2020
    )
    assert "No data in these months" in svg and "<polyline" not in svg


def test_names_are_escaped(catalogue):
    indicator = catalogue.indicator("nel_admissions").model_copy(update={"name": "<b>x</b> & 'y'"})
    svg = svgcharts.indicator_svg(series([1.0]), indicator, ("Green", "target"), NOV_2020)
    assert "aria-label='&lt;b&gt;x&lt;/b&gt; &amp; &#x27;y&#x27;: the last 24 months to Nov 2020'" in svg


def axis_values(svg: str) -> list[str]:
    """The value axis's labels, lowest value first."""
    return re.findall(rf"<text x='{svgcharts.LEFT - 4}' [^>]*>([^<]*)</text>", svg)


def test_money_axes_and_the_latest_point_show_pounds_in_thousands_below_zero_too(catalogue):
    indicator = catalogue.indicator("nel_admissions").model_copy(update={"unit": Unit.CURRENCY, "decimals": 0})
    svg = svgcharts.indicator_svg(series([-1_500.0, 800.0, -56_000.0]), indicator, ("Red", "target"), NOV_2020)
    assert axis_values(svg) == ["-£100k", "-£50k", "£0", "£50k"]
    assert "<title>Latest: -£56k, Red against target</title>" in svg


def test_money_ticks_keep_the_decimals_a_round_value_needs(catalogue):
    indicator = catalogue.indicator("nel_admissions").model_copy(update={"unit": Unit.CURRENCY})
    svg = svgcharts.indicator_svg(series([-1_400.0, -1_000.0]), indicator, ("n/a", "target"), NOV_2020)
    assert axis_values(svg) == ["-£1.4k", "-£1.2k", "-£1k"]
    svg = svgcharts.indicator_svg(series([0.0, 900.0]), indicator, ("n/a", "target"), NOV_2020)
    assert axis_values(svg) == ["£0", "£500", "£1k"]
