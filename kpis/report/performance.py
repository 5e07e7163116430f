"""The monthly KPI table: variance against target and last year, RAG, trend, summaries.

``build_kpi_table`` is a short pipeline of named steps over one frame, each returning a
new frame. All rules are column operations; the rules themselves are the report's key
(README, "How ratings are made").
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Catalogue, Direction, Frequency, derived
from kpis.report.aggregation import STRIDE, Observed, figures_at, indicator_arrays, latest_months, prepare


class Rag(StrEnum):
    """A rating, as the report writes it (the order of its RAG summary)."""

    GREEN = "Green"
    AMBER = "Amber"
    RED = "Red"
    NA = "n/a"


class Trend(StrEnum):
    """The arrow against last year."""

    BETTER = "better"
    SAME = "same"
    WORSE = "worse"
    NA = "n/a"


GREEN, AMBER, RED, NA = Rag
RAG_WORDS = tuple(Rag)
BETTER, SAME, WORSE = Trend.BETTER, Trend.SAME, Trend.WORSE
TREND_WORDS = tuple(Trend)

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

    def build(c: Catalogue) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "workstream": [i.workstream for i in c.indicators],
                "indicator": c.indicator_ids,
                "name": [i.name for i in c.indicators],
                "unit": [i.unit.value for i in c.indicators],
                "direction": [i.direction.value for i in c.indicators],
                "frequency": [i.frequency.value for i in c.indicators],
                "tolerance": [c.tolerance_for(i) for i in c.indicators],
            }
        )

    return derived(catalogue, "catalogue_frame", build)  # callers assign(): never mutated


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


def _target_lookups(catalogue: Catalogue) -> dict[str, pd.Series]:
    """Per level, the targets keyed by catalogue row × STRIDE + key, for fast lookups."""
    entries = targets_frame(catalogue)
    rows = indicator_arrays(catalogue).ids.get_indexer(pd.Index(entries["indicator"])).astype(np.int64)
    keys = rows * STRIDE + entries["key"].to_numpy(dtype=np.int64)
    return {
        level: pd.Series(entries["target"].to_numpy()[mask], index=keys[mask])
        for level in ("month", "year", "constant")
        for mask in [entries["level"].to_numpy() == level]
    }


def target_values(catalogue: Catalogue, indicators: pd.Series, months: pd.Series) -> pd.Series:
    """The target of each (indicator, month): the month's trajectory value, else its
    financial year's, else the constant; NaN where there is none or no month."""
    lookups = derived(catalogue, "target_lookups", _target_lookups)
    rows = indicator_arrays(catalogue).ids.get_indexer(pd.Index(indicators)).astype(np.int64)
    valid = months.notna().to_numpy()
    month = months.fillna(0).to_numpy(dtype=np.int64)
    keys = {"month": month, "year": periods.fy_start_years(month), "constant": np.full(len(month), -1)}
    target = np.full(len(month), np.nan)
    for level in ("month", "year", "constant"):
        found = lookups[level].reindex(rows * STRIDE + keys[level]).to_numpy()
        target = np.where(np.isnan(target), found, target)
    return pd.Series(np.where(valid & (rows >= 0), target, np.nan), index=months.index)


def latest_periods(catalogue: Catalogue, observed: Observed, as_at: int) -> pd.DataFrame:
    """Every catalogue indicator with its latest observed month up to ``as_at``
    (NaN where it has none)."""
    table = catalogue_frame(catalogue)
    return table.assign(period=latest_months(observed, len(table), as_at))


def add_actuals(table: pd.DataFrame, observed: Observed, catalogue: Catalogue) -> pd.DataFrame:
    """The reported figure at the period, and at the same period of the previous year."""
    rows = np.arange(len(table))
    period = table["period"].to_numpy(dtype=float)
    both = figures_at(observed, catalogue, np.concatenate([rows, rows]), np.concatenate([period, period - 12]))
    return table.assign(actual=both[: len(rows)], last_year=both[len(rows) :])


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


