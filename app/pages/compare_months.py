"""Compare two as-at months side by side: each indicator's actual and RAG at each month,
the change between them and whether its rating moved (the board's "what changed since")."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import state, ui
from kpis import periods
from kpis.catalogue import Catalogue, Unit
from kpis.report import formatting, presentation
from kpis.report.palette import rag_label

BEFORE_KEY, AFTER_KEY, SHOW_KEY = "compare-before", "compare-after", "compare-months-show"
ROWS_KEY = "compare-months-rows"
MOVED, EVERY_INDICATOR = "Ratings that moved", "Every indicator"
ROWS_IN_VIEW = 40  # a longer table scrolls within itself: a table as tall as 2,250 rows took seconds to draw


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    st.title("Compare months")
    if view.empty:
        ui.no_data()
        return
    options = list(reversed(view.months))
    if len(options) < 2:
        st.info("Only one month has data: nothing to compare it with yet.", icon=":material/compare_arrows:")
        return
    left, right = st.columns(2)
    after_default = options.index(view.as_at) if view.as_at in options else 0
    before = left.selectbox(
        "Earlier month",
        options,
        index=min(after_default + 1, len(options) - 1),
        format_func=state.month_option,
        key=BEFORE_KEY,
    )
    after = right.selectbox("Later month", options, index=after_default, format_func=state.month_option, key=AFTER_KEY)
    rows = st.radio("Indicators", (MOVED, EVERY_INDICATOR), horizontal=True, key=ROWS_KEY)
    st.caption(
        f"Each indicator as at {periods.month_name(before)} and as at {periods.month_name(after)}: its latest figure up to "
        "that month (the period in brackets), its rating against target (or, without one, against last year) and "
        "the change between the two. Shown at first: only the ratings that moved, as the board's question is what "
        "changed; every indicator is a choice away. Each rating is its symbol and word (✓ Green, ▲ Amber, ✖ Red). "
        "Select a row to open the indicator as at the later month."
    )
    compared = _compared(view.url, view.version, *state.config_key(), before, after)
    moved = compared["rag_before"] != compared["rag_after"]
    st.caption(f"Ratings that moved: **{int(moved.sum()):,}** of {len(compared):,} indicators.")
    chosen = compared[moved] if rows == MOVED else compared
    shown = ui.filter_rag(chosen, ui.rag_filter(SHOW_KEY), "rag_after")
    if shown.empty:
        st.caption(
            "No indicator's rating moved between these months."
            if chosen.empty
            else "No indicator shown has this rating at the later month."
        )
        return
    event = st.dataframe(
        shown,
        hide_index=True,
        column_order=["Indicator", *columns(before, after), "Workstream"],  # the change in view, the workstream last
        column_config={
            "Indicator": st.column_config.TextColumn(
                width=300,
                pinned=True,
                help=presentation.glossary_help(view.catalogue.glossary, " ".join(shown["Indicator"])),
            ),
            "Workstream": st.column_config.TextColumn(width=140),
            "Change": st.column_config.TextColumn(help="The later figure less the earlier one"),
        },
        height=35 * (min(len(shown), ROWS_IN_VIEW) + 1) + 3,  # up to ROWS_IN_VIEW rows in view, as the board reads it
        on_select="rerun",
        selection_mode="single-row",
        key="compare-months-table",
    )
    selected = event.selection.rows if event is not None else []
    if selected:
        ui.open_indicator(pages, str(shown.loc[selected[0], "indicator"]), after)


@st.cache_data(show_spinner=False, max_entries=16)
def _compared(url: str, version: int, config: str, modified: float | None, before: int, after: int) -> pd.DataFrame:
    """:func:`compare`, once per data version and pair of months: it formats every indicator's
    figures one by one (0.3-1.3 s at 2,250 indicators)."""
    earlier, later = (state.kpi_table(url, version, config, modified, month) for month in (before, after))
    return compare(earlier, later, state.catalogue(), before, after)


def columns(before: int, after: int) -> list[str]:
    """The month columns: ``Actual, Oct 2020``, ``RAG, Oct 2020``, ... then the change."""
    a, b = periods.month_name(before), periods.month_name(after)
    return [f"Actual, {a}", f"RAG, {a}", f"Actual, {b}", f"RAG, {b}", "Change", "Rating"]


def compare(earlier: pd.DataFrame, later: pd.DataFrame, catalogue: Catalogue, before: int, after: int) -> pd.DataFrame:
    """One row per indicator, in report order: both months' actual (with its period) and
    rating, the change, and the rating's move (``✖ Red → ▲ Amber``, or ``same``)."""
    merged = later.merge(
        earlier[["indicator", "actual", "period", "rag_target", "rag_last_year", "target"]],
        on="indicator",
        suffixes=("", "_before"),
    )
    names = {w.id: w.name for w in catalogue.workstreams}
    indicators = merged["indicator"].map(catalogue.indicator)
    rag_before = _headline(merged["rag_target_before"], merged["rag_last_year_before"], merged["target_before"])
    rag_after = _headline(merged["rag_target"], merged["rag_last_year"], merged["target"])
    labels = columns(before, after)
    return pd.DataFrame(
        {
            "indicator": merged["indicator"],
            "rag_before": rag_before,
            "rag_after": rag_after,
            "Workstream": merged["workstream"].map(names),
            "Indicator": merged["name"],
            labels[0]: _actual(merged["actual_before"], merged["period_before"], indicators),
            labels[1]: rag_before.map(rag_label),
            labels[2]: _actual(merged["actual"], merged["period"], indicators),
            labels[3]: rag_after.map(rag_label),
            "Change": [
                _change(a, b, p, q, ind)
                for a, b, p, q, ind in zip(
                    merged["actual_before"],
                    merged["actual"],
                    merged["period_before"],
                    merged["period"],
                    indicators,
                    strict=True,
                )
            ],
            "Rating": [
                "same" if x == y else f"{rag_label(x)} → {rag_label(y)}"
                for x, y in zip(rag_before, rag_after, strict=True)
            ],
        }
    )


def _headline(rag_target: pd.Series, rag_last_year: pd.Series, target: pd.Series) -> pd.Series:
    """The rating a tile shows: against target, or against last year where there is no target."""
    return rag_target.where(target.notna(), rag_last_year).fillna("n/a")


def _actual(values: pd.Series, months: pd.Series, indicators: pd.Series) -> list[str]:
    return [
        "no data"
        if pd.isna(p)
        else f"{formatting.with_unit(v, ind.unit.value, ind.decimals)} ({periods.month_name(periods.parse_period(p))})"
        for v, p, ind in zip(values, months, indicators, strict=True)
    ]


def _change(before: float, after: float, period_before: str | None, period_after: str | None, indicator) -> str:
    """The later figure less the earlier, in the indicator's unit (percentage points for a
    percentage); ``no newer figure`` where both months show the same period."""
    if pd.isna(period_before) or pd.isna(period_after):
        return "-"
    if period_before == period_after:
        return "no newer figure"
    difference = after - before
    if indicator.unit is Unit.PERCENT:
        text = formatting.number(difference, indicator.decimals) + " pp"
    else:
        text = formatting.with_unit(difference, indicator.unit.value, indicator.decimals)
    return text if text.startswith("-") or difference == 0 else "+" + text
