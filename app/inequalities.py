"""The indicator page's Inequalities tab: each group's figure with its interval against
the area's whole population, the slope index of inequality in words and over time, and
each group's trend. Everything shown is made by :mod:`kpis.report.benchmark_views`."""

from __future__ import annotations

import streamlit as st

from app import state, ui
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
    breakdown_id = left.selectbox("Breakdown", list(names), format_func=names.__getitem__, key=f"ineq-breakdown-{slug}")
    breakdown = catalogue.breakdown(breakdown_id)
    areas = [c for c in views.area_order(catalogue) if c in set(own.loc[own["breakdown"] == breakdown_id, "area"])]
    if not areas:
        st.info(f"No figures by {breakdown.name.lower()} yet.")
        return
    area = right.selectbox("Area", areas, format_func=catalogue.area_names.__getitem__, key=f"ineq-area-{slug}")
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
    ui.chart(
        views.group_bars(compared, catalogue, indicator, breakdown, area, period),
        f"ineq-bars-{slug}",
        f"{indicator.display_name} in {area_name} by {breakdown.name}, {periods.label(period)}: each group's figure "
        f"with its 95% confidence interval, against the whole area and England; {_group_values(rows, period, breakdown)}.",
    )
    if breakdown.ordered and len(sii):
        st.subheader("The gap over time")
        st.caption(
            "Slope index of inequality: the modelled gap between the least and the most deprived ends, with its "
            "95% interval (shaded). Further from 0: widening; nearer 0: narrowing."
        )
        shown = sii[sii["area"].isin([area, "E92000001"])]
        ui.chart(
            views.sii_over_time(shown, indicator, catalogue.area_names),
            f"ineq-sii-{slug}",
            f"the slope index of inequality of {area_name} and England over time, up to {periods.label(period)}.",
        )
    st.subheader("Each group over time")
    ui.chart(
        views.group_trends(compared, indicator, breakdown, area),
        f"ineq-trends-{slug}",
        f"each {breakdown.name} group's figure over time in {area_name}, the latest ({periods.label(period)}) "
        f"as in the bars above.",
    )


def _group_values(rows, period: int, breakdown) -> str:
    """``1 (most deprived) 12.3, 2 10.1, ...``: each group's figure in the period, as stored."""
    own = rows[rows["period"] == period]
    shown = [f"{breakdown.group_name(str(g))} {v:g}" for g, v in zip(own["group"], own["value"], strict=True) if v == v]
    return ", ".join(shown) or "no figures"
