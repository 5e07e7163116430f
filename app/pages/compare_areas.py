"""Compare areas: the home area against England, the region and its neighbours for every
indicator of a workstream (a "tartan rug" coloured by comparison), and one indicator's
areas with their intervals. Made by :mod:`kpis.report.benchmark_views`."""

from __future__ import annotations

import streamlit as st

from app import state, ui
from kpis import periods
from kpis.report import benchmark_views as views
from kpis.report import benchmarking

WORKSTREAM_KEY, INDICATOR_KEY = "compare-workstream", "compare-indicator"
LEGEND = (
    "Each area's latest figure up to the report month, compared with the benchmark (England): ▲ better, "
    "● similar (England's value is inside the area's 95% confidence interval), ▼ worse; – not compared "
    "(no interval or no benchmark figure). * : a count too small to show."
)


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    st.title("Compare areas")
    catalogue = view.catalogue
    if view.empty:
        ui.no_data()
        return
    compared, _ = view.benchmarks()
    latest = benchmarking.latest_periods(compared[compared["breakdown"] == ""], view.as_at)
    names = {w.id: w.name for w in catalogue.workstreams}
    with_areas = [w for w in names if not views.tartan_rug(latest, catalogue, w)[0].empty]
    if not with_areas:
        st.info("No figures for other areas have been loaded yet.", icon=":material/public:")
        return
    wanted = st.query_params.get(ui.WORKSTREAM_PARAM)
    workstream = st.selectbox(
        "Workstream",
        with_areas,
        index=with_areas.index(wanted) if wanted in with_areas else 0,
        format_func=names.__getitem__,
        key=WORKSTREAM_KEY,
    )
    st.markdown(f"**As at {periods.label(view.as_at)}** ({periods.month_name(view.as_at)})")
    st.caption(LEGEND)
    values, words = views.tartan_rug(latest, catalogue, workstream)
    styled = values.style.apply(lambda column: [views.cell_style(w) for w in words[column.name]], axis=0)
    st.dataframe(styled, hide_index=True, key=f"tartan-{workstream}")

    ids = [i.id for i in catalogue.in_workstream(workstream) if i.display_name in set(values["Indicator"])]
    chosen = st.selectbox(
        "Indicator", ids, format_func=lambda i: catalogue.indicator(i).display_name, key=INDICATOR_KEY
    )
    indicator = catalogue.indicator(chosen)
    st.subheader(indicator.display_name)
    home = values[values["Indicator"] == indicator.display_name].iloc[0]
    ui.chart(
        views.areas_chart(latest, catalogue, indicator),
        "compare-areas-chart",
        f"{indicator.display_name} in each area, its latest figure with its 95% confidence interval; "
        + ", ".join(f"{column} {home[column]}" for column in values.columns if column != "Indicator")
        + ".",
    )
