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

from kpis.report.keys import key_ids

BETTER, SIMILAR, WORSE, HIGHER, LOWER, NOT_COMPARED = "better", "similar", "worse", "higher", "lower", "not_compared"
COMPARISON_WORDS = (BETTER, SIMILAR, WORSE, HIGHER, LOWER, NOT_COMPARED)
DIRECTIONS = ("higher", "lower", "none")  # the catalogue's Direction values: which way is better


def _words(
    lo: np.ndarray,
    hi: np.ndarray,
    ref: np.ndarray,
    higher_good: np.ndarray,
    lower_good: np.ndarray,
    missing: np.ndarray,
) -> pd.Categorical[str]:
    # code of each outcome in COMPARISON_WORDS: better 0, similar 1, worse 2, higher 3, lower 4, not_compared 5
    above_word = np.where(higher_good, 0, np.where(lower_good, 2, 3)).astype(np.int8)
    below_word = np.where(higher_good, 2, np.where(lower_good, 0, 4)).astype(np.int8)
    above = lo > ref  # the row is significantly above its comparator
    below = hi < ref
    # similar (1) when the comparator is inside the limits, inclusive
    word = np.where(missing, np.int8(5), np.where(above, above_word, np.where(below, below_word, np.int8(1))))
    return pd.Categorical.from_codes(word, categories=pd.Index(list(COMPARISON_WORDS)))


def _directions(direction, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``higher is better`` and ``lower is better`` flags from one direction or one per row."""
    codes: np.ndarray
    names: pd.Index | np.ndarray
    if isinstance(direction, str):
        codes, names = np.zeros(size, dtype=np.intp), pd.Index([direction])
    else:
        codes, names = pd.factorize(np.asarray(direction, dtype=object) if isinstance(direction, list) else direction)
    unknown = set(map(str, names)) - set(DIRECTIONS)
    if unknown or (codes < 0).any():
        raise ValueError(f"unknown direction {sorted(unknown) or ['(missing)']}: use one of {list(DIRECTIONS)}")
    position = {str(name): i for i, name in enumerate(names)}
    return codes == position.get("higher", -1), codes == position.get("lower", -1)


def compare(lower, upper, comparator, direction, suppressed=None) -> pd.Categorical[str]:
    """The comparison word of each row (a categorical over :data:`COMPARISON_WORDS`).

    ``lower``/``upper``: the row's interval; ``comparator``: the benchmark's (or last
    year's, or the area total's) value; ``direction``: one of :data:`DIRECTIONS`, for
    all rows or per row; ``suppressed``: rows never compared (small numbers).
    """
    lo, hi, ref = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, dtype=float)) for x in (lower, upper, comparator)))
    higher_good, lower_good = _directions(direction, lo.size)
    missing = np.isnan(lo) | np.isnan(hi) | np.isnan(ref)
    if suppressed is not None:
        missing = missing | np.asarray(suppressed, dtype=bool)
    return _words(lo, hi, ref, higher_good, lower_good, missing)


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
    way = frame.get(direction, direction)
    flags = frame[suppressed].to_numpy(dtype=bool) if suppressed and suppressed in frame else None
    words = compare(
        frame[lower].to_numpy(dtype=float, na_value=np.nan),
        frame[upper].to_numpy(dtype=float, na_value=np.nan),
        frame[comparator].to_numpy(dtype=float, na_value=np.nan),
        way,
        flags,
    )
    return frame.assign(**{name: words})


def add_benchmark(
    frame: pd.DataFrame,
    benchmark: str,
    *,
    keys: tuple[str, ...] = ("indicator", "period", "breakdown", "group"),
    area: str = "area",
    value: str = "value",
) -> pd.DataFrame:
    """A new frame with ``benchmark_area`` and ``benchmark_value``: the value of the
    benchmark area's row with the same ``keys`` (a group row is compared with the
    benchmark's same breakdown and group). ``benchmark`` is an area code for every row,
    or the name of a column holding each row's (its indicator's) benchmark area. Rows
    whose benchmark has no such row get NaN (compared: ``not_compared``)."""
    present = [k for k in keys if k in frame]
    bench_area: pd.Series | pd.Categorical[str]
    bench_names: pd.Index | np.ndarray | list[str]
    if benchmark in frame:
        bench_area = frame[benchmark]
        bench_code, bench_names = pd.factorize(bench_area)
        own = (frame[area] == bench_area).to_numpy(dtype=bool, na_value=False)
    else:
        bench_area = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), categories=pd.Index([benchmark]))
        bench_code, bench_names = np.zeros(len(frame), dtype=np.intp), [benchmark]
        own = (frame[area] == benchmark).to_numpy(dtype=bool, na_value=False)
    # one integer per key combination, then a dense (combination x benchmark area) table
    key_code, _ = key_ids(frame, present)
    width = max(len(bench_names), 1)
    cell = key_code * width + bench_code
    if np.bincount(cell[own]).max(initial=0) > 1:
        raise ValueError(f"the benchmark area has two rows for the same {', '.join(present)}")
    table = np.full((int(key_code.max(initial=-1)) + 1) * width, np.nan)
    table[cell[own]] = frame[value].to_numpy(dtype=float, na_value=np.nan)[own]
    values = np.where(bench_code >= 0, table[cell], np.nan) if len(frame) else np.array([], dtype=float)
    return frame.assign(benchmark_area=bench_area, benchmark_value=values)
