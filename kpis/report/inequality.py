"""Inequality across an ordered breakdown (deprivation quintiles or deciles): the gap
between the most and the least deprived group, and the slope and relative indices of
inequality (SII, RII) as PHEindicatormethods' ``phe_sii`` defines them.

Orientation: groups are listed most deprived first, so rank 0 is the most deprived end
and rank 1 the least deprived end. ``gap_abs`` and ``sii`` are *least minus most
deprived*; ``gap_rel`` and ``rii`` are *least ÷ most deprived*. For life expectancy a
positive SII of 6.9 reads "6.9 years more at the least deprived end than at the most".

The SII (Low & Low 2004; ``phe_sii``): each group gets the midpoint of its range in the
cumulative population share (its *relative rank* b, 0 to 1) and its share a of the
population; the group values y are regressed on b by least squares weighted by a (the
√a-scaled regression of ``phe_sii``). SII = fitted value at 1 − fitted value at 0; RII =
fitted value at 1 ÷ fitted value at 0. With ``transform`` ``log`` (rates) or ``logit``
(proportions) the fit is on that scale and both ends are back-transformed before the
difference and the ratio, as ``phe_sii(transform = TRUE)`` does.

Intervals — closed form, not simulation. ``phe_sii`` draws each group's value from a
normal distribution (mean the value, standard deviation its standard error: the 95%
interval's width ÷ 2 × 1.959963984540054, on the log/logit scale when transformed),
refits, and takes percentiles of the simulated slopes and ratios. The fitted slope and
ends are *linear* in the group values, so the simulated slope is exactly normal with
variance Σ cᵢ² seᵢ² (cᵢ the slope's weight on group i); its percentiles are slope ± z·σ,
which is what the simulation converges to as its repetitions grow. Here:

- SII limits: slope ± z·σ (``none``); with a transform, ``phe_sii``'s own pivot — the
  fitted line at its midpoint m = fitted(½) keeps its height and takes the limiting
  slope s: f(m + s/2) − f(m − s/2), f the back-transform;
- RII limits: with a transform, f(m + s/2) ÷ f(m − s/2) at the same limiting slopes;
  without one, the simulated ratio fitted(1) ÷ fitted(0) of two correlated normals has
  the exact Fieller limits (the roots of (r·μ₀ − μ₁)² = z²·Var(Y₁ − r·Y₀)), unbounded
  when the fitted value at 0 is not clearly away from 0 (then no RII interval, with a
  note).

So results are reproducible, need no seed, and take microseconds per area rather than
``phe_sii``'s 100,000 repetitions. tests/test_inequality.py holds ``phe_sii``'s published
worked examples (its vignette: life expectancy, a log-transformed rate with RII, a
logit-transformed proportion with multiplier −100): the SII and RII come out to the last
printed digit and the limits within the simulation's Monte-Carlo precision; it also runs
``phe_sii``'s simulation algorithm with 400,000 seeded draws beside them. Not covered:
``phe_sii``'s rate or proportion *without* ``transform`` (sampling on the log/logit
scale, fitting on the natural one), whose simulated limits have no closed form; ``none``
here treats the values' intervals as symmetric (its ``value_type = 0``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kpis.report.intervals import CONFIDENCE_95, Z_95, z_score
from kpis.report.keys import column_codes, key_ids

SII_TRANSFORMS = ("none", "log", "logit")
INEQUALITY_COLUMNS = [
    "groups",
    "gap_abs",
    "gap_rel",
    "sii",
    "sii_lower",
    "sii_upper",
    "rii",
    "rii_lower",
    "rii_upper",
    "note",
]
_RESULTS = INEQUALITY_COLUMNS[1:-1]


_KINDS = {name: code for code, name in enumerate(SII_TRANSFORMS)}  # none 0, log 1, logit 2


def _to_fitting_scale(values: np.ndarray, is_log: np.ndarray, is_logit: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Values on each area's fitting scale: log, logit of value / scale, or as they are."""
    fitted = values.copy()
    if is_log.any():
        np.log(values, out=fitted, where=is_log)
    if is_logit.any():
        share = values / scale
        np.log(share / (1 - share), out=fitted, where=is_logit)
    return fitted


def _width(lower, upper, is_log, is_logit, scale) -> np.ndarray:
    """g(upper) − g(lower) on each area's fitting scale, one logarithm per group."""
    width = upper - lower
    if is_log.any():
        np.log(upper / lower, out=width, where=is_log)
    if is_logit.any():
        np.log(upper * (scale - lower) / (lower * (scale - upper)), out=width, where=is_logit)
    return width


