"""A workstream's page: its KPI table as the board knows it, its RAG summary, and a small
chart per indicator."""

from __future__ import annotations

import streamlit as st

from app import state, ui
from kpis import charts, periods, presentation

# Short labels as the board prints them; widths that keep RAG and Trend on screen.
_NUMBER = {
    "Actual": "Actual",
    "Last year": "Last year",
    "Last year +/-": "+/-",
    "Last year %": "%",
    "Target": "Target",
    "Target +/-": "+/-",
    "Target %": "%",
}
BOARD_COLUMNS_CONFIG = {
    "Period": st.column_config.TextColumn(width=50),
    "Indicator": st.column_config.TextColumn(width=300),
    **{c: st.column_config.TextColumn(label, width=62, help=c) for c, label in _NUMBER.items()},
    "RAG": st.column_config.TextColumn(width=82, help="Against target"),
    "Trend": st.column_config.TextColumn(width=96, help="Against the same period last year"),
}
ROW_HEIGHT = 35


def render(view: state.View, pages: dict, workstream_id: str) -> None:
    ws = view.catalogue.workstream(workstream_id)
    st.title(ws.name)
    lead = view.catalogue.owners.get(ws.lead, ws.lead)
    st.caption(" · ".join(part for part in (ws.description, f"Lead: {lead}" if lead else "") if part))
    if view.empty:
        ui.no_data()
        return
    table = view.table()
    own = table[table["workstream"] == workstream_id].reset_index(drop=True)
    st.markdown(f"**As at {periods.label(view.as_at)}** ({periods.month_name(view.as_at)})")
    ui.summary_metrics(view.summary(), workstream_id)

    board = presentation.board_table(own, view.catalogue)
    st.caption("Select a row to open the indicator. RAG: against target; Trend: against the same period last year.")
    event = st.dataframe(
        ui.style_board(board),
        hide_index=True,
        column_order=presentation.BOARD_COLUMNS,
        column_config=BOARD_COLUMNS_CONFIG,
        height=ROW_HEIGHT * (len(board) + 1) + 3,
        on_select="rerun",
        selection_mode="single-row",
        key=f"kpi-table-{workstream_id}",
    )
    selected = event.selection.rows if event is not None else []
    if selected:
        st.switch_page(
            pages["indicator"],
            query_params={"id": board.loc[selected[0], "indicator"], state.AS_AT_PARAM: periods.to_text(view.as_at)},
        )

    st.subheader("Trends")
    observations = view.observations()
    columns = st.columns(2)
    for position, row in own.iterrows():
        with columns[position % 2], st.container(border=True):
            st.markdown(f"**{row['name']}**")
            series = charts.indicator_series(observations, view.catalogue, row["indicator"])
            if series.empty:
                st.caption("No data yet.")
            else:
                figure = charts.indicator_figure(
                    series, view.catalogue, row["indicator"], view.as_at, row["rag_target"]
                )
                st.plotly_chart(figure, key=f"chart-{row['indicator']}", config={"displayModeBar": False})
            st.page_link(
                pages["indicator"],
                label="Details",
                icon=":material/arrow_forward:",
                query_params={"id": row["indicator"], state.AS_AT_PARAM: periods.to_text(view.as_at)},
            )
