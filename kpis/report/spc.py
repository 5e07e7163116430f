"""Statistical process control: the XmR chart, special causes and the two icons of NHS
England's "Making Data Count" (MDC), for every indicator at once.

The method is MDC's, as NHSRplotthedots and the PowerBI-SPC visual implement it: the mean
of the points, moving ranges |xᵢ − xᵢ₋₁|, their average (AMR), process limits
mean ± 2.66 × AMR, and 2- and 1-sigma lines at two thirds and one third of that width.
Moving ranges of 3.267 × AMR or more are screened out and the AMR recomputed once (on by
default); ``screen_outliers: false`` keeps them all, which reproduces the NHS England Excel
tool. A rebase starts a new segment with its own limits, and no moving range or run
crosses it; ``fix_after: N`` takes a segment's mean and AMR from its first N points.

Four rules flag special causes: a point strictly beyond a process limit (astronomical);
``shift`` or more points in a row on one side of the mean (a point on the mean breaks the
run); ``trend`` or more points in a row each strictly above (or below) the one before (a tie
breaks it); two or three of three points in a row beyond the same 2-sigma line but not
beyond the limit, all three on that side of the mean (only the points beyond the line are
flagged). A point gets one type, by the precedence astronomical > trend > two of three >
shift; its ``rule`` still lists every rule that flagged it.

Everything is computed at once over flat arrays sorted by (indicator, period), with
grouped sums and run lengths: no loop per point; the one loop per indicator reads its
settings. ``spc_points`` gives the chart of every indicator (one row per point),
``spc_summary`` the latest limits and the two icons of each, and ``rebase_problems``
checks rebase months against the periods observed; the settings are the catalogue's
``spc:`` block (:mod:`kpis.catalogue.spc`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue.spc import SpcSettings, merge_settings
from kpis.errors import CatalogueProblem

LIMIT = 2.66  # process limits: mean ± 2.66 × AMR (3 sigma, sigma = AMR / 1.128)
CLOSE = 2 * (LIMIT / 3)  # the 2-sigma lines
ONE_SIGMA = LIMIT / 3
SCREEN = 3.267  # moving ranges at or above 3.267 × AMR are screened out

# The target in force at each period: a frame ``indicator, period, target``, or a function
# of (indicators, periods) returning them (``performance.target_values`` with a catalogue).
Targets = pd.DataFrame | Callable[[pd.Series, pd.Series], pd.Series] | None

COMMON_CAUSE = "common_cause"
POINT_TYPES = (COMMON_CAUSE, "special_cause_improvement", "special_cause_concern", "special_cause_neutral")
VARIATIONS = (
    COMMON_CAUSE,
    "improvement_high",
    "improvement_low",
    "concern_high",
    "concern_low",
    "neutral_high",
    "neutral_low",
    "n/a",
)
ASSURANCES = ("pass", "fail", "hit_and_miss", "n/a")
_STRIDE = 1 << 20  # key = series code × stride + month index (months stay far below 2**20)
RULES = ("astronomical", "shift", "trend", "two_of_three")  # the order of the ``rule`` column
_RULE_TEXTS = tuple(";".join(r for bit, r in enumerate(RULES) if mask >> bit & 1) for mask in range(1 << len(RULES)))

POINT_COLUMNS = [
    "indicator",
    "period",
    "value",
    "segment",
    "mean",
    "lower",
    "upper",
    "lower_2sigma",
    "upper_2sigma",
    "lower_1sigma",
    "upper_1sigma",
    "point_type",
    "variation",
    "rule",
    "trial",
    "segment_points",
    "min_points",
    "direction",
    "target",
]
SUMMARY_COLUMNS = [
    "indicator",
    "period",
    "spc_mean",
    "spc_lower",
    "spc_upper",
    "spc_target",
    "variation",
    "assurance",
    "spc_trial",
    "spc_reason",
]


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------


def rebase_problems(
    settings: Mapping[str, SpcSettings],
    observations: pd.DataFrame,
    locations: Mapping[str, str] | None = None,
) -> list[CatalogueProblem]:
    """Every rebase month that is not a period of its indicator (a month with a value in
    ``observations``: ``indicator, period, value``), located as
    ``<location>.spc.rebase[k]`` (location: ``locations[indicator]``, else the id)."""
    problems = []
    values = observations[observations["value"].notna()]
    observed: dict[str, set[int]] = {
        str(indicator): set(months.tolist())
        for indicator, months in values.groupby(values["indicator"].astype(str), sort=False)["period"]
    }
    for indicator, indicator_settings in settings.items():
        months = observed.get(indicator, set())
        where = (locations or {}).get(indicator, indicator)
        for k, month in enumerate(indicator_settings.rebase_months):
            if month in months:
                continue
            if months:
                hint = (
                    f"rebase at a month with a value: {indicator} has values from {periods.to_text(min(months))}"
                    f" to {periods.to_text(max(months))}"
                )
            else:
                hint = f"{indicator} has no values yet; remove the rebase or load its data first"
            problems.append(
                CatalogueProblem(
                    f"{where}.spc.rebase[{k}]", periods.to_text(month), "is not a period of this indicator", hint
                )
            )
    return problems


# --------------------------------------------------------------------------------------
# Points
# --------------------------------------------------------------------------------------


def _series_codes(indicators: pd.Series) -> tuple[np.ndarray, pd.Index]:
    if isinstance(indicators.dtype, pd.CategoricalDtype):
        return indicators.cat.codes.to_numpy().astype(np.int64), pd.Index(indicators.cat.categories.astype(str))
    codes, names = pd.factorize(indicators, sort=True)
    return codes.astype(np.int64), pd.Index(names.astype(str))


_NO_FIX = np.iinfo(np.int64).max  # fix_after absent: every point of the segment
# The catalogue's Direction values (kpis.catalogue.Direction, a StrEnum, is accepted as is).
HIGHER, LOWER, NONE = "higher", "lower", "none"
DIRECTIONS = (HIGHER, LOWER, NONE)


def _per_series(names: pd.Index, settings: Mapping[str, SpcSettings], default: SpcSettings, directions) -> dict:
    """Each series' settings as arrays (a loop per indicator, not per point)."""
    ids = names.tolist()  # plain str: iterating an Arrow-backed index costs more than the loop
    chosen = [settings.get(name, default) for name in ids]
    direction = [str(directions.get(name, NONE)) for name in ids]
    unknown = sorted({d for d in direction if d not in DIRECTIONS})
    if unknown:
        raise ValueError(f"direction {unknown[0]!r} is not one of {', '.join(DIRECTIONS)}")
    return {
        "fix_after": np.array([s.fix_after or _NO_FIX for s in chosen], dtype=np.int64),
        "screen": np.array([s.screen_outliers for s in chosen], dtype=bool),
        "shift": np.array([s.shift for s in chosen], dtype=np.int64),
        "trend": np.array([s.trend for s in chosen], dtype=np.int64),
        "min_points": np.array([s.min_points for s in chosen], dtype=np.int64),
        "higher": np.array([d == HIGHER for d in direction], dtype=bool),
        "none": np.array([d == NONE for d in direction], dtype=bool),
        # (series code, month) of every rebase
        "rebase": [(code, month) for code, s in enumerate(chosen) if s.rebase for month in s.rebase_months],
    }


