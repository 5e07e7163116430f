"""The sidebar every page shares: the as-at month, the financial year, data freshness and
who is signed in."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from app import state, ui
from kpis import periods
from kpis.access import AccessPolicy
from kpis.catalogue import Catalogue

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
        in_force = view.sample_values_in_force()
        if in_force:
            sidebar.warning(
                f"**Illustrative sample data**: {in_force:,} of {len(view.observations()):,} values in force are "
                "sample figures, not real ones.",
                icon=":material/science:",
            )
    sidebar.caption(f"Signed in: **{ui.plain(user.name)}** ({user.role}, {user.how})")
    if policy.authentication == "oidc":
        sidebar.button("Sign out", icon=":material/logout:", on_click=st.logout)


SEARCH_KEY, SEARCH_TARGET_KEY, SEARCH_MISS_KEY = "indicator-search", "indicator-search-target", "indicator-search-miss"


def search_label(catalogue: Catalogue, indicator_id: str) -> str:
    """``Total non-elective admissions · nel_admissions, NEL``: what the search matches, by
    name, id or alias (an unknown typed text shows as typed)."""
    found = catalogue.lookup(indicator_id)
    if found is None:
        return indicator_id
    return f"{found.name} · {', '.join((found.id, *found.aliases))}"


def _searched() -> None:
    """The choice, kept for after the menu is made (a page can be opened only then), and
    the box emptied for the next search."""
    st.session_state[SEARCH_TARGET_KEY] = st.session_state[SEARCH_KEY]
    st.session_state[SEARCH_KEY] = None


def indicator_search(box: DeltaGenerator, catalogue: Catalogue) -> None:
    """A search box in the sidebar: an indicator by name, id or alias (typed in full, any case)."""
    box.selectbox(
        "Find an indicator",
        catalogue.indicator_ids,
        index=None,
        key=SEARCH_KEY,
        format_func=lambda code: search_label(catalogue, code),
        placeholder="Name, id or alias",
        accept_new_options=True,
        on_change=_searched,
        help="Type part of an indicator's name, its id or an alias, then choose it to open its page.",
    )
    miss = st.session_state.pop(SEARCH_MISS_KEY, None)
    if miss:
        box.warning(miss, icon=":material/search_off:")


def open_searched(view: state.View, pages: state.Pages) -> None:
    """Open the indicator last chosen in the search (after the menu is made), keeping the as-at month."""
    target = st.session_state.pop(SEARCH_TARGET_KEY, None)
    if not target:
        return
    found = view.catalogue.lookup(str(target))
    named = [i for i in view.catalogue.indicators if str(target).strip().casefold() in i.name.casefold()]
    if found is None and len(named) == 1:  # typed text, then Enter: a part of one name is enough
        found = named[0]
    if found is None:
        st.session_state[SEARCH_MISS_KEY] = ui.plain(
            f"{len(named)} indicators have '{target}' in their name: choose one from the list."
            if named
            else f"No indicator is named '{target}': {view.catalogue.unknown_code_hint(str(target))}"
        )
        st.rerun()
    ui.open_indicator(pages, found.id, view.as_at)
