"""The integrated performance summary, the board's agenda: every indicator placed by its
SPC variation × assurance (Making Data Count), each a link to its page, and the exceptions
(special cause concern or failing the target) with their latest value, RAG and owner."""

from __future__ import annotations

import html
from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from app import state, ui
from kpis import periods
from kpis.report import formatting, integrated, presentation
from kpis.report.icons import COMMON, CONCERN, IMPROVEMENT, NEUTRAL, assurance_svg, image_html
from kpis.report.palette import rag_label

GROUP_COLOURS = {
    "improvement": IMPROVEMENT,
    "common_cause": COMMON,
    "concern": CONCERN,
    "neutral": NEUTRAL,
    "n/a": "#B0B0B0",
}
WIDTHS = [0.9, 1, 1, 1, 1]
# A cell's links are one HTML element, not a page link each: at 2,000 indicators the
# matrix was 2,300 elements (docs/benchmarks.md, "Pages"). Its names wrap; on a phone the
# columns stack, so each cell names its assurance there (the header row is far above).
MATRIX_CSS = (
    "<style>.matrix-cell ul { list-style: none; margin: 0; padding: 0; }"
    " .matrix-cell li { margin: 0 0 0.4rem; line-height: 1.25; font-size: 0.9rem; overflow-wrap: anywhere; }"
    " .matrix-cell a { color: inherit; text-decoration: underline; text-decoration-thickness: 1px;"
    " text-underline-offset: 2px; }"
    " .matrix-cell .count { font-size: 0.8rem; opacity: 0.85; margin: 0 0 0.4rem; }"
    f" @media (min-width: {ui.PHONE_WIDTH + 1}px) {{ .matrix-cell .cell-assurance {{ display: none; }} }}"
    "</style>"
)
EXCEPTION_COLUMNS = ["Indicator", "Period", "Latest", "RAG", "Owner", *presentation.SPC_BOARD_COLUMNS[:4], "Why"]


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    st.title("Integrated performance summary")
    if view.empty:
        ui.no_data()
        return
    ui.inject_css()
    st.html(MATRIX_CSS)
    st.caption(
        f"As at {periods.label(view.as_at)} ({periods.month_name(view.as_at)}). Statistical process control of each "
        "indicator's monthly values: variation (is the latest month a real change, or the usual ups and downs?) by "
        "assurance (will the process meet the target in force?). Select an indicator to open its SPC chart."
    )
    table = view.table()
    _matrix(table, view, pages)
    st.subheader("Exceptions")
    listed = integrated.exceptions(table, view.catalogue)
    if listed.empty:
        st.caption("No indicator shows special cause concern or fails its target.")
        return
    st.caption("Special cause concern or failing the target: the board's agenda. Select a row to open the indicator.")
    listed = ui.filter_rag(listed, ui.rag_filter("show-exceptions"))
    if listed.empty:
        st.caption("No exception has this rating.")
        return
    rows = table.set_index("indicator").loc[listed["indicator"]].reset_index()
    icons = presentation.spc_board(rows, view.spc_table())
    shown = pd.DataFrame(
        {
            "Indicator": listed["name"],
            "Period": listed["period_label"].fillna("no data"),
            "Latest": [
                formatting.with_unit(v, ind.unit.value, ind.decimals)
                for v, ind in zip(listed["actual"], map(view.catalogue.indicator, listed["indicator"]), strict=True)
            ],
            "RAG": listed["rag_target"].map(rag_label),
            "Owner": listed["owner"],
            **{c: icons[c] for c in presentation.SPC_BOARD_COLUMNS[:4]},
            "Why": listed["why"],
        }
    )
    event = st.dataframe(
        shown,
        hide_index=True,
        column_order=EXCEPTION_COLUMNS,
        column_config={
            "Indicator": st.column_config.TextColumn(
                width=300,
                pinned=True,
                help=presentation.glossary_help(view.catalogue.glossary, " ".join(shown["Indicator"])),
            ),
            "Owner": st.column_config.TextColumn(width=200),
            "Variation icon": st.column_config.ImageColumn("SPC", width=40),
            "Assurance icon": st.column_config.ImageColumn("", width=40),
        },
        on_select="rerun",
        selection_mode="single-row",
        key="exceptions",
    )
    selected = event.selection.rows if event is not None else []
    if selected:
        ui.open_indicator(pages, str(listed.loc[selected[0], "indicator"]), view.as_at)


def _matrix(table: pd.DataFrame, view: state.View, pages: state.Pages) -> None:
    """The matrix as a grid: a row per variation group, a column per assurance, each cell
    one element listing its indicators as links to their pages."""
    cells = integrated.matrix(table)
    names = {i.id: i.display_name for i in view.catalogue.indicators}
    header = st.columns(WIDTHS)
    header[0].markdown("**Variation \\\\ assurance**")
    for column, (assurance, label) in zip(header[1:], integrated.MATRIX_COLUMNS.items(), strict=True):
        icon = image_html(assurance_svg(assurance, 24), 24, f"Assurance: {label}")
        column.html(f"<span class='mdc'>{icon} <span class='mdc-word'>{label}</span></span>")
    indicator_path = pages["indicator"].url_path
    for group, label in integrated.MATRIX_ROWS.items():
        own = cells[cells["variation_group"] == group]
        if group == "n/a" and not any(own["indicators"]):
            continue
        row = st.columns(WIDTHS, border=True)
        row[0].html(
            f"<div style='border-left: 6px solid {GROUP_COLOURS[group]}; padding-left: 8px; font-weight: 700'>"
            f"{label}</div>"
        )
        for column, (assurance, ids) in zip(
            row[1:], zip(own["assurance"], own["indicators"], strict=True), strict=True
        ):
            with column, st.container(key=f"matrix-{group}-{assurance}".replace("/", "")):
                st.html(_cell(indicator_path, ids, names, integrated.MATRIX_COLUMNS[assurance], view.as_at))


def _cell(indicator_path: str, ids: list[str], names: dict[str, str], assurance: str, as_at: int) -> str:
    """One cell of the matrix as HTML: how many indicators, and a link to each one's page
    as at the month (the query a page link would carry, URL-quoted; names escaped)."""
    count = f"{len(ids):,} {ui.plural(len(ids), 'indicator')}" if ids else "none"
    links = "".join(
        f"<li><a href='{html.escape(indicator_path + '?' + urlencode(ui.indicator_params(i, as_at)))}' "
        f"target='_self'>{html.escape(names[i])}</a></li>"
        for i in ids
    )
    return (
        f"<div class='matrix-cell'><p class='count'><span class='cell-assurance'>{html.escape(assurance)}: </span>"
        f"{count}</p>{f'<ul>{links}</ul>' if ids else ''}</div>"
    )
