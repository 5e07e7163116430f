"""Variance, RAG and trend rules on small hand-built frames, edges included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpis import periods
from kpis.catalogue import parse_catalogue
from kpis.report.performance import (
    KPI_COLUMNS,
    SUMMARY_COLUMNS,
    add_ratings,
    build_kpi_table,
    rag,
    rag_summary,
    trend,
    variance,
)

NAN = np.nan


@pytest.mark.parametrize(
    ("actual", "comparator", "expected_var", "expected_pct"),
    [
        (80, 85, -5, -5 / 85 * 100),
        (10318, 13267, -2949, -2949 / 13267 * 100),
        (1, 0, 1, NAN),  # % of zero is undefined, never infinite
        (0, 0, 0, NAN),
        (5, NAN, NAN, NAN),
        (NAN, 5, NAN, NAN),
    ],
)
def test_variance_is_actual_minus_comparator_and_its_share(actual, comparator, expected_var, expected_pct):
    var, pct = variance(pd.Series([actual], dtype=float), pd.Series([comparator], dtype=float))
    np.testing.assert_allclose(var, [expected_var])
    np.testing.assert_allclose(pct, [expected_pct])


@pytest.mark.parametrize(
    ("actual", "comparator", "direction", "tolerance", "expected"),
    [
        (85, 85, "higher", 0.1, "Green"),  # exactly on target is achieved
        (86, 85, "higher", 0.1, "Green"),
        (80, 85, "higher", 0.1, "Amber"),  # missed by 5.9%
        (76.5, 85, "higher", 0.1, "Amber"),  # missed by exactly 10%: within
        (76.4, 85, "higher", 0.1, "Red"),
        (4, 4, "lower", 0.1, "Green"),
        (4.4, 4, "lower", 0.1, "Amber"),
        (4.41, 4, "lower", 0.1, "Red"),
        (10318, 13140, "lower", 0.1, "Green"),
        (1, 0, "lower", 0.1, "Red"),  # any miss of a zero target is Red
        (0, 0, "lower", 0.1, "Green"),
        (50, 100, "higher", 0.6, "Amber"),  # the indicator's own tolerance
        (50, 100, "higher", 0.0, "Red"),
        (50, 100, "none", 0.1, "n/a"),
        (50, NAN, "higher", 0.1, "n/a"),
        (NAN, 100, "higher", 0.1, "n/a"),
        (0.1 + 0.2, 0.3, "higher", 0.1, "Green"),  # float noise is not a miss
    ],
)
def test_rag(actual, comparator, direction, tolerance, expected):
    result = rag(
        pd.Series([actual], dtype=float),
        pd.Series([comparator], dtype=float),
        pd.Series([direction]),
        pd.Series([tolerance]),
    )
    assert result.tolist() == [expected]


@pytest.mark.parametrize(
    ("actual", "last_year", "direction", "expected"),
    [
        (10, 12, "lower", "better"),
        (12, 10, "lower", "worse"),
        (10, 12, "higher", "worse"),
        (12, 10, "higher", "better"),
        (50.0, 50.0, "higher", "same"),
        (10, 12, "none", "n/a"),
        (10, NAN, "higher", "n/a"),
    ],
)
def test_trend_is_direction_aware(actual, last_year, direction, expected):
    result = trend(pd.Series([actual], dtype=float), pd.Series([last_year], dtype=float), pd.Series([direction]))
    assert result.tolist() == [expected]


def _ratings(actual, target, last_year, direction="lower", tolerance=0.1):
    frame = pd.DataFrame(
        {
            "actual": [actual],
            "target": [target],
            "last_year": [last_year],
            "direction": [direction],
            "tolerance": [tolerance],
        },
        dtype=object,
    )
    frame = frame.astype({"actual": float, "target": float, "last_year": float, "tolerance": float})
    return add_ratings(frame).iloc[0]


@pytest.mark.parametrize(
    ("actual", "target", "last_year", "expected"),
    [
        (1, 0, 1, ("Red", "same", "Red")),  # MRSA: a never event, standing still is Red
        (1, 0, 2, ("Red", "better", "Green")),
        (0, 0, 0, ("Green", "same", "Green")),
        (15, 21, 15, ("Green", "same", "Green")),  # C. difficile: same counts as Green
        (15, NAN, 15, ("n/a", "same", "Green")),
        (11, 10, 10.5, ("Amber", "worse", "Amber")),
        (13, 10, 10, ("Red", "worse", "Red")),
    ],
)
def test_ratings_against_target_and_last_year(actual, target, last_year, expected):
    row = _ratings(actual, target, last_year)
    assert (row["rag_target"], row["trend"], row["rag_last_year"]) == expected


def test_add_ratings_does_not_mutate_its_input():
    frame = pd.DataFrame(
        {"actual": [1.0], "target": [0.0], "last_year": [1.0], "direction": ["lower"], "tolerance": [0.1]}
    )
    before = frame.copy()
    add_ratings(frame)
    pd.testing.assert_frame_equal(frame, before)


def _catalogue():
    return parse_catalogue(
        {
            "workstreams": [{"id": "w1", "name": "One"}, {"id": "w2", "name": "Two"}],
            "indicators": [
                {
                    "id": "adm",
                    "name": "Admissions YTD",
                    "workstream": "w1",
                    "unit": "count",
                    "direction": "lower",
                    "aggregation": "ytd_sum",
                    "target": {"2020-05": 25, "2020/21": 999},
                },
                {
                    "id": "pct",
                    "name": "Pct",
                    "workstream": "w1",
                    "unit": "percent",
                    "direction": "higher",
                    "target": {"2019/20": 90, "2020/21": 95},
                },
                {
                    "id": "qtr",
                    "name": "Quarterly",
                    "workstream": "w2",
                    "unit": "percent",
                    "direction": "higher",
                    "frequency": "quarterly",
                    "target": 50,
                },
                {"id": "ctx", "name": "Context", "workstream": "w2", "unit": "hours", "direction": "none"},
                {
                    "id": "empty",
                    "name": "No data yet",
                    "workstream": "w2",
                    "unit": "count",
                    "direction": "lower",
                    "target": 3,
                },
            ],
        }
    )


def _observations(rows):
    frame = pd.DataFrame(rows, columns=["indicator", "period", "value"])
    frame["period"] = frame["period"].map(periods.parse_period)
    return frame.assign(numerator=np.nan, denominator=np.nan)


@pytest.fixture
def table():
    obs = _observations(
        [
            ("adm", "2019-04", 10),
            ("adm", "2019-05", 11),
            ("adm", "2019-06", 12),
            ("adm", "2020-04", 12),
            ("adm", "2020-05", 14),
            ("adm", "2020-06", 99),
            ("pct", "2019-05", 93),
            ("pct", "2020-04", 94),
            ("pct", "2020-05", 96),
            ("qtr", "2019-06", 40),
            ("qtr", "2020-06", 45),
            ("ctx", "2019-05", 100),
            ("ctx", "2020-05", 120),
        ]
    )
    return build_kpi_table(obs, _catalogue(), periods.parse_period("2020-05"))


def test_kpi_table_takes_the_latest_period_up_to_the_as_at_month(table):
    assert table.columns.tolist() == KPI_COLUMNS
    latest = table.set_index("indicator")["period"]
    assert latest.drop("empty").to_dict() == {"adm": "2020-05", "pct": "2020-05", "qtr": "2019-06", "ctx": "2020-05"}
    assert pd.isna(latest["empty"])
    assert table.set_index("indicator")["period_label"].tolist()[:4] == [
        "M2 2020/21",
        "M2 2020/21",
        "Q1 2019/20",
        "M2 2020/21",
    ]


def test_kpi_table_values(table):
    t = table.set_index("indicator")
    # Year to date: 12 + 14 against last year's 10 + 11, target from the May trajectory.
    assert (t.at["adm", "actual"], t.at["adm", "last_year"], t.at["adm", "target"]) == (26, 21, 25)
    assert (t.at["adm", "rag_target"], t.at["adm", "trend"], t.at["adm", "rag_last_year"]) == ("Amber", "worse", "Red")
    # Financial-year target 95 for 2020/21, last year's May 93.
    assert (t.at["pct", "actual"], t.at["pct", "target"], t.at["pct", "last_year"]) == (96, 95, 93)
    assert (t.at["pct", "rag_target"], t.at["pct", "trend"]) == ("Green", "better")
    # The quarterly indicator's latest quarter up to May 2020 is Q1 2019/20; nothing a year before.
    assert (t.at["qtr", "actual"], t.at["qtr", "target"], t.at["qtr", "rag_target"], t.at["qtr", "trend"]) == (
        40,
        50,
        "Red",
        "n/a",
    )
    assert (t.at["ctx", "rag_target"], t.at["ctx", "trend"], t.at["ctx", "variance_last_year"]) == ("n/a", "n/a", 20)
    assert (t.at["empty", "rag_target"], t.at["empty", "trend"]) == ("n/a", "n/a")
    assert np.isnan(t.at["empty", "target"])


def test_rag_summary_counts_every_workstream_in_report_order(table):
    summary = rag_summary(table, _catalogue())
    assert summary.columns.tolist() == SUMMARY_COLUMNS
    assert summary.values.tolist() == [
        ["w1", "target", 1, 1, 0, 0],
        ["w1", "last_year", 1, 0, 1, 0],
        ["w2", "target", 0, 0, 1, 2],
        ["w2", "last_year", 0, 0, 0, 3],
    ]


def test_build_kpi_table_on_an_empty_store_lists_every_indicator_as_n_a():
    empty = pd.DataFrame(
        {
            "indicator": pd.Series(dtype=str),
            "period": pd.Series(dtype=int),
            "value": pd.Series(dtype=float),
            "numerator": pd.Series(dtype=float),
            "denominator": pd.Series(dtype=float),
        }
    )
    table = build_kpi_table(empty, _catalogue(), periods.parse_period("2020-05"))
    assert table["indicator"].tolist() == ["adm", "pct", "qtr", "ctx", "empty"]
    assert set(table["rag_target"]) == {"n/a"}
