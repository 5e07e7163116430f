"""Why a figure of the KPI table cannot be made, in words: never a bare "-".

For each indicator of a KPI table (:func:`kpis.report.performance.build_kpi_table`) with
no actual, target or last year's figure, a short reason an officer can act on:
``needs Oct 2020, not yet loaded`` (a year-to-date or rolling figure whose window has a
gap), ``no figure loaded yet``, ``no target for 2020/21``, ``no figure for Nov 2019``.
The screens, the exports and the board pack show these where a figure would be; a RAG
rating that is n/a takes the reason of the figure it lacks (:func:`rag_reason`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Catalogue, Direction, Frequency, Indicator

REASON_COLUMNS = ["actual_why", "target_why", "last_year_why"]
NOT_RATED = "not rated (no better direction)"


def _window(indicator: Indicator, month: int) -> list[int]:
    """The months a reported figure for ``month`` is made of, oldest first."""
    aggregation = indicator.aggregation
    if aggregation.is_ytd:
        length = int(periods.fy_months(np.array([month]))[0])
    elif aggregation.value.startswith("rolling"):
        length = 12
    else:
        return [month]
    months = range(month - length + 1, month + 1)
    if indicator.frequency is Frequency.QUARTERLY:
        return [m for m in months if periods.is_quarter_end(m)]
    return list(months)


def _gap(indicator: Indicator, month: int, present: set[int], whole: set[int]) -> str:
    """Why the figure for ``month`` is missing although the month has a value."""
    window = _window(indicator, month)
    absent = [m for m in window if m not in present]
    if absent:
        more = f" and {len(absent) - 1} other month{'s' if len(absent) > 2 else ''}" if len(absent) > 1 else ""
        return f"needs {periods.month_name(absent[0])}{more}, not yet loaded"
    if indicator.aggregation.uses_ratio:
        lacking = [m for m in window if m not in whole]
        if lacking:
            return f"needs the numerator and denominator of {periods.month_name(lacking[0])}"
        return "its denominator adds up to zero"
    return "no figure"


def _missing_figure(indicator: Indicator, month: int | None, present: set[int], whole: set[int], as_at: int) -> str:
    if month is None:
        later = [m for m in present if m > as_at]
        if later:
            return f"first figure is for {periods.month_name(min(later))}"
        return "no figure loaded yet"
    return _gap(indicator, month, present, whole)


def _missing_target(indicator: Indicator, month: int | None) -> str:
    if indicator.direction is Direction.NONE:
        return NOT_RATED
    if indicator.target is None:
        return "no target set"
    if month is None:
        return "no period to take a target for"
    return f"no target for {periods.financial_year(month)}"


def _missing_last_year(indicator: Indicator, month: int | None, present: set[int], whole: set[int]) -> str:
    if month is None:
        return "no period to compare"
    before = month - 12
    if before not in present:
        return f"no figure for {periods.month_name(before)}"
    return f"last year's {_gap(indicator, before, present, whole)}"


def reasons(table: pd.DataFrame, observations: pd.DataFrame, catalogue: Catalogue, as_at: int) -> pd.DataFrame:
    """:data:`REASON_COLUMNS` for each row of ``table`` (same index): why its ``actual``,
    ``target`` and ``last_year`` are missing; ``""`` where the figure is there."""
    out = pd.DataFrame("", index=table.index, columns=REASON_COLUMNS)
    missing = table["actual"].isna() | table["target"].isna() | table["last_year"].isna()
    if not missing.any():
        return out
    wanted = set(table.loc[missing, "indicator"].astype(str))
    obs = observations[observations["indicator"].astype(str).isin(wanted)]
    names = obs["indicator"].astype(str)
    has_value = obs["value"].notna()
    has_parts = obs["numerator"].notna() & obs["denominator"].notna() if "numerator" in obs else has_value
    present = obs[has_value].groupby(names[has_value])["period"].agg(set).to_dict()
    whole = obs[has_parts].groupby(names[has_parts])["period"].agg(set).to_dict()
    for index, row in table[missing].iterrows():
        indicator = catalogue.indicator(str(row["indicator"]))
        month = None if pd.isna(row["period"]) else periods.parse_period(str(row["period"]))
        seen, complete = present.get(indicator.id, set()), whole.get(indicator.id, set())
        if pd.isna(row["actual"]):
            out.at[index, "actual_why"] = _missing_figure(indicator, month, seen, complete, as_at)
        if pd.isna(row["target"]):
            out.at[index, "target_why"] = _missing_target(indicator, month)
        if pd.isna(row["last_year"]):
            out.at[index, "last_year_why"] = _missing_last_year(indicator, month, seen, complete)
    return out


def rag_reason(row: pd.Series, comparison: str) -> str:
    """Why a row's RAG against ``target`` or ``last year`` is n/a: the reason of the
    figure it lacks (the actual first), or that the indicator is not rated."""
    if row.get("direction") == Direction.NONE.value:
        return NOT_RATED
    if row.get("actual_why"):
        return str(row["actual_why"])
    return str(row.get("target_why" if comparison == "target" else "last_year_why", ""))
