"""Significance comparisons the way Fingertips shows them: better, similar or worse.

One rule serves every comparison — with the benchmark area (England, the region), with
the area's own whole population (an inequality breakdown's groups), with last year: the
comparator's value inside the row's confidence interval (limits inclusive) is
``similar``; outside it, ``better`` or ``worse`` by the indicator's direction, or
``higher`` / ``lower`` for direction ``none``; no interval, no comparator or a
suppressed row is ``not_compared``. Applied with the 95% interval it gives
``vs_benchmark``; with the 99.8% interval, ``vs_benchmark_998`` (Fingertips'
two-level rating is the pair).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BETTER, SIMILAR, WORSE, HIGHER, LOWER, NOT_COMPARED = "better", "similar", "worse", "higher", "lower", "not_compared"
COMPARISON_WORDS = (BETTER, SIMILAR, WORSE, HIGHER, LOWER, NOT_COMPARED)
DIRECTIONS = ("higher", "lower", "none")  # the catalogue's Direction values: which way is better


def compare(lower, upper, comparator, direction, suppressed=None) -> pd.Categorical:
    """The comparison word of each row (a categorical over :data:`COMPARISON_WORDS`).

    ``lower``/``upper``: the row's interval; ``comparator``: the benchmark's (or last
    year's, or the area total's) value; ``direction``: one of :data:`DIRECTIONS`, for
    all rows or per row; ``suppressed``: rows never compared (small numbers).
    """
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    ref = np.asarray(comparator, dtype=float)
    lo, hi, ref = np.broadcast_arrays(lo, hi, ref)
    way = np.broadcast_to(np.asarray(direction, dtype=object), lo.shape)
    unknown = set(pd.unique(way.ravel())) - set(DIRECTIONS)
    if unknown:
        raise ValueError(f"unknown direction {sorted(map(str, unknown))}: use one of {list(DIRECTIONS)}")
    missing = np.isnan(lo) | np.isnan(hi) | np.isnan(ref)
    if suppressed is not None:
        missing = missing | np.broadcast_to(np.asarray(suppressed, dtype=bool), lo.shape)
    above = lo > ref  # the row is significantly above its comparator
    below = hi < ref
    higher_good, lower_good = way == "higher", way == "lower"
    word = np.select(
        [
            missing,
            ~above & ~below,
            above & higher_good,
            above & lower_good,
            above,
            below & higher_good,
            below & lower_good,
        ],
        [5, 1, 0, 2, 3, 2, 0],
        4,  # below, direction none: lower
    ).astype(np.int8)
    return pd.Categorical.from_codes(word, categories=list(COMPARISON_WORDS))


def add_comparison(
    frame: pd.DataFrame,
    name: str,
    comparator: str,
    *,
    lower: str = "lower_95",
    upper: str = "upper_95",
    direction: str = "direction",
    suppressed: str | None = "suppressed",
) -> pd.DataFrame:
    """A new frame with column ``name``: :func:`compare` of the frame's own columns
    (``comparator`` holds the value compared with; ``direction`` a column name or, if no
    such column, the direction for every row)."""
    way = frame[direction].to_numpy(dtype=object) if direction in frame else direction
    flags = frame[suppressed].to_numpy(dtype=bool) if suppressed and suppressed in frame else None
    words = compare(
        frame[lower].to_numpy(dtype=float, na_value=np.nan),
        frame[upper].to_numpy(dtype=float, na_value=np.nan),
        frame[comparator].to_numpy(dtype=float, na_value=np.nan),
        way,
        flags,
    )
    return frame.assign(**{name: words})
