"""Gaps, SII and RII as PHEindicatormethods' ``phe_sii`` defines them.

Inputs: the two areas of ``phe_sii``'s documented example (PHEindicatormethods,
R/SII_function.R, @examples: deciles 1..10, populations, life expectancy values, 95%
limits and standard errors). ``phe_sii``'s own expected results live in its test
workbook (tests/testthat/testdata_SII.xlsx), which is not readable here, so the point
estimates are checked against the definition computed another way (numpy's least
squares on phe_sii's √a-scaled design, and data lying exactly on a line, where the SII
is known), and the closed-form intervals against phe_sii's simulation algorithm run
here with a fixed seed (they must agree to its Monte-Carlo precision).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpis.report.inequality import INEQUALITY_COLUMNS, inequality, slope_index
from kpis.report.intervals import Z_95

# phe_sii @examples (R/SII_function.R)
POPULATION = {
    "Area1": [7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534],
    "Area2": [21675, 20065, 19750, 24713, 20112, 19618, 22408, 19752, 18939, 19312],
}
VALUE = {
    "Area1": [75.9, 78.3, 83.8, 83.6, 80.5, 81.1, 81.7, 84.2, 80.6, 86.3],
    "Area2": [70.5, 71.6, 72.5, 73.5, 73.1, 76.2, 78.7, 80.6, 80.9, 80],
}
LOWER = {
    "Area1": [72.7, 75.3, 80.9, 80.2, 77.1, 78, 79, 81.4, 75.8, 83.2],
    "Area2": [70.1, 71.1, 72, 73.1, 72.7, 75.7, 78.2, 80.1, 80.4, 79.5],
}
UPPER = {
    "Area1": [79.1, 81.4, 86.8, 87.1, 83.8, 84.2, 84.4, 86.9, 85.4, 89.4],
    "Area2": [71, 72.1, 73.2, 73.7, 75.8, 78.8, 79.8, 81.2, 81.3, 80.9],
}
STANDARD_ERROR = {
    "Area1": [1.64, 1.58, 1.51, 1.78, 1.7, 1.56, 1.37, 1.4, 2.43, 1.57],
    "Area2": [0.23, 0.26, 0.3, 0.16, 0.79, 0.78, 0.4, 0.28, 0.23, 0.35],
}
AREAS = ("Area1", "Area2")


def _design(population):
    """phe_sii's regression: y·√a on √a and b·√a, no intercept (a: shares, b: midpoints)."""
    a = np.asarray(population, dtype=float) / np.sum(population)
    b = np.cumsum(a) - a / 2
    return a, np.column_stack([np.sqrt(a), b * np.sqrt(a)])


@pytest.mark.parametrize("area", AREAS)
def test_sii_and_rii_are_phe_siis_weighted_regression(area):
    a, design = _design(POPULATION[area])
    intercept, slope = np.linalg.lstsq(design, np.asarray(VALUE[area]) * np.sqrt(a), rcond=None)[0]
    fit = slope_index(VALUE[area], POPULATION[area], LOWER[area], UPPER[area])
    assert fit["sii"][0] == pytest.approx(slope, rel=1e-12)
    assert fit["rii"][0] == pytest.approx((intercept + slope) / intercept, rel=1e-12)
    assert fit["intercept"][0] == pytest.approx(intercept, rel=1e-12)


@pytest.mark.parametrize(
    ("transform", "line", "sii", "rii"),
    [
        ("none", lambda b: 10 + 20 * b, 20.0, 3.0),
        ("log", lambda b: np.exp(1 + 0.5 * b), math.exp(1.5) - math.e, math.exp(0.5)),
        (
            "logit",
            lambda b: 100 / (1 + np.exp(1 - b)),
            100 * (0.5 - 1 / (1 + math.e)),
            0.5 * (1 + math.e),
        ),
    ],
)
def test_values_on_a_line_give_its_rise_from_most_to_least_deprived(transform, line, sii, rii):
    population = np.array([500.0, 1500, 1000, 3000, 4000])
    a = population / population.sum()
    b = np.cumsum(a) - a / 2
    values = line(b)
    fit = slope_index(values, population, values * 0.9, values * 1.05, transform=transform, scale=100)
    assert fit["sii"][0] == pytest.approx(sii, rel=1e-12)
    assert fit["rii"][0] == pytest.approx(rii, rel=1e-12)


