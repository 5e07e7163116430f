"""Analysts take the KPI tables and RAG summaries away: CSV or an Excel workbook, for the
as-at month, all workstreams or one, with the figures as they stand now or as the month's
report was published. The files come from the same engine as the screens."""

from __future__ import annotations

import streamlit as st

from app import state
from kpis import exports, periods

WORKSTREAM_KEY = "export_workstream"
PUBLISHED_KEY = "export_as_published"
LABELS = {"csv": "CSV (the KPI table)", "xlsx": "Excel workbook (summary, a sheet per workstream, key)"}
MIME = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@st.cache_data(show_spinner="Preparing the files…", max_entries=16)
def _files(url: str, version: int, as_at: int, as_published: bool, workstream: str | None) -> dict[str, bytes]:
    catalogue = state.catalogue()
    data = exports.export_data(state.engine(url), catalogue, as_at, as_published)
    return {fmt: exports.export_bytes(data, catalogue, fmt, workstream) for fmt in exports.FORMATS}


def render(view: state.View, pages: dict) -> None:
    st.title("Export")
    if view.empty:
        st.info("Nothing to export yet: no extract has been loaded.", icon=":material/info:")
        return
    names = {None: "All workstreams", **{w.id: w.name for w in view.catalogue.workstreams}}
    left, right = st.columns([2, 1])
    workstream = left.selectbox("Workstreams", list(names), format_func=names.get, key=WORKSTREAM_KEY)
    as_published = right.toggle(
        "As published",
        key=PUBLISHED_KEY,
        help="The figures as they stood when this month's report went out (before the next month's data "
        "arrived), leaving out revisions loaded since.",
    )
    try:
        files = _files(view.url, view.version, view.as_at, as_published, workstream)
    except exports.ExportError as error:
        st.warning(str(error), icon=":material/history:")
        return
    st.caption(
        f"As at {periods.label(view.as_at)} ({periods.month_name(view.as_at)}), "
        f"{'as published' if as_published else 'with every revision loaded so far'}. "
        "The figures are the ones on the screens; text that a spreadsheet could run as a formula is neutralised."
    )
    for fmt, content in files.items():
        st.download_button(
            f"Download {LABELS[fmt]}",
            content,
            file_name=exports.file_name(view.as_at, fmt, workstream),
            mime=MIME[fmt],
            icon=":material/download:",
            key=f"export-{fmt}",
        )