def _run_lengths(run_start: np.ndarray) -> np.ndarray:
    """For each element, the length of the run it belongs to (runs start where True)."""
    run = np.cumsum(run_start) - 1
    return np.bincount(run)[run] if len(run) else np.zeros(0, dtype=np.int64)


def _segment_means(segment: np.ndarray, weights: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    count = np.bincount(segment, weights=weights, minlength=n)
    total = np.bincount(segment, weights=np.where(weights, values, 0.0), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


def spc_points(
    observations: pd.DataFrame,
    settings: Mapping[str, SpcSettings | Mapping[str, Any]] | None = None,
    directions: Mapping[str, str] | None = None,
    targets: Targets = None,
    default: SpcSettings | Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """The XmR chart of every indicator: one row per indicator and observed period, with
    :data:`POINT_COLUMNS`, sorted by indicator (in its categorical order, else by id) and
    period.

    ``observations``: ``indicator, period`` (month index), ``value`` (the value of the
    period, never an accumulation: pass the revision in force at the as-at month, up to
    it); a NaN value (withdrawn) is not a point, and a gap just joins the points either
    side. ``settings``: indicator → its :class:`SpcSettings`, or its own ``spc:`` block
    (a mapping, merged over ``default`` key by key); absent: ``default`` (MDC's defaults).
    ``directions``: indicator → ``higher``/``lower``/``none`` (absent: ``none``, special
    causes neutral). ``targets``: the target in force at each period, a frame ``indicator,
    period, target`` or a function of (indicators, periods) such as
    ``performance.target_values`` with its catalogue; absent: no targets.

    ``segment`` numbers the segments 1, 2, … after each rebase; ``mean`` and the limit
    columns are the segment's (NaN where it has fewer than 2 points: no limits);
    ``point_type`` is ``common_cause`` or ``special_cause_improvement/concern/neutral``;
    ``variation`` the MDC icon the point would give as the latest (``improvement_high``…,
    ``n/a`` without limits); ``rule`` the rules that flagged it
    (``astronomical;shift;trend;two_of_three``, empty if none); ``trial`` whether its
    segment has fewer than ``min_points`` points (``segment_points`` of ``min_points``);
    ``target`` the target in force (NaN: none).
    """
    default = merge_settings(SpcSettings(), default)
    merged = {
        name: block if isinstance(block, SpcSettings) else merge_settings(default, block)
        for name, block in (settings or {}).items()
    }
    directions = directions or {}
    present = observations["value"].notna().to_numpy()
    frame = observations.loc[present] if not present.all() else observations
    codes, names = _series_codes(frame["indicator"])
    month = frame["period"].to_numpy(dtype=np.int64)
    value = frame["value"].to_numpy(dtype=float)
    key = codes * _STRIDE + month
    if len(key) and not (key[1:] > key[:-1]).all():
        order = np.lexsort((month, codes))
        key, codes, month, value = key[order], codes[order], month[order], value[order]
        if (key[1:] == key[:-1]).any():
            twice = int(np.flatnonzero(key[1:] == key[:-1])[0])
            raise ValueError(
                f"observations hold two values for {names[codes[twice]]} {periods.to_text(int(month[twice]))};"
                " pass the value in force for each period (store.current_observations)"
            )
    n = len(key)
    per = _per_series(names, merged, default, directions)

    # Segments: a new one where the series changes or a rebase month falls since the last point.
    rebase_keys = np.sort(np.array([c * _STRIDE + m for c, m in per["rebase"]], dtype=np.int64))
    rebased = np.searchsorted(rebase_keys, key, side="right")
    new_series = np.ones(n, dtype=bool)
    new_series[1:] = codes[1:] != codes[:-1]
    new_segment = new_series.copy()
    new_segment[1:] |= rebased[1:] != rebased[:-1]
    segment_id = np.cumsum(new_segment) - 1
    n_segments = int(segment_id[-1]) + 1 if n else 0
    segment_start = np.flatnonzero(new_segment)
    position = np.arange(n) - segment_start[segment_id]
    segment_points = np.bincount(segment_id, minlength=n_segments)[segment_id]
    series_first_segment = segment_id[np.flatnonzero(new_series)]
    segment_number = segment_id - series_first_segment[np.cumsum(new_series) - 1] + 1

    # Baseline: mean and AMR of each segment's first fix_after points (all by default).
    baseline = position < per["fix_after"][codes]
    mean = _segment_means(segment_id, baseline, value, n_segments)
    moving_range = np.full(n, np.nan)
    moving_range[1:] = np.abs(value[1:] - value[:-1])
    has_range = baseline & (position >= 1)
    amr = _segment_means(segment_id, has_range, moving_range, n_segments)
    # Screen once; a series whose moving ranges are all 0 keeps them (nothing is an outlier).
    kept = has_range & (~per["screen"][codes] | (moving_range < SCREEN * amr[segment_id]) | (amr[segment_id] == 0))
    amr = _segment_means(segment_id, kept, moving_range, n_segments)
    limited = segment_points >= 2
    centre = np.where(limited, mean[segment_id], np.nan)
    width = np.where(limited, amr[segment_id], np.nan)
    upper, lower = centre + LIMIT * width, centre - LIMIT * width
    upper_2sigma, lower_2sigma = centre + CLOSE * width, centre - CLOSE * width
    upper_1sigma, lower_1sigma = centre + ONE_SIGMA * width, centre - ONE_SIGMA * width

    # The rules. side: +1 above the mean, -1 below, 0 on it (or no limits).
    side = np.where(limited, np.sign(value - np.where(limited, centre, 0.0)), 0).astype(np.int64)
    astronomical = (value > upper) | (value < lower)

    shift_run_start = new_segment.copy()
    shift_run_start[1:] |= side[1:] != side[:-1]
    shift = (side != 0) & (_run_lengths(shift_run_start) >= per["shift"][codes])

    # Trend: step[i] = direction from point i-1 to i (0 at a segment's first point or a tie).
    step = np.zeros(n, dtype=np.int64)
    step[1:] = np.sign(value[1:] - value[:-1]).astype(np.int64)
    step[new_segment] = 0
    step_run_start = new_segment.copy()
    step_run_start[1:] |= step[1:] != step[:-1]
    # a run of k steps joins k + 1 points
    in_trend_step = (step != 0) & (_run_lengths(step_run_start) + 1 >= per["trend"][codes])
    starts_trend = np.zeros(n, dtype=bool)  # the point before a trend's first step
    starts_trend[:-1] = in_trend_step[1:] & (step_run_start[1:])
    trend = in_trend_step | starts_trend
    # A point that ends one trend and starts the next takes the direction it starts.
    next_step = np.zeros(n, dtype=np.int64)
    next_step[:-1] = step[1:]
    trend_side = np.where(starts_trend, next_step, step)

    # Two of three beyond the same 2-sigma line, inside the limits, all three on that side.
    close = ~astronomical & ((value > upper_2sigma) | (value < lower_2sigma))
    two_of_three = np.zeros(n, dtype=bool)
    if n >= 3:
        same_segment = segment_id[2:] == segment_id[:-2]
        for direction in (1, -1):
            on_side = side == direction
            beyond = close & on_side
            window = (
                same_segment
                & on_side[:-2]
                & on_side[1:-1]
                & on_side[2:]
                & (beyond[:-2].astype(int) + beyond[1:-1] + beyond[2:] >= 2)
            )
            in_window = np.zeros(n, dtype=bool)
            in_window[:-2] |= window
            in_window[1:-1] |= window
            in_window[2:] |= window
            two_of_three |= beyond & in_window

    # One type per point: astronomical > trend > two of three > shift.
    special_side = np.select([astronomical, trend, two_of_three, shift], [side, trend_side, side, side], 0)
    special = special_side != 0
    higher, neutral = per["higher"][codes], per["none"][codes]
    improvement = np.where(higher, special_side > 0, special_side < 0)
    point_type = np.select([~special, neutral, improvement], [0, 3, 1], 2)  # positions in POINT_TYPES
    high = special_side > 0
    variation = np.select(
        [~limited, ~special, neutral & high, neutral, improvement & high, improvement, high],
        [7, 0, 5, 6, 1, 2, 3],
        4,
    )  # positions in VARIATIONS
    rule = astronomical * 1 + shift * 2 + trend * 4 + two_of_three * 8
    target = _targets_at(targets, names, codes, month)

    return pd.DataFrame(
        {
            "indicator": pd.Categorical.from_codes(codes, categories=names),
            "period": month,
            "value": value,
            "segment": segment_number,
            "mean": centre,
            "lower": lower,
            "upper": upper,
            "lower_2sigma": lower_2sigma,
            "upper_2sigma": upper_2sigma,
            "lower_1sigma": lower_1sigma,
            "upper_1sigma": upper_1sigma,
            "point_type": pd.Categorical.from_codes(point_type, categories=pd.Index(list(POINT_TYPES))),
            "variation": pd.Categorical.from_codes(variation, categories=pd.Index(list(VARIATIONS))),
            "rule": pd.Categorical.from_codes(rule, categories=pd.Index(list(_RULE_TEXTS))),
            "trial": segment_points < per["min_points"][codes],
            "segment_points": segment_points,
            "min_points": per["min_points"][codes],
            "direction": pd.Categorical.from_codes(
                np.select([per["higher"][codes], per["none"][codes]], [0, 2], 1),
                categories=pd.Index(list(DIRECTIONS)),
            ),
            "target": target,
        }
    )


# --------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------


def trial_text(points: int, min_points: int) -> str:
    """``trial limits (5 of 12 points)``: how charts, tables and exports mark trial limits."""
    return f"trial limits ({points} of {min_points} points)"


def _targets_at(targets: Targets, names: pd.Index, codes: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The target of each (series code, month); NaN where there is none."""
    if targets is None or not len(codes):
        return np.full(len(codes), np.nan)
    if callable(targets):
        indicators = pd.Series(pd.Categorical.from_codes(codes, categories=names)).astype(str)
        return np.asarray(targets(indicators, pd.Series(months)), dtype=float)
    code = names.get_indexer(pd.Index(targets["indicator"].astype(str)))
    known = code >= 0
    keys = code[known].astype(np.int64) * _STRIDE + targets["period"].to_numpy(dtype=np.int64)[known]
    if not len(keys):
        return np.full(len(codes), np.nan)
    order = np.argsort(keys, kind="stable")  # of two targets for one period, the last given wins
    keys, values = keys[order], targets["target"].to_numpy(dtype=float)[known][order]
    wanted = codes * _STRIDE + months
    at = np.clip(np.searchsorted(keys, wanted, side="right") - 1, 0, None)
    return np.where(keys[at] == wanted, values[at], np.nan)


def _rows(column: pd.Series, rows: np.ndarray) -> np.ndarray:
    """``column``'s values at ``rows`` (a categorical's as its words, without decoding the rest)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return np.asarray(column.cat.categories, dtype=object)[column.cat.codes.to_numpy()[rows]]
    return column.to_numpy()[rows]


def assurance(lower: np.ndarray, upper: np.ndarray, target: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The assurance icon of each (limits, target, direction): the target beyond the
    process limits on the bad side is ``pass`` (the process will consistently meet it), on
    the good side ``fail``; between them, or exactly on a limit, ``hit_and_miss``; ``n/a``
    with no target (NaN), no limits (NaN) or direction ``none``."""
    lower, upper, target = (np.asarray(a, dtype=float) for a in (lower, upper, target))
    direction = np.asarray(direction).astype(str)
    higher, lower_better = direction == HIGHER, direction == LOWER
    assessable = (higher | lower_better) & ~np.isnan(target) & ~np.isnan(lower) & ~np.isnan(upper)
    below, above = target < lower, target > upper
    return np.select(
        [~assessable, (higher & below) | (lower_better & above), (higher & above) | (lower_better & below)],
        ["n/a", "pass", "fail"],
        "hit_and_miss",
    ).astype(object)


def spc_summary(points: pd.DataFrame, indicators: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per indicator (:data:`SUMMARY_COLUMNS`): the latest period, the latest
    segment's ``spc_mean``/``spc_lower``/``spc_upper``, the target in force at the latest
    period (``spc_target``), the ``variation`` icon (the latest point's) and the
    ``assurance`` icon (:func:`assurance` of that target against those limits),
    ``spc_trial`` and ``spc_reason`` (why the limits are trial limits or missing; empty
    otherwise).

    ``points`` is :func:`spc_points`' frame, as it returns it (sorted by indicator).
    ``indicators``: the rows wanted, in order (an indicator without points gets ``n/a``
    and the reason ``no values``); default: the indicators of ``points``.
    """
    codes = points["indicator"].cat.codes.to_numpy() if len(points) else np.zeros(0, dtype=np.int64)
    last = np.flatnonzero(np.r_[codes[1:] != codes[:-1], True]) if len(points) else np.zeros(0, dtype=np.int64)
    latest = {column: _rows(points[column], last) for column in POINT_COLUMNS}
    target = latest["target"]
    lower, upper = latest["lower"], latest["upper"]
    icons = assurance(lower, upper, target, latest["direction"])
    n, needed = latest["segment_points"], latest["min_points"]
    reason = np.array(
        [
            "no limits: 1 point (limits need 2)" if k < 2 else trial_text(k, m) if k < m else ""
            for k, m in zip(n.tolist(), needed.tolist(), strict=True)
        ],
        dtype=object,
    )
    summary = pd.DataFrame(
        {
            "indicator": latest["indicator"],
            "period": latest["period"],
            "spc_mean": latest["mean"],
            "spc_lower": lower,
            "spc_upper": upper,
            "spc_target": target,
            "variation": latest["variation"],
            "assurance": icons,
            "spc_trial": latest["trial"],
            "spc_reason": reason,
        }
    )
    if indicators is not None:
        summary = summary.set_index("indicator").reindex(pd.Index(list(indicators), name="indicator")).reset_index()
        missing = summary["variation"].isna()
        summary.loc[missing, ["variation", "assurance"]] = "n/a"
        summary.loc[missing, "spc_reason"] = "no values"
        summary["spc_trial"] = summary["spc_trial"].eq(True)
    for column, words in (("variation", VARIATIONS), ("assurance", ASSURANCES)):
        summary[column] = pd.Categorical(summary[column], categories=list(words))
    return summary[SUMMARY_COLUMNS]
