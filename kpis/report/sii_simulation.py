"""The simulated SII and RII limits of a rate or proportion fitted on its own scale, as
PHEindicatormethods' ``phe_sii`` makes them (``value_type`` 1 or 2, ``transform = FALSE``).

Each group's value is drawn from a normal distribution on the log scale (a rate) or the
logit scale (a proportion: value ÷ scale), with mean the value there and standard
deviation its standard error there; each draw is turned back to the value's own scale
and the line is refitted (the weighted least squares of :mod:`kpis.report.inequality`,
linear in the values, so a fit is two weighted sums). The limits are order statistics
of the sorted simulated SIIs and RIIs at ``phe_sii``'s positions: round(n × α/2) and
round(n × (1 − α/2)), counted from 1, for n repetitions and confidence 1 − α. The SII
draws are multiplied by ``multiplier`` and, when it is negative, the RII draws inverted
before sorting, as ``phe_sii`` does.

Reproducible: the standard normal draws come from numpy's PCG64 generator seeded with
:data:`SII_SEED` (5), :data:`SII_REPETITIONS` (100,000, ``phe_sii``'s default) rows of
one column per group; every set of groups (an indicator, area and period) uses the same
standard draws, so its limits depend on its own figures and the seed only, never on
which other sets are computed with it (of the same number of groups). R's random numbers
are not numpy's, so the limits agree with ``phe_sii``'s to the simulation's Monte-Carlo
precision (about 0.002 of the 95% interval's width at 100,000 draws), not to the digit.
"""

from __future__ import annotations

import numpy as np

from kpis.report.intervals import confidence_level

SII_SEED = 5  # as phe_sii's own tests' set.seed(5)
SII_REPETITIONS = 100_000  # phe_sii's default
_CHUNK = 1_000_000  # draws held at once (8 MB), the fastest measured (docs/benchmarks.md)


def standard_draws(groups: int, repetitions: int = SII_REPETITIONS, seed: int = SII_SEED) -> np.ndarray:
    """``repetitions`` × ``groups`` standard normal draws, the same for the same seed."""
    return np.random.default_rng(seed).standard_normal((repetitions, groups))


def order_positions(repetitions: int, confidence: float) -> tuple[int, int]:
    """Zero-based positions of ``phe_sii``'s lower and upper limits among ``repetitions``
    sorted draws: R's round (half to even, as Python's) of n·α/2 and n·(1 − α/2), less 1."""
    level = confidence_level(confidence)
    upper = level + (1 - level) / 2
    lower_position, upper_position = round(repetitions * (1 - upper)), round(repetitions * upper)
    return max(lower_position, 1) - 1, min(upper_position, repetitions) - 1


def _to_own_scale(draws: np.ndarray, kind: int, scale: np.ndarray) -> np.ndarray:
    """Draws on the log (kind 1) or logit (kind 2) scale back on the values' own scale,
    in place (``scale``: one per set, a proportion's multiplier)."""
    with np.errstate(over="ignore"):
        if kind == 1:
            return np.exp(draws, out=draws)
        np.negative(draws, out=draws)
        np.exp(draws, out=draws)
        draws += 1
        return np.divide(scale[:, None, None], draws, out=draws)


def _weighted_sum(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Σ over groups of weight × value, per set and draw (``values``: sets × groups ×
    draws). A loop over the (at most 50) groups: a BLAS product of so thin a matrix is
    many times slower here, and threads contend on a shared machine."""
    total = values[:, 0, :] * weight[:, :1]
    for group in range(1, values.shape[1]):
        total += values[:, group, :] * weight[:, group : group + 1]
    return total


def simulated_limits(
    mean: np.ndarray,
    se: np.ndarray,
    kinds: np.ndarray,
    scales: np.ndarray,
    slope_weight: np.ndarray,
    start_weight: np.ndarray,
    *,
    confidence: float,
    multiplier: float = 1.0,
    repetitions: int = SII_REPETITIONS,
    seed: int = SII_SEED,
) -> dict[str, np.ndarray]:
    """SII and RII limits of ``sets`` × ``groups`` values by ``phe_sii``'s simulation.

    ``mean`` and ``se``: each group's value and standard error on its sampling scale
    (``kinds``: 1 log, 2 logit; ``scales``: a proportion's multiplier, 100 for a
    percentage). ``slope_weight`` and ``start_weight``: each group's weight in the
    fitted slope and in the fitted value at the most deprived end (so slope = Σ w·y).
    Returns ``sii_lower, sii_upper, rii_lower, rii_upper``, one per set.
    """
    sets, groups = mean.shape
    standard = standard_draws(groups, repetitions, seed).T.copy()  # a row of draws per group
    positions = list(order_positions(repetitions, confidence))
    limits = {name: np.full(sets, np.nan) for name in ("sii_lower", "sii_upper", "rii_lower", "rii_upper")}
    step = max(1, _CHUNK // (repetitions * groups))
    for kind in (1, 2):
        of_kind = np.flatnonzero(kinds == kind)
        for start in range(0, len(of_kind), step):
            part = of_kind[start : start + step]
            draws = standard[None] * se[part, :, None]
            draws += mean[part, :, None]
            values = _to_own_scale(draws, kind, scales[part])
            slope = _weighted_sum(values, slope_weight[part])
            at_start = _weighted_sum(values, start_weight[part])
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = (at_start + slope) / at_start
            sii = slope * multiplier
            rii = 1 / ratio if multiplier < 0 else ratio
            sii_limits = np.partition(sii, positions, axis=1)[:, positions]
            rii_limits = np.partition(rii, positions, axis=1)[:, positions]
            limits["sii_lower"][part], limits["sii_upper"][part] = sii_limits.T
            limits["rii_lower"][part], limits["rii_upper"][part] = rii_limits.T
    return limits
