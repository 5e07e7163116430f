"""The officers' data status: which values are in, late or missing (by owner), the history
of extracts with each file exactly as loaded, and (for admins) rolling an extract back."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from app import access, state, ui
from kpis import periods, sample
from kpis.access import Right
from kpis.governance import rollback
from kpis.report import formatting, status
from kpis.spreadsheet import safe_file_name

EXTRACT_KEY = "status_extract"
ROLLBACK_KEY = "rollback_extract"
ROLLBACK_CONFIRM_KEY = "rollback_confirm"
_DONE = "rollback_done"
REMOVE_SAMPLE_KEY = "remove_sample"
_SAMPLE_DONE = "remove_sample_done"
GRID_KEY = "status_grid_rows"
TO_CHASE, EVERY_INDICATOR = "Late or missing", "Every indicator"


def _coverage(view: state.View) -> None:
    cover = view.coverage()
    owners = status.late_by_owner(cover)
    late = int((cover["state"] == status.LATE).sum())
    missing = int((cover["state"] == status.MISSING).sum())
    st.subheader(f"Values for {periods.month_name(view.as_at)} and the 11 months before")
    left, right = st.columns(2)
    left.metric(f"Late for {periods.month_name(view.as_at)}", late, help="Due for the report month and not loaded yet.")
    right.metric("Missing from earlier months", missing, help="Due in an earlier month and never loaded.")
    if not owners.empty:
        st.dataframe(
            owners.rename(
                columns={
                    "owner": "Owner",
                    "owner_title": "Role",
                    "late": "Late",
                    "missing": "Missing",
                    "late_indicators": "Late this month",
                }
            ),
            hide_index=True,
            key="status_owners",
        )
    # The grid lists what an officer chases; the complete indicators are a count (a grid of
    # every one, 2,250 rows at scale, is a choice away). No colour fill: each cell's word or
    # symbol says its state, and a styled grid of that size took seconds to draw.
    chased = status.to_chase(cover)
    total, to_chase = cover["indicator"].nunique(), chased["indicator"].nunique()
    shown = st.radio("Indicators", (TO_CHASE, EVERY_INDICATOR), horizontal=True, key=GRID_KEY)
    st.caption(
        f"Indicators with a value late or missing: **{to_chase:,}** of {total:,}. The other {total - to_chase:,} "
        "are complete: every value due is in, or expected later within its reporting lag."
    )
    grid = status.grid(cover if shown == EVERY_INDICATOR else chased)
    if grid.empty:
        return
    st.caption(
        "✓ loaded · ✓ rev. loaded and revised since · LATE due for the report month, not loaded · "
        "… expected later, within its reporting lag · missing: due, never loaded · “·” not due (quarterly) · "
        "blank: before the indicator's first value."
    )
    months = {c: st.column_config.TextColumn(width=54) for c in grid.columns[3:]}
    st.dataframe(
        grid,
        hide_index=True,
        key="status_grid",
        column_config={
            "id": None,
            "Owner": st.column_config.TextColumn(width=54, pinned=True),
            "Indicator": st.column_config.TextColumn(width=230, pinned=True),
            **months,
        },
    )


def _names(log: pd.DataFrame) -> dict[int, str]:
    """Each extract's label for a choice, newest first: ``Extract 4: october.csv``."""
    return {int(i): f"Extract {i}: {name}" for i, name in zip(log["id"], log["file_name"], strict=True)}


def _rollback_notes(log: pd.DataFrame) -> pd.Series:
    """Each extract's part in a rollback: ``rolls back extract 2``, ``rolled back by extract
    4``, or both for a rollback that was itself rolled back."""
    reverts = log["reverts"].astype("Int64")
    undone_by = log[reverts.notna()].groupby(reverts.dropna())["id"].max()
    notes = [
        "; ".join(
            [
                *([f"rolls back extract {int(r)}"] if pd.notna(r) else []),
                *([f"rolled back by extract {int(undone_by[i])}"] if i in undone_by.index else []),
            ]
        )
        for i, r in zip(log["id"], reverts, strict=True)
    ]
    return pd.Series(notes, index=log.index, dtype=object)


def _history(view: state.View) -> None:
    st.subheader("Extracts loaded")
    log = view.extracts()
    shown = log.assign(
        loaded_at=pd.to_datetime(log["loaded_at"], utc=True).dt.strftime("%-d %b %Y %H:%M"),
        reverts=_rollback_notes(log),
    )
    st.dataframe(
        shown,
        hide_index=True,
        key="status_extracts",
        column_config={
            "id": st.column_config.NumberColumn("Extract", format="%d"),
            "file_name": "File",
            "sha256": st.column_config.TextColumn("SHA-256", width="small"),
            "loaded_by": "Loaded by",
            "loaded_at": "Loaded (UTC)",
            "rows_total": st.column_config.NumberColumn("Rows", format="%d"),
            "rows_new": st.column_config.NumberColumn("New", format="%d"),
            "rows_revised": st.column_config.NumberColumn("Revised", format="%d"),
            "rows_unchanged": st.column_config.NumberColumn("Unchanged", format="%d"),
            "reverts": "Rollback",
        },
    )
    names = _names(log)
    files = dict(zip(log["id"].astype(int), log["file_name"].astype(str), strict=True))
    chosen = st.selectbox(
        "Download an extract exactly as it was loaded", list(names), format_func=names.__getitem__, key=EXTRACT_KEY
    )
    st.download_button(
        f"Download extract {chosen}",
        state.extract_content(view.url, chosen),
        file_name=f"extract-{chosen}-{safe_file_name(files[chosen], 'extract.csv')}",
        mime="text/csv",
        icon=":material/download:",
        key="status_download",
    )


