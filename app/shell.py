"""The sidebar every page shares: the as-at month, the financial year, data freshness and
who is signed in."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import state, ui
from kpis import periods
from kpis.access import AccessPolicy

AS_AT_KEY = "as_at_month"


def _from_query(months: tuple[int, ...]) -> int | None:
    text = st.query_params.get(state.AS_AT_PARAM)
    try:
        month = periods.parse_period(text) if text else None
    except periods.PeriodError:
        return None
    return month if month in months else None


def as_at_selector(months: tuple[int, ...], report_month: int | None) -> int:
    """The as-at month: the report month (every figure due in, allowing for each
    indicator's lag) unless chosen (or given in the URL as ``?as_at=2020-10``). Every page
    follows it."""
    if not months:
        return periods.current_month()
    options = list(reversed(months))
    if AS_AT_KEY not in st.session_state or st.session_state[AS_AT_KEY] not in options:
        default = report_month if report_month in options else options[0]
        st.session_state[AS_AT_KEY] = _from_query(months) or default
    as_at = st.sidebar.selectbox("As at month", options, key=AS_AT_KEY, format_func=state.month_option)
    st.query_params[state.AS_AT_PARAM] = periods.to_text(as_at)
    return as_at


def status(view: state.View, user: state.User, policy: AccessPolicy) -> None:
    """Financial year, data freshness and the signed-in user."""
    sidebar = st.sidebar
    if not view.empty:
        sidebar.markdown(
            f"**Financial year {periods.financial_year(view.as_at)}**, month {periods.fy_month(view.as_at)} of 12"
        )
        latest = view.extracts().iloc[0]
        loaded = pd.Timestamp(latest["loaded_at"]).strftime("%-d %b %Y")
        sidebar.caption(
            f"Latest extract {loaded}, by {ui.plain(latest['loaded_by'])} ({ui.plain(latest['file_name'])}); "
            f"data version {view.version}."
        )
        if (view.extracts()["loaded_by"] == "sample data (illustrative)").all():
            sidebar.warning("Showing the **illustrative sample data**, not real figures.", icon=":material/info:")
    sidebar.caption(f"Signed in: **{ui.plain(user.name)}** ({user.role}, {user.how})")
    if policy.authentication == "oidc":
        sidebar.button("Sign out", icon=":material/logout:", on_click=st.logout)
