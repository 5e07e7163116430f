"""Gaps, SII and RII as PHEindicatormethods' ``phe_sii`` defines them.

Published cases: the vignette "Worked examples for phe_sii function" prints phe_sii's
results for three of the package's datasets (life expectancy by decile, value_type 0;
directly standardised rates by quintile, log transform, with RII; child obesity
prevalence by decile, logit transform, multiplier -100). Their inputs are in
tests/fixtures/phe_sii/ (see its README for the repositories, paths and commits); the
results are transcribed below from the built vignette. SII and RII must match to the
last printed digit; their limits come from phe_sii's simulation, so they must match to
its Monte-Carlo precision (see ``_PRECISION``).

Also: the two areas of ``phe_sii``'s documented example (R/SII_function.R, @examples:
deciles 1..10, populations, life expectancy values, 95% limits and standard errors),
checked against the definition computed another way (numpy's least squares on phe_sii's
√a-scaled design, and data lying exactly on a line, where the SII is known), and the
closed-form intervals against phe_sii's simulation algorithm run here with a fixed seed.

And a rate or proportion fitted untransformed (phe_sii's value_type 1 or 2 with
transform = FALSE), whose limits are simulated: against phe_sii's algorithm restated
here, exactly on the same draws and within Monte-Carlo error on independent ones; the
same seed giving the same limits; the catalogue's unit giving the value type.
"""

from __future__ import annotations

import math
import os

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


# --- phe_sii's published worked examples ---------------------------------------------

PHE_SII_FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "phe_sii")

# Source of every figure below: the vignette "Worked examples for phe_sii function",
# PHEindicatormethods 2.0.2.9001, as built in r-hub2/some-psychogenic-africanporcupine-
# PHEindicatormethods inst/doc/WorkedExamples_phe_sii.html @ 9ba410965ea092796b11ebb9b8a71db6f09be697
# (https://cran.r-project.org/web/packages/PHEindicatormethods/vignettes/WorkedExamples_phe_sii.html).
# Figures are kept as printed (strings) so the tolerance of a point estimate is half a
# unit in its last printed place.

# Example 1: LE_data grouped by Sex and GeoCode, value_type 0, se = SE, 1000 repetitions,
# confidence 95% and 99.8%. Sex 1: sii, sii_lower95_0cl, sii_upper95_0cl, sii_lower99_8cl, sii_upper99_8cl
PUBLISHED_LE = {
    "E06000001": ("11.68886", "9.215442", "14.07460", "7.896985", "15.27278"),
    "E06000002": ("12.54785", "10.579679", "14.57307", "9.433565", "15.43696"),
    "E06000003": ("10.05084", "7.820256", "12.30021", "6.098286", "13.65081"),
    "E06000004": ("14.85223", "13.029586", "16.66506", "11.542089", "17.22223"),
    "E06000005": ("11.68095", "9.126462", "14.13962", "7.997806", "15.28689"),
    "E06000006": ("12.27526", "10.014238", "14.29402", "8.563631", "15.53240"),
    "E06000007": ("11.59893", "10.131272", "12.96125", "9.068544", "13.56129"),
    "E06000008": ("10.72510", "8.539485", "12.66773", "7.260345", "13.95977"),
    "E06000009": ("13.59387", "11.385259", "15.63067", "10.072540", "16.61999"),
    "E06000010": ("11.20094", "9.667654", "12.58422", "8.983728", "13.32130"),
}

# Example 2: DSR_data grouped by Period, value_type 1, lower_cl/upper_cl, transform = TRUE
# (log), rii = TRUE, 100,000 repetitions: sii, rii, sii_lower95_0, sii_upper95_0,
# rii_lower95_0, rii_upper95_0
PUBLISHED_DSR = {
    2010: ("-14.03684", "0.9010655", "-17.95990", "-10.126662", "0.8752420", "0.9275826"),
    2011: ("-12.83196", "0.9086641", "-16.72001", "-8.917710", "0.8827020", "0.9355915"),
    2012: ("-11.09234", "0.9199455", "-14.91251", "-7.257354", "0.8939089", "0.9468622"),
    2013: ("-10.06041", "0.9266342", "-13.85842", "-6.255091", "0.9003791", "0.9537227"),
    2014: ("-10.06085", "0.9263086", "-13.84260", "-6.302576", "0.9000559", "0.9531717"),
    2015: ("-8.53077", "0.9368534", "-12.23824", "-4.816133", "0.9106841", "0.9638401"),
}

