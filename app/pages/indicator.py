"""One indicator in depth: its whole history with a range selector, its definition from
the catalogue, and every stored value with its revisions; and, in the Inequalities tab,
its figures by group (:mod:`app.pages.inequalities`)."""

from __future__ import annotations

import streamlit as st

from app import state, ui
from app.pages import inequalities
from kpis import charts, formatting, periods, presentation
from kpis.catalogue import code_slug

ID_PARAM = "id"
TAB_KEY, OVERVIEW_TAB, INEQUALITIES_TAB = "tab", "Overview", "Inequalities"  # ?tab=Inequalities opens it


def _chosen(view: state.View) -> str:
    """The indicator the URL's ``?id=`` names (an id or alias, any case; Streamlit quotes
    and unquotes it), else the first; the URL then carries the id as the catalogue spells it.
    Widget keys carry the id only as a slug."""
    ids = view.catalogue.indicator_ids
    wanted = view.catalogue.lookup(st.query_params.get(ID_PARAM) or "")
    default = ids.index(wanted.id) if wanted else 0
    names = {i.id: f"{i.name}" for i in view.catalogue.indicators}
    chosen = st.selectbox(
        "Indicator", ids, index=default, format_func=names.get, key=f"indicator-choice-{code_slug(ids[default])}"
    )
    st.query_params[ID_PARAM] = chosen
    return chosen


def render(view: state.View, pages: dict) -> None:
    indicator_id = _chosen(view)
    indicator = view.catalogue.indicator(indicator_id)
    ws = view.catalogue.workstream(indicator.workstream)
    st.title(indicator.name)
    st.page_link(pages[ws.id], label=ws.name, icon=":material/arrow_back:")
    if view.empty:
        ui.no_data()
        return
    overview_tab, inequalities_tab = st.tabs(
        [OVERVIEW_TAB, INEQUALITIES_TAB], key=TAB_KEY, on_change="rerun", bind="query-params"
    )
    # Lazy tabs, as on the workstream page: only the open one is computed.
    if overview_tab.open:
        with overview_tab:
            _overview(view, indicator_id)
    if inequalities_tab.open:
        with inequalities_tab:
            inequalities.render(view, indicator)


def _overview(view: state.View, indicator_id: str) -> None:
    indicator = view.catalogue.indicator(indicator_id)
    row = view.table().set_index("indicator").loc[indicator_id]
    unit, d = indicator.unit.value, indicator.decimals
    left, middle, right = st.columns(3)
    left.metric(
        f"Actual, {row['period_label'] if isinstance(row['period_label'], str) else 'no data'}",
        formatting.with_unit(row["actual"], unit, d),
    )
    middle.metric("Target", formatting.with_unit(row["target"], unit, d))
    right.metric("Same period last year", formatting.with_unit(row["last_year"], unit, d))
    with left:
        ui.rag_badge(row["rag_target"], " against target")
    with right:
        ui.rag_badge(row["rag_last_year"], f" against last year ({row['trend']})")

    series = charts.indicator_series(view.observations(), view.catalogue, indicator_id)
    if series.empty:
        st.caption("No values stored yet for this indicator.")
    else:
        figure = charts.indicator_figure(
            series,
            view.catalogue,
            indicator_id,
            view.as_at,
            presentation.headline_rating(row),
            months=None,
            height=420,
            range_selector=True,
        )
        st.plotly_chart(figure, key=f"history-{code_slug(indicator_id)}", config={"displayModeBar": False})

    st.subheader("Definition")
    owner = view.catalogue.owners.get(indicator.owner or "", indicator.owner or "not set")
    target_text = indicator.target.describe() if indicator.target else "none"
    st.markdown(
        f"{indicator.description or '_No description in the catalogue._'}\n\n"
        f"| | |\n|---|---|\n"
        f"| Direction | {indicator.direction.value} is better |\n"
        f"| Unit | {unit} |\n"
        f"| Frequency | {indicator.frequency.value} |\n"
        f"| Aggregation | {indicator.aggregation.value.replace('_', ' ')} |\n"
        f"| Target | {target_text} |\n"
        f"| Tolerance (Amber band) | {view.catalogue.tolerance_for(indicator):.0%} |\n"
        f"| Owner | {ui.plain(owner)} |\n"
        f"| Source | {indicator.source or 'not set'} |\n"
        f"| Id (for extracts) | `{indicator.id}` |"
        + (f"\n| Aliases | {', '.join(f'`{a}`' for a in indicator.aliases)} |" if indicator.aliases else "")
    )

    st.subheader("Values and revisions")
    notes = presentation.revision_notes(view.history(indicator_id), indicator)
    st.caption(f"As stored, newest period first. Periods up to {periods.label(view.as_at)} count for this report.")
    st.dataframe(
        notes,
        hide_index=True,
        key=f"values-{code_slug(indicator_id)}",
        column_config={"History": st.column_config.TextColumn(width="large")},
    )
