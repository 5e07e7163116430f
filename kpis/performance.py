"""The monthly KPI table: variance against target and last year, RAG, trend, summaries.

``build_kpi_table`` is a short pipeline of named steps over one frame, each returning a
new frame. All rules are column operations; the rules themselves are the report's key
(README, "How ratings are made").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpis import periods
from kpis.aggregation import SeriesGrid, aggregate_grid
from kpis.catalogue import Catalogue, Direction, Frequency

GREEN, AMBER, RED, NA = "Green", "Amber", "Red", "n/a"
RAG_WORDS = (GREEN, AMBER, RED, NA)
BETTER, SAME, WORSE = "better", "same", "worse"
TREND_WORDS = (BETTER, SAME, WORSE, NA)

KPI_COLUMNS = [
    "workstream",
    "indicator",
    "name",
    "unit",
    "direction",
    "frequency",
    "period",
    "period_label",
    "actual",
    "target",
    "variance_target",
    "variance_target_pct",
    "rag_target",
    "last_year",
    "variance_last_year",
    "variance_last_year_pct",
    "trend",
    "rag_last_year",
]
SUMMARY_COLUMNS = ["workstream", "comparison", GREEN, AMBER, RED, NA]


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal up to float noise (values come from sums and ratios)."""
    return np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(b))


def catalogue_frame(catalogue: Catalogue) -> pd.DataFrame:
    """One row per indicator with the catalogue fields the table needs, in report order."""
    return pd.DataFrame(
        {
            "workstream": [i.workstream for i in catalogue.indicators],
            "indicator": catalogue.indicator_ids,
            "name": [i.name for i in catalogue.indicators],
            "unit": [i.unit.value for i in catalogue.indicators],
            "direction": [i.direction.value for i in catalogue.indicators],
            "frequency": [i.frequency.value for i in catalogue.indicators],
            "tolerance": [catalogue.tolerance_for(i) for i in catalogue.indicators],
        }
    )


def targets_frame(catalogue: Catalogue) -> pd.DataFrame:
    """Every target entry: ``indicator, level, key, target`` where level is ``month``
    (key: month index), ``year`` (key: financial-year start) or ``constant``."""
    rows = []
    for ind in catalogue.indicators:
        if ind.target is None:
            continue
        rows += [(ind.id, "month", m, v) for m, v in ind.target.by_month]
        rows += [(ind.id, "year", y, v) for y, v in ind.target.by_year]
        if ind.target.constant is not None:
            rows.append((ind.id, "constant", -1, ind.target.constant))
    return pd.DataFrame(rows, columns=["indicator", "level", "key", "target"]).astype({"key": int, "target": float})


def latest_periods(catalogue: Catalogue, grid: SeriesGrid, as_at: int) -> pd.DataFrame:
    """Every catalogue indicator with its latest observed month up to ``as_at``
    (NaN where it has none)."""
    table = catalogue_frame(catalogue)
    upto = min(as_at, grid.last_month) - grid.first_month + 1
    seen = grid.observed[:, : max(upto, 0)]
    has = seen.any(axis=1)
    last = seen.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1) if seen.shape[1] else np.zeros(len(has), int)
    return table.assign(period=np.where(has, grid.first_month + last, np.nan))


def add_actuals(table: pd.DataFrame, grid: SeriesGrid) -> pd.DataFrame:
    """The reported figure at the period, and at the same period of the previous year."""
    period = table["period"].to_numpy(dtype=float)
    return table.assign(actual=grid.values_at(period), last_year=grid.values_at(period - 12))


def target_values(catalogue: Catalogue, indicators: pd.Series, months: pd.Series) -> pd.Series:
    """The target of each (indicator, month): the month's trajectory value, else its
    financial year's, else the constant; NaN where there is none or no month."""
    entries = targets_frame(catalogue)
    valid = months.notna()
    month = months.fillna(-999).astype(int)
    keys = {
        "month": month,
        "year": pd.Series(periods.fy_start_years(month), index=months.index),
        "constant": pd.Series(-1, index=months.index),
    }
    target = pd.Series(np.nan, index=months.index)
    for level in ("month", "year", "constant"):
        level_entries = entries[entries["level"] == level].set_index(["indicator", "key"])["target"]
        lookup = pd.MultiIndex.from_arrays([indicators, keys[level]])
        found = pd.Series(level_entries.reindex(lookup).to_numpy(), index=months.index)
        target = target.fillna(found)
    return target.where(valid)