# Example 3: prevalence_data grouped by Period, SchoolYear, AreaCode (E92000001); Rate,
# LCL, UCL divided by 100; value_type 2, transform = TRUE (logit), multiplier = -100,
# 100,000 repetitions: sii, sii_lower95_0, sii_upper95_0
PUBLISHED_PREVALENCE = {
    (607, "6"): ("10.964626", "10.442276", "11.487365"),
    (607, "R"): ("5.970062", "5.549097", "6.393890"),
    (708, "6"): ("11.271798", "10.882719", "11.665736"),
    (708, "R"): ("6.200092", "5.891670", "6.511572"),
    (809, "6"): ("11.804672", "11.424118", "12.187107"),
    (809, "R"): ("6.911770", "6.615734", "7.206792"),
    (910, "6"): ("12.459329", "12.074213", "12.845349"),
    (910, "R"): ("7.141644", "6.851003", "7.433598"),
    (1011, "6"): ("13.057800", "12.664883", "13.441025"),
    (1011, "R"): ("7.139306", "6.858750", "7.423963"),
}

# How far a simulated limit may stray from ours, as a share of the published interval's
# width. A percentile of n simulated slopes has a standard error of about
# √(p(1−p)/n) / φ(z) × σ: for 100,000 draws and p = 0.025, 0.0022 of the 95% width, so
# 0.015 is about 7 of them; for 1,000 draws, 0.022 of the width (0.10 ≈ 4.6 of them),
# and the 99.8% limits of 1,000 draws are the smallest and largest draw (0.048 of the
# width, so 0.25). The DSR example's own reliability figures (sii_mad95_0 0.011 to 0.028)
# are of the same size as our differences from it (at most 0.008).
_PRECISION = {100_000: 0.015, 1_000: 0.10, (1_000, 0.998): 0.25}


def _printed(figure: str) -> dict:
    """The figure as a float and the tolerance of its printing: half a unit in its last place."""
    decimals = len(figure.partition(".")[2])
    return {"expected": float(figure), "abs": 0.5 * 10.0**-decimals}


def _fixture(name: str, **read) -> pd.DataFrame:
    return pd.read_csv(os.path.join(PHE_SII_FIXTURES, name), **read)


def _assert_limits(ours, published_lower, published_upper, share):
    lower, upper = float(published_lower), float(published_upper)
    allowed = share * (upper - lower)
    assert ours[0] == pytest.approx(lower, abs=allowed)
    assert ours[1] == pytest.approx(upper, abs=allowed)


@pytest.mark.parametrize("area", sorted(PUBLISHED_LE))
def test_phe_siis_published_life_expectancy_example(area):
    rows = _fixture("le_data.csv").query("Sex == 1 and GeoCode == @area").sort_values("Decile")
    sii, lower95, upper95, lower998, upper998 = PUBLISHED_LE[area]
    at_95 = slope_index(rows["LifeExp"], rows["Pop"], se=rows["SE"], confidence=0.95)
    at_998 = slope_index(rows["LifeExp"], rows["Pop"], se=rows["SE"], confidence=0.998)
    printed = _printed(sii)
    assert at_95["sii"][0] == pytest.approx(printed["expected"], abs=printed["abs"])
    _assert_limits((at_95["sii_lower"][0], at_95["sii_upper"][0]), lower95, upper95, _PRECISION[1_000])
    _assert_limits((at_998["sii_lower"][0], at_998["sii_upper"][0]), lower998, upper998, _PRECISION[(1_000, 0.998)])


@pytest.mark.parametrize("period", sorted(PUBLISHED_DSR))
def test_phe_siis_published_rate_example_with_log_transform_and_rii(period):
    rows = _fixture("dsr_data.csv").query("Period == @period").sort_values("Quintile")
    sii, rii, sii_lower, sii_upper, rii_lower, rii_upper = PUBLISHED_DSR[period]
    fit = slope_index(rows["value"], rows["total_pop"], rows["lowercl"], rows["uppercl"], transform="log")
    for name, figure in (("sii", sii), ("rii", rii)):
        printed = _printed(figure)
        assert fit[name][0] == pytest.approx(printed["expected"], abs=printed["abs"]), name
    _assert_limits((fit["sii_lower"][0], fit["sii_upper"][0]), sii_lower, sii_upper, _PRECISION[100_000])
    _assert_limits((fit["rii_lower"][0], fit["rii_upper"][0]), rii_lower, rii_upper, _PRECISION[100_000])


