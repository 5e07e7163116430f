"""From extract values to reported figures: in month, year to date, rolling 12 months.

Observations are sorted by (indicator, month) into flat arrays; the figure for any
(indicator, month) is a sum over its window (at most twelve observations), found by binary
search: the work is proportional to the number of figures asked for, not to the history
stored, and each window is summed exactly as written, month by month. A
year-to-date or rolling figure is only given when its window is complete (every month,
or every quarter for a quarterly indicator); a gap gives no figure rather than a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Aggregation, Catalogue, Frequency, derived

OBSERVATION_COLUMNS = ["indicator", "period", "value", "numerator", "denominator"]
STRIDE = 1 << 20  # key = catalogue row × STRIDE + month index (months stay far below 2**20)
_KINDS = list(Aggregation)


@dataclass(frozen=True)
class IndicatorArrays:
    """The catalogue's indicators as arrays, in catalogue order."""

    ids: pd.Index
    kind: np.ndarray  # position in Aggregation
    quarterly: np.ndarray
    scale: np.ndarray


def indicator_arrays(catalogue: Catalogue) -> IndicatorArrays:
    def build(c: Catalogue) -> IndicatorArrays:
        return IndicatorArrays(
            ids=pd.Index(c.indicator_ids),
            kind=np.array([_KINDS.index(i.aggregation) for i in c.indicators], dtype=int),
            quarterly=np.array([i.frequency is Frequency.QUARTERLY for i in c.indicators], dtype=bool),
            scale=np.array([i.ratio_scale for i in c.indicators], dtype=float),
        )

    return derived(catalogue, "indicator_arrays", build)


@dataclass(frozen=True)
class Observed:
    """Observations sorted by ``key`` = series code × STRIDE + month. A series code numbers
    the indicators as they come (a categorical's codes: sorted ids, so a store's output is
    already in order); ``code_of_row`` maps each catalogue row to its code (-1: no data)
    and ``row_of_code`` back (-1: not in the catalogue)."""

    key: np.ndarray
    code: np.ndarray
    month: np.ndarray
    columns: dict[str, np.ndarray]  # value, numerator, denominator
    code_of_row: np.ndarray
    row_of_code: np.ndarray


def _series_codes(indicators: pd.Series) -> tuple[np.ndarray, pd.Index]:
    if isinstance(indicators.dtype, pd.CategoricalDtype):
        return indicators.cat.codes.to_numpy().astype(np.int64), pd.Index(indicators.cat.categories.astype(str))
    codes, names = pd.factorize(indicators, sort=True)
    return codes.astype(np.int64), pd.Index(names)


def prepare(observations: pd.DataFrame, catalogue: Catalogue) -> Observed:
    """Lay observations out for lookups (sorting only if they are not sorted already)."""
    ids = indicator_arrays(catalogue).ids
    codes, names = _series_codes(observations["indicator"])
    months = observations["period"].to_numpy(dtype=np.int64)
    columns = {c: observations[c].to_numpy(dtype=float) for c in ("value", "numerator", "denominator")}
    key = codes * STRIDE + months
    if len(key) and not (key[1:] > key[:-1]).all():
        order = np.argsort(key, kind="stable")
        key, codes, months = key[order], codes[order], months[order]
        columns = {c: v[order] for c, v in columns.items()}
    return Observed(
        key=key,
        code=codes,
        month=months,
        columns=columns,
        code_of_row=names.get_indexer(ids),
        row_of_code=ids.get_indexer(names),
    )


def _search(keys: np.ndarray, needles: np.ndarray, side: Literal["left", "right"]) -> np.ndarray:
    """np.searchsorted with the needles sorted first: far fewer cache misses on a large
    array than needles in catalogue order."""
    order = np.argsort(needles, kind="stable")
    found = np.empty(len(needles), dtype=np.int64)
    found[order] = np.searchsorted(keys, needles[order], side=side)
    return found


def latest_months(observed: Observed, n_rows: int, as_at: int) -> np.ndarray:
    """For each catalogue row, its latest observed month up to ``as_at`` (NaN: none)."""
    if not len(observed.key):
        return np.full(n_rows, np.nan)
    code = observed.code_of_row[:n_rows]
    position = _search(observed.key, code * STRIDE + as_at, side="right") - 1
    safe = np.clip(position, 0, None)
    found = (code >= 0) & (position >= 0) & (observed.code[safe] == code)
    return np.where(found, observed.month[safe], np.nan)


