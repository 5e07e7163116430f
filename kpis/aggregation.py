"""From extract values to reported figures: in month, year to date, rolling 12 months.

Observations (one row per indicator and month) are laid on a dense grid, indicators ×
months, so that every aggregation is a handful of array operations over prefix sums.
A year-to-date or rolling figure is only given when its window is complete (every
month, or every quarter for a quarterly indicator); a gap gives no figure rather than
a wrong one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Aggregation, Catalogue, Frequency

OBSERVATION_COLUMNS = ["indicator", "period", "value", "numerator", "denominator"]


@dataclass(frozen=True)
class SeriesGrid:
    """Reported figures for every catalogue indicator (rows, in catalogue order) and
    every month from ``first_month`` (columns)."""

    indicators: tuple[str, ...]
    first_month: int
    actual: np.ndarray  # float, NaN where no figure
    observed: np.ndarray  # bool, an observation exists for that month

    @property
    def last_month(self) -> int:
        return self.first_month + self.actual.shape[1] - 1

    def values_at(self, months: np.ndarray) -> np.ndarray:
        """One value per indicator row at the given month index (NaN outside the grid)."""
        cols = np.asarray(months, dtype=float) - self.first_month
        inside = np.isfinite(cols) & (cols >= 0) & (cols < self.actual.shape[1])
        out = np.full(len(self.indicators), np.nan)
        rows = np.flatnonzero(inside)
        out[rows] = self.actual[rows, cols[rows].astype(int)]
        return out


def _window_sums(grid: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of non-missing cells in the window of ``lengths[j]`` months ending at
    each column j (a window reaching before the grid counts short)."""
    n_cols = grid.shape[1]
    present = ~np.isnan(grid)
    sums = np.zeros((grid.shape[0], n_cols + 1))
    counts = np.zeros((grid.shape[0], n_cols + 1))
    np.cumsum(np.where(present, grid, 0.0), axis=1, out=sums[:, 1:])
    np.cumsum(present, axis=1, out=counts[:, 1:])
    end = np.arange(n_cols) + 1
    start = np.maximum(end - lengths, 0)
    return sums[:, end] - sums[:, start], counts[:, end] - counts[:, start]


def _expected(lengths: np.ndarray, quarterly: np.ndarray) -> np.ndarray:
    """Observations a complete window holds: one a month, or one a quarter."""
    return np.where(quarterly[:, None], lengths[None, :] // 3, lengths[None, :])


def _layout(observations: pd.DataFrame, ids: list[str]) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
    rows = pd.Index(ids).get_indexer(observations["indicator"])
    keep = rows >= 0  # observations of indicators no longer in the catalogue are ignored
    months = observations["period"].to_numpy(dtype=int)
    first = int(months[keep].min()) if keep.any() else 0
    last = int(months[keep].max()) if keep.any() else 0
    return first, last - first + 1, rows[keep], (months[keep] - first), keep


def aggregate_grid(observations: pd.DataFrame, catalogue: Catalogue) -> SeriesGrid:
    """Reported figures for every indicator and month, after each indicator's aggregation."""
    ids = catalogue.indicator_ids
    first, n_months, rows, cols, keep = _layout(observations, ids)
    shape = (len(ids), n_months)

    def lay(column: str) -> np.ndarray:
        grid = np.full(shape, np.nan)
        grid[rows, cols] = observations[column].to_numpy(dtype=float)[keep]
        return grid

    value, numerator, denominator = lay("value"), lay("numerator"), lay("denominator")
    observed = np.zeros(shape, dtype=bool)
    observed[rows, cols] = True

    month = first + np.arange(n_months)
    ytd_len = periods.fy_months(month)
    rolling_len = np.full(n_months, 12)
    quarterly = np.array([i.frequency is Frequency.QUARTERLY for i in catalogue.indicators])
    scale = np.array([i.ratio_scale for i in catalogue.indicators])[:, None]
    kind = np.array([i.aggregation.value for i in catalogue.indicators])[:, None]

    with np.errstate(invalid="ignore", divide="ignore"):
        ytd_sum, ytd_n = _window_sums(value, ytd_len)
        ytd_num, ytd_num_n = _window_sums(numerator, ytd_len)
        ytd_den, ytd_den_n = _window_sums(denominator, ytd_len)
        r12_sum, r12_n = _window_sums(value, rolling_len)
        r12_num, r12_num_n = _window_sums(numerator, rolling_len)
        r12_den, r12_den_n = _window_sums(denominator, rolling_len)
        ytd_full = _expected(ytd_len, quarterly)
        r12_full = _expected(rolling_len, quarterly)
        ytd_ratio_ok = (ytd_num_n == ytd_full) & (ytd_den_n == ytd_full) & (ytd_den > 0)
        r12_ratio_ok = (r12_num_n == r12_full) & (r12_den_n == r12_full) & (r12_den > 0)
        actual = np.select(
            [
                kind == Aggregation.AS_REPORTED.value,
                kind == Aggregation.YTD_SUM.value,
                kind == Aggregation.YTD_MEAN.value,
                kind == Aggregation.YTD_RATIO.value,
                kind == Aggregation.ROLLING_12M_SUM.value,
                kind == Aggregation.ROLLING_12M_RATIO.value,
            ],
            [
                value,
                np.where(ytd_n == ytd_full, ytd_sum, np.nan),
                np.where(ytd_n == ytd_full, ytd_sum / ytd_n, np.nan),
                np.where(ytd_ratio_ok, ytd_num / ytd_den * scale, np.nan),
                np.where(r12_n == r12_full, r12_sum, np.nan),
                np.where(r12_ratio_ok, r12_num / r12_den * scale, np.nan),
            ],
            np.nan,
        )
    return SeriesGrid(tuple(ids), first, np.where(observed, actual, np.nan), observed)


def aggregate(observations: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Long form of :func:`aggregate_grid`: ``indicator, period, actual`` for every
    observed month (``actual`` is NaN where a window is incomplete)."""
    if observations.empty:
        return pd.DataFrame(
            {"indicator": pd.Series(dtype=str), "period": pd.Series(dtype=int), "actual": pd.Series(dtype=float)}
        )
    grid = aggregate_grid(observations, catalogue)
    rows, cols = np.nonzero(grid.observed)
    return pd.DataFrame(
        {
            "indicator": np.asarray(grid.indicators, dtype=object)[rows],
            "period": grid.first_month + cols,
            "actual": grid.actual[rows, cols],
        }
    )