def _phe_simulation(values, population, se, transform, confidence, reps=400_000, seed=5):
    """phe_sii's SimulationFunc, here with numpy and a fixed seed: draw each group's
    value from N(value, se) on the fitting scale, refit, sort, take the draws at
    positions round(reps·α/2) and round(reps·(1 − α/2))."""
    a, design = _design(population)
    fitting = np.log(values) if transform == "log" else np.asarray(values, dtype=float)
    draws = np.random.default_rng(seed).normal(fitting, se, size=(reps, len(values)))
    coefficients = np.linalg.solve(design.T @ design, design.T) @ (draws * np.sqrt(a)).T
    intercepts, slopes = coefficients
    upper_q = confidence + (1 - confidence) / 2
    positions = (round(reps * (1 - upper_q)) - 1, round(reps * upper_q) - 1)
    slope_limits = np.sort(slopes)[list(positions)]
    ratio_limits = np.sort((intercepts + slopes) / intercepts)[list(positions)]
    return slope_limits, ratio_limits


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("confidence", [0.95, 0.998])
def test_closed_form_intervals_are_phe_siis_simulation_limits(area, confidence):
    values, population = np.array(VALUE[area]), np.array(POPULATION[area])
    lower, upper = np.array(LOWER[area]), np.array(UPPER[area])
    se = (upper - lower) / (2 * Z_95)
    fit = slope_index(values, population, lower, upper, confidence=confidence)
    (sii_lo, sii_hi), (rii_lo, rii_hi) = _phe_simulation(values, population, se, "none", confidence)
    spread = fit["sii_upper"][0] - fit["sii_lower"][0]
    # Monte-Carlo error of a percentile of 400,000 draws: well under 2% of the width
    assert fit["sii_lower"][0] == pytest.approx(sii_lo, abs=0.02 * spread)
    assert fit["sii_upper"][0] == pytest.approx(sii_hi, abs=0.02 * spread)
    ratio_spread = fit["rii_upper"][0] - fit["rii_lower"][0]
    assert fit["rii_lower"][0] == pytest.approx(rii_lo, abs=0.02 * ratio_spread)
    assert fit["rii_upper"][0] == pytest.approx(rii_hi, abs=0.02 * ratio_spread)


def test_log_transformed_intervals_use_phe_siis_pivot_on_the_simulated_slopes():
    # a rate by quintile; phe_sii(value_type = 1, transform = TRUE) simulates the slope on
    # the log scale and back-transforms around the fitted midpoint
    values = np.array([812.0, 700.5, 640.2, 598.0, 512.9])
    population = np.array([52000.0, 48000, 50500, 49000, 51000])
    lower, upper = values * 0.93, values * 1.07
    se = (np.log(upper) - np.log(lower)) / (2 * Z_95)
    fit = slope_index(values, population, lower, upper, transform="log")
    (slope_lo, slope_hi), _ = _phe_simulation(values, population, se, "log", 0.95)
    a, design = _design(population)
    intercept, slope = np.linalg.lstsq(design, np.log(values) * np.sqrt(a), rcond=None)[0]
    middle = intercept + slope / 2
    for name, s in (("lower", slope_lo), ("upper", slope_hi)):
        top, bottom = math.exp(middle + s / 2), math.exp(middle - s / 2)
        assert fit[f"sii_{name}"][0] == pytest.approx(top - bottom, rel=0.02)
        assert fit[f"rii_{name}"][0] == pytest.approx(top / bottom, rel=0.002)
    assert fit["sii"][0] == pytest.approx(math.exp(intercept + slope) - math.exp(intercept), rel=1e-12)
    assert fit["sii_lower"][0] < fit["sii"][0] < fit["sii_upper"][0] < 0  # lower rate at the least deprived end


