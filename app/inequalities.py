"""The indicator page's Inequalities tab: each group's figure with its interval against
the area's whole population, the slope index of inequality in words and over time, and
each group's trend. Everything shown is made by :mod:`kpis.report.benchmark_views`."""

from __future__ import annotations

import streamlit as st

from app import state
from kpis import periods
from kpis.catalogue import Indicator, code_slug
from kpis.report import benchmark_views as views
from kpis.report import benchmarking

LEGEND = (
    "Bars: each group's value with its 95% confidence interval (the whisker). Colour, symbol and word: the group "
    "compared with the area as a whole (solid line): ▲ better, ● similar (the area's value is inside the group's "
    "interval), ▼ worse. Dashed line: England. * : a count too small to show."
)


def render(view: state.View, indicator: Indicator) -> None:
    catalogue = view.catalogue
    if not indicator.breakdowns:
        st.info("No breakdowns are declared for this indicator in the catalogue.", icon=":material/groups:")
        return
    compared, every = view.benchmarks()
    own = compared[(compared["indicator"] == indicator.id) & (compared["period"] <= view.as_at)]
    if own[own["breakdown"] != ""].empty:
        st.info("No figures by group have been loaded for this indicator yet.", icon=":material/groups:")
        return
    slug = code_slug(indicator.id)
    names = {b: catalogue.breakdown(b).name for b in indicator.breakdowns}
    left, right = st.columns(2)
    breakdown_id = left.selectbox("Breakdown", list(names), format_func=names.get, key=f"ineq-breakdown-{slug}")
    breakdown = catalogue.breakdown(breakdown_id)
    areas = [c for c in views.area_order(catalogue) if c in set(own.loc[own["breakdown"] == breakdown_id, "area"])]
    if not areas:
        st.info(f"No figures by {breakdown.name.lower()} yet.")
        return
    area = right.selectbox("Area", areas, format_func=catalogue.area_names.get, key=f"ineq-area-{slug}")
    rows = own[(own["breakdown"] == breakdown_id) & (own["area"] == area)]
    period = int(rows["period"].max())
    area_name = catalogue.area_names.get(area, area)

    if breakdown.ordered:
        sii = every[
            (every["indicator"] == indicator.id) & (every["breakdown"] == breakdown_id) & (every["period"] <= period)
        ]
        now = sii[(sii["area"] == area) & (sii["period"] == period)]
        st.markdown(
            "**" + views.sii_sentence(now.iloc[0] if len(now) else None, indicator, breakdown, area_name) + "**"
        )
        change = benchmarking.sii_change(sii[sii["area"] == area], period)
        if len(change):
            st.caption(f"Against a year before: {views.change_label(str(change['change'].iloc[0]))}.")

    st.subheader(f"{breakdown.name}, {periods.label(period)}")
    st.caption(LEGEND)
    st.plotly_chart(
        views.group_bars(compared, catalogue, indicator, breakdown, area, period),
        key=f"ineq-bars-{slug}",
        config={"displayModeBar": False},
    )
    if breakdown.ordered and len(sii):
        st.subheader("The gap over time")
        st.caption(
            "Slope index of inequality: the modelled gap between the least and the most deprived ends, with its "
            "95% interval (shaded). Further from 0: widening; nearer 0: narrowing."
        )
        shown = sii[sii["area"].isin([area, "E92000001"])]
        st.plotly_chart(
            views.sii_over_time(shown, indicator, catalogue.area_names),
            key=f"ineq-sii-{slug}",
            config={"displayModeBar": False},
        )
    st.subheader("Each group over time")
    st.plotly_chart(
        views.group_trends(compared, indicator, breakdown, area),
        key=f"ineq-trends-{slug}",
        config={"displayModeBar": False},
    )