def _back(y: np.ndarray, kinds: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """From each area's fitting scale back to the values' scale."""
    return np.where(kinds == 1, np.exp(y), np.where(kinds == 2, scale / (1 + np.exp(-y)), y))


def slope_index(
    value,
    population,
    lower=None,
    upper=None,
    *,
    transform="none",
    scale=1.0,
    confidence: float = CONFIDENCE_95,
    se=None,
    multiplier: float = 1.0,
) -> dict[str, np.ndarray]:
    """SII and RII with their limits for complete ordered sets of groups.

    Arguments are arrays of shape ``(groups,)`` for one area or ``(areas, groups)`` for
    many, most deprived group first: each group's value, population (> 0) and 95%
    limits. ``transform`` (one of :data:`SII_TRANSFORMS`) and ``scale`` (the values'
    multiplier, needed by ``logit``: a percentage is a proportion × 100) are one for all
    areas or one per area. ``se``, if given, is each group's standard error on the
    fitting scale and is used instead of the limits (as ``phe_sii``'s ``se`` argument).
    ``multiplier`` is ``phe_sii``'s: the SII and its limits are multiplied by it (100 for
    proportions given between 0 and 1 but read as percentages), and a negative one
    reverses the polarity (limits swapped, RII and its limits inverted). Returns
    ``sii, sii_lower, sii_upper, rii, rii_lower, rii_upper`` (and ``intercept``, the
    fitted value at the most deprived end), one per area; NaN where a figure cannot be
    computed (see :func:`inequality` for the reasons).
    """
    v, n = (np.atleast_2d(np.asarray(x, dtype=float)) for x in (value, population))
    lo, hi = (
        np.full_like(v, np.nan) if x is None else np.atleast_2d(np.asarray(x, dtype=float)) for x in (lower, upper)
    )
    named = np.broadcast_to(np.asarray(transform, dtype=object), v.shape[:1])
    unknown = set(pd.unique(named)) - set(SII_TRANSFORMS)
    if unknown:
        raise ValueError(f"unknown sii_transform {sorted(map(str, unknown))}: use one of {list(SII_TRANSFORMS)}")
    kinds = np.select([named == "log", named == "logit"], [1, 2], 0)
    scales = np.broadcast_to(np.asarray(scale, dtype=float), v.shape[:1])
    is_log, is_logit, s2 = (kinds == 1)[:, None], (kinds == 2)[:, None], scales[:, None]
    z = z_score(confidence)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        share = n / n.sum(axis=1, keepdims=True)
        rank = np.cumsum(share, axis=1) - share / 2  # midpoints of the cumulative shares
        y = _to_fitting_scale(v, is_log, is_logit, s2)
        if se is None:
            se = _width(lo, hi, is_log, is_logit, s2) / (2 * Z_95)
        else:
            se = np.atleast_2d(np.asarray(se, dtype=float))
        mean_rank = (share * rank).sum(axis=1, keepdims=True)  # 0.5 by construction
        centred = rank - mean_rank
        weight = share * centred
        weight /= (weight * centred).sum(axis=1, keepdims=True)  # slope = Σ weight · y
        slope = (weight * y).sum(axis=1)
        intercept = (share * y).sum(axis=1) - slope * mean_rank[:, 0]
        variance = se * se
        sd = np.sqrt((weight * weight * variance).sum(axis=1))
        slope_lower, slope_upper = slope - z * sd, slope + z * sd

        # untransformed: the slope and its normal limits; Fieller limits of fitted(1) / fitted(0)
        result = {"sii": slope.copy(), "sii_lower": slope_lower, "sii_upper": slope_upper}
        result["rii"] = (intercept + slope) / intercept
        result["intercept"] = intercept.copy()
        result["rii_lower"] = np.full(slope.shape, np.nan)
        result["rii_upper"] = np.full(slope.shape, np.nan)
        plain = kinds == 0
        if plain.any():
            at0 = share[plain] - weight[plain] * mean_rank[plain]  # fitted(0) = Σ at0 · y
            at1 = at0 + weight[plain]
            var = variance[plain]
            v00, v11, v01 = ((a * b * var).sum(axis=1) for a, b in ((at0, at0), (at1, at1), (at0, at1)))
            m0, m1 = intercept[plain], intercept[plain] + slope[plain]
            qa = m0**2 - z**2 * v00
            qb = m0 * m1 - z**2 * v01
            qc = m1**2 - z**2 * v11
            disc = qb**2 - qa * qc
            bounded = (qa > 0) & (disc >= 0)
            root = np.sqrt(np.where(bounded, disc, 0.0))
            result["rii_lower"][plain] = np.where(bounded, (qb - root) / qa, np.nan)
            result["rii_upper"][plain] = np.where(bounded, (qb + root) / qa, np.nan)

        # transformed: back-transform both ends; the limits pivot on the fitted midpoint
        bent = kinds > 0
        if bent.any():
            k, sc = kinds[bent], scales[bent]
            a0, a1 = _back(intercept[bent], k, sc), _back(intercept[bent] + slope[bent], k, sc)
            result["sii"][bent], result["rii"][bent], result["intercept"][bent] = a1 - a0, a1 / a0, a0 * abs(multiplier)
            middle = intercept[bent] + slope[bent] / 2
            for end, limit in (("lower", slope_lower[bent]), ("upper", slope_upper[bent])):
                top, bottom = _back(middle + limit / 2, k, sc), _back(middle - limit / 2, k, sc)
                result[f"sii_{end}"][bent] = top - bottom
                result[f"rii_{end}"][bent] = top / bottom
    if multiplier != 1:
        for name in ("sii", "sii_lower", "sii_upper"):
            result[name] = result[name] * multiplier
        if multiplier < 0:
            result["sii_lower"], result["sii_upper"] = result["sii_upper"], result["sii_lower"]
            result["rii"] = 1 / result["rii"]
            result["rii_lower"], result["rii_upper"] = 1 / result["rii_upper"], 1 / result["rii_lower"]
    return result


def _group_list(names: Sequence, mask: int) -> str:
    chosen = [str(names[i]) for i in range(len(names)) if mask >> i & 1]
    return ("group " if len(chosen) == 1 else "groups ") + ", ".join(chosen)


def inequality(
    observations: pd.DataFrame,
    groups: Sequence,
    *,
    keys: Sequence[str] = ("indicator", "area", "period"),
    group: str = "group",
    value: str = "value",
    population: str = "population",
    lower: str = "lower_95",
    upper: str = "upper_95",
    transform: str = "none",
    scale: float | str = 1.0,
    confidence: float = CONFIDENCE_95,
) -> pd.DataFrame:
    """One row per set of ``keys`` (e.g. indicator, area, period) of an ordered breakdown:
    ``keys`` + :data:`INEQUALITY_COLUMNS`.

    ``groups`` lists the breakdown's groups in order, most deprived first, as they
    appear in the ``group`` column. ``transform`` (one of :data:`SII_TRANSFORMS`) and
    ``scale`` are either one value for all rows or the name of a column (constant
    within a set: the indicator's ``sii_transform`` and ``scale``). ``groups`` in the
    output is the number of groups with a value. Nothing is computed for a set with a
    group missing or unusable; ``note`` names the group(s): "group 3 missing", "no
    interval for group 3" (the SII needs every group's interval), "group 3 not above 0
    (log transform)". The gaps need only the two end groups.
    """
    keys = list(keys)
    names = list(groups)
    k = len(names)
    if k < 2:
        raise ValueError("an ordered breakdown needs at least two groups for a gap or an SII")
    if k > 50:
        raise ValueError("an ordered breakdown of more than 50 groups is not supported")
    needed = [*keys, group, value, population, lower, upper]
    missing = [c for c in needed if c not in observations]
    if missing:
        raise ValueError(f"inequality needs the columns {missing}")
    column = observations[group]
    if isinstance(column.dtype, pd.CategoricalDtype):  # its codes, not a fresh factorisation
        group_code, group_names = column.cat.codes.to_numpy(), column.cat.categories
    else:
        group_code, group_names = pd.factorize(column)
    rank_of = pd.Index(names).get_indexer(group_names)
    used = np.bincount(group_code[group_code >= 0], minlength=len(group_names)) > 0
    if (used & (rank_of < 0)).any() or (group_code < 0).any():
        undeclared = [str(g) for g, bad in zip(group_names, used & (rank_of < 0), strict=True) if bad]
        undeclared += ["(missing)"] if (group_code < 0).any() else []
        raise ValueError(f"groups not declared for this breakdown: {sorted(undeclared)}; declared: {names}")
    rank = rank_of[group_code]
    set_id, n_sets = key_ids(observations, keys)
    cell = set_id * k + rank
    if len(cell) and np.bincount(cell).max() > 1:
        raise ValueError(f"a group appears twice for the same {', '.join(keys)}")
    first_row = np.full(n_sets, -1)
    first_row[set_id[::-1]] = np.arange(len(set_id))[::-1]
    out = observations[keys].iloc[first_row].reset_index(drop=True)

    def matrix(column: str) -> np.ndarray:
        m = np.full(n_sets * k, np.nan)
        m[cell] = observations[column].to_numpy(dtype=float, na_value=np.nan)
        return m.reshape(n_sets, k)

    v, n, lo, hi = matrix(value), matrix(population), matrix(lower), matrix(upper)

    # the indicator's transform (a code into transform_names) and scale, per set
    if isinstance(transform, str) and transform in observations:
        codes, transform_names = column_codes(observations[transform])
        transform_code = np.zeros(n_sets, dtype=np.int64)
        transform_code[set_id] = codes
    else:
        transform_names, transform_code = [transform], np.zeros(n_sets, dtype=np.int64)
    unknown = {t for i, t in enumerate(transform_names) if (transform_code == i).any()} - set(SII_TRANSFORMS)
    if unknown:
        raise ValueError(f"unknown sii_transform {sorted(map(str, unknown))}: use one of {list(SII_TRANSFORMS)}")
    transforms = np.asarray(transform_names, dtype=object)
    if isinstance(scale, str) and scale in observations:
        scales = np.empty(n_sets)
        scales[set_id] = observations[scale].to_numpy(dtype=float)
    else:
        scales = np.full(n_sets, float(scale))

    has_value = ~np.isnan(v) & (n > 0)
    has_interval = ~np.isnan(lo) & ~np.isnan(hi)
    # the transform's range per set: log needs values above 0, logit between 0 and scale
    set_transform = transforms[transform_code]
    floor = np.where(set_transform == "none", -np.inf, 0.0)[:, None]
    ceiling = np.where(set_transform == "logit", scales, np.inf)[:, None]
    with np.errstate(invalid="ignore"):
        in_domain = (v > floor) & (v < ceiling) & (lo > floor) & (lo < ceiling) & (hi > floor) & (hi < ceiling)
    in_domain |= (set_transform == "none")[:, None]  # untransformed: any value (NaNs are caught above)

    # which groups are missing, without an interval or outside the transform's range, as
    # bit masks; worked out only for the (few) sets with any trouble
    complete = (has_value & has_interval & in_domain).all(axis=1)
    missing_mask, no_interval_mask, domain_mask = (np.zeros(n_sets, dtype=np.int64) for _ in range(3))
    trouble = ~complete
    if trouble.any():
        bits = 1 << np.arange(k, dtype=np.int64)
        hv, hi_, dm = has_value[trouble], has_interval[trouble], in_domain[trouble]
        missing_mask[trouble] = ((~hv) * bits).sum(axis=1)
        no_interval_mask[trouble] = ((hv & ~hi_) * bits).sum(axis=1)
        domain_mask[trouble] = ((hv & hi_ & ~dm) * bits).sum(axis=1)

    results = {name: np.full(n_sets, np.nan) for name in _RESULTS}
    ends = has_value[:, 0] & has_value[:, -1]
    with np.errstate(divide="ignore", invalid="ignore"):
        results["gap_abs"] = np.where(ends, v[:, -1] - v[:, 0], np.nan)
        results["gap_rel"] = np.where(ends & (v[:, 0] != 0), v[:, -1] / v[:, 0], np.nan)
    fit = slope_index(v, n, lo, hi, transform=transforms[transform_code], scale=scales, confidence=confidence)
    for name in ("sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper"):
        results[name] = np.where(complete, fit[name], np.nan)
    unbounded = complete & np.isnan(results["rii_lower"])

    # one note per distinct pattern of trouble (what, which groups, which transform)
    kind = np.select([missing_mask > 0, no_interval_mask > 0, domain_mask > 0, complete & unbounded], [1, 2, 3, 4], 0)
    mask = np.select(
        [missing_mask > 0, no_interval_mask > 0, domain_mask > 0], [missing_mask, no_interval_mask, domain_mask], 0
    )
    pattern = (mask * 8 + kind) * 4 + transform_code  # k <= 50 groups, 4 transforms: fits in 64 bits
    patterns, note_code = np.unique(pattern, return_inverse=True)
    messages = []
    for p in patterns.tolist():
        which, t = _group_list(names, p // 32), transform_names[p % 4]
        messages.append(
            [
                "",
                f"{which} missing",
                f"no interval for {which}, so no SII",
                f"{which} not inside the {t} transform's range, so no SII",
                "RII interval unbounded: the fitted value at the most deprived end is not clearly above 0",
            ][p // 4 % 8]
        )
    out["groups"] = has_value.sum(axis=1)
    for name in _RESULTS:
        out[name] = results[name]
    message_code, message_names = pd.factorize(np.asarray(messages, dtype=object))
    out["note"] = pd.Categorical.from_codes(message_code[note_code], categories=pd.Index(list(message_names)))
    return out
