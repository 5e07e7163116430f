"""The pages, made from the catalogue: the overview, one page per workstream (a new
workstream in the YAML is a new page), and the indicator page."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app import state
from app.pages import indicator, overview, workstream

INDICATOR_PATH = "indicator"


def _page(render: Callable[[], None], **options: object) -> st.Page:
    return st.Page(render, **options)


def build(view: state.View) -> dict[str, list[st.Page]]:
    """The navigation, by section. Each page renders from ``view``."""
    pages: dict[str, st.Page] = {}
    pages["indicator"] = _page(
        lambda: indicator.render(view, pages), title="Indicator", icon=":material/query_stats:", url_path=INDICATOR_PATH
    )
    pages["overview"] = _page(
        lambda: overview.render(view, pages),
        title="Overview",
        icon=":material/dashboard:",
        url_path="overview",
        default=True,
    )
    for ws in view.catalogue.workstreams:
        pages[ws.id] = _page(
            lambda ws_id=ws.id: workstream.render(view, pages, ws_id),
            title=ws.name,
            icon=":material/table_chart:",
            url_path=ws.id,
        )
    return {
        "Report": [pages["overview"]],
        "Workstreams": [pages[ws.id] for ws in view.catalogue.workstreams],
        "Explore": [pages["indicator"]],
    }
