"""The high level risks and issues register, for everyone: filtered by status, workstream,
rank and owner, most severe first, with the risks past their review date (at the as-at
month's end, as the board pack judges it) flagged in words;
a selected risk shows its whole text and every saved version with what changed. Officers
get links to add, edit and import risks."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import streamlit as st

from app import state, ui
from kpis import periods
from kpis.access import Right
from kpis.catalogue import Catalogue
from kpis.governance import risks
from kpis.publish import contents

# Widget keys, all prefixed risks_.
STATUS_KEY = "risks_status"
WORKSTREAM_KEY = "risks_workstream"
RANK_KEY = "risks_rank"
OWNER_KEY = "risks_owner"
TABLE_KEY = "risks_table"
HISTORY_KEY = "risks_history"
DOWNLOAD_KEY = "risks_download"

NOT_LINKED = ""  # the workstream filter's option for risks linked to no workstream
OVERDUE = "⚠ overdue"


def _filters(catalogue: Catalogue, frame: pd.DataFrame) -> dict[str, list[str] | None]:
    """The filters chosen, each a list of values or None (nothing chosen: every value)."""
    workstreams = {w.id: w.name for w in catalogue.workstreams} | {NOT_LINKED: "Not linked"}
    owners = list(dict.fromkeys([*catalogue.owners, *sorted(frame["owner"].unique())]))
    status_col, workstream_col, rank_col, owner_col = st.columns(4)
    chosen: dict[str, list[str]] = {
        "status": status_col.multiselect(
            "Status", risks.STATUSES, default=["open"], placeholder="Any status", key=STATUS_KEY
        ),
        "workstream": workstream_col.multiselect(
            "Workstream",
            list(workstreams),
            format_func=workstreams.__getitem__,
            placeholder="Any workstream",
            key=WORKSTREAM_KEY,
        ),
        "rank": rank_col.multiselect("Rank", risks.RANKS, placeholder="Any rank", key=RANK_KEY),
        "owner": owner_col.multiselect(
            "Owner", owners, format_func=lambda o: ui.owner_label(catalogue, o), placeholder="Any owner", key=OWNER_KEY
        ),
    }
    return {name: values or None for name, values in chosen.items()}


def display_table(register: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The register as shown: workstream and indicator names instead of ids, and the
    overdue flag as a word."""
    workstreams = {w.id: w.name for w in catalogue.workstreams}
    indicators = {i.id: i.name for i in catalogue.indicators}
    return register.assign(
        workstream=register["workstream"].map(lambda w: workstreams.get(w, w)),
        indicators=register["indicators"].map(
            lambda ids: "; ".join(indicators.get(i, i) for i in ids.split("; ") if i)
        ),
        overdue=np.where(register["overdue"], OVERDUE, ""),
    )[DISPLAY_COLUMNS]


# The register's own fields in its order (the import format's and the board pack's), then the flag.
DISPLAY_COLUMNS = [*risks.RISK_COLUMNS, "overdue"]
TABLE_COLUMNS = {
    "risk_id": st.column_config.NumberColumn("Risk", format="%d", width="small", pinned=True),
    "programme": st.column_config.TextColumn("Project / programme", width="medium"),
    "description": st.column_config.TextColumn("Description of risk/issue", width="large"),
    "rank": st.column_config.TextColumn("Rank", width="small"),
    "owner": st.column_config.TextColumn("Owner", width="small", help="Initials: see the key below the table."),
    "mitigation": st.column_config.TextColumn("Proposed mitigation/resolution", width="large"),
    "status": st.column_config.TextColumn("Status", width="small"),
    "workstream": st.column_config.TextColumn("Workstream", width="medium"),
    "indicators": st.column_config.TextColumn("Indicators", width="medium"),
    "next_review": st.column_config.DateColumn("Next review", format="D MMM YYYY", width="small"),
    "overdue": st.column_config.TextColumn(
        "Overdue", width="small", help="Open and past its next review date at the end of the as-at month."
    ),
}


