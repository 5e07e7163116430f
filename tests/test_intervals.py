"""Wilson, Byar and exact Poisson intervals against the values OHID's packages publish.

Facts used (inputs and outputs as published; our code is our own):

- PHEindicatormethods (github ukhsa-collaboration/PHEindicatormethods), its rendered
  introduction vignette ``inst/doc/PHEindicatormethodsIntroVignette.html``: eight areas'
  ``obs``/``pop`` and the printed output of ``phe_proportion`` (95%, 99.8%, as a
  percentage) and ``phe_rate`` (95% per 100,000; 99.8% per 100), Wilson, Byar's and
  exact limits among them. Printed values are checked to their last printed digit.
- PHStatsMethods (github DataS-DHSC/PHStatsMethods), ``ph_statistical_methods/tests/
  test.wilsons.py``: ``wilson_lower``/``wilson_upper`` at 95% and 99.8% to full double
  precision.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpis.report.intervals import (
    CI_NOTES,
    INTERVAL_COLUMNS,
    Z_95,
    Z_998,
    add_intervals,
    byar_limits,
    exact_poisson_limits,
    gamma_quantile,
    poisson_limits,
    proportion_interval,
    rate_interval,
    wilson_limits,
    z_score,
)


def printed(text: str):
    """The published number, to half a unit of its last printed digit."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    unit = 10.0 ** (-decimals + (int(exponent) if exponent else 0))
    return pytest.approx(float(text), abs=unit / 2)


# PHEindicatormethods intro vignette: df (obs, pop) and the printed results.
VIGNETTE_ROWS = [(87, 131), (1, 164), (44, 134), (13, 109), (83, 131), (7, 139), (43, 137), (5, 163)]
PROPORTION_95 = [  # phe_proportion(df, obs, pop): value, lowercl, uppercl
    ("0.664122137", "0.579592491", "0.73930053"),
    ("0.006097561", "0.001077181", "0.03372625"),
    ("0.328358209", "0.254598570", "0.41168471"),
    ("0.119266055", "0.071039739", "0.19341500"),
    ("0.633587786", "0.548367919", "0.71119617"),
    ("0.050359712", "0.024605552", "0.10029837"),
    ("0.313868613", "0.242136529", "0.39575419"),
    ("0.030674847", "0.013172190", "0.06978956"),
]
PROPORTION_998 = [  # phe_proportion(df, obs, pop, confidence=99.8)
    ("0.5293576135", "0.77658434"),
    ("0.0005322047", "0.06601672"),
    ("0.2181147658", "0.46143836"),
    ("0.0529712429", "0.24689949"),
    ("0.4985908973", "0.75043163"),
    ("0.0167360401", "0.14179381"),
    ("0.2069168113", "0.44507799"),
    ("0.0084801369", "0.10481797"),
]
PERCENT_95 = [  # phe_proportion(df, obs, pop, percentage=TRUE)
    ("66.4122137", "57.9592491", "73.930053"),
    ("0.6097561", "0.1077181", "3.372625"),
    ("32.8358209", "25.4598570", "41.168471"),
    ("11.9266055", "7.1039739", "19.341500"),
    ("63.3587786", "54.8367919", "71.119617"),
    ("5.0359712", "2.4605552", "10.029837"),
    ("31.3868613", "24.2136529", "39.575419"),
    ("3.0674847", "1.3172190", "6.978956"),
]
PERCENT_998 = [  # phe_proportion(df, obs, pop, confidence=99.8, percentage=TRUE, type="full")
    ("52.93576135", "77.658434"),
    ("0.05322047", "6.601672"),
    ("21.81147658", "46.143836"),
    ("5.29712429", "24.689949"),
    ("49.85908973", "75.043163"),
    ("1.67360401", "14.179381"),
    ("20.69168113", "44.507799"),
    ("0.84801369", "10.481797"),
]
RATE_95_PER_100000 = [  # phe_rate(df, obs, pop): value, lowercl, uppercl
    ("66412.2137", "53191.89721", "81920.133"),  # Byars
    ("609.7561", "15.43769", "3397.344"),  # 1 event: exact
    ("32835.8209", "23856.24577", "44081.622"),
    ("11926.6055", "6344.25775", "20396.080"),
    ("63358.7786", "50463.30549", "78543.665"),
    ("5035.9712", "2024.72162", "10376.025"),  # 7 events: exact
    ("31386.8613", "22712.53344", "42278.943"),
    ("3067.4847", "996.00392", "7158.486"),  # 5 events: exact
]
RATE_998_PER_100 = [  # phe_rate(df, obs, pop, confidence=99.8, multiplier=100): lowercl, uppercl, method
    ("4.654873e+01", "91.51034", "Byars"),
    ("6.100612e-04", "5.63013", "Exact"),
    ("1.961417e+01", "51.21896", "Byars"),
    ("4.192660e+00", "26.14598", "Byars"),
    ("4.400613e+01", "87.94878", "Byars"),
    ("1.093767e+00", "14.11955", "Exact"),
    ("1.862510e+01", "49.19876", "Byars"),
    ("4.536023e-01", "10.09494", "Exact"),
]


