"""The report's page 1: headline tiles, the RAG summary of every workstream, and what
changed since last month."""

from __future__ import annotations

import streamlit as st

from app import state, ui
from kpis import periods
from kpis.catalogue import code_slug
from kpis.report import presentation
from kpis.report.icons import icons_html
from kpis.report.palette import rag_label


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    st.title(view.catalogue.title)
    if view.empty:
        ui.no_data()
        return
    st.markdown(f"**{view.heading()}**")
    st.caption(
        f"As at {periods.label(view.as_at)} ({periods.month_name(view.as_at)}). Each indicator shows its latest "
        "period up to that month; the report month is the latest with every figure due in, allowing for the "
        "months each normally arrives behind."
    )
    table = view.table()
    ui.sample_notice(view, table)
    tiles = presentation.tiles(table, view.catalogue)
    by_id = table.set_index("indicator")
    ui.inject_css()
    for group, members in tiles.groupby("group", sort=False):
        st.subheader(group)
        for start in range(0, len(members), 4):
            columns = st.columns(4)
            for column, (_, row) in zip(columns, members.iloc[start : start + 4].iterrows(), strict=False):
                spc = by_id.loc[row["indicator"]]
                icons = icons_html(str(spc["variation"]), str(spc["assurance"]), as_images=True)
                with column, ui.tile(row, code_slug(row["indicator"]), icons, view.catalogue.glossary):
                    st.page_link(
                        pages["indicator"],
                        label="Trend and definition",
                        icon=":material/arrow_forward:",
                        query_params=ui.indicator_params(row["indicator"], view.as_at),
                    )

    st.subheader("RAG summary")
    # The report's two blocks one above the other: side by side, the workstreams' names were cut.
    for comparison, label in presentation.COMPARISONS:
        block = presentation.summary_block(view.summary(), view.catalogue, comparison)
        st.markdown(f"**{label}**")
        st.dataframe(
            ui.style_counts(block),
            hide_index=True,
            key=f"rag-summary-{comparison}",
            column_config={
                "Workstream": st.column_config.TextColumn(pinned=True),  # as wide as its longest name
                # the word alone in the header (the cells carry the colour): it fits the column
                **{c: st.column_config.NumberColumn(c.split(" ")[-1], width=54) for c in block.columns[1:]},
            },
        )

    st.subheader("Changed since last month")
    previous = view.as_at - 1
    if previous not in view.months:
        st.caption("No earlier month with data to compare with.")
        return
    changes = view.rag_changes()
    if changes.empty:
        st.caption(f"No rating moved since {periods.label(previous)}.")
        return
    names = {w.id: w.name for w in view.catalogue.workstreams}
    shown = changes.assign(
        Workstream=changes["workstream"].map(names),
        Indicator=changes["name"],
        Against=changes["comparison"],
        From=changes["from"].map(rag_label),
        To=changes["to"].map(rag_label),
    )[["Workstream", "Indicator", "Against", "From", "To"]]
    st.caption(f"Ratings that moved since {periods.label(previous)}.")
    st.dataframe(shown, hide_index=True, key="rag-changes")