def add_targets(table: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The target for each row's period."""
    return table.assign(target=target_values(catalogue, table["indicator"], table["period"]))


def variance(actual: pd.Series, comparator: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``+/-`` (actual minus comparator, in the unit) and ``%`` of the comparator;
    the % is undefined (NaN) where the comparator is zero."""
    difference = actual - comparator
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (difference / comparator * 100).where(comparator != 0)
    return difference, pct


def add_variances(table: pd.DataFrame) -> pd.DataFrame:
    var_t, pct_t = variance(table["actual"], table["target"])
    var_ly, pct_ly = variance(table["actual"], table["last_year"])
    return table.assign(
        variance_target=var_t,
        variance_target_pct=pct_t,
        variance_last_year=var_ly,
        variance_last_year_pct=pct_ly,
    )


def rag(actual: pd.Series, comparator: pd.Series, direction: pd.Series, tolerance: pd.Series) -> np.ndarray:
    """Green: comparator met (direction-aware, equality counts); Amber: missed by no more
    than ``tolerance`` × |comparator|; Red: otherwise, so any miss of zero is Red;
    n/a: no actual, no comparator, or direction ``none``."""
    a, c = actual.to_numpy(dtype=float), comparator.to_numpy(dtype=float)
    d = direction.to_numpy()
    shortfall = np.where(d == Direction.HIGHER.value, c - a, a - c)
    band = tolerance.to_numpy(dtype=float) * np.abs(c)
    missing = np.isnan(a) | np.isnan(c) | (d == Direction.NONE.value)
    met = (shortfall <= 0) | _close(a, c)
    within = shortfall <= band + 1e-9 * np.maximum(1.0, np.abs(c))
    return np.select([missing, met, within], [NA, GREEN, AMBER], RED)


def trend(actual: pd.Series, last_year: pd.Series, direction: pd.Series) -> np.ndarray:
    """better / same / worse than the same period last year, direction-aware."""
    a, ly = actual.to_numpy(dtype=float), last_year.to_numpy(dtype=float)
    d = direction.to_numpy()
    missing = np.isnan(a) | np.isnan(ly) | (d == Direction.NONE.value)
    improved = np.where(d == Direction.HIGHER.value, a > ly, a < ly)
    return np.select([missing, _close(a, ly), improved], [NA, SAME, BETTER], WORSE)


def add_ratings(table: pd.DataFrame) -> pd.DataFrame:
    """``rag_target``, ``trend`` and ``rag_last_year``.

    Against last year, "same" counts as Green, except for a zero target (a "never
    event" such as MRSA): while the indicator misses its zero target, standing still
    rates Red. This is how the 2020/21 edition rates MRSA (1 case, as last year: Red).
    """
    rag_target = rag(table["actual"], table["target"], table["direction"], table["tolerance"])
    trends = trend(table["actual"], table["last_year"], table["direction"])
    rag_last_year = rag(table["actual"], table["last_year"], table["direction"], table["tolerance"])
    failing_zero_target = (table["target"].to_numpy() == 0) & (rag_target == RED)
    rag_last_year = np.where(failing_zero_target & (trends == SAME), RED, rag_last_year)
    return table.assign(rag_target=rag_target, trend=trends, rag_last_year=rag_last_year)


def add_labels(table: pd.DataFrame) -> pd.DataFrame:
    """``period`` as ``YYYY-MM`` and the board's ``period_label`` (``M7 2020/21``)."""
    has = table["period"].notna()
    month = table["period"].fillna(0).astype(int)
    text = periods.texts(month).where(has)
    label = periods.labels(month, table["frequency"] == Frequency.QUARTERLY.value).where(has)
    return table.assign(period=text, period_label=label)


def build_kpi_table(observations: pd.DataFrame, catalogue: Catalogue, as_at: int) -> pd.DataFrame:
    """The KPI table as at a month: one row per catalogue indicator, in report order,
    with :data:`KPI_COLUMNS`.

    ``observations`` holds the current value of each (indicator, month): columns
    ``indicator, period`` (month index), ``value, numerator, denominator``.
    """
    grid = aggregate_grid(observations, catalogue)
    table = latest_periods(catalogue, grid, as_at)
    table = add_actuals(table, grid)
    table = add_targets(table, catalogue)
    table = add_variances(table)
    table = add_ratings(table)
    table = add_labels(table)
    return table[KPI_COLUMNS]


def rag_summary(table: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Green/Amber/Red/n/a counts per workstream, against target and against last year,
    with :data:`SUMMARY_COLUMNS`, workstreams in report order."""
    order = [w.id for w in catalogue.workstreams]
    frames = []
    for comparison, column in (("target", "rag_target"), ("last_year", "rag_last_year")):
        counts = pd.crosstab(table["workstream"], table[column]).reindex(
            index=order, columns=list(RAG_WORDS), fill_value=0
        )
        frames.append(counts.assign(comparison=comparison).reset_index(names="workstream"))
    summary = pd.concat(frames, ignore_index=True)
    summary["_order"] = summary["workstream"].map({w: i for i, w in enumerate(order)})
    summary = summary.sort_values(["_order", "comparison"], ascending=[True, False], kind="stable")
    return summary[SUMMARY_COLUMNS].reset_index(drop=True).rename_axis(columns=None)