def figures_at(observed: Observed, catalogue: Catalogue, rows: np.ndarray, months: np.ndarray) -> np.ndarray:
    """The reported figure of each (catalogue row, month) after the indicator's
    aggregation; NaN where the month has no observation or its window is incomplete."""
    arrays = indicator_arrays(catalogue)
    rows = np.asarray(rows, dtype=np.int64)
    figure = np.full(len(rows), np.nan)
    if not len(observed.key) or not len(rows):
        return figure
    valid = ~np.isnan(months)
    month = np.where(valid, months, 0).astype(np.int64)
    code = observed.code_of_row[rows]
    point = code * STRIDE + month
    end = _search(observed.key, point, side="right")
    last = np.clip(end - 1, 0, None)
    exact = valid & (code >= 0) & (end > 0) & (observed.key[last] == point)
    kind = arrays.kind[rows]

    reported = exact & (kind == _KINDS.index(Aggregation.AS_REPORTED))
    figure[reported] = observed.columns["value"][last[reported]]
    windowed = exact & ~reported
    if not windowed.any():
        return figure
    # Year to date and rolling figures: sum each window, only where one is needed.
    at = np.flatnonzero(windowed)
    kind_w = kind[at]
    ytd = np.isin(kind_w, [_KINDS.index(a) for a in Aggregation if a.is_ytd])
    length = np.where(ytd, periods.fy_months(month[at]), 12)
    expected = np.where(arrays.quarterly[rows[at]], length // 3, length)
    start = _search(observed.key, point[at] - length + 1, side="left")
    uses_ratio = np.isin(kind_w, [_KINDS.index(a) for a in Aggregation if a.uses_ratio])
    end_w = end[at]
    with np.errstate(invalid="ignore", divide="ignore"):
        summed = ~uses_ratio  # ytd_sum, ytd_mean, rolling_12m_sum: the values
        if summed.any():
            sums, counts = _window_sums(observed, ["value"], start[summed], end_w[summed])
            total = np.where(counts["value"] == expected[summed], sums["value"], np.nan)
            mean = kind_w[summed] == _KINDS.index(Aggregation.YTD_MEAN)
            figure[at[summed]] = np.where(mean, total / counts["value"], total)
        if uses_ratio.any():  # ytd_ratio, rolling_12m_ratio: summed numerators over denominators
            sums, counts = _window_sums(observed, ["numerator", "denominator"], start[uses_ratio], end_w[uses_ratio])
            complete = (
                (counts["numerator"] == expected[uses_ratio])
                & (counts["denominator"] == expected[uses_ratio])
                & (sums["denominator"] > 0)
            )
            ratio = sums["numerator"] / sums["denominator"] * arrays.scale[rows[at[uses_ratio]]]
            figure[at[uses_ratio]] = np.where(complete, ratio, np.nan)
    return figure


MAX_WINDOW = 12  # observations in the longest window: twelve months


def _window_sums(observed: Observed, columns: list[str], start: np.ndarray, end: np.ndarray) -> tuple[dict, dict]:
    """Sum and count of the non-missing values of ``columns`` over positions
    ``[start, end)``, a window of at most MAX_WINDOW observations, added in month order."""
    sums = {c: np.zeros(len(start)) for c in columns}
    counts = {c: np.zeros(len(start), dtype=np.int64) for c in columns}
    last = len(observed.key) - 1
    for offset in range(MAX_WINDOW):
        position = start + offset
        inside = position < end
        if not inside.any():
            break
        at = np.minimum(position, last)
        for column in columns:
            picked = observed.columns[column][at]
            present = inside & ~np.isnan(picked)
            sums[column] += np.where(present, picked, 0.0)
            counts[column] += present
    return sums, counts


def aggregate(observations: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """``indicator, period, actual`` for every observed (indicator, month) of catalogue
    indicators (``actual`` is NaN where a window is incomplete)."""
    observed = prepare(observations, catalogue)
    rows = observed.row_of_code[observed.code] if len(observed.code) else np.zeros(0, dtype=np.int64)
    listed = rows >= 0
    actual = figures_at(observed, catalogue, rows[listed], observed.month[listed].astype(float))
    ids = indicator_arrays(catalogue).ids
    return pd.DataFrame({"indicator": ids.to_numpy()[rows[listed]], "period": observed.month[listed], "actual": actual})