def _overdue_warning(register: pd.DataFrame, reviewed_on: date) -> None:
    late = int(register["overdue"].sum())
    if late:
        verb = "risks were past their" if late != 1 else "risk was past its"
        st.warning(f"{late} open {verb} review date on {reviewed_on:%-d %b %Y}.", icon=":material/event_busy:")


def _selected(view: state.View, pages: state.Pages, user: state.User, register: pd.DataFrame, row: int) -> None:
    """One risk's whole text and every saved version."""
    risk = register.iloc[row]
    risk_id = int(risk["risk_id"])
    st.subheader(f"Risk {risk_id}")
    if user.can(Right.EDIT_RISKS):
        st.page_link(
            pages["risk_edit"],
            label=f"Edit risk {risk_id}",
            icon=":material/edit:",
            query_params={ui.RISK_PARAM: str(risk_id)},
        )
    # User text as plain text (st.text interprets neither Markdown nor HTML).
    for label, column in (
        ("Project or programme", "programme"),
        ("Description of risk/issue", "description"),
        ("Proposed mitigation/resolution", "mitigation"),
    ):
        st.caption(label)
        st.text(risk[column] or "—")
    st.caption(f"Owner: {ui.plain(ui.owner_label(view.catalogue, risk['owner']))}")
    versions = risks.history(state.engine(view.url), risk_id)
    st.markdown("**Saved versions**")
    st.dataframe(
        pd.DataFrame(
            {
                "Version": versions["version"],
                "Saved by": versions["saved_by"],
                "Saved at": versions["saved_at"].dt.strftime("%d %b %Y %H:%M UTC"),
                "What changed": risks.changes(versions),
            }
        ),
        hide_index=True,
        key=HISTORY_KEY,
        column_config={"What changed": st.column_config.TextColumn(width="large")},
    )


def _empty(pages: state.Pages, user: state.User) -> None:
    if user.can(Right.EDIT_RISKS):
        st.info(
            "There are no risks in the register yet. Add them one by one, or import a CSV file of risks, "
            "on the Edit risks page.",
            icon=":material/info:",
        )
        st.page_link(pages["risk_edit"], label="Add or import risks", icon=":material/edit:")
    else:
        st.info(
            "There are no risks in the register yet. The performance team adds them.",
            icon=":material/info:",
        )


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    st.title("Risks")
    frame = risks.current(state.engine(view.url))
    if frame.empty:
        _empty(pages, user)
        return
    st.caption(
        "High level risks and issues per project or programme, most severe first. "
        "Select a row to read the whole risk and its history."
    )
    if user.can(Right.EDIT_RISKS):
        st.page_link(pages["risk_edit"], label="Add or edit risks", icon=":material/edit:")
    chosen = _filters(view.catalogue, frame)
    today = date.today()
    # As the board pack judges them: against the as-at month's end (or today, if sooner).
    reviewed_on = contents.review_day(view.as_at, today)
    register = risks.register(frame, reviewed_on, **chosen)
    risk_word = "risk" if len(frame) == 1 else "risks"
    st.markdown(f"Showing **{len(register)}** of {len(frame)} {risk_word}.")
    _overdue_warning(register, reviewed_on)
    event = st.dataframe(
        display_table(register, view.catalogue),
        hide_index=True,
        column_config=TABLE_COLUMNS,
        on_select="rerun",
        selection_mode="single-row",
        key=TABLE_KEY,
    )
    st.caption(
        "Owners: " + "; ".join(ui.plain(ui.owner_label(view.catalogue, o)) for o in view.catalogue.owners) + ". "
        f"{OVERDUE}: open and past its next review date on {reviewed_on:%-d %b %Y}: the end of the as-at month "
        f"({periods.month_name(view.as_at)}), or today if sooner, as the board pack judges it."
    )
    st.download_button(
        "Download the register (CSV)",
        risks.to_csv(register),
        file_name=f"risk-register-{today:%Y-%m-%d}.csv",
        mime="text/csv",
        icon=":material/download:",
        key=DOWNLOAD_KEY,
        help="The risks shown, in the import format: edit the file and import it again on the Edit risks page.",
    )
    selected = event.selection.rows if event is not None else []
    if selected and selected[0] < len(register):
        _selected(view, pages, user, register, selected[0])