@pytest.mark.parametrize("area", AREAS)
def test_standard_errors_given_instead_of_limits_give_the_same_interval(area):
    # phe_sii's example: "supplying the standard error instead of the ... confidence
    # limits gives the same result" (its SEs are the limits' width / 3.92, rounded)
    by_limits = slope_index(VALUE[area], POPULATION[area], LOWER[area], UPPER[area])
    se = (np.array(UPPER[area]) - np.array(LOWER[area])) / (2 * Z_95)
    by_se = slope_index(VALUE[area], POPULATION[area], se=se)
    for name in ("sii_lower", "sii_upper", "rii_lower", "rii_upper"):
        assert by_se[name][0] == pytest.approx(by_limits[name][0], rel=1e-12)
    rounded = slope_index(VALUE[area], POPULATION[area], se=STANDARD_ERROR[area])
    assert rounded["sii_lower"][0] == pytest.approx(by_limits["sii_lower"][0], rel=0.02)


def _frame():
    rows = []
    for area in AREAS:
        for decile in range(10):
            rows.append(
                {
                    "indicator": "le",
                    "area": area,
                    "period": "2024-03",
                    "group": str(decile + 1),
                    "value": VALUE[area][decile],
                    "population": POPULATION[area][decile],
                    "lower_95": LOWER[area][decile],
                    "upper_95": UPPER[area][decile],
                }
            )
    return pd.DataFrame(rows)


DECILES = [str(d) for d in range(1, 11)]


def test_inequality_gives_one_row_per_area_with_gaps_sii_and_rii_in_any_row_order():
    frame = _frame().sample(frac=1, random_state=3)
    before = frame.copy()
    out = inequality(frame, DECILES)
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.columns) == ["indicator", "area", "period", *INEQUALITY_COLUMNS]
    out = out.set_index("area")
    for area in AREAS:
        fit = slope_index(VALUE[area], POPULATION[area], LOWER[area], UPPER[area])
        row = out.loc[area]
        assert row["groups"] == 10
        assert row["gap_abs"] == pytest.approx(VALUE[area][-1] - VALUE[area][0], rel=1e-15)
        assert row["gap_rel"] == pytest.approx(VALUE[area][-1] / VALUE[area][0], rel=1e-15)
        for name in ("sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper"):
            assert row[name] == pytest.approx(fit[name][0], rel=1e-12)
        assert row["note"] == ""


def test_a_missing_group_means_no_sii_and_the_note_names_it():
    frame = _frame()
    frame = frame[~((frame["area"] == "Area2") & frame["group"].isin(["4", "7"]))]
    out = inequality(frame, DECILES).set_index("area")
    assert np.isnan(out.loc["Area2", ["sii", "sii_lower", "rii"]].astype(float)).all()
    assert out.loc["Area2", "note"] == "groups 4, 7 missing"
    assert out.loc["Area2", "groups"] == 8
    assert out.loc["Area2", "gap_abs"] == pytest.approx(80 - 70.5)  # the end groups are there
    assert not np.isnan(out.loc["Area1", "sii"])


def test_a_group_without_an_interval_means_no_sii_and_the_note_names_it():
    frame = _frame()
    frame.loc[(frame["area"] == "Area1") & (frame["group"] == "10"), "upper_95"] = np.nan
    out = inequality(frame, DECILES).set_index("area")
    assert np.isnan(out.loc["Area1", "sii"])
    assert out.loc["Area1", "note"] == "no interval for group 10, so no SII"


def test_a_value_outside_the_transforms_range_is_named():
    frame = _frame().assign(value=lambda f: f["value"] / 100, lower_95=lambda f: f["lower_95"] / 100)
    frame = frame.assign(upper_95=lambda f: f["upper_95"] / 100)
    frame.loc[(frame["area"] == "Area1") & (frame["group"] == "2"), ["value", "lower_95"]] = [0.0, 0.0]
    out = inequality(frame, DECILES, transform="logit", scale=1.0).set_index("area")
    assert out.loc["Area1", "note"] == "group 2 not inside the logit transform's range, so no SII"
    assert not np.isnan(out.loc["Area2", "sii"])