@pytest.mark.parametrize(("period", "school_year"), sorted(PUBLISHED_PREVALENCE))
def test_phe_siis_published_proportion_example_with_logit_and_negative_multiplier(period, school_year):
    rows = _fixture("prevalence_data.csv", dtype={"SchoolYear": str})
    rows = rows.query("Period == @period and SchoolYear == @school_year").sort_values("Decile")
    sii, lower, upper = PUBLISHED_PREVALENCE[(period, school_year)]
    as_proportions = [rows[c] / 100 for c in ("Rate", "LCL", "UCL")]
    fit = slope_index(as_proportions[0], rows["Measured"], *as_proportions[1:], transform="logit", multiplier=-100)
    printed = _printed(sii)
    assert fit["sii"][0] == pytest.approx(printed["expected"], abs=printed["abs"])
    _assert_limits((fit["sii_lower"][0], fit["sii_upper"][0]), lower, upper, _PRECISION[100_000])


def test_the_published_examples_through_inequality_with_each_indicators_transform_and_scale():
    # the same figures by way of an observations frame: the rates as they come (log), the
    # prevalence as percentages (logit, scale 100) and with no multiplier, so its SII is
    # the published one with the sign turned back (least minus most deprived: lower at
    # the least deprived end) and its limits swapped
    rates = _fixture("dsr_data.csv").rename(
        columns={
            "Period": "period",
            "Quintile": "group",
            "total_pop": "population",
            "lowercl": "lower_95",
            "uppercl": "upper_95",
        }
    )
    rates = rates.assign(indicator="dsr", area="E92000001", sii_transform="log", scale=100000.0)
    prevalence = _fixture("prevalence_data.csv", dtype={"SchoolYear": str}).rename(
        columns={
            "Period": "period",
            "AreaCode": "area",
            "Decile": "group",
            "Measured": "population",
            "Rate": "value",
            "LCL": "lower_95",
            "UCL": "upper_95",
        }
    )
    prevalence = prevalence.assign(
        indicator="obesity_year_" + prevalence["SchoolYear"], sii_transform="logit", scale=100.0
    )
    by = {"transform": "sii_transform", "scale": "scale"}
    quintiles = inequality(rates.astype({"group": str}), [str(g) for g in range(1, 6)], **by)
    deciles = inequality(prevalence.astype({"group": str}), [str(g) for g in range(1, 11)], **by)

    quintiles = quintiles.set_index("period")
    for period, (sii, rii, *_) in PUBLISHED_DSR.items():
        for name, figure in (("sii", sii), ("rii", rii)):
            printed = _printed(figure)
            assert quintiles.loc[period, name] == pytest.approx(printed["expected"], abs=printed["abs"])
        assert quintiles.loc[period, "note"] == ""
    deciles = deciles.set_index(["indicator", "period"])
    for (period, school_year), (sii, lower, upper) in PUBLISHED_PREVALENCE.items():
        row = deciles.loc[(f"obesity_year_{school_year}", period)]
        printed = _printed(sii)
        assert row["sii"] == pytest.approx(-printed["expected"], abs=printed["abs"])
        _assert_limits((-row["sii_upper"], -row["sii_lower"]), lower, upper, _PRECISION[100_000])


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


# --- a rate or proportion fitted untransformed: phe_sii's simulation -----------------
#
# phe_sii(value_type = 1 or 2, transform = FALSE) draws each group on the log or logit
# scale and fits on the values' own scale; no closed form, so slope_index simulates. Its
# algorithm is restated below independently (phe_sii's own matrix form: the √a, b·√a
# design, (M Mᵀ)⁻¹ M applied to each draw × √a, sorted draws at positions round(n·α/2)
# and round(n·(1 − α/2)) counted from 1) and compared twice: exactly, on the same
# standard normal draws, and within Monte-Carlo error, on independent draws. No published
# phe_sii output of this case with its limits was found to transcribe (the vignette's
# rate and proportion examples are transform = TRUE).


def _phe_untransformed(values, population, lower, upper, value_type, *, confidence, draws, multiplier=1.0):
    """phe_sii's SII and RII limits for value_type 1 (rate) or 2 (proportion, between 0
    and 1), transform = FALSE, from ``draws``: either the standard normal draws
    (repetitions × groups) or a seed for fresh ones of ``repetitions`` = draws[1]."""
    values, lower, upper = (np.asarray(x, dtype=float) for x in (values, lower, upper))
    to_scale = np.log if value_type == 1 else (lambda p: np.log(p / (1 - p)))
    back = np.exp if value_type == 1 else (lambda x: np.exp(x) / (1 + np.exp(x)))
    mean = to_scale(values)
    se = (to_scale(upper) - to_scale(lower)) / Z_95 / 2
    if isinstance(draws, tuple):
        seed, repetitions = draws
        sampled = np.random.default_rng(seed).normal(mean, se, size=(repetitions, len(values)))
    else:
        repetitions = len(draws)
        sampled = mean + se * draws
    a, design = _design(population)
    coefficients = np.linalg.solve(design.T @ design, design.T) @ (back(sampled) * np.sqrt(a)).T
    intercepts, slopes = coefficients
    sii = np.sort(slopes * multiplier)
    ratio = (intercepts + slopes) / intercepts
    rii = np.sort(1 / ratio if multiplier < 0 else ratio)
    upper_q = confidence + (1 - confidence) / 2
    positions = [round(repetitions * (1 - upper_q)) - 1, round(repetitions * upper_q) - 1]
    return (*sii[positions], *rii[positions])


