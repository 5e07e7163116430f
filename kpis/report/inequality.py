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

Intervals — closed form where it is exact, ``phe_sii``'s simulation where it is not.
``phe_sii`` draws each group's value from a normal distribution (mean the value,
standard deviation its standard error: the 95% interval's width ÷ 2 × 1.959963984540054,
on the log scale for a rate and the logit scale for a proportion, its ``value_type`` 1
and 2), refits, and takes percentiles of the simulated slopes and ratios. When the fit
is on the scale the draws are made on (``value_type`` 0; or ``transform = TRUE``), the
fitted slope and ends are *linear* in the drawn values, so the simulated slope is
exactly normal with variance Σ cᵢ² seᵢ² (cᵢ the slope's weight on group i); its
percentiles are slope ± z·σ, which is what the simulation converges to as its
repetitions grow. Here:

- SII limits: slope ± z·σ (``none``); with a transform, ``phe_sii``'s own pivot — the
  fitted line at its midpoint m = fitted(½) keeps its height and takes the limiting
  slope s: f(m + s/2) − f(m − s/2), f the back-transform;
- RII limits: with a transform, f(m + s/2) ÷ f(m − s/2) at the same limiting slopes;
  without one, the simulated ratio fitted(1) ÷ fitted(0) of two correlated normals has
  the exact Fieller limits (the roots of (r·μ₀ − μ₁)² = z²·Var(Y₁ − r·Y₀)), unbounded
  when the fitted value at 0 is not clearly away from 0 (then no RII interval, with a
  note);
- a rate or proportion *without* a transform (``transform`` ``none`` with
  ``value_type`` ``rate`` or ``proportion``: ``phe_sii``'s ``transform = FALSE``, its
  default) is drawn on the log/logit scale and fitted on its own, so the fitted slope
  is a sum of log-normal (or logit-normal) draws with no closed form: its SII and RII
  limits come from ``phe_sii``'s simulation, vectorised in :mod:`kpis.report.sii_simulation`
  — 100,000 repetitions (``phe_sii``'s default) of numpy's PCG64 standard normals with
  the fixed seed 5, the same draws for every set of groups, so a set's limits are
  reproducible and do not depend on what else is computed with it; the limits are
  ``phe_sii``'s order statistics (positions round(n·α/2) and round(n·(1 − α/2))). The
  point SII and RII are the untransformed fit's, as ``phe_sii``'s.

The closed forms are reproducible, need no seed, and take microseconds per area. The
catalogue maps onto these: ``sii_transform`` ``log``/``logit`` is ``transform = TRUE``;
with ``none`` the indicator's unit gives ``value_type`` (``rate`` → rate, ``percent`` →
proportion of its ``scale``, any other unit → 0). tests/test_inequality.py holds
``phe_sii``'s published worked examples (its vignette: life expectancy, a
log-transformed rate with RII, a logit-transformed proportion with multiplier −100):
the SII and RII come out to the last printed digit and the limits within the
simulation's Monte-Carlo precision; it also runs ``phe_sii``'s simulation algorithm,
restated independently, beside the closed forms and the simulation. Not covered: no
published example of an untransformed rate or proportion with its printed limits was
found, so that case is checked against the restated algorithm only (exactly, on the same
draws, and within Monte-Carlo error on independent ones); ``phe_sii``'s several
confidence levels in one call (one level per call here) and its reliability statistic
(``reliability_stat``); its quirk of swapping a log-transformed rate's limits for a
multiplier between 0 and 1 (it tests ``multiplier < 1`` there, ``< 0`` elsewhere; here
only a negative multiplier swaps); and its count-only input (``x`` without ``value``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kpis.report.intervals import CONFIDENCE_95, Z_95, z_score
from kpis.report.keys import column_codes, key_ids
from kpis.report.sii_simulation import SII_REPETITIONS, SII_SEED, simulated_limits

SII_TRANSFORMS = ("none", "log", "logit")
# phe_sii's value_type, by its codes 0, 1, 2: what decides the scale a group's interval
# is read and sampled on when the fit is untransformed (``none``)
SII_VALUE_TYPES = ("other", "rate", "proportion")
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


def _value_type_codes(value_type, areas: int) -> np.ndarray:
    """phe_sii's value_type codes (0 other, 1 rate, 2 proportion), one per area, from
    names in :data:`SII_VALUE_TYPES` or the codes themselves."""
    given = np.broadcast_to(np.asarray(value_type, dtype=object), (areas,))
    names: dict[object, int] = {name: code for code, name in enumerate(SII_VALUE_TYPES)}
    names.update({code: code for code in range(len(SII_VALUE_TYPES))})
    codes, uniques = pd.factorize(given, use_na_sentinel=False)
    unknown = {str(v) for v in uniques if v not in names}
    if unknown:
        raise ValueError(f"unknown SII value type {sorted(unknown)}: use one of {list(SII_VALUE_TYPES)} (or 0, 1, 2)")
    return np.array([names[v] for v in uniques], dtype=np.int64)[codes]


def slope_index(
    value,
    population,
    lower=None,
    upper=None,
    *,
    transform="none",
    value_type="other",
    scale=1.0,
    confidence: float = CONFIDENCE_95,
    se=None,
    multiplier: float = 1.0,
    repetitions: int = SII_REPETITIONS,
    seed: int = SII_SEED,
) -> dict[str, np.ndarray]:
    """SII and RII with their limits for complete ordered sets of groups.

    Arguments are arrays of shape ``(groups,)`` for one area or ``(areas, groups)`` for
    many, most deprived group first: each group's value, population (> 0) and 95%
    limits. ``transform`` (one of :data:`SII_TRANSFORMS`), ``value_type`` (one of
    :data:`SII_VALUE_TYPES`, or ``phe_sii``'s codes 0, 1, 2) and ``scale`` (the values'
    multiplier, needed for proportions: a percentage is a proportion × 100) are one for
    all areas or one per area. ``log`` and ``logit`` are ``phe_sii``'s ``transform =
    TRUE`` for a rate and a proportion; with ``none``, ``value_type`` says how the
    intervals are read: ``other`` symmetric (closed form), ``rate`` on the log scale and
    ``proportion`` on the logit scale, the fit on the values' own scale
    (``transform = FALSE``; limits by simulation, :mod:`kpis.report.sii_simulation`,
    with ``repetitions`` and ``seed``). ``se``, if given, is each group's standard error
    on that scale (log, logit or the values' own) and is used instead of the limits (as
    ``phe_sii``'s ``se`` argument). ``multiplier`` is ``phe_sii``'s: the SII and its
    limits are multiplied by it (100 for proportions given between 0 and 1 but read as
    percentages), and a negative one reverses the polarity (limits swapped, RII and its
    limits inverted). Returns ``sii, sii_lower, sii_upper, rii, rii_lower, rii_upper``
    (and ``intercept``, the fitted value at the most deprived end), one per area; NaN
    where a figure cannot be computed (see :func:`inequality` for the reasons).
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
    # the scale each group's interval is read (and, untransformed, sampled) on
    sampling = np.where(kinds > 0, kinds, _value_type_codes(value_type, v.shape[0]))
    simulated = (kinds == 0) & (sampling > 0)
    scales = np.broadcast_to(np.asarray(scale, dtype=float), v.shape[:1])
    s2 = scales[:, None]
    z = z_score(confidence)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        share = n / n.sum(axis=1, keepdims=True)
        rank = np.cumsum(share, axis=1) - share / 2  # midpoints of the cumulative shares
        y = _to_fitting_scale(v, (kinds == 1)[:, None], (kinds == 2)[:, None], s2)
        sampled_log, sampled_logit = (sampling == 1)[:, None], (sampling == 2)[:, None]
        if se is None:
            se = _width(lo, hi, sampled_log, sampled_logit, s2) / (2 * Z_95)
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
        at0 = share - weight * mean_rank  # fitted(0) = Σ at0 · y

        # untransformed: the slope and its normal limits; Fieller limits of fitted(1) / fitted(0)
        result = {"sii": slope.copy(), "sii_lower": slope_lower, "sii_upper": slope_upper}
        result["rii"] = (intercept + slope) / intercept
        result["intercept"] = intercept.copy()
        result["rii_lower"] = np.full(slope.shape, np.nan)
        result["rii_upper"] = np.full(slope.shape, np.nan)
        plain = (kinds == 0) & ~simulated
        if plain.any():
            result["rii_lower"][plain], result["rii_upper"][plain] = _fieller(
                at0[plain], weight[plain], variance[plain], intercept[plain], slope[plain], z
            )

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
    if simulated.any():
        # rate or proportion untransformed: phe_sii's simulation (the multiplier applied in it)
        mean = _to_fitting_scale(v[simulated], sampled_log[simulated], sampled_logit[simulated], s2[simulated])
        limits = simulated_limits(
            mean,
            se[simulated],
            sampling[simulated],
            scales[simulated],
            weight[simulated],
            at0[simulated],
            confidence=confidence,
            multiplier=multiplier,
            repetitions=repetitions,
            seed=seed,
        )
        for name, figures in limits.items():
            result[name][simulated] = figures
    return result


def _fieller(at0, weight, variance, intercept, slope, z) -> tuple[np.ndarray, np.ndarray]:
    """Fieller limits of fitted(1) ÷ fitted(0), two correlated normals: the roots of
    (r·μ₀ − μ₁)² = z²·Var(Y₁ − r·Y₀); NaN where unbounded (fitted(0) not clearly off 0)."""
    at1 = at0 + weight
    v00, v11, v01 = ((a * b * variance).sum(axis=1) for a, b in ((at0, at0), (at1, at1), (at0, at1)))
    m0, m1 = intercept, intercept + slope
    qa = m0**2 - z**2 * v00
    qb = m0 * m1 - z**2 * v01
    qc = m1**2 - z**2 * v11
    disc = qb**2 - qa * qc
    bounded = (qa > 0) & (disc >= 0)
    root = np.sqrt(np.where(bounded, disc, 0.0))
    return np.where(bounded, (qb - root) / qa, np.nan), np.where(bounded, (qb + root) / qa, np.nan)


# what a value and its limits must lie inside, by range code (see inequality())
_RANGES = (
    "",
    "the log transform's range",
    "the logit transform's range",
    "a rate's range (above 0: its interval is read on the log scale)",
    "a proportion's range (between 0 and the scale: its interval is read on the logit scale)",
)


def _per_set(observations: pd.DataFrame, setting, set_id: np.ndarray, n_sets: int) -> np.ndarray:
    """A setting per set: the value of the column named ``setting`` (constant within a
    set), or ``setting`` itself for every set."""
    if isinstance(setting, str) and setting in observations:
        codes, values = column_codes(observations[setting])
        per_set = np.zeros(n_sets, dtype=np.int64)
        per_set[set_id] = codes
        return np.asarray(values, dtype=object)[per_set]
    out = np.empty(n_sets, dtype=object)
    out[:] = [setting] * n_sets
    return out


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
    value_type: str | int = "other",
    scale: float | str = 1.0,
    confidence: float = CONFIDENCE_95,
) -> pd.DataFrame:
    """One row per set of ``keys`` (e.g. indicator, area, period) of an ordered breakdown:
    ``keys`` + :data:`INEQUALITY_COLUMNS`.

    ``groups`` lists the breakdown's groups in order, most deprived first, as they
    appear in the ``group`` column. ``transform`` (one of :data:`SII_TRANSFORMS`),
    ``value_type`` (one of :data:`SII_VALUE_TYPES`, see :func:`slope_index`) and
    ``scale`` are either one value for all rows or the name of a column (constant
    within a set: the indicator's ``sii_transform``, its unit's value type and
    ``scale``). ``groups`` in the output is the number of groups with a value. Nothing
    is computed for a set with a group missing or unusable; ``note`` names the
    group(s): "group 3 missing", "no interval for group 3" (the SII needs every group's
    interval), "group 3 not inside the log transform's range" (a value or limit not
    above 0), "group 3 not inside a rate's range (above 0: its interval is read on the
    log scale)". The gaps need only the two end groups.
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

    # the indicator's transform, value type and scale, per set
    transforms = _per_set(observations, transform, set_id, n_sets)
    unknown = set(pd.unique(transforms)) - set(SII_TRANSFORMS)
    if unknown:
        raise ValueError(f"unknown sii_transform {sorted(map(str, unknown))}: use one of {list(SII_TRANSFORMS)}")
    value_types = _value_type_codes(_per_set(observations, value_type, set_id, n_sets), n_sets)
    if isinstance(scale, str) and scale in observations:
        scales = np.empty(n_sets)
        scales[set_id] = observations[scale].to_numpy(dtype=float)
    else:
        scales = np.full(n_sets, float(scale))

    has_value = ~np.isnan(v) & (n > 0)
    has_interval = ~np.isnan(lo) & ~np.isnan(hi)
    # the range of the scale each set's intervals are read on: 0 any value, 1 the log
    # transform's, 2 the logit transform's, 3 a rate's (log scale), 4 a proportion's (logit)
    fitted_kind = np.select([transforms == "log", transforms == "logit"], [1, 2], 0)
    range_code = np.where(fitted_kind > 0, fitted_kind, np.where(value_types > 0, value_types + 2, 0))
    floor = np.where(range_code == 0, -np.inf, 0.0)[:, None]
    ceiling = np.where((range_code == 2) | (range_code == 4), scales, np.inf)[:, None]
    with np.errstate(invalid="ignore"):
        in_domain = (v > floor) & (v < ceiling) & (lo > floor) & (lo < ceiling) & (hi > floor) & (hi < ceiling)
    in_domain |= (range_code == 0)[:, None]  # read as they are: any value (NaNs are caught above)

    # which groups are missing, without an interval or outside the scale's range, as
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
    if complete.any():  # only complete sets are fitted (a simulation is not free)
        c = complete
        fit = slope_index(
            v[c],
            n[c],
            lo[c],
            hi[c],
            transform=transforms[c],
            value_type=value_types[c],
            scale=scales[c],
            confidence=confidence,
        )
        for name in ("sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper"):
            results[name][c] = fit[name]
    unbounded = complete & np.isnan(results["rii_lower"])

    # one note per distinct pattern of trouble (what, which groups, which scale)
    kind = np.select([missing_mask > 0, no_interval_mask > 0, domain_mask > 0, complete & unbounded], [1, 2, 3, 4], 0)
    mask = np.select(
        [missing_mask > 0, no_interval_mask > 0, domain_mask > 0], [missing_mask, no_interval_mask, domain_mask], 0
    )
    pattern = (mask * 8 + kind) * 8 + range_code  # k <= 50 groups: fits in 64 bits
    patterns, note_code = np.unique(pattern, return_inverse=True)
    messages = []
    for p in patterns.tolist():
        which, scale_range = _group_list(names, p // 64), _RANGES[p % 8]
        messages.append(
            [
                "",
                f"{which} missing",
                f"no interval for {which}, so no SII",
                f"{which} not inside {scale_range}, so no SII",
                "RII interval unbounded: the fitted value at the most deprived end is not clearly above 0",
            ][p // 8 % 8]
        )
    out["groups"] = has_value.sum(axis=1)
    for name in _RESULTS:
        out[name] = results[name]
    message_code, message_names = pd.factorize(np.asarray(messages, dtype=object))
    out["note"] = pd.Categorical.from_codes(message_code[note_code], categories=pd.Index(list(message_names)))
    return out
