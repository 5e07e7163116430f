"""The pages, made from the catalogue and the user's role: the overview and the risk
register, one page per workstream (a new workstream in the YAML is a new page), the
indicator and export pages, and the officers' pages (extracts, data status, narrative,
risk editing). A page the role may not use is left out of the menu; its URL still
answers, with a refusal (and the page itself checks the right again)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import streamlit as st

from app import access, state
from app.pages import (
    compare_areas,
    compare_months,
    data_status,
    export,
    glossary,
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
from kpis.catalogue import Catalogue

INDICATOR_PATH = "indicator"
UPLOAD_PATH = "upload"
DATA_STATUS_PATH = "data-status"
NARRATIVE_PATH = "narrative"
RISKS_PATH = "risks"
RISK_EDIT_PATH = "edit-risks"
COMPARE_AREAS_PATH = "compare-areas"
COMPARE_MONTHS_PATH = "compare-months"
GLOSSARY_PATH = "glossary"
SUMMARY_PATH = "integrated-summary"  # a hyphen: never a workstream id


@dataclass(frozen=True)
class PageRow:
    """One page: the key other pages link to it by (``pages["indicator"]``), its URL path,
    its menu section, title and icon, the right it needs (None: everyone) and what draws it."""

    key: str
    path: str
    section: str
    title: str
    icon: str
    render: state.Render
    right: Right | None = None
    default: bool = False
    hidden: bool = False  # reachable by its URL only, not in the menu


def page_table(catalogue: Catalogue) -> list[PageRow]:
    """Every page, in the menu's order."""
    return [
        PageRow("overview", "home", "Report", "Overview", ":material/dashboard:", overview.render, default=True),
        # The default page answers at "/" only: the same page at /overview, for bookmarks and links.
        PageRow("overview_url", "overview", "Report", "Overview", ":material/dashboard:", overview.render, hidden=True),
        PageRow(
            "summary", SUMMARY_PATH, "Report", "Integrated performance summary", ":material/grid_view:", summary.render
        ),
        PageRow("risks", RISKS_PATH, "Report", "Risks", ":material/warning:", risks.render),
        *(
            PageRow(
                ws.id,
                ws.id,
                "Workstreams",
                ws.name,
                ":material/table_chart:",
                partial(workstream.render, workstream_id=ws.id),
            )
            for ws in catalogue.workstreams
        ),
        PageRow("indicator", INDICATOR_PATH, "Explore", "Indicator", ":material/query_stats:", indicator.render),
        PageRow(
            "compare_months",
            COMPARE_MONTHS_PATH,
            "Explore",
            "Compare months",
            ":material/compare_arrows:",
            compare_months.render,
        ),
        PageRow("export", "export", "Explore", "Export", ":material/download:", export.render),
        PageRow(
            "upload", UPLOAD_PATH, "Data", "Load an extract", ":material/upload_file:", upload.render, Right.UPLOAD
        ),
        PageRow(
            "data_status",
            DATA_STATUS_PATH,
            "Data",
            "Data status",
            ":material/fact_check:",
            data_status.render,
            Right.DATA_STATUS,
        ),
        PageRow(
            "narrative",
            NARRATIVE_PATH,
            "Words",
            "Write progress",
            ":material/edit_note:",
            narrative.render,
            Right.EDIT_NARRATIVE,
        ),
        PageRow(
            "risk_edit", RISK_EDIT_PATH, "Words", "Edit risks", ":material/edit:", risk_edit.render, Right.EDIT_RISKS
        ),
        # Last, so the menu's first ten links stay as they were (the rest fold under "View more");
        # the workstream pages link here too.
        PageRow(
            "compare_areas",
            COMPARE_AREAS_PATH,
            "Benchmarking",
            "Compare areas",
            ":material/public:",
            compare_areas.render,
        ),
        PageRow("glossary", GLOSSARY_PATH, "Help", "Glossary", ":material/menu_book:", glossary.render),
    ]


def _page(row: PageRow, view: state.View, pages: state.Pages, user: state.User) -> st.Page:
    """The page of ``row`` for ``user``; for a user without its right, a hidden page at the
    same URL that refuses."""
    if row.right is None or user.can(row.right):
        return st.Page(
            partial(row.render, view, pages, user),
            title=row.title,
            icon=row.icon,
            url_path=row.path,
            default=row.default,
            visibility="hidden" if row.hidden else "visible",
        )
    right = row.right
    return st.Page(
        lambda: access.refuse(user, right), title=row.title, icon=row.icon, url_path=row.path, visibility="hidden"
    )


def build(view: state.View, user: state.User, pages: state.Pages | None = None) -> dict[str, list[st.Page]]:
    """The navigation, by section. Each page renders from ``view``; ``pages`` (if given)
    is filled with the pages by key, for the sidebar's links."""
    pages = {} if pages is None else pages
    sections: dict[str, list[st.Page]] = {}
    for row in page_table(view.catalogue):
        pages[row.key] = _page(row, view, pages, user)
        sections.setdefault(row.section, []).append(pages[row.key])
    return sections