def _changes_table(view: state.View, plan: pd.DataFrame) -> None:
    """Every value the rollback would withdraw, restore or keep, as before → after."""
    lines = rollback.changes(plan)
    names = {ind.id: ind.name for ind in view.catalogue.indicators}
    shown = pd.DataFrame(
        {
            "Indicator": lines["indicator"].map(lambda i: names.get(i, i)),
            "Period": lines["period"].map(lambda p: periods.month_name(periods.from_text(p))),
            "Now": lines["now"].map(formatting.exact),
            "After the rollback": [
                "withdrawn" if a == rollback.WITHDRAW else formatting.exact(after if a != rollback.KEEP else now)
                for a, now, after in zip(lines["action"], lines["now"], lines["after"], strict=True)
            ],
            "What happens": [
                f"kept: revised since by extract {by}" if a == rollback.KEEP else rollback.ACTION_WORDS[a]
                for a, by in zip(lines["action"], lines["revised_by"], strict=True)
            ],
        }
    )
    st.dataframe(shown, hide_index=True, key="rollback_changes")


def _rollback(view: state.View, user: state.User) -> None:
    st.subheader("Roll back an extract")
    ui.show_done(_DONE, icon=":material/undo:")
    if not user.can(Right.ROLLBACK):
        st.caption("An admin can roll back an extract: its values go back to what they were before it.")
        return
    st.caption(
        "Values the extract brought go back to the revision before it, as new revisions; values it "
        "brought for the first time are withdrawn; values revised since by a later extract stay. "
        "Nothing is deleted: the rollback is itself an extract in the history."
    )
    names = _names(view.extracts())
    chosen = st.selectbox(
        "Extract to roll back",
        list(names),
        index=None,
        placeholder="Choose an extract",
        format_func=names.__getitem__,
        key=ROLLBACK_KEY,
    )
    if chosen is None:
        return
    plan = rollback.plan_rollback(state.engine(view.url), int(chosen))
    counts = plan["action"].value_counts()
    restore, withdraw, keep = (int(counts.get(a, 0)) for a in (rollback.RESTORE, rollback.WITHDRAW, rollback.KEEP))
    st.write(
        f"Rolling back extract {chosen} would restore **{restore}** values to their earlier revision, "
        f"withdraw **{withdraw}** values it brought first, and keep **{keep}** revised since."
    )
    _changes_table(view, plan)
    if restore + withdraw == 0:
        undone = rollback.undone_by(state.engine(view.url), int(chosen))
        already = f"it was already rolled back by extract {undone}" if undone else "every value has been revised since"
        st.info(f"Nothing to roll back: {already}.")
        return
    if st.button(f"Roll back extract {chosen}", type="primary", icon=":material/undo:", key=ROLLBACK_CONFIRM_KEY):
        try:
            result = rollback.rollback(state.engine(view.url), int(chosen), user.name)
        except SQLAlchemyError:
            ui.database_busy("the rollback")
            return
        del st.session_state[ROLLBACK_KEY]
        ui.done_then_rerun(_DONE, ui.plain(result.message + "."))


def _remove_sample(view: state.View, user: state.User) -> None:
    """For an admin, while any sample value is in force: withdraw them all in one step."""
    ui.show_done(_SAMPLE_DONE, icon=":material/science:")
    in_force = view.sample_values_in_force()
    if not in_force or not user.can(Right.ROLLBACK):
        return
    st.subheader("Remove the sample data")
    st.caption(
        f"{in_force:,} values in force are the illustrative sample's. Removing it withdraws every sample value "
        "still in force as one extract in the history (nothing is deleted); values an officer has loaded stay."
    )
    if st.button("Remove the sample data", icon=":material/delete_sweep:", key=REMOVE_SAMPLE_KEY):
        try:
            removed = sample.remove_sample(state.engine(view.url), user.name)
        except SQLAlchemyError:
            ui.database_busy("the removal")
            return
        ui.done_then_rerun(_SAMPLE_DONE, f"The sample data was removed as extract {removed}.")


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    if not access.allowed(user, Right.DATA_STATUS):
        return
    st.title("Data status")
    if view.empty:
        st.info("No extract has been loaded yet.", icon=":material/info:")
        return
    _coverage(view)
    _history(view)
    _rollback(view, user)
    _remove_sample(view, user)