def _column(values, index):
    return [row[index] for row in values]


@pytest.mark.parametrize(("row", "expected"), list(enumerate(PROPORTION_95)))
def test_wilson_95_matches_phe_proportion(row, expected):
    x, n = VIGNETTE_ROWS[row]
    value, lower, upper, _ = proportion_interval([x], [n], 0.95, 1)
    assert (value[0], lower[0], upper[0]) == tuple(printed(e) for e in expected)


@pytest.mark.parametrize(("row", "expected"), list(enumerate(PROPORTION_998)))
def test_wilson_998_matches_phe_proportion(row, expected):
    x, n = VIGNETTE_ROWS[row]
    lower, upper = wilson_limits([x], [n], 0.998)
    assert (lower[0], upper[0]) == tuple(printed(e) for e in expected)


def test_wilson_as_percentages_matches_phe_proportion_at_both_levels():
    x, n = map(np.array, zip(*VIGNETTE_ROWS, strict=True))
    value, lower, upper, notes = proportion_interval(x, n, 0.95, 100)
    assert list(value) == [printed(e) for e in _column(PERCENT_95, 0)]
    assert list(lower) == [printed(e) for e in _column(PERCENT_95, 1)]
    assert list(upper) == [printed(e) for e in _column(PERCENT_95, 2)]
    assert not notes.any()
    _, lower, upper, _ = proportion_interval(x, n, 0.998, 100)
    assert list(lower) == [printed(e) for e in _column(PERCENT_998, 0)]
    assert list(upper) == [printed(e) for e in _column(PERCENT_998, 1)]


def test_rates_per_100000_at_95_match_phe_rate_byar_and_exact():
    x, n = map(np.array, zip(*VIGNETTE_ROWS, strict=True))
    value, lower, upper, _ = rate_interval(x, n, 0.95, 100000)
    assert list(value) == [printed(e) for e in _column(RATE_95_PER_100000, 0)]
    assert list(lower) == [printed(e) for e in _column(RATE_95_PER_100000, 1)]
    assert list(upper) == [printed(e) for e in _column(RATE_95_PER_100000, 2)]


def test_rates_per_100_at_998_match_phe_rate_byar_and_exact():
    x, n = map(np.array, zip(*VIGNETTE_ROWS, strict=True))
    _, lower, upper, _ = rate_interval(x, n, 0.998, 100)
    assert list(lower) == [printed(e) for e in _column(RATE_998_PER_100, 0)]
    assert list(upper) == [printed(e) for e in _column(RATE_998_PER_100, 1)]
    # the published method column: exact below 10 events, Byar's from 10
    exact = x < 10
    assert [("Exact" if e else "Byars") for e in exact] == _column(RATE_998_PER_100, 2)