def _directions(direction: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    return (direction == Direction.HIGHER.value).to_numpy(dtype=bool), (direction == Direction.NONE.value).to_numpy(
        dtype=bool
    )


def _rag_codes(actual: pd.Series, comparator: pd.Series, direction: pd.Series, tolerance: pd.Series) -> np.ndarray:
    a, c = actual.to_numpy(dtype=float), comparator.to_numpy(dtype=float)
    higher, none = _directions(direction)
    shortfall = np.where(higher, c - a, a - c)
    band = tolerance.to_numpy(dtype=float) * np.abs(c)
    missing = np.isnan(a) | np.isnan(c) | none
    met = (shortfall <= 0) | _close(a, c)
    within = shortfall <= band + 1e-9 * np.maximum(1.0, np.abs(c))
    return np.select(
        [missing, met, within],
        [RAG_WORDS.index(NA), RAG_WORDS.index(GREEN), RAG_WORDS.index(AMBER)],
        RAG_WORDS.index(RED),
    )


def rag(actual: pd.Series, comparator: pd.Series, direction: pd.Series, tolerance: pd.Series) -> pd.Categorical[str]:
    """Green: comparator met (direction-aware, equality counts); Amber: missed by no more
    than ``tolerance`` × |comparator|; Red: otherwise, so any miss of zero is Red;
    n/a: no actual, no comparator, or direction ``none``."""
    return pd.Categorical.from_codes(
        _rag_codes(actual, comparator, direction, tolerance), categories=pd.Index(list(RAG_WORDS))
    )


def _trend_codes(actual: pd.Series, last_year: pd.Series, direction: pd.Series) -> np.ndarray:
    a, ly = actual.to_numpy(dtype=float), last_year.to_numpy(dtype=float)
    higher, none = _directions(direction)
    missing = np.isnan(a) | np.isnan(ly) | none
    improved = np.where(higher, a > ly, a < ly)
    return np.select(
        [missing, _close(a, ly), improved],
        [TREND_WORDS.index(NA), TREND_WORDS.index(SAME), TREND_WORDS.index(BETTER)],
        TREND_WORDS.index(WORSE),
    )


def trend(actual: pd.Series, last_year: pd.Series, direction: pd.Series) -> pd.Categorical[str]:
    """better / same / worse than the same period last year, direction-aware."""
    return pd.Categorical.from_codes(_trend_codes(actual, last_year, direction), categories=pd.Index(list(TREND_WORDS)))


def add_ratings(table: pd.DataFrame) -> pd.DataFrame:
    """``rag_target``, ``trend`` and ``rag_last_year`` (categoricals of the RAG and
    trend words).

    Against last year, "same" counts as Green, except for a zero target (a "never
    event" such as MRSA): while the indicator misses its zero target, standing still
    rates Red. This is how the 2020/21 edition rates MRSA (1 case, as last year: Red).
    """
    rag_target = _rag_codes(table["actual"], table["target"], table["direction"], table["tolerance"])
    trends = _trend_codes(table["actual"], table["last_year"], table["direction"])
    rag_last_year = _rag_codes(table["actual"], table["last_year"], table["direction"], table["tolerance"])
    failing_zero_target = (table["target"].to_numpy() == 0) & (rag_target == RAG_WORDS.index(RED))
    rag_last_year = np.where(
        failing_zero_target & (trends == TREND_WORDS.index(SAME)), RAG_WORDS.index(RED), rag_last_year
    )
    return table.assign(
        rag_target=pd.Categorical.from_codes(rag_target, categories=pd.Index(list(RAG_WORDS))),
        trend=pd.Categorical.from_codes(trends, categories=pd.Index(list(TREND_WORDS))),
        rag_last_year=pd.Categorical.from_codes(rag_last_year, categories=pd.Index(list(RAG_WORDS))),
    )


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
    observed = prepare(observations, catalogue)
    table = latest_periods(catalogue, observed, as_at)
    table = add_actuals(table, observed, catalogue)
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