def test_the_transform_and_scale_can_come_from_each_indicators_columns():
    frame = pd.concat(
        [
            _frame().assign(indicator="le", sii_transform="none", scale=1.0),
            _frame().assign(indicator="rate", sii_transform="log", scale=100000.0),
        ]
    )
    out = inequality(frame, DECILES, transform="sii_transform", scale="scale").set_index(["indicator", "area"])
    for area in AREAS:
        expected = slope_index(VALUE[area], POPULATION[area], LOWER[area], UPPER[area], transform="log")
        assert out.loc[("rate", area), "sii"] == pytest.approx(expected["sii"][0], rel=1e-12)
        assert out.loc[("rate", area), "sii"] != pytest.approx(out.loc[("le", area), "sii"], rel=1e-6)


def test_an_undeclared_or_repeated_group_is_refused():
    frame = _frame()
    with pytest.raises(ValueError, match=r"groups not declared for this breakdown: \['10'\]"):
        inequality(frame, DECILES[:-1])
    with pytest.raises(ValueError, match="a group appears twice for the same indicator, area, period"):
        inequality(pd.concat([frame, frame.iloc[:1]]), DECILES)


def test_an_rii_whose_most_deprived_end_may_be_zero_has_no_interval_and_says_so():
    values = [0.5, 4.0, 8.0, 12.0, 16.0]
    frame = pd.DataFrame(
        {
            "indicator": "x",
            "area": "A",
            "period": "2024-03",
            "group": [str(g) for g in range(1, 6)],
            "value": values,
            "population": 100.0,
            "lower_95": [v - 20 for v in values],
            "upper_95": [v + 20 for v in values],
        }
    )
    row = inequality(frame, ["1", "2", "3", "4", "5"]).iloc[0]
    assert not np.isnan(row["sii"]) and not np.isnan(row["rii"])
    assert np.isnan(row["rii_lower"]) and np.isnan(row["rii_upper"])
    assert row["note"].startswith("RII interval unbounded")


def test_phe_siis_multiplier_scales_the_sii_and_a_negative_one_reverses_polarity():
    area = "Area1"
    plain = slope_index(VALUE[area], POPULATION[area], LOWER[area], UPPER[area])
    flipped = slope_index(VALUE[area], POPULATION[area], LOWER[area], UPPER[area], multiplier=-1)
    assert flipped["sii"][0] == -plain["sii"][0]
    assert (flipped["sii_lower"][0], flipped["sii_upper"][0]) == (-plain["sii_upper"][0], -plain["sii_lower"][0])
    assert flipped["rii"][0] == pytest.approx(1 / plain["rii"][0], rel=1e-15)
    assert flipped["rii_lower"][0] == pytest.approx(1 / plain["rii_upper"][0], rel=1e-15)
    # proportions between 0 and 1 with multiplier 100 = the same as percentages with scale 100
    p = np.array([0.31, 0.28, 0.27, 0.22, 0.2])
    population = np.array([900.0, 1100, 1000, 950, 1050])
    as_proportions = slope_index(p, population, p - 0.03, p + 0.03, transform="logit", multiplier=100)
    as_percentages = slope_index(p * 100, population, (p - 0.03) * 100, (p + 0.03) * 100, transform="logit", scale=100)
    for name in ("sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper"):
        assert as_proportions[name][0] == pytest.approx(as_percentages[name][0], rel=1e-12)


def test_confidence_may_be_given_as_a_percentage_as_phe_sii_allows():
    a = slope_index(VALUE["Area2"], POPULATION["Area2"], LOWER["Area2"], UPPER["Area2"], confidence=99.8)
    b = slope_index(VALUE["Area2"], POPULATION["Area2"], LOWER["Area2"], UPPER["Area2"], confidence=0.998)
    assert a["sii_lower"][0] == b["sii_lower"][0]


def test_a_missing_column_is_named():
    with pytest.raises(ValueError, match=r"inequality needs the columns \['population'\]"):
        inequality(_frame().drop(columns="population"), DECILES)
