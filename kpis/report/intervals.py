"""Confidence intervals for proportions and rates, computed as OHID's Fingertips does.

The methods are those of PHEindicatormethods (R: ``phe_proportion``, ``phe_rate``,
``wilson_lower/upper``, ``byars_lower/upper``) and PHStatsMethods (Python):

- a proportion ``numerator / denominator``: the Wilson score interval;
- a rate ``numerator / denominator``: Byar's approximation to the Poisson interval of the
  count, or the exact Poisson interval (chi-square quantiles) when the count is below
  :data:`EXACT_BELOW`;

each scaled by the indicator's multiplier (``scale``: 100 for a percentage, 100000 for a
rate per 100,000). Everything is vectorised over arrays; :func:`add_intervals` applies
an indicator's ``ci_method`` to a frame of observations at 95% and 99.8%.
"""

from __future__ import annotations

import math
from enum import StrEnum
from statistics import NormalDist

import numpy as np
import pandas as pd

CONFIDENCE_95 = 0.95
CONFIDENCE_998 = 0.998
# Two-sided normal quantiles to full double precision: 1.959963984540054 and 3.090232306167813.
Z_95 = NormalDist().inv_cdf(0.975)
Z_998 = NormalDist().inv_cdf(0.999)
EXACT_BELOW = 10  # counts below this get the exact Poisson interval (PHEindicatormethods' rule)


class CiMethod(StrEnum):
    WILSON = "wilson"  # proportions
    BYAR = "byar"  # rates (exact Poisson below EXACT_BELOW)
    GIVEN = "given"  # the extract's own limits (life expectancy, survey estimates)
    NONE = "none"


# Why a row has no interval, or what is special about it ("" = an ordinary interval).
CI_NOTES = (
    "",
    "numerator is missing",
    "denominator is missing",
    "denominator is 0",
    "numerator or denominator is negative",
    "numerator is above the denominator",
    "numerator is 0: the lower limit is 0",
    "no interval given",
    "given interval does not contain the value",
    "no interval (ci_method none)",
)
(
    NOTE_OK,
    NOTE_NO_NUMERATOR,
    NOTE_NO_DENOMINATOR,
    NOTE_ZERO_DENOMINATOR,
    NOTE_NEGATIVE,
    NOTE_ABOVE_DENOMINATOR,
    NOTE_ZERO_COUNT,
    NOTE_NOT_GIVEN,
    NOTE_GIVEN_OUTSIDE,
    NOTE_METHOD_NONE,
) = range(len(CI_NOTES))

INTERVAL_COLUMNS = ["value", "lower_95", "upper_95", "lower_998", "upper_998", "ci_note"]
GIVEN_COLUMNS = {
    "lower_95": "lower_ci",
    "upper_95": "upper_ci",
    "lower_998": "lower_ci_998",
    "upper_998": "upper_ci_998",
}


def z_score(confidence: float) -> float:
    """The two-sided normal quantile for a confidence level (0.95 → 1.959963984540054)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence!r} (write 0.95 for 95%)")
    return NormalDist().inv_cdf(confidence + (1 - confidence) / 2)


def _floats(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def wilson_limits(numerator, denominator, confidence: float = CONFIDENCE_95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits of the proportion ``numerator / denominator`` (between 0 and 1).

    Rows where the interval is undefined (a missing or negative figure, a zero
    denominator, a numerator above its denominator) give NaN: see :func:`proportion_interval`.
    """
    x, n = _floats(numerator), _floats(denominator)
    z = z_score(confidence)
    ok = (x >= 0) & (n > 0) & (x <= n)
    x, n = np.where(ok, x, 0.0), np.where(ok, n, 1.0)
    root = z * np.sqrt(z * z + 4 * x * (1 - x / n))
    lower = (2 * x + z * z - root) / 2 / (n + z * z)
    upper = (2 * x + z * z + root) / 2 / (n + z * z)
    # x = 0 and x = n give 0 and 1 exactly, not a rounding step beside them.
    lower = np.where(x == 0, 0.0, lower)
    upper = np.where(x == n, 1.0, upper)
    return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


