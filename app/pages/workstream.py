"""A workstream's page: its KPI table as the board knows it, its RAG summary, and a small
chart per indicator."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app import state, ui
from kpis import periods
from kpis.access import Right
from kpis.catalogue import code_slug
from kpis.governance import narrative
from kpis.report import benchmark_views, charts, formatting, presentation

# Short labels as the board prints them; widths that keep RAG and Trend on screen.
_NUMBER = {
    "Actual": "Actual",
    "Last year": "Last year",
    "Last year +/-": "± last yr",
    "Last year %": "% last yr",
    "Target": "Target",
    "Target +/-": "± target",
    "Target %": "% target",
}
ROW_HEIGHT = 66  # px: over Streamlit's 4rem, so a cell's text wraps (up to three lines) instead of being cut off
HEADER_HEIGHT = 35  # px: the header row keeps the default height
BOARD_COLUMNS_CONFIG = {
    "Period": st.column_config.TextColumn(width=50, pinned=True),
    "Indicator": st.column_config.TextColumn(width=300, pinned=True),  # stays in view beside the SPC columns
    **{c: st.column_config.TextColumn(label, width=74, help=c) for c, label in _NUMBER.items()},
    "RAG": st.column_config.TextColumn(width=82, help="Against target"),
    "Trend": st.column_config.TextColumn(width=96, help="Against the same period last year"),
}
BENCHMARK_COLUMNS_CONFIG = {
    "vs England": st.column_config.TextColumn(width=100, help="The latest figure against England's"),
    "Inequality": st.column_config.TextColumn(
        width=170, help="The gap between the most and least deprived (SII) now against a year before"
    ),
}
SPC_COLUMNS_CONFIG = {
    # an icon is drawn as tall as the row: its column as wide, or it is cut off
    "Variation icon": st.column_config.ImageColumn("SPC", width=ROW_HEIGHT, help="Variation (Making Data Count)"),
    "Variation": st.column_config.TextColumn(width=130, help="The latest month against the process limits"),
    "Assurance icon": st.column_config.ImageColumn("", width=ROW_HEIGHT, help="Assurance (Making Data Count)"),
    "Assurance": st.column_config.TextColumn(width=100, help="Will the process meet the target in force?"),
    "SPC limits": st.column_config.TextColumn(width=150, help="final, or trial limits (n of min_points points)"),
}
TAB_KEY, TABLE_TAB, TRENDS_TAB, PROGRESS_TAB = "tab", "KPI table", "Trends", "Progress"  # ?tab=Trends opens the charts
ROLLING_MONTHS = 4  # the board's rolling cycle of progress updates


def render(view: state.View, pages: state.Pages, user: state.User, workstream_id: str) -> None:
    ws = view.catalogue.workstream(workstream_id)
    st.title(ws.name)
    lead = view.catalogue.owners.get(ws.lead, ws.lead)
    st.caption(" · ".join(part for part in (ws.description, f"Lead: {ui.plain(lead)}" if lead else "") if part))
    if view.empty:
        ui.no_data()
        return
    table = view.table()
    own = table[table["workstream"] == workstream_id].reset_index(drop=True)
    ui.inject_css()
    ui.sample_notice(view, own)
    st.markdown(f"**As at {periods.label(view.as_at)}** ({periods.month_name(view.as_at)})")
    ui.summary_metrics(view.summary(), workstream_id)
    _this_month(view, pages, workstream_id, user)

    table_tab, trends_tab, progress_tab = st.tabs(
        [TABLE_TAB, TRENDS_TAB, PROGRESS_TAB], key=TAB_KEY, on_change="rerun", bind="query-params"
    )
    # Lazy tabs: the trend charts (and Plotly's script bundle) load only when opened.
    if table_tab.open:
        with table_tab:
            _kpi_table(view, pages, workstream_id)
    if trends_tab.open:
        with trends_tab:
            st.caption(
                "The last 24 months: actual (solid), last year (dashed), target (dotted steps); the latest point "
                "marked by its rating, against target or, without one, against last year."
            )
            ui.chart(_trends(view, workstream_id), f"trends-{workstream_id}", _trends_text(view, workstream_id))
    if progress_tab.open:
        with progress_tab:
            _rolling(view, workstream_id)


def _edit_link(view: state.View, pages: state.Pages, workstream_id: str, user: state.User, label: str) -> None:
    if user.can(Right.EDIT_NARRATIVE):
        st.page_link(
            pages["narrative"],
            label=label,
            icon=":material/edit_note:",
            query_params=ui.workstream_params(workstream_id, view.as_at),
        )


def _this_month(view: state.View, pages: state.Pages, workstream_id: str, user: state.User) -> None:
    """The month's progress commentary, before the figures, as in the report."""
    current = narrative.current(state.engine(view.url), view.as_at)
    own = current[current["workstream"] == workstream_id]
    month = periods.month_name(view.as_at)
    if own.empty:
        st.caption(f"No progress commentary for {month}.")
        _edit_link(view, pages, workstream_id, user, f"Write the commentary for {month}")
        return
    with st.container(border=True, key=f"progress-{workstream_id}"):
        st.markdown(f"**Progress, {month}**")
        ui.commentary(own["text"].iloc[0])
        st.caption(ui.saved_line(own.iloc[0]))
        _edit_link(view, pages, workstream_id, user, "Edit the commentary")