@pytest.mark.parametrize(
    ("function", "x", "n", "confidence", "expected"),
    [
        # PHStatsMethods ph_statistical_methods/tests/test.wilsons.py
        (0, 20, 360, 0.95, 0.036248204600072345),
        (0, 550, 2400, 0.998, 0.20375892211705743),
        (1, 30, 400, 0.95, 0.10504770626130437),
        (1, 76, 238, 0.998, 0.418131030603369),
    ],
)
def test_wilson_matches_phstatsmethods_to_double_precision(function, x, n, confidence, expected):
    assert wilson_limits([x], [n], confidence)[function][0] == pytest.approx(expected, rel=1e-14)


def test_z_scores_are_the_normal_quantiles_to_full_precision():
    assert pytest.approx(1.959963985, abs=5e-10) == Z_95
    assert pytest.approx(3.090232306, abs=5e-10) == Z_998
    # R: qnorm(0.975) = 1.959963984540054, qnorm(0.999) = 3.090232306167813
    assert Z_95 == z_score(0.95) == pytest.approx(1.959963984540054, rel=1e-15)
    assert Z_998 == z_score(0.998) == pytest.approx(3.090232306167813, rel=1e-15)


@pytest.mark.parametrize("confidence", [0.95, 0.998])
def test_exact_poisson_limits_of_small_counts_have_their_closed_forms(confidence):
    alpha = 1 - confidence
    lower, upper = exact_poisson_limits([0, 1], confidence)
    # chi-square with 2 degrees of freedom: qchisq(p, 2) / 2 = -log(1 - p)
    assert lower[0] == 0
    assert upper[0] == pytest.approx(-math.log(alpha / 2), rel=1e-15)
    assert lower[1] == pytest.approx(-math.log(1 - alpha / 2), rel=1e-15)


def test_gamma_quantile_inverts_the_poisson_sum_in_both_tails():
    # P(Gamma(k) <= t) = P(Poisson(t) >= k): check the solved t against the sum
    for k in range(1, 11):
        for p in (0.0005, 0.001, 0.025, 0.975, 0.999, 0.9995):
            t = float(gamma_quantile(k, p))
            below = sum(math.exp(-t) * t**j / math.factorial(j) for j in range(k))  # P(Poisson(t) < k)
            if p < 0.5:
                assert 1 - below == pytest.approx(p, rel=1e-12)
            else:
                assert below == pytest.approx(1 - p, rel=1e-13)


def test_rate_limits_switch_from_exact_to_byar_at_ten_events():
    lower, upper = poisson_limits([9, 10], 0.95)
    assert (lower[0], upper[0]) == tuple(a[0] for a in exact_poisson_limits([9], 0.95))
    assert (lower[1], upper[1]) == tuple(a[0] for a in byar_limits([10], 0.95))
    assert lower[0] != byar_limits([9], 0.95)[0][0]


@pytest.mark.parametrize(
    ("x", "n", "note"),
    [
        (5, 0, "denominator is 0"),
        (np.nan, 10, "numerator is missing"),
        (5, np.nan, "denominator is missing"),
        (-1, 10, "numerator or denominator is negative"),
        (11, 10, "numerator is above the denominator"),
    ],
)
def test_a_proportion_without_an_interval_says_why(x, n, note):
    value, lower, upper, notes = proportion_interval([x], [n], 0.95, 100)
    assert np.isnan([value[0], lower[0], upper[0]]).all()
    assert CI_NOTES[notes[0]] == note


def test_zero_denominator_rate_has_no_value_and_no_interval():
    value, lower, upper, notes = rate_interval([3], [0], 0.95, 100000)
    assert np.isnan([value[0], lower[0], upper[0]]).all()
    assert CI_NOTES[notes[0]] == "denominator is 0"


def test_a_zero_count_keeps_its_interval_from_zero_as_phe_computes_it():
    z = Z_95
    value, lower, upper, notes = proportion_interval([0], [50], 0.95, 100)
    assert (value[0], lower[0]) == (0, 0)
    assert upper[0] == pytest.approx(z * z / (50 + z * z) * 100, rel=1e-15)
    assert CI_NOTES[notes[0]] == "numerator is 0: the lower limit is 0"
    value, lower, upper, notes = rate_interval([0], [2000], 0.95, 100000)
    assert (value[0], lower[0]) == (0, 0)
    assert upper[0] == pytest.approx(-math.log(0.025) / 2000 * 100000, rel=1e-15)
    assert CI_NOTES[notes[0]] == "numerator is 0: the lower limit is 0"