def byar_limits(count, confidence: float = CONFIDENCE_95) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to the Poisson limits of an observed count (Breslow & Day 1987).

    lower = x (1 − 1/(9x) − z/(3√x))³, upper = (x+1) (1 − 1/(9(x+1)) + z/(3√(x+1)))³;
    NaN for a negative or missing count, and for a lower limit below 0 (as
    PHEindicatormethods returns NA there; it happens only for counts far below 10).
    """
    x = _floats(count)
    z = z_score(confidence)
    ok = x > 0
    xs = np.where(ok, x, 1.0)
    lower = xs * (1 - 1 / (9 * xs) - z / (3 * np.sqrt(xs))) ** 3
    lower = np.where(ok & (lower >= 0), lower, np.nan)
    x1 = np.where(x >= 0, x + 1, 1.0)
    upper = x1 * (1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1))) ** 3
    return lower, np.where(x >= 0, upper, np.nan)


def _lower_gamma_regularised(a: np.ndarray, t: np.ndarray, log_gamma_a1: np.ndarray) -> np.ndarray:
    """P(a, t) = γ(a, t) / Γ(a) by its power series, for t > 0 and the small a used here."""
    term = np.ones_like(t)
    total = np.ones_like(t)
    for k in range(1, 1000):
        term = term * t / (a + k)
        total = total + term
        if k > t.max() and np.all(term < total * 1e-17):
            break
    return np.exp(a * np.log(t) - t - log_gamma_a1) * total


def _upper_gamma_regularised(a: np.ndarray, t: np.ndarray, log_gamma_a1: np.ndarray) -> np.ndarray:
    """Q(a, t) = 1 − P(a, t): for whole a the finite Poisson sum e^−t Σ_{j<a} t^j / j!, which
    keeps its precision in the upper tail; for other a, 1 − P."""
    whole = a == np.round(a)
    term = np.exp(-t)
    total = term.copy()
    for j in range(1, int(a.max())):
        term = term * t / j
        total = total + np.where(j < a, term, 0.0)
    return np.where(whole, total, 1 - _lower_gamma_regularised(a, t, log_gamma_a1))


def gamma_quantile(shape, probability) -> np.ndarray:
    """Quantile of the Gamma(shape, 1) distribution, i.e. ``qchisq(p, 2 * shape) / 2``.

    For the exact Poisson interval of small counts (shape ≤ 11): Newton's method on the
    regularised incomplete gamma function (its power series below the median, the finite
    Poisson sum of the upper tail above it, so both tails keep full relative precision),
    kept inside a bisection bracket, on the distinct (shape, probability) pairs only.
    Shape 0 gives 0, as R's ``qchisq(p, 0)`` does.
    """
    a, p = np.broadcast_arrays(_floats(shape), _floats(probability))
    pairs, inverse = np.unique(np.stack([a.ravel(), p.ravel()], axis=1), axis=0, return_inverse=True)
    ua, up = pairs[:, 0], pairs[:, 1]
    if np.any(ua > 11) or np.any((up <= 0) | (up >= 1)):
        raise ValueError("gamma_quantile is for shapes up to 11 and probabilities strictly between 0 and 1")
    positive = ua > 0
    shape_ok = np.where(positive, ua, 1.0)
    log_gamma_a1 = np.array([math.lgamma(s + 1) for s in shape_ok])
    upper_tail = up > 0.5
    lo = np.zeros_like(shape_ok)
    hi = np.full_like(shape_ok, 100.0)  # P(11, 100) = 1 - 1e-30: above every quantile asked for
    # start from the small-t form of P, t^a / Γ(a+1) = p, capped inside the bracket
    t = np.minimum(np.exp((np.log(up) + log_gamma_a1) / shape_ok), 50.0)
    for _ in range(200):
        # distance from the target in the tail where it is precise; increasing in t
        gap = np.where(
            upper_tail,
            (1 - up) - _upper_gamma_regularised(shape_ok, t, log_gamma_a1),
            _lower_gamma_regularised(shape_ok, t, log_gamma_a1) - up,
        )
        lo = np.where(gap < 0, t, lo)
        hi = np.where(gap < 0, hi, t)
        density = np.exp((shape_ok - 1) * np.log(t) - t - log_gamma_a1 + np.log(shape_ok))
        newton = t - gap / density
        inside = (newton > lo) & (newton < hi)
        t_next = np.where(inside, newton, (lo + hi) / 2)
        done = np.all(np.abs(t_next - t) <= 4e-16 * t_next)
        t = t_next
        if done:
            break
    result = np.where(positive, t, 0.0)
    return result[inverse.ravel()].reshape(a.shape)


def exact_poisson_limits(count, confidence: float = CONFIDENCE_95) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson limits of an observed count: ``qchisq(α/2, 2x) / 2`` and
    ``qchisq(1 − α/2, 2x + 2) / 2`` (Armitage & Berry), for counts up to 10; the lower
    limit of a count of 0 is 0."""
    x = _floats(count)
    alpha = 1 - confidence
    ok = x >= 0
    # few distinct counts: solve once per count, then spread back to the rows
    counts, inverse = np.unique(np.where(ok, x, 0.0), return_inverse=True)
    lower = gamma_quantile(counts, alpha / 2)[inverse].reshape(x.shape)
    upper = gamma_quantile(counts + 1, 1 - alpha / 2)[inverse].reshape(x.shape)
    return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