def _dsr(period=2010):
    rows = _fixture("dsr_data.csv").query("Period == @period").sort_values("Quintile")
    return rows["value"], rows["total_pop"], rows["lowercl"], rows["uppercl"]


def _prevalence(period=607, school_year="6"):
    rows = _fixture("prevalence_data.csv", dtype={"SchoolYear": str})
    rows = rows.query("Period == @period and SchoolYear == @school_year").sort_values("Decile")
    return rows["Rate"], rows["Measured"], rows["LCL"], rows["UCL"]  # percentages


UNTRANSFORMED = {
    # name: (inputs as percentages or rates, value_type, scale, multiplier)
    "rate (DSR per 100,000)": (_dsr, "rate", 1.0, 1.0),
    "rate, phe_sii's example with value_type 1": (
        lambda: (VALUE["Area1"], POPULATION["Area1"], LOWER["Area1"], UPPER["Area1"]),
        "rate",
        1.0,
        1.0,
    ),
    "proportion as a percentage": (_prevalence, "proportion", 100.0, 1.0),
    "proportion, negative multiplier": (_prevalence, "proportion", 100.0, -1.0),
}
_LIMITS = ("sii_lower", "sii_upper", "rii_lower", "rii_upper")


def _restated(case, confidence, draws):
    inputs, value_type, scale, multiplier = UNTRANSFORMED[case]
    values, population, lower, upper = (np.asarray(x, dtype=float) for x in inputs())
    limits = _phe_untransformed(
        values / scale,
        population,
        lower / scale,
        upper / scale,
        1 if value_type == "rate" else 2,
        confidence=confidence,
        draws=draws,
        multiplier=multiplier,
    )
    # phe_sii fits proportions between 0 and 1: its SII is in those units
    return (limits[0] * scale, limits[1] * scale, *limits[2:])


def _ours(case, confidence, **simulation):
    inputs, value_type, scale, multiplier = UNTRANSFORMED[case]
    values, population, lower, upper = inputs()
    return slope_index(
        values,
        population,
        lower,
        upper,
        value_type=value_type,
        scale=scale,
        confidence=confidence,
        multiplier=multiplier,
        **simulation,
    )


@pytest.mark.parametrize("case", sorted(UNTRANSFORMED))
@pytest.mark.parametrize("confidence", [0.95, 0.998])
def test_untransformed_rates_and_proportions_are_phe_siis_simulation_on_the_same_draws(case, confidence):
    groups = len(UNTRANSFORMED[case][0]()[0])
    standard = np.random.default_rng(11).standard_normal((20_000, groups))
    fit = _ours(case, confidence, repetitions=20_000, seed=11)
    expected = _restated(case, confidence, standard)
    for name, figure in zip(_LIMITS, expected, strict=True):
        assert fit[name][0] == pytest.approx(figure, rel=1e-9), name


@pytest.mark.parametrize("case", sorted(UNTRANSFORMED))
def test_untransformed_limits_agree_with_an_independent_run_of_phe_siis_algorithm(case):
    # ours: 100,000 repetitions with the fixed seed; the restatement: 1,000,000 fresh draws.
    # The 2.5th percentile of 100,000 draws strays by about 0.002 of the interval's width.
    fit = _ours(case, 0.95)
    expected = _restated(case, 0.95, (2024, 1_000_000))
    sii_width, rii_width = expected[1] - expected[0], expected[3] - expected[2]
    for name, figure, width in zip(_LIMITS, expected, (sii_width, sii_width, rii_width, rii_width), strict=True):
        assert fit[name][0] == pytest.approx(figure, abs=0.015 * width), name
    assert fit["sii_lower"][0] < fit["sii"][0] < fit["sii_upper"][0]
    assert fit["rii_lower"][0] < fit["rii"][0] < fit["rii_upper"][0]


