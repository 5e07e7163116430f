"""The XmR chart of Making Data Count: each rule on tiny hand-built series, the settings,
the icons, and the limits and point types published by NHSRplotthedots and PowerBI-SPC."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from kpis import periods
from kpis.catalogue import Direction, SpcSettings, merge_settings
from kpis.report.spc import (
    POINT_COLUMNS,
    SUMMARY_COLUMNS,
    assurance,
    rebase_problems,
    spc_points,
    spc_summary,
)

ROOT = Path(__file__).resolve().parent.parent
START = periods.month_index(2020, 4)
NAN = np.nan


def observations(values, indicator="x", start=START) -> pd.DataFrame:
    return pd.DataFrame(
        {"indicator": indicator, "period": np.arange(len(values)) + start, "value": np.asarray(values, dtype=float)}
    )


def chart(values, direction="higher", targets=None, **settings) -> pd.DataFrame:
    return spc_points(observations(values), {"x": SpcSettings(**settings)}, {"x": direction}, targets)


def rules(values, direction="higher", **settings) -> list[str]:
    return list(chart(values, direction, **settings)["rule"])


def first_limits(points: pd.DataFrame) -> list[float]:
    return points.iloc[0][["mean", "lower", "upper"]].tolist()


IMPROVEMENT, CONCERN, NEUTRAL, COMMON = (
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral",
    "common_cause",
)


# --------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------


def test_limits_are_the_mean_plus_or_minus_2_66_average_moving_ranges_with_sigma_lines():
    # mean 12; moving ranges 2, 1, 2, 1: AMR 1.5; 2.66 × 1.5 = 3.99
    points = chart([10, 12, 11, 13, 14])
    assert list(points.columns) == POINT_COLUMNS
    row = points.iloc[0]
    expected = {
        "mean": 12.0,
        "lower": 8.01,
        "upper": 15.99,
        "lower_2sigma": 9.34,
        "upper_2sigma": 14.66,
        "lower_1sigma": 10.67,
        "upper_1sigma": 13.33,
    }
    assert {k: row[k] for k in expected} == pytest.approx(expected, rel=1e-14)
    assert (points["segment"] == 1).all()
    assert list(points["point_type"]) == [COMMON] * 5
    assert list(points["rule"]) == [""] * 5


@pytest.mark.parametrize(
    ("screen", "lower", "upper"),
    [
        # mean 3.3; moving ranges eight 1s and a 19: AMR 3, screen at 9.801 leaves eight 1s: AMR 1
        (True, 3.3 - 2.66, 3.3 + 2.66),
        (False, 3.3 - 2.66 * 3, 3.3 + 2.66 * 3),  # the NHS England Excel tool: no screening
    ],
)
def test_screening_drops_moving_ranges_of_3_267_amr_and_more_once(screen, lower, upper):
    points = chart([1, 2, 1, 2, 1, 2, 1, 2, 1, 20], screen_outliers=screen)
    assert first_limits(points) == pytest.approx([3.3, lower, upper], rel=1e-14)
    assert list(points["rule"])[-1] == "astronomical"


def test_a_screen_that_leaves_amr_0_puts_the_limits_on_the_mean():
    # moving ranges 0, 0, 0, 4: AMR 1, so 4 ≥ 3.267 is screened and the AMR is 0
    points = chart([5, 5, 5, 5, 9])
    assert first_limits(points) == pytest.approx([5.8, 5.8, 5.8], rel=1e-14)
    assert list(points["rule"]) == ["astronomical"] * 5
    assert list(points["point_type"]) == [CONCERN] * 4 + [IMPROVEMENT]
    # without the screen the 4 stays: AMR 1
    assert first_limits(chart([5, 5, 5, 5, 9], screen_outliers=False)) == pytest.approx([5.8, 3.14, 8.46], rel=1e-14)


def test_a_constant_series_has_its_limits_on_the_mean_and_no_special_cause():
    points = chart([5, 5, 5, 5, 5, 5, 5, 5])
    assert first_limits(points) == [5.0, 5.0, 5.0]
    assert list(points["point_type"]) == [COMMON] * 8


@pytest.mark.parametrize(
    ("fix_after", "mean", "amr"),
    [
        (3, 2.0, 1.5),  # 1, 3, 2: mean 2, moving ranges 2, 1
        (2, 2.0, 2.0),
        (6, 6.0, 0.75),  # every point: moving ranges 2, 1, 8, 0, 0, AMR 2.2; 8 ≥ 3.267 × 2.2 is screened
        (20, 6.0, 0.75),  # more than the segment holds: every point
    ],
)
def test_fix_after_takes_the_baseline_from_the_first_n_points_and_extends_it(fix_after, mean, amr):
    points = chart([1, 3, 2, 10, 10, 10], fix_after=fix_after)
    assert list(points["mean"]) == pytest.approx([mean] * 6, rel=1e-14)
    assert list(points["upper"]) == pytest.approx([mean + 2.66 * amr] * 6, rel=1e-14)


def test_fix_after_flags_the_points_after_the_baseline_against_its_limits():
    # baseline 1, 3, 2: limits 2 ± 3.99
    assert rules([1, 3, 2, 10, 10, 10], fix_after=3) == ["", "", "", "astronomical", "astronomical", "astronomical"]


def test_gaps_join_the_points_either_side_and_withdrawn_values_are_not_points():
    frame = pd.DataFrame(
        {
            "indicator": "x",
            "period": [START, START + 1, START + 2, START + 5],  # no values for two months
            "value": [1.0, 2.0, NAN, 4.0],  # the third was withdrawn
        }
    )
    points = spc_points(frame, directions={"x": "higher"})
    assert list(points["period"]) == [START, START + 1, START + 5]
    # moving ranges 1 and 2 (from 2 to 4 across the gap): AMR 1.5
    assert first_limits(points) == pytest.approx([7 / 3, 7 / 3 - 2.66 * 1.5, 7 / 3 + 2.66 * 1.5], rel=1e-14)


# --------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------

# Mean 0 and AMR 1 from the first four points: the limits are exactly ±2.66.
EXACT_BASELINE = [-0.5, 0.5, -0.5, 0.5]


def test_a_point_exactly_on_a_limit_is_not_astronomical_and_one_beyond_is():
    points = chart([*EXACT_BASELINE, 2.66, 0, 2.67, 0, -2.66, 0, -2.67], fix_after=4)
    assert points["upper"].iloc[0] == 2.66 and points["lower"].iloc[0] == -2.66
    assert list(points["rule"]) == [""] * 6 + ["astronomical", "", "", "", "astronomical"]
    assert list(points["point_type"])[6::4] == [IMPROVEMENT, CONCERN]


@pytest.mark.parametrize(
    ("values", "shift", "expected"),
    [
        # baseline 0, 2: mean 1, limits 1 ± 5.32; seven points above the mean
        ([0, 2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5], 7, [""] + ["shift"] * 7),
        ([0, 2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5], 8, [""] * 8),  # run length set per indicator
        ([0, 2, 1.5, 1.5, 1.5, 1.5, 1.5], 7, [""] * 7),  # six in a row are not a shift
        ([0, 2, 1.5, 1.5, 1.5, 1, 1.5, 1.5, 1.5], 7, [""] * 9),  # a point on the mean breaks it
        (
            [0, 2, 1.5, 1.5, 1.5, 1, 1.5, 1.5, 1.5],
            3,
            ["", "shift", "shift", "shift", "shift", "", "shift", "shift", "shift"],
        ),
        ([2, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], 7, [""] + ["shift"] * 7),  # below the mean
    ],
)
def test_shift_is_a_run_of_points_on_one_side_of_the_mean(values, shift, expected):
    assert rules(values, fix_after=2, shift=shift) == expected


def test_a_shift_below_the_mean_is_concern_when_higher_is_better_and_improvement_when_lower():
    values = [2, 0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert list(chart(values, "higher", fix_after=2)["point_type"]) == [COMMON] + [CONCERN] * 7
    assert list(chart(values, "lower", fix_after=2)["point_type"]) == [COMMON] + [IMPROVEMENT] * 7
    assert list(chart(values, "none", fix_after=2)["variation"]) == ["common_cause"] + ["neutral_low"] * 7


# baseline 0, 10: mean 5, limits 5 ± 26.6, 2-sigma lines 5 ± 17.73: only the trend rule can fire
@pytest.mark.parametrize(
    ("values", "trend", "expected"),
    [
        ([0, 10, 1, 2, 3, 4, 5, 6, 7], 7, ["", ""] + ["trend"] * 7),  # crosses the mean (5 is on it)
        ([0, 10, 1, 2, 3, 4, 5, 6], 7, [""] * 8),  # six points rising are not a trend
        ([0, 10, 1, 2, 3, 3, 4, 5, 6, 7], 7, [""] * 10),  # a tie breaks it: runs of 3 and 5 points
        ([0, 10, 1, 2, 3, 3, 4, 5, 6, 7], 5, ["", "", "", "", "", "trend", "trend", "trend", "trend", "trend"]),
        ([10, 0, 9, 8, 7, 6, 5, 4, 3], 7, ["", ""] + ["trend"] * 7),  # falling
    ],
)
def test_trend_is_a_run_of_points_each_strictly_above_or_below_the_one_before(values, trend, expected):
    assert rules(values, fix_after=2, trend=trend) == expected


@pytest.mark.parametrize(
    ("values", "direction", "expected"),
    [
        # a rising trend crossing the mean: the same type on both sides, by its direction of travel
        ([0, 10, 1, 2, 3, 4, 5, 6, 7], "higher", [COMMON] * 2 + [IMPROVEMENT] * 7),
        ([0, 10, 1, 2, 3, 4, 5, 6, 7], "lower", [COMMON] * 2 + [CONCERN] * 7),
        ([0, 10, 1, 2, 3, 4, 5, 6, 7], "none", [COMMON] * 2 + [NEUTRAL] * 7),
        ([10, 0, 9, 8, 7, 6, 5, 4, 3], "higher", [COMMON] * 2 + [CONCERN] * 7),
    ],
)
def test_a_trend_is_improvement_or_concern_by_its_direction_of_travel(values, direction, expected):
    points = chart(values, direction, fix_after=2)
    assert list(points["point_type"]) == expected
    high = values[-1] > values[-2]
    assert (
        points["variation"].iloc[-1]
        == {
            ("higher", True): "improvement_high",
            ("lower", True): "concern_high",
            ("none", True): "neutral_high",
            ("higher", False): "concern_low",
        }[direction, high]
    )


# baseline 0, 3: mean 1.5, limits 1.5 ± 7.98 (-6.48, 9.48), 2-sigma lines 1.5 ± 5.32 (-3.82, 6.82)
@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 3, 7, 2, 7], ["", "", "two_of_three", "", "two_of_three"]),  # only the points beyond the line
        ([0, 3, 7, 7, 2], ["", "", "two_of_three", "two_of_three", ""]),
        ([0, 3, 7, 7, 7], ["", "", "two_of_three", "two_of_three", "two_of_three"]),  # three of three
        ([0, 3, 7, -4, 7], [""] * 5),  # beyond opposite lines: not flagged
        ([0, 3, 7, 1, 7], [""] * 5),  # 1 is below the mean: not all three on that side
        ([0, 3, 7, 1.5, 7], [""] * 5),  # a point on the mean
        ([0, 3, 10, 7, 2], ["", "", "astronomical", "", ""]),  # a point beyond the limit does not count
        ([0, 3, 7, 2, 2, 7], [""] * 6),  # beyond the line twice, but not within three points
        ([0, 3, -4, 1, -4], ["", "", "two_of_three", "", "two_of_three"]),  # below the mean
    ],
)
def test_two_of_three_beyond_the_same_2_sigma_line_on_the_same_side(values, expected):
    assert rules(values, fix_after=2) == expected


def test_two_of_three_below_is_concern_when_higher_is_better():
    points = chart([0, 3, -4, 1, -4], "higher", fix_after=2)
    assert list(points["point_type"]) == [COMMON, COMMON, CONCERN, COMMON, CONCERN]
    assert points["variation"].iloc[-1] == "concern_low"


def test_precedence_astronomical_over_trend():
    # 1..7: mean 4, AMR 1, limits 1.34 and 6.66; the rising trend makes 1 improvement, but
    # 1 is below the lower limit, and astronomical wins: concern
    points = chart([1, 2, 3, 4, 5, 6, 7])
    assert list(points["rule"]) == ["astronomical;trend"] + ["trend"] * 5 + ["astronomical;trend"]
    assert list(points["point_type"]) == [CONCERN] + [IMPROVEMENT] * 6


def test_precedence_trend_over_shift():
    # baseline 0, 2: mean 1; then a falling run above the mean: the shift says improvement,
    # the trend concern, and the trend wins
    points = chart([0, 2, 4.5, 4, 3.5, 3, 2.5, 2, 1.5], fix_after=2)
    assert list(points["rule"]) == ["", "shift"] + ["shift;trend"] * 7
    assert list(points["point_type"]) == [COMMON, IMPROVEMENT] + [CONCERN] * 7


def test_precedence_two_of_three_over_shift_and_every_rule_listed():
    # baseline 0, 3 (mean 1.5, 2-sigma line 6.82, limit 9.48); seven above the mean, 7 and
    # 7.5 beyond the line; 10 beyond the limit
    points = chart([0, 3, 2, 7, 2, 7.5, 2, 10, 2, 2], fix_after=2)
    assert list(points["rule"]) == [
        "",
        "shift",
        "shift",
        "shift;two_of_three",
        "shift",
        "shift;two_of_three",
        "shift",
        "astronomical;shift",
        "shift",
        "shift",
    ]
    assert list(points["point_type"]) == [COMMON] + [IMPROVEMENT] * 9


def test_a_point_that_ends_one_trend_and_starts_the_next_takes_the_direction_it_starts():
    # PowerBI-SPC, test/Outlier Flagging/trend.test.ts, "n=2": upper, lower, upper, lower, lower
    points = chart([1, 2, 1, 3, 2], trend=2)
    assert list(points["rule"]) == ["trend"] * 5
    assert list(points["point_type"]) == [IMPROVEMENT, CONCERN, IMPROVEMENT, CONCERN, CONCERN]


# --------------------------------------------------------------------------------------
# Segments and trial limits
# --------------------------------------------------------------------------------------


def test_a_rebase_starts_a_segment_with_its_own_limits_and_no_moving_range_crosses_it():
    points = chart([1, 2, 3, 11, 12, 14], rebase=[periods.to_text(START + 3)])
    assert list(points["segment"]) == [1, 1, 1, 2, 2, 2]
    # segment 1: mean 2, AMR 1; segment 2: mean 37/3, AMR 1.5 (the 8 from 3 to 11 is in neither)
    assert list(points["mean"]) == pytest.approx([2, 2, 2, 37 / 3, 37 / 3, 37 / 3], rel=1e-14)
    assert list(points["upper"]) == pytest.approx([4.66] * 3 + [37 / 3 + 3.99] * 3, rel=1e-14)
    assert list(points["point_type"]) == [COMMON] * 6


def test_runs_do_not_cross_a_rebase():
    values = [0, 2, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5]  # a shift of 7 without the rebase
    rebased = chart(values, fix_after=2, rebase=[periods.to_text(START + 4)])
    assert list(rebased["segment"]) == [1, 1, 1, 1, 2, 2, 2, 2]
    assert list(rebased["rule"]) == [""] * 8


@pytest.mark.parametrize(
    ("rebase", "segments"),
    [
        ([periods.to_text(START)], [1, 1, 1, 1]),  # at the first point: nothing before it
        ([periods.to_text(START - 5)], [1, 1, 1, 1]),
        ([periods.to_text(START + 2)], [1, 1, 2, 2]),  # at the month after a gap: the next point
        ([periods.to_text(START + 2), periods.to_text(START + 3)], [1, 1, 2, 2]),
        ([periods.to_text(START + 3), periods.to_text(START + 4)], [1, 1, 2, 3]),
    ],
)
def test_segments_are_numbered_from_1_per_indicator(rebase, segments):
    frame = pd.DataFrame(
        {"indicator": "x", "period": [START, START + 1, START + 3, START + 4], "value": [1.0, 2, 3, 5]}
    )
    points = spc_points(frame, {"x": SpcSettings(rebase=rebase)}, {"x": "higher"})
    assert list(points["segment"]) == segments


@pytest.mark.parametrize(
    ("n", "min_points", "trial", "reason"),
    [
        (11, 12, True, "trial limits (11 of 12 points)"),
        (12, 12, False, ""),
        (5, 5, False, ""),
        (4, 5, True, "trial limits (4 of 5 points)"),
        (2, 12, True, "trial limits (2 of 12 points)"),
    ],
)
def test_trial_limits_when_the_latest_segment_has_fewer_than_min_points(n, min_points, trial, reason):
    values = [1, 2] * 6
    points = chart(values[:n], min_points=min_points)
    assert (points["trial"] == trial).all()
    assert points["upper"].notna().all()  # computed all the same
    summary = spc_summary(points)
    assert summary["spc_trial"].tolist() == [trial]
    assert summary["spc_reason"].tolist() == [reason]


def test_trial_is_per_segment():
    points = chart([*range(12), 20, 21], rebase=[periods.to_text(START + 12)])
    assert list(points["trial"]) == [False] * 12 + [True] * 2
    assert spc_summary(points)["spc_reason"].tolist() == ["trial limits (2 of 12 points)"]


def test_one_point_has_no_limits_and_the_icons_are_not_applicable():
    points = chart([5.0], targets=pd.DataFrame({"indicator": ["x"], "period": [START], "target": [3.0]}))
    assert points[["mean", "lower", "upper", "lower_2sigma", "upper_1sigma"]].isna().all(axis=None)
    assert list(points["point_type"]) == [COMMON]
    assert list(points["variation"]) == ["n/a"]
    summary = spc_summary(points)
    row = summary.iloc[0]
    assert (row["variation"], row["assurance"], row["spc_trial"]) == ("n/a", "n/a", True)
    assert row["spc_reason"] == "no limits: 1 point (limits need 2)"


def test_a_rebase_at_the_latest_point_leaves_it_without_limits():
    points = chart([1, 2, 1, 2, 9], rebase=[periods.to_text(START + 4)])
    assert spc_summary(points)[["variation", "spc_reason"]].iloc[0].tolist() == [
        "n/a",
        "no limits: 1 point (limits need 2)",
    ]


# --------------------------------------------------------------------------------------
# Icons
# --------------------------------------------------------------------------------------

# mean 1.625, moving ranges six 1s and 10 (screened): AMR 1, upper limit 4.285: 10 is beyond
HIGH = [0, 1, 0, 1, 0, 1, 0, 10]
LOW = [1 - v for v in HIGH]  # the mirror image: -9 below the lower limit


@pytest.mark.parametrize(
    ("values", "direction", "variation", "point_type"),
    [
        (HIGH, "higher", "improvement_high", IMPROVEMENT),
        (HIGH, "lower", "concern_high", CONCERN),
        (HIGH, "none", "neutral_high", NEUTRAL),
        (LOW, "higher", "concern_low", CONCERN),
        (LOW, "lower", "improvement_low", IMPROVEMENT),
        (LOW, "none", "neutral_low", NEUTRAL),
        ([0, 1, 0, 1, 0, 1, 0, 1], "higher", "common_cause", COMMON),
        ([0, 1, 0, 1, 0, 1, 0, 1], "none", "common_cause", COMMON),
    ],
)
def test_variation_icon_is_the_latest_points(values, direction, variation, point_type):
    points = chart(values, direction)
    assert points["point_type"].iloc[-1] == point_type
    assert spc_summary(points)["variation"].tolist() == [variation]


@pytest.mark.parametrize(
    ("direction", "target", "expected"),
    [
        # limits exactly -2.66 and 2.66
        ("higher", -3, "pass"),
        ("higher", -2.66, "hit_and_miss"),  # exactly on a limit
        ("higher", 0, "hit_and_miss"),
        ("higher", 2.66, "hit_and_miss"),
        ("higher", 3, "fail"),
        ("lower", 3, "pass"),
        ("lower", 2.66, "hit_and_miss"),
        ("lower", -3, "fail"),
        ("none", 3, "n/a"),
        ("higher", NAN, "n/a"),  # no target
    ],
)
def test_assurance_icon_compares_the_target_of_the_latest_period_with_the_latest_limits(direction, target, expected):
    targets = pd.DataFrame({"indicator": ["x"], "period": [START + 3], "target": [target]})
    summary = spc_summary(chart(EXACT_BASELINE, direction, targets))
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert summary[["spc_lower", "spc_upper"]].iloc[0].tolist() == [-2.66, 2.66]
    assert summary["assurance"].tolist() == [expected]


def test_assurance_uses_the_target_in_force_at_the_latest_period_and_the_latest_segment():
    targets = pd.DataFrame(
        {"indicator": "x", "period": np.arange(8) + START, "target": [0.0] * 7 + [5.0]}  # a new target at the end
    )
    points = chart([1, 2, 1, 2, 11, 12, 11, 12], targets=targets, rebase=[periods.to_text(START + 4)])
    assert list(points["target"]) == [0.0] * 7 + [5.0]  # the target in force at each period, for charts
    summary = spc_summary(points)
    # latest segment: mean 11.5, AMR 1: limits 8.84 and 14.16; the target 5 is below: pass
    assert summary[["spc_mean", "spc_lower", "spc_upper", "spc_target"]].iloc[0].tolist() == pytest.approx(
        [11.5, 8.84, 14.16, 5.0], rel=1e-14
    )
    assert summary["assurance"].tolist() == ["pass"]


def test_targets_can_be_a_function_of_indicators_and_periods():
    seen = []

    def targets(indicators: pd.Series, months: pd.Series) -> pd.Series:
        seen.append((list(indicators), list(months)))
        return pd.Series(np.where(months == START + 3, 3.0, np.nan))

    points = chart(EXACT_BASELINE, targets=targets)
    assert seen == [(["x"] * 4, list(range(START, START + 4)))]
    assert points["target"].isna().tolist() == [True, True, True, False] and points["target"].iloc[3] == 3.0
    assert spc_summary(points)["assurance"].tolist() == ["fail"]


@pytest.mark.parametrize(
    ("lower", "upper", "direction", "expected"),
    [
        # NHSRplotthedots, tests/testthat/test-ptd_calculate_assurance_type.R: limits (1, 3),
        # (5, 7), (1, 5) and target 4 give consistent_fail, consistent_pass, inconsistent for
        # "increase", the reverse for "decrease", and NA for "neutral"
        ([1, 5, 1], [3, 7, 5], "higher", ["fail", "pass", "hit_and_miss"]),
        ([1, 5, 1], [3, 7, 5], "lower", ["pass", "fail", "hit_and_miss"]),
        ([1, 5, 1], [3, 7, 5], "none", ["n/a", "n/a", "n/a"]),
    ],
)
def test_assurance_matches_nhsrplotthedots(lower, upper, direction, expected):
    assert assurance(np.array(lower), np.array(upper), np.full(3, 4.0), np.full(3, direction)).tolist() == expected


@pytest.mark.parametrize(
    ("target", "direction", "expected"),
    [
        # PowerBI-SPC, test/Outlier Flagging/assuranceIconToDraw.test.ts: limits 0 and 10
        (15, "higher", "fail"),
        (-5, "higher", "pass"),
        (5, "higher", "hit_and_miss"),
        (15, "lower", "pass"),
        (-5, "lower", "fail"),
        (5, "lower", "hit_and_miss"),
        (10, "higher", "hit_and_miss"),  # "target exactly on upper limit as inconsistent"
        (0, "higher", "hit_and_miss"),
        (5, "none", "n/a"),
    ],
)
def test_assurance_matches_powerbi_spc(target, direction, expected):
    assert assurance(np.array([0.0]), np.array([10.0]), np.array([target]), np.array([direction])).tolist() == [
        expected
    ]


# --------------------------------------------------------------------------------------
# Many indicators at once
# --------------------------------------------------------------------------------------


def test_every_indicator_is_charted_on_its_own_with_its_own_settings():
    a = observations([1, 2, 3, 4, 5, 6, 7], "a")
    b = observations([0, 10, 1, 2, 3, 4, 5, 6, 7], "b", start=START - 3)
    c = observations(HIGH, "c")
    together = pd.concat([c, b, a]).sample(frac=1, random_state=1)  # any order
    before = together.copy()
    settings = {"b": SpcSettings(fix_after=2), "c": SpcSettings(screen_outliers=False)}
    directions = {"a": "higher", "b": "lower", "c": "none"}
    points = spc_points(together, settings, directions)
    pd.testing.assert_frame_equal(together, before)  # the input is not changed
    assert list(points["indicator"].astype(str)) == ["a"] * 7 + ["b"] * 9 + ["c"] * 8
    for indicator, frame in (("a", a), ("b", b), ("c", c)):
        alone = spc_points(
            frame, {indicator: settings.get(indicator, SpcSettings())}, {indicator: directions[indicator]}
        )
        mine = points[points["indicator"] == indicator].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            mine.astype({"indicator": str, "direction": str}), alone.astype({"indicator": str, "direction": str})
        )


def test_settings_may_be_catalogue_blocks_merged_over_the_default_key_by_key():
    values = [0, 2, 1.5, 1.5, 1.5, 1.5, 1.5]  # six points above the mean of 0 and 2
    points = spc_points(observations(values), {"x": {"fix_after": 2}}, {"x": "higher"}, default={"shift": 6})
    assert list(points["rule"]) == [""] + ["shift"] * 6


def test_a_frame_of_targets_gives_each_period_its_own_and_ignores_other_indicators():
    targets = pd.DataFrame(
        {
            "indicator": ["x", "x", "x", "elsewhere"],
            "period": [START + 1, START + 2, START + 2, START],
            "target": [1.0, 2.0, 3.0, 9.0],  # two for one period: the last given
        }
    )
    got = chart([1, 2, 3, 4], targets=targets)["target"]
    assert got.isna().tolist() == [True, False, False, True]
    assert got.tolist()[1:3] == [1.0, 3.0]


def test_summary_lists_the_indicators_asked_for_in_order():
    points = spc_points(pd.concat([observations(HIGH, "a"), observations([1.0], "b")]), directions={"a": "higher"})
    summary = spc_summary(points, indicators=["c", "b", "a"])
    assert summary[["indicator", "variation", "assurance", "spc_trial", "spc_reason"]].values.tolist() == [
        ["c", "n/a", "n/a", False, "no values"],
        ["b", "n/a", "n/a", True, "no limits: 1 point (limits need 2)"],
        ["a", "improvement_high", "n/a", True, "trial limits (8 of 12 points)"],
    ]


def test_no_observations_no_points():
    points = spc_points(observations([]))
    assert list(points.columns) == POINT_COLUMNS and points.empty
    assert spc_summary(points).empty


def test_directions_may_be_the_catalogues_enum_and_nothing_else():
    assert list(spc_points(observations(LOW), directions={"x": Direction.LOWER})["point_type"])[-1] == IMPROVEMENT
    with pytest.raises(ValueError, match="direction 'up' is not one of higher, lower, none"):
        spc_points(observations(LOW), directions={"x": "up"})


def test_the_catalogue_does_not_import_the_report_so_the_report_can_read_its_settings():
    code = "import sys, kpis.catalogue; print(any(m.startswith('kpis.report') for m in sys.modules))"
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert ran.stdout.strip() == "False"


def test_two_values_for_one_period_are_refused():
    frame = pd.concat([observations([1, 2]), observations([3])])
    with pytest.raises(ValueError, match="observations hold two values for x 2020-04"):
        spc_points(frame)


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------


def test_settings_defaults_are_mdcs_and_documented():
    settings = SpcSettings()
    assert settings.model_dump() == {
        "rebase": (),
        "fix_after": None,
        "screen_outliers": True,
        "shift": 7,
        "trend": 7,
        "min_points": 12,
    }
    assert all(field.description for field in SpcSettings.model_fields.values())
    assert "NHS England Excel tool" in SpcSettings.model_fields["screen_outliers"].description


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"fix_after": 1}, "fix_after 1 is below 2: limits need at least two points"),
        ({"shift": 1}, "shift 1 is below 2: a run needs at least two points"),
        ({"trend": 0}, "trend 0 is below 2: a run needs at least two points"),
        ({"min_points": 1}, "min_points 1 is below 2"),
        ({"rebase": ["2020-13"]}, "rebase month '2020-13' is not a month in the form YYYY-MM"),
        ({"rebase": [2020]}, "rebase month 2020 is not a month in the form YYYY-MM"),  # a year
        ({"rebase": [True]}, "rebase month True is not a month in the form YYYY-MM"),
        ({"trends": 5}, "Extra inputs are not permitted"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(raw, message):
    with pytest.raises(ValidationError, match=message):
        SpcSettings.model_validate(raw)


def test_a_bad_setting_carries_a_hint_for_the_catalogue():
    with pytest.raises(ValidationError) as caught:
        SpcSettings.model_validate({"shift": 1})
    assert caught.value.errors()[0]["ctx"]["hint"] == "write 2 or more (MDC's default: 7)"


def test_rebase_months_are_sorted_month_texts():
    settings = SpcSettings(rebase=["2021-3", "2020-10", "2020-10"])
    assert settings.rebase == ("2020-10", "2021-03")
    assert settings.rebase_months == (periods.month_index(2020, 10), periods.month_index(2021, 3))
    assert SpcSettings(rebase="2020-10").rebase == ("2020-10",)
    assert SpcSettings(rebase=[periods.month_index(2020, 10)]).rebase == ("2020-10",)  # a month index, in code


def test_an_indicators_block_overrides_the_default_key_by_key():
    default = merge_settings(SpcSettings(), {"shift": 6, "min_points": 15})  # the catalogue's top-level block
    assert merge_settings(default, None) == default
    own = merge_settings(default, {"trend": 5, "rebase": ["2020-10"]})
    assert own.model_dump() == {
        "rebase": ("2020-10",),
        "fix_after": None,
        "screen_outliers": True,
        "shift": 6,
        "trend": 5,
        "min_points": 15,
    }
    # as a model, only the keys it sets count
    assert merge_settings(default, SpcSettings(trend=5)) == merge_settings(default, {"trend": 5})
    with pytest.raises(ValidationError, match="fix_after 1 is below 2"):
        merge_settings(default, {"fix_after": 1})


def test_a_rebase_that_is_not_a_period_of_its_indicator_is_a_located_problem():
    frame = pd.concat([observations([1, 2, 3]), observations([1.0, NAN], "y")])
    settings = {
        "x": SpcSettings(rebase=["2020-05", "2020-09"]),
        "y": SpcSettings(rebase=["2020-05"]),  # withdrawn: not a point
        "z": SpcSettings(rebase=["2020-05"]),
    }
    problems = rebase_problems(settings, frame, {"x": "indicators[0]", "y": "indicators[1]"})
    assert [str(p) for p in problems] == [
        "indicators[0].spc.rebase[1]: '2020-09': is not a period of this indicator. Hint: rebase at a month"
        " with a value: x has values from 2020-04 to 2020-06",
        "indicators[1].spc.rebase[0]: '2020-05': is not a period of this indicator. Hint: rebase at a month"
        " with a value: y has values from 2020-04 to 2020-04",
        "z.spc.rebase[0]: '2020-05': is not a period of this indicator. Hint: z has no values yet; remove the"
        " rebase or load its data first",
    ]


# --------------------------------------------------------------------------------------
# Published cases
# --------------------------------------------------------------------------------------

# NHSRplotthedots (github.com/nhs-r-community/NHSRplotthedots),
# tests/testthat/_snaps/integration_tests.md: the serialised ptd_spc() results of the
# package's integration tests over NHSRdatasets::ae_attendances summed by month (36 months,
# April 2016 to March 2019), decoded from R's serialisation. The inputs and every expected
# number below are those of the snapshot.
AE_ATTENDANCES = [
    1867781, 2070340, 1958802, 2079034, 1932901, 1952464, 2001816, 1907871, 1944567, 1895272, 1735619, 2015834,
    1949762, 2066789, 1994056, 2073944, 1924663, 1925961, 2044137, 1976971, 2003954, 2000086, 1820012, 2049785,
    1984369, 2164458, 2093942, 2179896, 1997854, 2005695, 2079492, 2037847, 2047518, 2113413, 1954947, 2167550,
]  # fmt: skip
AE_PERFORMANCE = [  # 1 - breaches / attendances
    0.9003512724457525, 0.9027555860390081, 0.9055994429248081, 0.9028524786030435, 0.909763097023593,
    0.9064786853944554, 0.8905308979446662, 0.8837903610883545, 0.8617594559611471, 0.851413411900772,
    0.8753090395991286, 0.9000949482943537, 0.9051525263083392, 0.8970035160821932, 0.9072518525056468,
    0.9034785895858326, 0.9029928875860346, 0.8966609396555797, 0.8994186788850258, 0.8876655246839736,
    0.8498503458662225, 0.8529918213516818, 0.8504476893558943, 0.8462121637147311, 0.8857248828216929,
    0.9039011151983545, 0.9076297242234981, 0.8931949047110505, 0.8972702710007838, 0.8894368286304747,
    0.8900933497219513, 0.8760446687116353, 0.8644632183941728, 0.843525141560121, 0.8422525009629417,
    0.8660427671795345,
]  # fmt: skip
AE_START = periods.month_index(2016, 4)


def ae_chart(values, **settings) -> pd.DataFrame:
    return spc_points(observations(values, start=AE_START), {"x": SpcSettings(**settings)}, {"x": "higher"})


def test_nhsrplotthedots_ae_all_attendances():
    # "ae_all attendances spc returns expected values": ptd_spc(ae_all(), attendances, period)
    points = ae_chart(AE_ATTENDANCES)
    assert first_limits(points) == pytest.approx(
        [2000538.9444444445, 1731844.3644444444, 2269233.5244444446], rel=1e-13
    )
    assert list(points["point_type"]) == [COMMON] * 36


def test_nhsrplotthedots_ae_all_attendances_rebased():
    # "... with rebase returns expected values": rebase = as.Date("2017-04-01")
    points = ae_chart(AE_ATTENDANCES, rebase=["2017-04"])
    assert list(points["segment"]) == [1] * 12 + [2] * 24
    by_segment = points.groupby("segment")[["mean", "lower", "upper"]].first()
    published = [
        [1946858.4166666667, 1639947.374848485, 2253769.4584848485],
        [2027379.2083333333, 1772921.0639855072, 2281837.3526811595],
    ]
    assert by_segment.to_numpy() == pytest.approx(np.array(published), rel=1e-13)
    assert list(points["point_type"]) == [COMMON] * 36


def test_nhsrplotthedots_ae_all_performance_fixed_after_12_points():
    # "ae_all performance spc returns expected values": fix_after_n_points = 12
    points = ae_chart(AE_PERFORMANCE, fix_after=12)
    published = [0.8908915564349236, 0.8614049789074258, 0.9203781339624213]
    assert points[["mean", "lower", "upper"]].to_numpy() == pytest.approx(np.array([published] * 36), rel=1e-13)
    c, i, k = COMMON, IMPROVEMENT, CONCERN
    assert list(points["point_type"]) == ([c] * 9 + [k, c] + [i] * 8 + [c] + [k] * 4 + [c] * 5 + [k] * 7)


RL4_TYPE_1 = [
    10811, 11800, 11028, 11561, 10700, 10999, 11108, 10573, 10541, 10711, 9797, 11505, 11072, 11858, 11531, 11752,
    11009, 10884, 11436, 10892, 10705, 11186, 10018, 10985, 10709, 11639, 11548, 11844, 10965, 11336, 11771, 11609,
    11494, 12311, 11199, 12471,
]  # fmt: skip
RL4_OTHER = [
    4414, 4664, 4229, 4663, 4279, 7409, 8228, 8614, 9089, 7657, 8131, 8651, 9148, 9165, 8401, 8489, 7637, 7856, 8782,
    8386, 9138, 9830, 8527, 8862, 8466, 8906, 8278, 8344, 7876, 7506, 8226, 8479, 9090, 9270, 8494, 8863,
]  # fmt: skip


def test_nhsrplotthedots_ae_rl4_attendances_by_type():
    # "ae_rl4_by_type attendances spc returns expected values": RL4's attendances of type 1
    # and "other" as facets (two indicators here), published limits and point types
    frame = pd.concat([observations(RL4_TYPE_1, "type_1", AE_START), observations(RL4_OTHER, "other", AE_START)])
    points = spc_points(frame, directions={"type_1": "higher", "other": "higher"})
    summary = spc_summary(points, indicators=["type_1", "other"])
    published = [
        [11204.388888888889, 9668.27688888889, 12740.500888888888],
        [7945.75, 6558.872941176471, 9332.62705882353],
    ]
    assert summary[["spc_mean", "spc_lower", "spc_upper"]].to_numpy() == pytest.approx(np.array(published), rel=1e-13)
    c, i, k = COMMON, IMPROVEMENT, CONCERN
    # type 1: published [c] * 4 + [k] * 7 + [c] * 22 + [i, c, i]. The last three (12311,
    # 11199, 12471) are two beyond the upper 2-sigma line (12228.46) around one just below the
    # mean (11204.39): the snapshot was made before NHSRplotthedots required all three on one
    # side of the mean (its later test "it only reports special cause for 2 of 3 points close
    # to limits when they are on the same side of the mean", and the issue's rule), so here
    # they are common cause.
    type_1 = points[points["indicator"] == "type_1"]
    assert list(type_1["point_type"]) == [c] * 4 + [k] * 7 + [c] * 25
    assert list(type_1["rule"])[4:11] == ["shift"] * 7  # seven below the mean
    other = points[points["indicator"] == "other"]
    assert list(other["point_type"]) == ([k] * 5 + [c] * 7 + [i] * 2 + [c] * 4 + [i] * 10 + [c] * 4 + [i] * 2 + [c] * 2)


def test_nhsrplotthedots_rnorm_example():
    # tests/testthat/test-ptd_spc_standard.R and test-ptd_spc.R: set.seed(123); rnorm(20),
    # whose values _snaps/ptd_spc_standard.md prints; _snaps/ptd_spc.md gives mean 0.142,
    # lpl -3.01, upl 3.29 and 20 common-cause points
    values = [
        -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621, -1.26506123,
        -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113, 1.78691314,
        0.49785048, -1.96661716, 0.70135590, -0.47279141,
    ]  # fmt: skip
    points = chart(values)
    assert [round(v, 2) for v in first_limits(points)[1:]] == [-3.01, 3.29]
    assert round(first_limits(points)[0], 3) == 0.142
    assert list(points["point_type"]) == [COMMON] * 20


def test_nhsrplotthedots_rnorm_example_by_facet_as_two_indicators():
    # tests/testthat/test-ptd_spc.R, "it outputs expected content": the same 20 values,
    # facet rep(c(0, 1), each = 10); _snaps/ptd_spc.md: facet 0 mean 0.0746, lpl -2.60,
    # upl 2.75; facet 1 mean 0.209, lpl -3.28, upl 3.70; 10 common-cause points each
    values = [
        -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621, -1.26506123,
        -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272, -0.55584113, 1.78691314,
        0.49785048, -1.96661716, 0.70135590, -0.47279141,
    ]  # fmt: skip
    frame = pd.concat([observations(values[:10], "facet_0"), observations(values[10:], "facet_1")])
    points = spc_points(frame, directions={"facet_0": "higher", "facet_1": "higher"})
    summary = spc_summary(points)
    assert [
        [round(m, 4), round(lo, 2), round(up, 2)]
        for m, lo, up in summary[["spc_mean", "spc_lower", "spc_upper"]].values
    ] == [
        [0.0746, -2.60, 2.75],
        [0.2086, -3.28, 3.70],  # printed as 0.209
    ]
    assert list(points["point_type"]) == [COMMON] * 20
    assert summary["spc_reason"].tolist() == ["trial limits (10 of 12 points)"] * 2  # as the package warns


def test_nhsrplotthedots_two_of_three_on_opposite_sides_is_common_cause():
    # test-ptd_spc_standard.R: alternating 1, -1 with the last two points 5.5 and -5.5
    values = [1.0, -1.0] * 8
    values[14], values[15] = 5.5, -5.5
    assert list(chart(values)["point_type"])[-2:] == [COMMON, COMMON]


@pytest.mark.parametrize(
    ("values", "flagged"),
    [
        # NHSRplotthedots, tests/testthat/test-ptd_calculate_point_type.R, ptd_seven_point_trend:
        # 1:7 ends a trend; c(1:3, 3:6) does not (a tie); c(2, 1:7, 3) and c(2, 7:1, 3) have one
        (list(range(1, 8)), [1] * 7),
        ([1, 2, 3, 3, 4, 5, 6], [0] * 7),
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], [0] + [1] * 7 + [0]),
        ([2, 7, 6, 5, 4, 3, 2, 1, 3], [0] + [1] * 7 + [0]),
        (list(range(7, 0, -1)), [1] * 7),
    ],
)
def test_nhsrplotthedots_seven_point_trends(values, flagged):
    assert [int("trend" in r) for r in rules(values)] == flagged


@pytest.mark.parametrize(
    ("values", "trend", "flagged"),
    [
        # PowerBI-SPC (github.com/AUS-DOH-Safety-and-Quality/PowerBI-SPC),
        # test/Outlier Flagging/trend.test.ts: values, run length and the points flagged
        ([5, 6, 5, 6, 5, 6, 5], 5, [0] * 7),
        ([1, 2, 3, 4, 5, 6, 5], 5, [1] * 6 + [0]),
        ([6, 5, 4, 3, 2, 1, 2], 5, [1] * 6 + [0]),
        ([1, 2, 3, 4, 2], 3, [1, 1, 1, 1, 0]),
        ([1, 2, 3, 2, 3, 4, 5, 6], 4, [0, 0, 0, 1, 1, 1, 1, 1]),
        ([5, 5, 5, 5, 5], 3, [0] * 5),
        ([1, 2, 1, 3, 2], 2, [1] * 5),
        ([1, 2, 3, 4, 5, 6, 7, 6], 7, [1] * 7 + [0]),
        ([-5, -4, -3, -2, -1], 4, [1] * 5),
        ([-1, -2, -3, -4, -5], 4, [1] * 5),
        ([1, 3, 2, 4, 3, 5], 4, [0] * 6),
        ([1, 2, 3, 4, 5], 4, [1] * 5),
        ([1.0, 1.1, 1.2, 1.3, 1.4], 4, [1] * 5),
    ],
)
def test_powerbi_spc_trends(values, trend, flagged):
    assert [int("trend" in r) for r in rules(values, trend=trend)] == flagged


def test_powerbi_spc_i_chart():
    # PowerBI-SPC, test/Chart Types/i.test.ts (limits to 4 decimals: ul99 0.0957, ul95
    # 0.0836, ll95 0.035, ll99 0.0229) and test/fixtures/golden/i/basic-ratio.json (to 6):
    # an I chart of 17 ratios. PowerBI-SPC takes sigma = AMR / 1.128 (3 sigma = 2.6596 ×
    # AMR) where MDC rounds to 2.66, so the limits agree to within 1e-5 here, well inside
    # the 4 decimals (5e-5) the test checks.
    numerators = [5, 7, 5, 7, 7, 5, 4, 9, 8, 13, 8, 7, 8, 7, 12, 11, 8]
    denominators = [113, 132, 121, 134, 116, 131, 93, 138, 182, 157, 100, 103, 146, 108, 153, 141, 134]
    points = chart(np.array(numerators) / np.array(denominators))
    row = points.iloc[0]
    four_decimals = {"upper": 0.0957, "upper_2sigma": 0.0836, "lower_2sigma": 0.035, "lower": 0.0229}
    six_decimals = {
        "mean": 0.059297,
        "upper": 0.095737,
        "upper_2sigma": 0.083591,
        "upper_1sigma": 0.071444,
        "lower_1sigma": 0.047151,
        "lower_2sigma": 0.035004,
        "lower": 0.022858,
    }
    assert {k: row[k] for k in four_decimals} == pytest.approx(four_decimals, abs=5e-5)
    assert {k: row[k] for k in six_decimals} == pytest.approx(six_decimals, abs=1e-5)
    assert list(points["point_type"]) == [COMMON] * 17