def poisson_limits(count, confidence: float = CONFIDENCE_95) -> tuple[np.ndarray, np.ndarray]:
    """Limits of an observed count as ``phe_rate`` takes them: exact below
    :data:`EXACT_BELOW`, Byar's method from there on."""
    x = _floats(count)
    lower, upper = byar_limits(x, confidence)
    small = (x >= 0) & (x < EXACT_BELOW)
    if small.any():
        small_lower, small_upper = exact_poisson_limits(x[small], confidence)
        lower, upper = lower.copy(), upper.copy()
        lower[small], upper[small] = small_lower, small_upper
    return lower, upper


def _count_notes(x: np.ndarray, n: np.ndarray, proportion: bool) -> np.ndarray:
    """The :data:`CI_NOTES` code of each row of a numerator/denominator pair."""
    conditions = [
        np.isnan(x),
        np.isnan(n),
        (x < 0) | (n < 0),
        n == 0,
        (x > n) if proportion else np.zeros(x.shape, dtype=bool),
        x == 0,
    ]
    codes = [
        NOTE_NO_NUMERATOR,
        NOTE_NO_DENOMINATOR,
        NOTE_NEGATIVE,
        NOTE_ZERO_DENOMINATOR,
        NOTE_ABOVE_DENOMINATOR,
        NOTE_ZERO_COUNT,
    ]
    return np.select(conditions, codes, NOTE_OK).astype(np.int8)


