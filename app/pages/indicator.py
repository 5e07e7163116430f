"""One indicator in depth: its whole history with a range selector, its SPC chart (Making
Data Count) beside its RAG, its definition from the catalogue, and every stored value with
its revisions; and, in the Inequalities tab, its figures by group (:mod:`app.inequalities`)."""

from __future__ import annotations

import streamlit as st

from app import inequalities, state, ui
from kpis import periods
from kpis.catalogue import Indicator, code_slug
from kpis.report import charts, formatting, integrated, presentation
from kpis.report.icons import icons_html

TAB_KEY, OVERVIEW_TAB, INEQUALITIES_TAB = "tab", "Overview", "Inequalities"  # ?tab=Inequalities opens it


def _chosen(view: state.View) -> str:
    """The indicator the URL's ``?id=`` names (an id or alias, any case; Streamlit quotes
    and unquotes it), else the first; the URL then carries the id as the catalogue spells it.
    Widget keys carry the id only as a slug."""
    ids = view.catalogue.indicator_ids
    wanted = view.catalogue.lookup(st.query_params.get(ui.INDICATOR_PARAM) or "")
    default = ids.index(wanted.id) if wanted else 0
    names = {i.id: f"{i.name}" for i in view.catalogue.indicators}
    chosen = st.selectbox(
        "Indicator",
        ids,
        index=default,
        format_func=names.__getitem__,
        key=f"indicator-choice-{code_slug(ids[default])}",
    )
    st.query_params[ui.INDICATOR_PARAM] = chosen
    return chosen


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    indicator_id = _chosen(view)
    indicator = view.catalogue.indicator(indicator_id)
    ws = view.catalogue.workstream(indicator.workstream)
    st.title(indicator.name, help=presentation.glossary_help(view.catalogue.glossary, indicator.name))
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
    table = view.table()
    row = table[table["indicator"] == indicator_id].iloc[0]
    ui.sample_notice(view, table[table["indicator"] == indicator_id])
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
        ui.chart(
            figure,
            f"history-{code_slug(indicator_id)}",
            f"{indicator.display_name}, every stored value with its target and last year's; latest "
            f"{formatting.with_unit(row['actual'], unit, d)} ({row['period_label']}), {row['rag_target']} against "
            "target.",
        )

    with st.container(key="spc-section"):
        _spc(view, indicator, row)

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


def _spc(view: state.View, indicator: Indicator, row) -> None:
    """The SPC chart of the indicator's monthly values, its two icons with their words, and
    its RAG beside them."""
    st.subheader("Statistical process control")
    slug = code_slug(indicator.id)
    position = view.catalogue.indicator_ids.index(indicator.id)
    for problem in integrated.check_rebases(view.catalogue, view.observations()):
        if problem.location.startswith(f"indicators[{position}]."):
            st.warning(f"The catalogue's SPC settings: {problem}", icon=":material/warning:")
    spc = view.spc_table().set_index("indicator").loc[indicator.id]
    icons, rag = st.columns([3, 2])
    icons.html(
        f"<div class='spc-icons'>{icons_html(str(spc['variation']), str(spc['assurance']), 30, as_images=True)}</div>"
    )
    with rag:
        ui.rag_badge(row["rag_target"], " against target (RAG)")
    series = charts.spc_series(view.spc(), view.catalogue, indicator.id)
    if series.empty:
        st.caption("No values yet: no SPC chart.")
        return
    if spc["spc_reason"]:
        st.caption(f"Limits: {spc['spc_reason']}.")
    two_sigma = st.toggle("Show the 2-sigma lines", key=f"spc-2sigma-{slug}")
    target_line = charts.spc_target_line(view.catalogue, indicator.id, int(series["period"].min()), view.as_at)
    figure = charts.spc_figure(series, target_line, indicator, show_2sigma=two_sigma)
    latest = series.iloc[-1]
    ui.chart(
        figure,
        f"spc-{slug}",
        f"SPC chart of {indicator.display_name}'s monthly values with their mean and process limits; latest "
        f"{formatting.with_unit(latest['value'], indicator.unit.value, indicator.decimals)} "
        f"({periods.label(int(latest['period']))}); variation: {spc['variation']}, assurance: {spc['assurance']}.",
    )
    settings = view.catalogue.spc_for(indicator)
    summed = indicator.aggregation in integrated.ACCUMULATED
    st.caption(
        f"Each period's own value up to {periods.label(view.as_at)}, never a year-to-date or rolling figure; "
        f"mean and process limits (mean ± 2.66 × the average moving range) per segment"
        + (f", rebased at {', '.join(settings.rebase)}" if settings.rebase else "")
        + f". Special causes: a point beyond a limit, {settings.shift} in a row on one side of the mean, a trend of "
        f"{settings.trend}, two of three beyond a 2-sigma line. "
        + (
            "The target is for the year-to-date or rolling sum, not a month: no assurance."
            if summed
            else "Assurance: the target in force at the latest point against the limits."
        )
    )
