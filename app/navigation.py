"""The pages, made from the catalogue and the user's role: the overview and the risk
register, one page per workstream (a new workstream in the YAML is a new page), the
indicator and export pages, and the officers' pages (extracts, data status, narrative,
risk editing). A page the role may not use is left out of the menu; its URL still
answers, with a refusal (and the page itself checks the right again)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app import access, state
from app.pages import (
    compare_areas,
    data_status,
    export,
    indicator,
    narrative,
    overview,
    risk_edit,
    risks,
    summary,
    upload,
    workstream,
)
from kpis.access import Right

INDICATOR_PATH = "indicator"
UPLOAD_PATH = "upload"
DATA_STATUS_PATH = "data-status"
NARRATIVE_PATH = "narrative"
RISKS_PATH = "risks"
RISK_EDIT_PATH = "edit-risks"
COMPARE_AREAS_PATH = "compare-areas"
SUMMARY_PATH = "integrated-summary"  # a hyphen: never a workstream id


def _page(render: Callable[[], None], **options: object) -> st.Page:
    return st.Page(render, **options)


def _guarded(user: state.User, right: Right, render: Callable[[], None], **options: object) -> st.Page:
    """The page for a user with ``right``; for anyone else a hidden page at the same URL
    that refuses."""
    if user.can(right):
        return _page(render, **options)
    return _page(lambda: access.allowed(user, right), **{**options, "visibility": "hidden"})


def build(view: state.View, user: state.User) -> dict[str, list[st.Page]]:
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
    pages["summary"] = _page(
        lambda: summary.render(view, pages),
        title="Integrated performance summary",
        icon=":material/grid_view:",
        url_path=SUMMARY_PATH,
    )
    for ws in view.catalogue.workstreams:
        pages[ws.id] = _page(
            lambda ws_id=ws.id: workstream.render(view, pages, ws_id, user),
            title=ws.name,
            icon=":material/table_chart:",
            url_path=ws.id,
        )
    pages["compare_areas"] = _page(
        lambda: compare_areas.render(view, pages),
        title="Compare areas",
        icon=":material/public:",
        url_path=COMPARE_AREAS_PATH,
    )
    pages["export"] = _page(
        lambda: export.render(view, pages), title="Export", icon=":material/download:", url_path="export"
    )
    pages["upload"] = _guarded(
        user,
        Right.UPLOAD,
        lambda: upload.render(view, pages, user),
        title="Load an extract",
        icon=":material/upload_file:",
        url_path=UPLOAD_PATH,
    )
    pages["data_status"] = _guarded(
        user,
        Right.DATA_STATUS,
        lambda: data_status.render(view, pages, user),
        title="Data status",
        icon=":material/fact_check:",
        url_path=DATA_STATUS_PATH,
    )
    pages["risks"] = _page(
        lambda: risks.render(view, pages, user), title="Risks", icon=":material/warning:", url_path=RISKS_PATH
    )
    pages["narrative"] = _guarded(
        user,
        Right.EDIT_NARRATIVE,
        lambda: narrative.render(view, pages, user),
        title="Write progress",
        icon=":material/edit_note:",
        url_path=NARRATIVE_PATH,
    )
    pages["risk_edit"] = _guarded(
        user,
        Right.EDIT_RISKS,
        lambda: risk_edit.render(view, pages, user),
        title="Edit risks",
        icon=":material/edit:",
        url_path=RISK_EDIT_PATH,
    )
    sections = {
        "Report": [pages["overview"], pages["summary"], pages["risks"]],
        "Workstreams": [pages[ws.id] for ws in view.catalogue.workstreams],
        "Explore": [pages["indicator"], pages["export"]],
        "Data": [pages["upload"], pages["data_status"]],
        "Words": [pages["narrative"], pages["risk_edit"]],
        # Last, so the menu's first ten links stay as they were (the rest fold under "View more");
        # the workstream pages link here too.
        "Benchmarking": [pages["compare_areas"]],
    }
    return sections