def _rolling(view: state.View, workstream_id: str) -> None:
    """The board's rolling view: the commentary of each of the last four months."""
    shown = narrative.rolling(state.engine(view.url), workstream_id, view.as_at, ROLLING_MONTHS)
    first = periods.month_name(view.as_at - ROLLING_MONTHS + 1)
    st.caption(
        f"Progress over the last {ROLLING_MONTHS} months, {first} to {periods.month_name(view.as_at)}, newest first."
    )
    if shown.empty:
        st.info("No progress commentary in these months.", icon=":material/notes:")
    for _, row in shown.iterrows():
        st.subheader(periods.month_name(int(row["month"])))
        ui.commentary(row["text"])
        st.caption(ui.saved_line(row))


def _kpi_table(view: state.View, pages: state.Pages, workstream_id: str) -> None:
    board = board_table(view.url, view.version, *state.config_key(), workstream_id, view.as_at)
    extra = _benchmark_columns(view, board)
    board = board.merge(extra, on="indicator", how="left") if extra is not None else board
    st.caption(
        "Select a row to open the indicator. RAG: against target; Trend: against the same period last year; "
        "SPC: variation and assurance (Making Data Count) of the monthly values."
    )
    if extra is not None:
        st.caption(
            "vs England: the latest figure against England's (▲ better, ● similar, ▼ worse, by the 95% interval). "
            "Inequality: the gap between the most and least deprived now against a year before."
        )
        st.page_link(
            pages["compare_areas"],
            label="Compare with England, the region and neighbours",
            icon=":material/public:",
            query_params=ui.workstream_params(workstream_id, view.as_at),
        )
    board = ui.filter_rag(board, ui.rag_filter(f"show-{workstream_id}"))
    if board.empty:
        st.caption("No indicator of this workstream has this rating.")
        return
    styled = ui.style_board(board)
    if extra is not None:  # the comparison's colour, with its symbol and word
        styled = styled.apply(
            lambda column: [benchmark_views.cell_style(w.split(" ", 1)[-1].replace(" ", "_")) for w in column],
            subset=["vs England"],
            axis=0,
        )
    ui.kpi_cards(board, view.as_at, key=f"kpi-cards-{code_slug(workstream_id)}")  # a phone's view of the table
    wide = st.container(key=f"kpi-wide-{code_slug(workstream_id)}")  # the table itself, hidden on a phone
    event = wide.dataframe(
        styled,
        hide_index=True,
        column_order=[
            *presentation.BOARD_COLUMNS,
            *presentation.SPC_BOARD_COLUMNS,
            *([] if extra is None else list(BENCHMARK_COLUMNS_CONFIG)),
        ],
        column_config={
            **BOARD_COLUMNS_CONFIG,
            **SPC_COLUMNS_CONFIG,
            **BENCHMARK_COLUMNS_CONFIG,
            # the glossary's meanings of the abbreviations in these names
            "Indicator": st.column_config.TextColumn(
                width=300,
                pinned=True,
                help=presentation.glossary_help(view.catalogue.glossary, " ".join(board["Indicator"])),
            ),
        },
        height=ROW_HEIGHT * len(board) + HEADER_HEIGHT + 3,  # every row in view
        row_height=ROW_HEIGHT,
        on_select="rerun",
        selection_mode="single-row",
        key=f"kpi-table-{workstream_id}",
    )
    selected = event.selection.rows if event is not None else []
    if selected:
        ui.open_indicator(pages, str(board.loc[selected[0], "indicator"]), view.as_at)