def test_untransformed_point_estimates_are_the_fit_on_the_values_own_scale():
    values, population, lower, upper = _dsr()
    as_rate = slope_index(values, population, lower, upper, value_type="rate")
    as_other = slope_index(values, population, lower, upper)
    for name in ("sii", "rii", "intercept"):
        assert as_rate[name][0] == pytest.approx(as_other[name][0], rel=1e-12)
    # phe_sii's codes name the same value types
    by_code = slope_index(values, population, lower, upper, value_type=1)
    assert by_code["sii_lower"][0] == as_rate["sii_lower"][0]
    with pytest.raises(ValueError, match=r"unknown SII value type \['ratio'\]"):
        slope_index(values, population, lower, upper, value_type="ratio")


def test_the_simulation_is_reproducible_and_each_set_independent_of_the_others():
    values, population, lower, upper = (np.asarray(x, dtype=float) for x in _dsr())
    first = slope_index(values, population, lower, upper, value_type="rate")
    again = slope_index(values, population, lower, upper, value_type="rate")
    other_seed = slope_index(values, population, lower, upper, value_type="rate", seed=6)
    for name in _LIMITS:
        assert first[name][0] == again[name][0]  # same seed, same limits, to the last bit
    assert first["sii_lower"][0] != other_seed["sii_lower"][0]
    assert first["sii_lower"][0] == pytest.approx(other_seed["sii_lower"][0], rel=0.01)
    # with another area beside it (and a plain one), an area's limits do not move
    together = slope_index(
        [values, values * 1.1, values],
        [population] * 3,
        [lower, lower * 1.1, lower],
        [upper, upper * 1.1, upper],
        value_type=["rate", "rate", "other"],
    )
    for name in _LIMITS:
        assert together[name][0] == first[name][0]
    alone = slope_index(values * 1.1, population, lower * 1.1, upper * 1.1, value_type="rate")
    assert together["sii_upper"][1] == alone["sii_upper"][0]
    plain = slope_index(values, population, lower, upper)
    assert together["sii_upper"][2] == plain["sii_upper"][0]


QUINTILES = [str(g) for g in range(1, 6)]


def _quintile_frame(values, lower, upper, **columns):
    return pd.DataFrame(
        {
            "indicator": "x",
            "area": "A",
            "period": "2024-03",
            "group": [str(g) for g in range(1, 6)],
            "value": values,
            "population": [1000.0, 1100, 900, 1000, 1050],
            "lower_95": lower,
            "upper_95": upper,
            **columns,
        }
    )


def test_inequality_takes_each_indicators_value_type_and_names_a_group_outside_its_range():
    values = np.array([31.0, 28, 27, 22, 20])
    lower, upper = values - 3, values + 3.5
    frame = pd.concat(
        [
            _quintile_frame(values, lower, upper, indicator="share", sii_value_type="proportion"),
            _quintile_frame(values, lower, upper, indicator="plain", sii_value_type="other"),
        ]
    )
    out = inequality(frame, QUINTILES, value_type="sii_value_type", scale=100.0).set_index("indicator")
    share = slope_index(values, frame["population"][:5], lower, upper, value_type="proportion", scale=100)
    plain = slope_index(values, frame["population"][:5], lower, upper)
    for name in ("sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper"):
        assert out.loc["share", name] == pytest.approx(share[name][0], rel=1e-12)
        assert out.loc["plain", name] == pytest.approx(plain[name][0], rel=1e-12)
    assert out.loc["share", "sii_lower"] != pytest.approx(out.loc["plain", "sii_lower"], rel=1e-4)

    zero = _quintile_frame([0.0, 5, 6, 7, 8], [0.0, 3, 4, 5, 6], [2.0, 7, 8, 9, 10])
    rate = inequality(zero, QUINTILES, value_type="rate").iloc[0]
    assert (
        rate["note"] == "group 1 not inside a rate's range (above 0: its interval is read on the log scale), so no SII"
    )
    assert np.isnan(rate["sii"]) and rate["gap_abs"] == 8.0
    assert not np.isnan(inequality(zero, QUINTILES).iloc[0]["sii"])  # read as they are, any value does


def test_the_catalogue_unit_gives_phe_siis_value_type():
    from kpis.catalogue.model import Indicator

    base = {"id": "x", "name": "X", "workstream": "w", "direction": "lower"}
    units = {"rate": "rate", "percent": "proportion", "days": "other", "ratio": "other", "count": "other"}
    for unit, value_type in units.items():
        assert Indicator(**base, unit=unit).sii_value_type == value_type
