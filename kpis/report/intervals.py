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
from statistics import NormalDist

import numpy as np
import pandas as pd

from kpis.catalogue import CiMethod  # declared with the catalogue's ci_method

CONFIDENCE_95 = 0.95
CONFIDENCE_998 = 0.998
# Two-sided normal quantiles to full double precision: 1.959963984540054 and 3.090232306167813.
Z_95 = NormalDist().inv_cdf(0.975)
Z_998 = NormalDist().inv_cdf(0.999)
EXACT_BELOW = 10  # counts below this get the exact Poisson interval (PHEindicatormethods' rule)


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


def confidence_level(confidence: float) -> float:
    """A confidence level as a fraction: 0.95 stays 0.95, 95 (a percentage, as
    PHEindicatormethods also accepts) becomes 0.95."""
    level = confidence / 100 if 1 < confidence < 100 else confidence
    if not 0 < level < 1:
        raise ValueError(f"confidence must be between 0 and 1 (or a percentage), not {confidence!r}: write 0.95 or 95")
    return level


def z_score(confidence: float) -> float:
    """The two-sided normal quantile for a confidence level (0.95 → 1.959963984540054)."""
    level = confidence_level(confidence)
    return NormalDist().inv_cdf(level + (1 - level) / 2)


def _floats(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _wilson(x: np.ndarray, n: np.ndarray, z: float, spread: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits for valid ``0 <= x <= n``, ``n > 0`` (no checks); ``spread``,
    4x(1 − x/n), may be passed in when several levels share it."""
    z2 = z * z
    if spread is None:
        spread = _wilson_spread(x, n)
    root = spread + z2
    np.sqrt(root, out=root)
    root *= z
    middle = 2 * x + z2
    denominator = 2 * (n + z2)
    lower = (middle - root) / denominator
    upper = np.add(middle, root, out=middle)
    upper /= denominator
    # x = 0 and x = n give 0 and 1 exactly, not a rounding step beside them
    lower[x == 0] = 0.0
    upper[x == n] = 1.0
    return lower, upper


def _wilson_spread(x: np.ndarray, n: np.ndarray) -> np.ndarray:
    spread = x / n
    np.subtract(1, spread, out=spread)
    spread *= 4 * x
    return spread


def wilson_limits(numerator, denominator, confidence: float = CONFIDENCE_95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits of the proportion ``numerator / denominator`` (between 0 and 1).

    Rows where the interval is undefined (a missing or negative figure, a zero
    denominator, a numerator above its denominator) give NaN: see :func:`proportion_interval`.
    """
    x, n = np.broadcast_arrays(_floats(numerator), _floats(denominator))
    ok = (x >= 0) & (n > 0) & (x <= n)
    lower, upper = _wilson(np.where(ok, x, 0.0), np.where(ok, n, 1.0), z_score(confidence))
    return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


def _byar(x: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Byar's limits for counts ``x > 0`` (no checks)."""
    lower = _cube(1 - 1 / (9 * x) - z / (3 * np.sqrt(x)))
    lower *= x
    lower[lower < 0] = np.nan  # as PHEindicatormethods: Byar's lower limit below 0 is not given
    return lower, _byar_upper(x, z)


def _byar_upper(x: np.ndarray, z: float) -> np.ndarray:
    x1 = x + 1
    upper = _cube(1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1)))
    upper *= x1
    return upper


def _cube(t: np.ndarray) -> np.ndarray:
    return t * t * t  # several times faster than t ** 3 over large arrays


def byar_limits(count, confidence: float = CONFIDENCE_95) -> tuple[np.ndarray, np.ndarray]:
    """Byar's approximation to the Poisson limits of an observed count (Breslow & Day 1987).

    lower = x (1 − 1/(9x) − z/(3√x))³, upper = (x+1) (1 − 1/(9(x+1)) + z/(3√(x+1)))³;
    NaN for a negative or missing count, and for a lower limit below 0 (as
    PHEindicatormethods returns NA there; it happens only for counts far below 10).
    """
    x = np.atleast_1d(_floats(count))
    z = z_score(confidence)
    lower, _ = _byar(np.where(x > 0, x, 1.0), z)
    upper = _byar_upper(np.where(x >= 0, x, 0.0), z)
    return np.where(x > 0, lower, np.nan), np.where(x >= 0, upper, np.nan)


def _lower_gamma_regularised(a: np.ndarray, t: np.ndarray, log_gamma_a1: np.ndarray) -> np.ndarray:
    """P(a, t) = γ(a, t) / Γ(a) by its power series t^a e^−t / Γ(a+1) · Σ t^k / ((a+1)…(a+k)),
    for t > 0 and the small a used here; enough terms for the largest t."""
    top = float(t.max())
    k = np.arange(1, int(top + 12 * np.sqrt(top) + 40))
    terms = np.cumprod(t[:, None] / (a[:, None] + k[None, :]), axis=1)
    return np.exp(a * np.log(t) - t - log_gamma_a1) * (1 + terms.sum(axis=1))


def _upper_gamma_regularised_whole(a: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Q(a, t) = 1 − P(a, t) for whole a: the finite Poisson sum e^−t Σ_{j<a} t^j / j!,
    which keeps its relative precision in the upper tail."""
    j = np.arange(1, int(a.max()))
    terms = np.cumprod(t[:, None] / j[None, :], axis=1) * (j[None, :] < a[:, None])
    return np.exp(-t) * (1 + terms.sum(axis=1))


def gamma_quantile(shape, probability) -> np.ndarray:
    """Quantile of the Gamma(shape, 1) distribution, i.e. ``qchisq(p, 2 * shape) / 2``.

    For the exact Poisson interval of small counts (shape ≤ 11): Newton's method on the
    regularised incomplete gamma function — its power series, or for a whole shape above
    the median the finite Poisson sum of the upper tail, so both tails keep their
    relative precision — kept inside a bisection bracket, on the distinct (shape,
    probability) pairs only. Shape 0 gives 0, as R's ``qchisq(p, 0)`` does.
    """
    a, p = np.broadcast_arrays(_floats(shape), _floats(probability))
    pairs, inverse = np.unique(np.stack([a.ravel(), p.ravel()], axis=1), axis=0, return_inverse=True)
    ua, up = pairs[:, 0], pairs[:, 1]
    if np.any(ua > 11) or np.any((up <= 0) | (up >= 1)):
        raise ValueError("gamma_quantile is for shapes up to 11 and probabilities strictly between 0 and 1")
    result = np.zeros(len(ua))
    for upper_tail in (False, True):
        rows = (ua > 0) & ((up > 0.5) & (ua == np.round(ua)) if upper_tail else ~((up > 0.5) & (ua == np.round(ua))))
        if rows.any():
            result[rows] = _solve_gamma(ua[rows], up[rows], upper_tail)
    return result[inverse.ravel()].reshape(a.shape)


def _solve_gamma(a: np.ndarray, p: np.ndarray, upper_tail: bool) -> np.ndarray:
    log_gamma_a1 = np.array([math.lgamma(s + 1) for s in a])
    lo, hi = np.zeros_like(a), np.full_like(a, 100.0)  # P(11, 100) = 1 - 1e-30: above every quantile asked for
    # start from Wilson & Hilferty's approximation (Byar's formula), or where that is not
    # above 0 (tiny a and p) from the small-t form of P, t^a / Γ(a+1) = p
    z = np.array([NormalDist().inv_cdf(q) for q in p])
    wilson_hilferty = a * (1 - 1 / (9 * a) + z / (3 * np.sqrt(a))) ** 3
    small_t = np.exp((np.log(p) + log_gamma_a1) / a)
    t = np.clip(np.where(wilson_hilferty > 0, wilson_hilferty, small_t), 1e-300, 50.0)
    for _ in range(100):
        # distance from the target in the tail where it is precise; increasing in t
        if upper_tail:
            gap = (1 - p) - _upper_gamma_regularised_whole(a, t)
        else:
            gap = _lower_gamma_regularised(a, t, log_gamma_a1) - p
        lo, hi = np.where(gap < 0, t, lo), np.where(gap < 0, hi, t)
        density = np.exp((a - 1) * np.log(t) - t - log_gamma_a1 + np.log(a))
        newton = t - gap / density
        t_next = np.where((newton >= lo) & (newton <= hi), newton, (lo + hi) / 2)
        done = np.all(np.abs(t_next - t) <= 2e-15 * t_next)
        t = t_next
        if done:
            break
    return t


def exact_poisson_limits(count, confidence: float = CONFIDENCE_95) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson limits of an observed count: ``qchisq(α/2, 2x) / 2`` and
    ``qchisq(1 − α/2, 2x + 2) / 2`` (Armitage & Berry), for counts up to 10; the lower
    limit of a count of 0 is 0."""
    x = _floats(count)
    alpha = 1 - confidence_level(confidence)
    ok = x >= 0
    # few distinct counts: solve once per count, then spread back to the rows
    counts, inverse = np.unique(np.where(ok, x, 0.0), return_inverse=True)
    lower = gamma_quantile(counts, alpha / 2)[inverse].reshape(x.shape)
    upper = gamma_quantile(counts + 1, 1 - alpha / 2)[inverse].reshape(x.shape)
    return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


def _poisson(x: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """phe_rate's limits for counts ``x >= 0`` (no checks): exact below :data:`EXACT_BELOW`."""
    small = x < EXACT_BELOW
    lower, upper = _byar(np.where(small, EXACT_BELOW, x), z_score(confidence))
    if small.any():
        lower[small], upper[small] = exact_poisson_limits(x[small], confidence)
    return lower, upper


def poisson_limits(count, confidence: float = CONFIDENCE_95) -> tuple[np.ndarray, np.ndarray]:
    """Limits of an observed count as ``phe_rate`` takes them: exact below
    :data:`EXACT_BELOW`, Byar's method from there on; NaN for a negative or missing count."""
    x = np.atleast_1d(_floats(count))
    ok = x >= 0
    lower, upper = _poisson(np.where(ok, x, 0.0), confidence)
    return np.where(ok, lower, np.nan), np.where(ok, upper, np.nan)


def _count_notes(x: np.ndarray, n: np.ndarray, proportion: bool) -> np.ndarray:
    """The :data:`CI_NOTES` code of each row of a numerator/denominator pair."""
    notes = np.where(x == 0, np.int8(NOTE_ZERO_COUNT), np.int8(NOTE_OK))
    ordinary = (x >= 0) & (n > 0)  # NaN compares False: caught below
    if proportion:
        ordinary &= x <= n
    odd = ~ordinary
    if odd.any():  # rare: the reason, in order of precedence
        xo, no = x[odd], n[odd]
        notes[odd] = np.select(
            [np.isnan(xo), np.isnan(no), (xo < 0) | (no < 0), no == 0, xo > no],
            [NOTE_NO_NUMERATOR, NOTE_NO_DENOMINATOR, NOTE_NEGATIVE, NOTE_ZERO_DENOMINATOR, NOTE_ABOVE_DENOMINATOR],
            NOTE_OK,
        )
    return notes


def _usable(notes: np.ndarray) -> np.ndarray:
    return (notes == NOTE_OK) | (notes == NOTE_ZERO_COUNT)


def proportion_interval(
    numerator, denominator, confidence: float = CONFIDENCE_95, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``value, lower, upper, note_code`` of proportions ``numerator / denominator × scale``
    with Wilson limits; value and limits are NaN where a note says why."""
    x, n = np.broadcast_arrays(np.atleast_1d(_floats(numerator)), _floats(denominator))
    notes = _count_notes(x, n, proportion=True)
    usable = _usable(notes)
    xs, ns = np.where(usable, x, 0.0), np.where(usable, n, 1.0)
    lower, upper = _wilson(xs, ns, z_score(confidence))
    per = np.where(usable, scale, np.nan)
    return xs / ns * per, lower * per, upper * per, notes


def rate_interval(
    numerator, denominator, confidence: float = CONFIDENCE_95, scale: float = 100000.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``value, lower, upper, note_code`` of rates ``numerator / denominator × scale`` with
    Byar's limits (exact below :data:`EXACT_BELOW` events); NaN where a note says why."""
    x, n = np.broadcast_arrays(np.atleast_1d(_floats(numerator)), _floats(denominator))
    notes = _count_notes(x, n, proportion=False)
    usable = _usable(notes)
    lower, upper = _poisson(np.where(usable, x, 0.0), confidence)
    per = np.divide(scale, n, out=np.full(x.shape, np.nan), where=usable)
    return x * per, lower * per, upper * per, notes


def _column(frame: pd.DataFrame, name: str, rows=None) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame) if rows is None else int(rows.sum()), np.nan)
    values = frame[name].to_numpy(dtype=float, na_value=np.nan)
    return values if rows is None else values[rows]


def add_intervals(observations: pd.DataFrame) -> pd.DataFrame:
    """A new frame: ``observations`` with :data:`INTERVAL_COLUMNS` set row by row by the
    row's ``ci_method`` (a :class:`CiMethod` value) at 95% and 99.8%.

    Needs ``numerator``, ``denominator``, ``ci_method`` and ``scale`` (the multiplier);
    ``given`` rows take ``value`` and the extract's ``lower_ci``, ``upper_ci``,
    ``lower_ci_998``, ``upper_ci_998``; ``none`` rows keep ``value`` (or
    numerator / denominator × scale) without an interval. ``ci_note`` (categorical, one
    of :data:`CI_NOTES`) says why a row has no interval. The input is not changed.
    """
    missing = [c for c in ("numerator", "denominator", "ci_method", "scale") if c not in observations]
    if missing:
        raise ValueError(f"add_intervals needs the columns {missing}")
    method_codes, method_names = pd.factorize(observations["ci_method"])
    unknown = sorted(set(map(str, method_names)) - {m.value for m in CiMethod})
    if unknown or (method_codes < 0).any():
        raise ValueError(f"unknown ci_method {unknown or ['(missing)']}: use one of {[m.value for m in CiMethod]}")
    index = {str(name): i for i, name in enumerate(method_names)}

    def rows_of(method: CiMethod) -> np.ndarray | None:
        rows = method_codes == index[method.value] if method.value in index else None
        return rows if rows is not None and rows.any() else None

    x, n = _column(observations, "numerator"), _column(observations, "denominator")
    scale = np.broadcast_to(_column(observations, "scale"), x.shape)
    out = {name: np.full(x.shape, np.nan) for name in INTERVAL_COLUMNS[:-1]}
    notes = np.zeros(x.shape, dtype=np.int8)

    for method in (CiMethod.WILSON, CiMethod.BYAR):
        rows = rows_of(method)
        if rows is None:
            continue
        xr, nr = x[rows], n[rows]
        note = _count_notes(xr, nr, proportion=method == CiMethod.WILSON)
        usable = _usable(note)
        xs, ns = np.where(usable, xr, 0.0), np.where(usable, nr, 1.0)
        unit = np.where(usable, scale[rows], np.nan)
        out["value"][rows] = xs / ns * unit
        per = unit if method == CiMethod.WILSON else unit / ns  # a rate's limits: the count's, per head
        spread = _wilson_spread(xs, ns) if method == CiMethod.WILSON else None
        for suffix, confidence in (("95", CONFIDENCE_95), ("998", CONFIDENCE_998)):
            if method == CiMethod.WILSON:
                lower, upper = _wilson(xs, ns, z_score(confidence), spread)
            else:
                lower, upper = _poisson(xs, confidence)
            out[f"lower_{suffix}"][rows] = lower * per
            out[f"upper_{suffix}"][rows] = upper * per
        notes[rows] = note

    rows = rows_of(CiMethod.GIVEN)
    if rows is not None:
        value = _column(observations, "value", rows)
        limits = {column: _column(observations, source, rows) for column, source in GIVEN_COLUMNS.items()}
        missing = np.isnan(limits["lower_95"]) | np.isnan(limits["upper_95"])
        outside = ~missing & ((limits["lower_95"] > value) | (limits["upper_95"] < value))
        keep = ~missing & ~outside
        for column, limit in limits.items():
            out[column][rows] = np.where(keep, limit, np.nan)
        out["value"][rows] = value
        notes[rows] = np.select([missing, outside], [NOTE_NOT_GIVEN, NOTE_GIVEN_OUTSIDE], NOTE_OK)

    rows = rows_of(CiMethod.NONE)
    if rows is not None:
        given = _column(observations, "value", rows)
        computed = np.divide(x[rows], n[rows], out=np.full(int(rows.sum()), np.nan), where=n[rows] > 0) * scale[rows]
        out["value"][rows] = np.where(np.isnan(given), computed, given)
        notes[rows] = NOTE_METHOD_NONE

    return observations.assign(**out, ci_note=pd.Categorical.from_codes(notes, categories=pd.Index(list(CI_NOTES))))