def _benchmark_columns(view: state.View, board: pd.DataFrame) -> pd.DataFrame | None:
    """The "vs England" and "Inequality" columns of the board's indicators, or None where
    none of them has a comparison or an inequality figure (the table is then as before)."""
    columns = view.benchmark_columns()
    columns = columns[columns["indicator"].isin(board["indicator"])]
    if not ((columns["vs England"] != "") | (columns["Inequality"] != "")).any():
        return None
    return columns


def _trends_text(view: state.View, workstream_id: str) -> str:
    """The trend charts in words: each indicator's latest value and rating."""
    table = view.table()
    own = table[table["workstream"] == workstream_id]
    latest = "; ".join(
        f"{row['name']}: {formatting.with_unit(row['actual'], ind.unit.value, ind.decimals)} "
        f"({row['period_label'] if isinstance(row['period_label'], str) else 'no data'}, {row['rag_target']})"
        for (_, row), ind in zip(own.iterrows(), map(view.catalogue.indicator, own["indicator"]), strict=True)
    )
    return f"the last 24 months of each of {len(own)} indicators. Latest: {latest}."


def _trends(view: state.View, workstream_id: str) -> go.Figure:
    table = view.table()
    own = table[table["workstream"] == workstream_id]
    return trends_figure(
        view.url,
        view.version,
        *state.config_key(),
        workstream_id,
        view.as_at,
        tuple(presentation.headline_rating(row) for _, row in own.iterrows()),
    )


@st.cache_data(show_spinner=False, max_entries=64)
def board_table(
    url: str, version: int, config: str, modified: float | None, workstream_id: str, as_at: int
) -> pd.DataFrame:
    """The workstream's KPI table as the board reads it, with its SPC columns, cached per
    data version and month."""
    table = state.kpi_table(url, version, config, modified, as_at)
    own = table[table["workstream"] == workstream_id].reset_index(drop=True)
    catalogue = state.catalogue()
    spc = state.spc_table(url, version, config, modified, as_at)
    return pd.concat([presentation.board_table(own, catalogue), presentation.spc_board(own, spc)], axis=1)


@st.cache_data(show_spinner=False, max_entries=64)
def trends_figure(
    url: str,
    version: int,
    config: str,
    modified: float | None,
    workstream_id: str,
    as_at: int,
    ratings: tuple[tuple[str, str], ...],
) -> go.Figure:
    """The workstream's small multiples, cached per data version and month."""
    catalogue = state.catalogue()
    observations = state.observations(url, version)
    ids = [i.id for i in catalogue.in_workstream(workstream_id)]
    series = {i: charts.indicator_series(observations, catalogue, i) for i in ids}
    return charts.small_multiples(series, catalogue, dict(zip(ids, ratings, strict=True)), as_at)
