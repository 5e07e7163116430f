"""Numbers as the report prints them: half-up rounding, thousands separators, each unit,
and money in pounds and thousands (``£1,234k``, ``-£56k``)."""

from __future__ import annotations

import math

import pytest

from kpis.catalogue import Unit
from kpis.report import formatting


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1_234_000, 0, "£1,234k"),
        (-56_000, 0, "-£56k"),
        (-56_400, 1, "-£56.4k"),
        (1_234_567, 2, "£1,234.57k"),
        (12_500_000, 0, "£12,500k"),  # thousands all the way up, as board reports write money
        (1_000, 0, "£1k"),  # exactly £1,000: thousands
        (-1_000, 0, "-£1k"),
        (1_500, 0, "£2k"),  # half away from zero
        (-1_500, 0, "-£2k"),
        (1_499, 0, "£1k"),
        (1_499, 1, "£1.5k"),
        (999.5, 0, "£1k"),  # £1,000 once rounded: thousands, never "£1,000"
        (999.4, 0, "£999"),
        (999.5, 1, "£999.5"),  # 999.5 to one place stays below £1,000
        (999.96, 1, "£1.0k"),
        (640, 0, "£640"),
        (-85, 0, "-£85"),
        (12.5, 0, "£13"),
        (12.5, 2, "£12.50"),
        (0, 0, "£0"),
        (-0.4, 0, "£0"),  # no "-£0"
        (None, 0, "-"),
        (math.nan, 0, "-"),
        (math.inf, 0, "-"),
    ],
)
def test_currency(value, decimals, expected):
    assert formatting.currency(value, decimals) == expected
    assert formatting.with_unit(value, "currency", decimals) == expected
    assert formatting.figure(value, "currency", decimals) == expected


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "expected"),
    [
        (16, "percent", 0, "16%"),
        (37.84, "percent", 1, "37.8%"),
        (10_318, "count", 0, "10,318"),
        (5, "days", 0, "5 days"),
        (2.25, "hours", 1, "2.3 hrs"),
        (0.8, "ratio", 2, "0.80"),
        (-1_234.5, "number", 0, "-1,235"),
        (-0.25, "number", 1, "-0.3"),
        (123_456, "number", 0, "123,456"),
        (None, "number", 0, "-"),
    ],
)
def test_with_unit(value, unit, decimals, expected):
    assert formatting.with_unit(value, unit, decimals) == expected


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [(16, "percent", "16"), (-56_000, "currency", "-£56k"), (-1_234, "number", "-1,234"), (10_318, "count", "10,318")],
)
def test_a_table_figure_leaves_the_unit_to_the_column_except_money(value, unit, expected):
    assert formatting.figure(value, unit, 0) == expected


def test_every_unit_is_shown():
    shown = {unit.value: formatting.with_unit(-1_500, unit.value) for unit in Unit}
    assert shown == {
        "percent": "-1,500%",
        "count": "-1,500",
        "days": "-1,500 days",
        "hours": "-1,500 hrs",
        "rate": "-1,500",
        "ratio": "-1,500",
        "currency": "-£2k",
        "number": "-1,500",
    }


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(2.5, 0, 3.0), (-2.5, 0, -3.0), (0.125, 2, 0.13), (1.005, 2, 1.01), (math.inf, 0, math.inf)],
)
def test_half_up(value, decimals, expected):
    assert formatting.half_up(value, decimals) == expected
