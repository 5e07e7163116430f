"""Benchmarking and inequality tables from the stored observations of every area and
group: the pipelines behind ``python -m kpis compare`` and ``python -m kpis inequality``,
the Inequalities tab, the Compare areas page and the board pack's inequality section.

:func:`compare_table` = the indicator's facts → intervals (:mod:`~kpis.report.intervals`)
→ the benchmark area's value → vs benchmark (95% and 99.8%) → vs the area's whole
population → vs last year → suppression. :func:`inequality_table` runs
:func:`~kpis.report.inequality.inequality` over each ordered breakdown. Figures are each
period's values as extracted (no year-to-date or rolling aggregation: a benchmark
compares like with like). The store keeps the home area as ``''``; here ``area`` is
always a code, the home area's too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Catalogue
from kpis.report.comparison import COMPARISON_WORDS, NOT_COMPARED, SIMILAR, add_benchmark, add_comparison, compare
from kpis.report.inequality import INEQUALITY_COLUMNS, inequality
from kpis.report.intervals import add_intervals
from kpis.report.suppression import SUPPRESSED_MARK, add_suppression

COMPARE_COLUMNS = [
    "indicator",
    "period",
    "area",
    "breakdown",
    "group",
    "numerator",
    "denominator",
    "value",
    "lower_95",
    "upper_95",
    "lower_998",
    "upper_998",
    "benchmark_area",
    "benchmark_value",
    "vs_benchmark",
    "vs_benchmark_998",
    "vs_area_total",
    "vs_last_year",
]
SUPPRESSED_COLUMNS = ["numerator", "value", "lower_95", "upper_95", "lower_998", "upper_998"]
# `python -m kpis inequality`: the keys, then the inequality's figures (without its note).
INEQUALITY_TABLE_COLUMNS = ["indicator", "period", "area", "breakdown", *INEQUALITY_COLUMNS[:-1]]
COMPARISONS = ("vs_benchmark", "vs_benchmark_998", "vs_area_total", "vs_last_year")
WIDENING, NARROWING, NO_CHANGE = "widening", "narrowing", "no significant change"
KEY = ["indicator", "period", "area", "breakdown", "group"]


def _facts(catalogue: Catalogue) -> pd.DataFrame:
    rows = [
        {
            "indicator": i.id,
            "direction": i.direction.value,
            "ci_method": i.interval_method.value,
            "scale": i.ratio_scale,
            "benchmark": catalogue.benchmark_for(i) or "",
            "suppress_below": catalogue.suppress_below_for(i),
            "sii_transform": i.sii_transform.value,
            "sii_value_type": i.sii_value_type,
        }
        for i in catalogue.indicators
    ]
    return pd.DataFrame(rows)


def with_facts(observations: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Stored observations (:func:`kpis.store.current_breakdowns`) of catalogue indicators,
    with the home area's code in ``area`` and each indicator's facts beside each row."""
    frame = observations.assign(indicator=observations["indicator"].astype(str))
    frame = frame[frame["indicator"].isin(catalogue.indicator_ids)]
    frame = frame.merge(_facts(catalogue), on="indicator", how="left", validate="many_to_one")
    home = catalogue.home_code
    return frame.assign(area=frame["area"].where(frame["area"] != "", home))


def _periods_as_at(frame: pd.DataFrame, as_at: int | None) -> pd.DataFrame:
    """Each indicator's latest period up to ``as_at`` (default: the latest month stored)."""
    if as_at is not None:
        frame = frame[frame["period"] <= as_at]
    latest = frame.groupby("indicator")["period"].transform("max")
    return frame[frame["period"] == latest]


def _lookup(frame: pd.DataFrame, source: pd.DataFrame, on: list[str], column: str) -> np.ndarray:
    """``source[column]`` at each of ``frame``'s rows matched on ``on`` (NaN where none)."""
    found = frame[on].merge(source[[*on, column]].drop_duplicates(on), on=on, how="left", validate="many_to_one")
    return found[column].to_numpy(dtype=float, na_value=np.nan)


