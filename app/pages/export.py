"""Analysts take the KPI tables and RAG summaries away (CSV, an Excel workbook) and the
board pack (HTML, PDF, PowerPoint), for the as-at month, all workstreams or one, with the figures as
they stand now or as the month's report was published. The files come from the same
engine as the screens. The pack is made when its button is clicked (a PDF takes seconds),
the tables straight away."""

from __future__ import annotations

from datetime import date
from functools import partial

import streamlit as st

from app import state, ui
from kpis import periods
from kpis.governance import risks
from kpis.publish import contents, formats

WORKSTREAM_KEY = "export_workstream"
PUBLISHED_KEY = "export_as_published"
LABELS = {
    "csv": "CSV (the KPI table)",
    "xlsx": "Excel workbook (summary, a sheet per workstream, key)",
    "html": "Board pack, HTML (opens in a browser; prints A4 landscape)",
    "pdf": "Board pack, PDF",
    "pptx": "Board pack, PowerPoint (a slide per section, charts with alt text)",
}
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
TABLES, PACK = ("csv", "xlsx"), ("html", "pdf", "pptx")


@st.cache_data(show_spinner=False, max_entries=8)
def _data(
    url: str, version: int, config: str, modified: float | None, as_at: int, as_published: bool
) -> contents.ExportData:
    return contents.export_data(state.engine(url), state.catalogue(), as_at, as_published)


@st.cache_data(show_spinner=False, max_entries=32)
def _file(
    url: str,
    version: int,
    config: str,
    modified: float | None,
    as_at: int,
    as_published: bool,
    workstream: str | None,
    fmt: str,
) -> bytes:
    data = _data(url, version, config, modified, as_at, as_published)
    return formats.export_bytes(data, state.catalogue(), fmt, workstream)


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    st.title("Export")
    if view.empty:
        st.info("Nothing to export yet: no extract has been loaded.", icon=":material/info:")
        return
    names: dict[str | None, str] = {None: "All workstreams", **{w.id: w.name for w in view.catalogue.workstreams}}
    left, right = st.columns([2, 1])
    workstream = left.selectbox("Workstreams", list(names), format_func=names.__getitem__, key=WORKSTREAM_KEY)
    as_published = right.toggle(
        "As published",
        key=PUBLISHED_KEY,
        help="The figures as they stood when this month's report went out (before the next month's data "
        "arrived), leaving out revisions loaded since.",
    )
    key = (view.url, view.version, *state.config_key(), view.as_at, as_published)
    try:
        _data(*key)
    except contents.ExportError as error:
        st.warning(ui.plain(error), icon=":material/history:")
        return
    st.caption(
        f"As at {periods.label(view.as_at)} ({periods.month_name(view.as_at)}), "
        f"{'as published' if as_published else 'with every revision loaded so far'}. "
        "The figures are the ones on the screens; text that a spreadsheet could run as a formula is neutralised."
    )
    for heading, shown in (("RAG summary tables", TABLES), ("Board pack", PACK)):
        st.subheader(heading)
        if shown == PACK:
            st.caption(
                "The whole report in the board's order: a cover with the headline tiles, what changed since last "
                "month, workstream progress, a KPI table with its RAG summary and charts per workstream, risks, "
                "and the key. The PowerPoint file has a slide per section."
            )
        for fmt in shown:
            st.download_button(
                f"Download {LABELS[fmt]}",
                # Made on click: at 2,000 indicators even the tables took seconds on every run of the page.
                partial(_file, *key, workstream, fmt),
                file_name=formats.file_name(view.as_at, fmt, workstream),
                mime=MIME[fmt],
                icon=":material/download:",
                on_click="ignore",
                key=f"export-{fmt}",
            )
    st.subheader("Risk register")
    register = risks.register(risks.current(state.engine(view.url)), date.today())
    st.caption(
        f"Every risk, open and closed ({len(register)}), most severe first, as it stands now; the import format "
        "of the Edit risks page, text neutralised as in the tables."
    )
    st.download_button(
        "Download Risk register (CSV)",
        risks.to_csv(register),
        file_name="icu-risks.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key="export-risks",
    )