def proportion_interval(
    numerator, denominator, confidence: float = CONFIDENCE_95, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``value, lower, upper, note_code`` of proportions ``numerator / denominator × scale``
    with Wilson limits; value and limits are NaN where a note says why."""
    x, n = _floats(numerator), _floats(denominator)
    notes = _count_notes(x, n, proportion=True)
    usable = (notes == NOTE_OK) | (notes == NOTE_ZERO_COUNT)
    lower, upper = wilson_limits(np.where(usable, x, 0.0), np.where(usable, n, 1.0), confidence)
    value = np.divide(x, n, out=np.full(x.shape, np.nan), where=usable) * scale
    return value, np.where(usable, lower * scale, np.nan), np.where(usable, upper * scale, np.nan), notes


def rate_interval(
    numerator, denominator, confidence: float = CONFIDENCE_95, scale: float = 100000.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``value, lower, upper, note_code`` of rates ``numerator / denominator × scale`` with
    Byar's limits (exact below :data:`EXACT_BELOW` events); NaN where a note says why."""
    x, n = _floats(numerator), _floats(denominator)
    notes = _count_notes(x, n, proportion=False)
    usable = (notes == NOTE_OK) | (notes == NOTE_ZERO_COUNT)
    lower, upper = poisson_limits(np.where(usable, x, 0.0), confidence)
    per = np.divide(scale, n, out=np.full(x.shape, np.nan), where=usable)
    return x * per, lower * per, upper * per, notes


def add_intervals(observations: pd.DataFrame) -> pd.DataFrame:
    """A new frame: ``observations`` with :data:`INTERVAL_COLUMNS` set row by row by the
    row's ``ci_method`` (a :class:`CiMethod` value) at 95% and 99.8%.

    Needs ``numerator``, ``denominator``, ``ci_method`` and ``scale`` (the multiplier);
    ``given`` rows take ``value`` and the extract's ``lower_ci``, ``upper_ci``,
    ``lower_ci_998``, ``upper_ci_998``; ``none`` rows keep ``value`` (or
    numerator / denominator × scale) without an interval. ``ci_note`` (categorical, one
    of :data:`CI_NOTES`) says why a row has no interval. The input is not changed.
    """
    methods = observations["ci_method"].astype(str).to_numpy()
    unknown = sorted(set(np.unique(methods)) - {m.value for m in CiMethod})
    if unknown:
        raise ValueError(f"unknown ci_method {unknown}: use one of {[m.value for m in CiMethod]}")
    x = observations["numerator"].to_numpy(dtype=float, na_value=np.nan)
    n = observations["denominator"].to_numpy(dtype=float, na_value=np.nan)
    scale = np.broadcast_to(observations["scale"].to_numpy(dtype=float), x.shape)
    given_value = (
        observations["value"].to_numpy(dtype=float, na_value=np.nan)
        if "value" in observations
        else np.full(x.shape, np.nan)
    )
    out = {name: np.full(x.shape, np.nan) for name in INTERVAL_COLUMNS[:-1]}
    notes = np.zeros(x.shape, dtype=np.int8)

    for method, interval in ((CiMethod.WILSON, proportion_interval), (CiMethod.BYAR, rate_interval)):
        rows = methods == method
        if not rows.any():
            continue
        for suffix, confidence in (("95", CONFIDENCE_95), ("998", CONFIDENCE_998)):
            # scale 1 here and per-row scale after: one call serves every indicator's multiplier
            value, lower, upper, note = interval(x[rows], n[rows], confidence, 1.0)
            out[f"lower_{suffix}"][rows] = lower * scale[rows]
            out[f"upper_{suffix}"][rows] = upper * scale[rows]
        out["value"][rows] = value * scale[rows]
        notes[rows] = note

    rows = methods == CiMethod.GIVEN
    if rows.any():
        value = given_value[rows]
        limits = {}
        for column, source in GIVEN_COLUMNS.items():
            limits[column] = (
                observations[source].to_numpy(dtype=float, na_value=np.nan)[rows]
                if source in observations
                else np.full(value.shape, np.nan)
            )
        missing = np.isnan(limits["lower_95"]) | np.isnan(limits["upper_95"])
        outside = ~missing & ((limits["lower_95"] > value) | (limits["upper_95"] < value))
        keep = ~missing & ~outside
        for column, limit in limits.items():
            out[column][rows] = np.where(keep, limit, np.nan)
        out["value"][rows] = value
        notes[rows] = np.select([missing, outside], [NOTE_NOT_GIVEN, NOTE_GIVEN_OUTSIDE], NOTE_OK)

    rows = methods == CiMethod.NONE
    if rows.any():
        computed = np.divide(x[rows], n[rows], out=np.full(int(rows.sum()), np.nan), where=n[rows] > 0) * scale[rows]
        out["value"][rows] = np.where(np.isnan(given_value[rows]), computed, given_value[rows])
        notes[rows] = NOTE_METHOD_NONE

    result = observations.assign(**out)
    result["ci_note"] = pd.Categorical.from_codes(notes, categories=list(CI_NOTES))
    return result
