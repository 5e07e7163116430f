"""Fingertips' benchmark rule, every outcome, the benchmark lookup and small-number suppression.

The rule (Fingertips' "compared with benchmark", PHE technical guidance): the
benchmark's value inside the area's interval, limits included, is similar; outside it,
better or worse by the indicator's polarity, higher or lower where there is none.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpis.report.comparison import COMPARISON_WORDS, add_benchmark, add_comparison, compare
from kpis.report.intervals import proportion_interval
from kpis.report.keys import key_ids
from kpis.report.suppression import add_suppression, suppressed

NAN = np.nan


@pytest.mark.parametrize(
    ("lower", "upper", "comparator", "direction", "expected"),
    [
        (70, 80, 75, "higher", "similar"),
        (70, 80, 70, "higher", "similar"),  # on the lower limit: inside
        (70, 80, 80, "lower", "similar"),  # on the upper limit: inside
        (70, 80, 65, "higher", "better"),  # area above the benchmark, higher is better
        (70, 80, 85, "higher", "worse"),
        (70, 80, 65, "lower", "worse"),  # area above the benchmark, lower is better
        (70, 80, 85, "lower", "better"),
        (70, 80, 65, "none", "higher"),
        (70, 80, 85, "none", "lower"),
        (NAN, 80, 75, "higher", "not_compared"),  # no interval
        (70, NAN, 75, "higher", "not_compared"),
        (70, 80, NAN, "higher", "not_compared"),  # no benchmark value
    ],
)
def test_compare_gives_every_fingertips_outcome(lower, upper, comparator, direction, expected):
    assert list(compare([lower], [upper], [comparator], direction)) == [expected]


def test_compare_takes_a_direction_per_row_and_suppressed_rows_are_not_compared():
    words = compare(
        [70, 70, 70, 70],
        [80, 80, 80, 80],
        [65, 65, 65, 75],
        ["higher", "lower", "none", "higher"],
        suppressed=[False, False, True, False],
    )
    assert list(words) == ["better", "worse", "not_compared", "similar"]
    assert list(words.categories) == list(COMPARISON_WORDS)


def test_the_998_interval_gives_the_second_level_of_the_rating():
    # 44/134 (32.8%, PHEindicatormethods' vignette) against a benchmark of 24%:
    # outside the 95% interval (25.5%-41.2%) but inside the 99.8% one (21.8%-46.1%)
    _, lo95, hi95, _ = proportion_interval([44], [134], 0.95, 100)
    _, lo998, hi998, _ = proportion_interval([44], [134], 0.998, 100)
    assert list(compare(lo95, hi95, [24.0], "higher")) == ["better"]
    assert list(compare(lo998, hi998, [24.0], "higher")) == ["similar"]


def test_an_unknown_direction_is_refused_by_name():
    with pytest.raises(ValueError, match=r"unknown direction \['up'\]"):
        compare([1], [2], [1.5], "up")


def test_add_comparison_serves_benchmark_last_year_and_area_total_alike():
    frame = pd.DataFrame(
        {
            "lower_95": [70.0, 70.0, 70.0],
            "upper_95": [80.0, 80.0, 80.0],
            "benchmark_value": [65.0, 75.0, NAN],
            "last_year": [85.0, 85.0, 85.0],
            "direction": ["higher", "lower", "none"],
            "suppressed": [False, False, False],
        }
    )
    before = frame.copy()
    out = add_comparison(frame, "vs_benchmark", "benchmark_value")
    out = add_comparison(out, "vs_last_year", "last_year")
    pd.testing.assert_frame_equal(frame, before)
    assert list(out["vs_benchmark"]) == ["better", "similar", "not_compared"]
    assert list(out["vs_last_year"]) == ["worse", "better", "lower"]


@pytest.mark.parametrize(
    ("numerator", "threshold", "expected"),
    [
        (0, 5, False),  # a true zero is shown
        (1, 5, True),
        (4, 5, True),
        (5, 5, False),
        (3, 0, False),  # 0 turns suppression off
        (NAN, 5, False),
    ],
)
def test_counts_between_zero_and_the_threshold_are_suppressed(numerator, threshold, expected):
    assert suppressed([numerator], threshold).tolist() == [expected]


def test_add_suppression_flags_rows_and_withdraws_their_comparisons():
    frame = pd.DataFrame(
        {
            "numerator": [3, 12, 0],
            "suppress_below": [5, 5, 5],
            "vs_benchmark": pd.Categorical(["better", "worse", "similar"], categories=list(COMPARISON_WORDS)),
        }
    )
    out = add_suppression(frame, "suppress_below", comparisons=("vs_benchmark",))
    assert out["suppressed"].tolist() == [True, False, False]
    assert list(out["vs_benchmark"]) == ["not_compared", "worse", "similar"]
    assert out["numerator"].tolist() == [3, 12, 0]  # kept: totals still use it


def _areas_frame():
    return pd.DataFrame(
        {
            "indicator": ["a", "a", "a", "a", "b", "b"],
            "area": ["E92000001", "E92000001", "E06000045", "E06000045", "E06000045", "E12000008"],
            "period": ["2024-03"] * 6,
            "breakdown": ["sex", "sex", "sex", "sex", "", ""],
            "group": ["F", "M", "F", "M", "", ""],
            "value": [80.0, 76.0, 82.0, 75.0, 5.0, 4.0],
            "benchmark": ["E92000001"] * 4 + ["E12000008"] * 2,
        }
    )


@pytest.mark.parametrize("categorical_keys", [False, True])
def test_add_benchmark_takes_the_benchmark_areas_same_breakdown_and_group(categorical_keys):
    frame = _areas_frame()
    if categorical_keys:
        frame = frame.astype({k: "category" for k in ("indicator", "area", "period", "breakdown", "group")})
    out = add_benchmark(frame, "E92000001")
    assert out["benchmark_value"].tolist()[:4] == [80.0, 76.0, 80.0, 76.0]
    assert np.isnan(out["benchmark_value"].tolist()[4:]).all()  # indicator b has no England row
    assert set(out["benchmark_area"].astype(str)) == {"E92000001"}
    per_indicator = add_benchmark(frame, "benchmark")  # each indicator's own benchmark area
    assert per_indicator["benchmark_value"].tolist()[4:] == [4.0, 4.0]
    assert per_indicator["benchmark_area"].astype(str).tolist()[4:] == ["E12000008", "E12000008"]


def test_a_benchmark_area_with_two_rows_for_one_group_is_refused():
    frame = pd.concat([_areas_frame(), _areas_frame().iloc[:1]])
    with pytest.raises(
        ValueError, match="the benchmark area has two rows for the same indicator, period, breakdown, group"
    ):
        add_benchmark(frame, "E92000001")


def test_key_ids_number_each_combination_once_whatever_the_column_types():
    frame = _areas_frame()
    ids, n = key_ids(frame, ["indicator", "area"])
    categorical_ids, categorical_n = key_ids(
        frame.astype({"indicator": "category", "area": "category"}), ["indicator", "area"]
    )
    assert n == categorical_n == 4
    assert len(set(zip(ids, categorical_ids, strict=True))) == 4  # the same partition of the rows
    assert ids[0] == ids[1] and ids[2] == ids[3] and len({ids[0], ids[2], ids[4], ids[5]}) == 4
