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


def bars(svg: str) -> list[tuple[float, str]]:
    """Each bar's x and fill."""
    return [(float(x), fill) for x, fill in re.findall(r"<rect x='([^']*)' [^>]*fill='([^']*)'", svg)]


def test_a_bar_per_month_with_a_figure_and_the_latest_in_its_ratings_colour_with_its_value(catalogue):
    indicator = catalogue.indicator("nel_admissions")
    svg = svgcharts.indicator_svg(series([1, 2, np.nan, 4, 5], target=[3] * 5), indicator, ("Red", "target"), NOV_2020)
    shown = bars(svg)
    assert len(shown) == 4  # the missing month has no bar, not a zero
    assert [fill for _, fill in shown] == [svgcharts.BAR_COLOUR] * 3 + [rag_palette()["Red"].strong]
    assert ">✖ 5</text>" in svg  # the latest value written above its bar, with its rating's symbol
    target = re.findall(r"<polyline fill='none' points='([^']*)' stroke='#333333'", svg)
    assert [len(points.split()) for points in target] == [2 * 5]  # a step across each month's slot


def test_the_target_never_runs_from_one_financial_year_into_the_next(catalogue):
    indicator = catalogue.indicator("nel_admissions")
    months = list(range(periods.parse_period("2020-01"), periods.parse_period("2020-07")))  # Jan–Jun 2020
    frame = pd.DataFrame(
        {"period": months, "actual": [1.0] * 6, "last_year": [np.nan] * 6, "target": [3, 3, 3, 5, 5, 5]}
    )
    svg = svgcharts.indicator_svg(frame, indicator, ("Green", "target"), months[-1], months=6)
    target = re.findall(r"<polyline fill='none' points='([^']*)' stroke='#333333'", svg)
    assert [len(points.split()) for points in target] == [6, 6]  # Jan–Mar, then Apr–Jun
    assert ">2019/20</text>" in svg and ">2020/21</text>" in svg


def test_every_month_is_labelled_and_the_chart_says_what_it_shows(catalogue):
    indicator = catalogue.indicator("nel_admissions")
    svg = svgcharts.indicator_svg(series([1, 2, 3], target=[3] * 3), indicator, ("Green", "target"), NOV_2020)
    letters = re.findall(r"font-size='6.5'>([A-Z])</text>", svg)
    assert "".join(letters) == "DJFMAMJJASONDJFMAMJJASON"  # Dec 2018 … Nov 2020
    assert svg.startswith("<svg ") and "role='img'" in svg
    text = (
        "Total non-elective admissions: bar chart of the year-to-date figure at each month (it starts again each April), "
        "Dec 2018 to Nov 2020, with the target as a dotted line. Latest, Nov 2020: 3, Green against target "
        "(target 3)."
    )
    assert f"aria-label='{text}'" in svg and f"<title>{text}</title>" in svg


def test_nothing_to_draw_says_so(catalogue):
    svg = svgcharts.indicator_svg(
        series([np.nan] * 3), catalogue.indicator("nel_admissions"), ("n/a", "target"), NOV_2020
    )
    assert "No data in these months" in svg and "<polyline" not in svg


def test_names_are_escaped(catalogue):
    indicator = catalogue.indicator("nel_admissions").model_copy(update={"name": "<b>x</b> & 'y'"})
    svg = svgcharts.indicator_svg(series([1.0]), indicator, ("Green", "target"), NOV_2020)
    assert "aria-label='&lt;b&gt;x&lt;/b&gt; &amp; &#x27;y&#x27;: bar chart of " in svg


def axis_values(svg: str) -> list[str]:
    """The value axis's labels, lowest value first."""
    return re.findall(rf"<text x='{svgcharts.LEFT - 4}' [^>]*>([^<]*)</text>", svg)


def test_money_axes_and_the_latest_point_show_pounds_in_thousands_below_zero_too(catalogue):
    indicator = catalogue.indicator("nel_admissions").model_copy(update={"unit": Unit.CURRENCY, "decimals": 0})
    svg = svgcharts.indicator_svg(series([-1_500.0, 800.0, -56_000.0]), indicator, ("Red", "target"), NOV_2020)
    assert axis_values(svg) == ["-£100k", "-£50k", "£0", "£50k"]
    assert "Latest, Nov 2020: -£56k, Red against target." in svg and ">✖ -£56k</text>" in svg


def test_money_ticks_keep_the_decimals_a_round_value_needs(catalogue):
    indicator = catalogue.indicator("nel_admissions").model_copy(update={"unit": Unit.CURRENCY})
    svg = svgcharts.indicator_svg(series([-1_400.0, -1_000.0]), indicator, ("n/a", "target"), NOV_2020)
    assert axis_values(svg) == ["-£2k", "-£1k", "£0"]  # bars stand on zero, so the axis holds it
    assert [svgcharts._tick_decimals(t, "currency", 0) for t in (-1_400.0, -1_200.0, -1_000.0)] == [1, 1, 0]
    svg = svgcharts.indicator_svg(series([0.0, 900.0]), indicator, ("n/a", "target"), NOV_2020)
    assert axis_values(svg) == ["£0", "£500", "£1k"]