def compared(observations: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Every observation with its intervals and the four comparisons (:data:`COMPARISONS`)
    and ``suppressed``: the whole history, so that trends and last year can be read."""
    frame = add_intervals(with_facts(observations, catalogue))
    frame = add_benchmark(frame.assign(benchmark=frame["benchmark"].astype(object)), "benchmark")
    frame["benchmark_area"] = frame["benchmark"].astype(object)
    frame = add_comparison(frame, "vs_benchmark", "benchmark_value", suppressed=None)
    frame = add_comparison(
        frame, "vs_benchmark_998", "benchmark_value", lower="lower_998", upper="upper_998", suppressed=None
    )
    whole = frame[frame["breakdown"] == ""]
    frame["area_total"] = _lookup(frame, whole, ["indicator", "period", "area"], "value")
    frame["area_total"] = frame["area_total"].where(frame["breakdown"] != "")  # a group's own area's total
    frame = add_comparison(frame, "vs_area_total", "area_total", suppressed=None)
    last_year = frame.assign(period=frame["period"] + 12)
    frame["last_year_value"] = _lookup(frame, last_year, KEY, "value")
    frame = add_comparison(frame, "vs_last_year", "last_year_value", suppressed=None)
    return add_suppression(frame, "suppress_below", comparisons=COMPARISONS)


def compare_table(
    observations: pd.DataFrame,
    catalogue: Catalogue,
    as_at: int | None = None,
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per indicator, period, area, breakdown and group, at each indicator's
    latest period up to ``as_at``: :data:`COMPARE_COLUMNS` and ``suppressed``, in
    catalogue, area and group order."""
    frame = compared(observations, catalogue)
    if indicators is not None:
        frame = frame[frame["indicator"].isin(list(indicators))]
    frame = _periods_as_at(frame, as_at)
    return _ordered(frame, catalogue)[[*COMPARE_COLUMNS, "suppressed"]].reset_index(drop=True)


def _ordered(frame: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Catalogue order: indicators, then the home area and the declared areas, the whole
    population before each breakdown's groups in their declared order."""
    area_rank = {code: k for k, code in enumerate(catalogue.area_names)}
    breakdown_rank = {b.id: k + 1 for k, b in enumerate(catalogue.breakdowns)}
    group_rank = {(b.id, g): k for b in catalogue.breakdowns for k, g in enumerate(b.group_ids)}
    order = pd.DataFrame(
        {
            "i": frame["indicator"].map({i: k for k, i in enumerate(catalogue.indicator_ids)}),
            "p": frame["period"],
            "a": frame["area"].map(area_rank).fillna(len(area_rank)),
            "b": frame["breakdown"].map(breakdown_rank).fillna(0),
            "g": [group_rank.get(pair, 0) for pair in zip(frame["breakdown"], frame["group"], strict=True)],
        },
        index=frame.index,
    )
    return frame.loc[order.sort_values(["i", "p", "a", "b", "g"], kind="stable").index]


def inequality_table(
    observations: pd.DataFrame,
    catalogue: Catalogue,
    as_at: int | None = None,
    indicators: Sequence[str] | None = None,
    every_period: bool = False,
) -> pd.DataFrame:
    """One row per indicator, period, area and ordered breakdown: the gaps, SII and RII
    (:data:`INEQUALITY_TABLE_COLUMNS`) and ``note`` (why a figure is not computed: "group 3
    missing"). The population of a group is its ``population``, else its denominator.
    ``every_period``: every period up to ``as_at``, not only each indicator's latest."""
    frame = add_intervals(with_facts(observations, catalogue))
    if indicators is not None:
        frame = frame[frame["indicator"].isin(list(indicators))]
    if as_at is not None:
        frame = frame[frame["period"] <= as_at]
    if not every_period:
        frame = _periods_as_at(frame, None)
    frame = frame.assign(population=frame["population"].fillna(frame["denominator"]))
    parts = []
    for breakdown in catalogue.breakdowns:
        rows = frame[frame["breakdown"] == breakdown.id]
        if not breakdown.ordered or rows.empty:
            continue
        found = inequality(
            rows,
            breakdown.ranked_group_ids,
            keys=("indicator", "area", "period"),
            transform="sii_transform",
            value_type="sii_value_type",
            scale="scale",
        )
        parts.append(found.assign(breakdown=breakdown.id))
    if not parts:
        return pd.DataFrame(columns=[*INEQUALITY_TABLE_COLUMNS, "note"])
    out = pd.concat(parts, ignore_index=True)
    out = out.assign(note=out["note"].astype(str), group="")
    return _ordered(out, catalogue)[[*INEQUALITY_TABLE_COLUMNS, "note"]].reset_index(drop=True)


def sii_change(every_period: pd.DataFrame, as_at: int) -> pd.DataFrame:
    """Per indicator, area and breakdown: the SII at its latest period up to ``as_at``
    against the SII a year before it: ``widening`` (further from 0, and the earlier SII
    outside the latest's 95% interval), ``narrowing`` (nearer 0, and outside), ``no
    significant change`` (inside), or ``not_compared`` (no SII for one of them)."""
    columns = ["indicator", "area", "breakdown", "period", "sii", "sii_lower", "sii_upper", "sii_year_ago", "change"]
    frame = every_period[every_period["period"] <= as_at]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    latest = frame[frame["period"] == frame.groupby(["indicator", "area", "breakdown"])["period"].transform("max")]
    year_before = frame.assign(period=frame["period"] + 12, then=frame["sii"])
    latest = latest.assign(
        sii_year_ago=_lookup(latest, year_before, ["indicator", "area", "breakdown", "period"], "then")
    )
    further = latest["sii"].abs() > latest["sii_year_ago"].abs()
    word = pd.Series(
        compare(latest["sii_lower"], latest["sii_upper"], latest["sii_year_ago"], "none"), index=latest.index
    ).astype(str)
    change = np.select([word == NOT_COMPARED, word == SIMILAR, further], [NOT_COMPARED, NO_CHANGE, WIDENING], NARROWING)
    return latest.assign(change=change)[columns].reset_index(drop=True)


def shown(frame: pd.DataFrame, decimals: int = 6) -> pd.DataFrame:
    """A table as the command line and the exports give it: numbers to ``decimals``
    places, periods as ``YYYY-MM``, comparison words as text, and a suppressed row's
    numerator, value and limits as ``*``."""
    out = frame.copy()
    out["period"] = periods.texts(out["period"])
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(str)
        elif out[column].dtype.kind == "f":
            out[column] = out[column].round(decimals)
    if "suppressed" in out:
        hidden = out["suppressed"].to_numpy(dtype=bool)
        for column in SUPPRESSED_COLUMNS:
            out[column] = out[column].astype(object).where(~hidden, SUPPRESSED_MARK)
        out = out.drop(columns="suppressed")
    return out


__all__ = [
    "COMPARE_COLUMNS",
    "COMPARISON_WORDS",
    "INEQUALITY_TABLE_COLUMNS",
    "compare_table",
    "compared",
    "inequality_table",
    "shown",
    "sii_change",
]


def latest_periods(frame: pd.DataFrame, as_at: int | None) -> pd.DataFrame:
    """The rows of each indicator's latest period up to ``as_at`` (of a :func:`compared`
    or every-period inequality frame)."""
    return _periods_as_at(frame, as_at)