def test_a_whole_proportion_has_upper_limit_exactly_one():
    assert wilson_limits([40], [40], 0.95)[1][0] == 1.0


def test_add_intervals_applies_each_rows_method_and_scale_without_changing_its_input():
    obs = pd.DataFrame(
        {
            "indicator": ["p", "r", "le", "le2", "n", "p0"],
            "numerator": [87, 1, np.nan, np.nan, 30, 4],
            "denominator": [131, 164, np.nan, np.nan, 60, 0],
            "ci_method": ["wilson", "byar", "given", "given", "none", "wilson"],
            "scale": [100, 100000, 1, 1, 100, 100],
            "value": [np.nan, np.nan, 78.2, 80.0, np.nan, np.nan],
            "lower_ci": [np.nan, np.nan, 77.1, 79.0, np.nan, np.nan],
            "upper_ci": [np.nan, np.nan, 79.4, np.nan, np.nan, np.nan],
            "lower_ci_998": [np.nan, np.nan, 76.5, np.nan, np.nan, np.nan],
            "upper_ci_998": [np.nan, np.nan, 80.1, np.nan, np.nan, np.nan],
        }
    )
    before = obs.copy()
    out = add_intervals(obs)
    pd.testing.assert_frame_equal(obs, before)
    assert list(out.columns) == list(obs.columns) + [c for c in INTERVAL_COLUMNS if c not in obs.columns]
    assert (out.loc[0, "value"], out.loc[0, "lower_95"], out.loc[0, "upper_95"]) == tuple(
        printed(e) for e in PERCENT_95[0]
    )
    assert (out.loc[0, "lower_998"], out.loc[0, "upper_998"]) == tuple(printed(e) for e in PERCENT_998[0])
    assert (out.loc[1, "value"], out.loc[1, "lower_95"], out.loc[1, "upper_95"]) == tuple(
        printed(e) for e in RATE_95_PER_100000[1]
    )
    assert out.loc[2, ["value", "lower_95", "upper_95", "lower_998", "upper_998"]].tolist() == [
        78.2,
        77.1,
        79.4,
        76.5,
        80.1,
    ]
    assert np.isnan(out.loc[3, "lower_95"]) and out.loc[3, "ci_note"] == "no interval given"
    assert out.loc[4, "value"] == 50 and np.isnan(out.loc[4, "lower_95"])
    assert out.loc[4, "ci_note"] == "no interval (ci_method none)"
    assert out.loc[5, "ci_note"] == "denominator is 0" and np.isnan(out.loc[5, "value"])
    assert out["ci_note"].tolist()[:3] == ["", "", ""]


def test_a_given_interval_that_misses_its_value_is_not_used():
    obs = pd.DataFrame(
        {
            "numerator": [np.nan],
            "denominator": [np.nan],
            "ci_method": ["given"],
            "scale": [1],
            "value": [81.0],
            "lower_ci": [77.1],
            "upper_ci": [79.4],
        }
    )
    out = add_intervals(obs)
    assert np.isnan(out.loc[0, "lower_95"]) and out.loc[0, "ci_note"] == "given interval does not contain the value"


def test_an_unknown_ci_method_is_refused_by_name():
    obs = pd.DataFrame({"numerator": [1], "denominator": [2], "ci_method": ["wald"], "scale": [1]})
    with pytest.raises(ValueError, match=r"unknown ci_method \['wald'\]"):
        add_intervals(obs)


def test_a_confidence_level_may_be_written_as_a_percentage():
    assert wilson_limits([65], [100], 99.8)[0][0] == wilson_limits([65], [100], 0.998)[0][0]
    assert exact_poisson_limits([3], 95)[1][0] == exact_poisson_limits([3], 0.95)[1][0]
    with pytest.raises(ValueError, match="confidence must be between 0 and 1"):
        z_score(0)
