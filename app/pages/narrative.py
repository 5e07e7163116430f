"""Officers write each workstream's progress commentary for the sidebar's month, in
Markdown, starting from last month's text; every saved version is kept with who saved it
and when. A save after someone else's is refused with who and when, and the officer's text
stays in the editor beside theirs, to merge. What the board sees is previewed as they type (raw HTML shows as text)."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app import access, state, ui
from kpis import periods
from kpis.access import Right
from kpis.errors import StaleEditError
from kpis.governance import narrative

WORKSTREAM_KEY = "narrative_workstream"
SAVE_KEY = "narrative_save"
TEXT_KEY = "narrative_text"  # + workstream, month and the edit's number: a fresh editor after a save
AFTER_THEIRS_KEY = "narrative_save_after_theirs"
DISCARD_KEY = "narrative_discard_mine"
_DONE = "_narrative_saved"
# Per workstream and month, from the moment the editor opens until a save: the version it
# started from (the edit's base) and, after a refused save, the newer version it met. Kept
# for the session, never re-read from the store on a rerun, so that a version someone else
# saves meanwhile is noticed on save and the text being written stays in the editor.
_EDITS = "_narrative_edits"


@dataclass
class Edit:
    draft: narrative.Draft  # what the editor opened with; draft.based_on is the edit's base
    number: int = 0  # part of the editor's key: a new number is a fresh editor
    conflict: StaleEditError | None = None  # the newer version met on save
    theirs: str = ""  # that version's text


def _workstream(view: state.View) -> str:
    ids = [w.id for w in view.catalogue.workstreams]
    asked = st.query_params.get(ui.WORKSTREAM_PARAM)
    if asked in ids and WORKSTREAM_KEY not in st.session_state:
        st.session_state[WORKSTREAM_KEY] = asked
    names = {w.id: w.name for w in view.catalogue.workstreams}
    return st.selectbox("Workstream", ids, format_func=names.__getitem__, key=WORKSTREAM_KEY)


def _edit(engine: Engine, workstream: str, month: int, fresh: bool = False) -> Edit:
    """This session's edit of a workstream's commentary for a month: started (from the
    store's latest) the first time, then kept."""
    edits = st.session_state.setdefault(_EDITS, {})
    key = (workstream, month)
    if fresh or key not in edits:
        number = edits[key].number + 1 if key in edits else 0
        edits[key] = Edit(narrative.starting_text(engine, workstream, month), number)
    return edits[key]


def _save(view: state.View, user: state.User, workstream: str, edit: Edit, text: str, based_on: int | None) -> None:
    engine = state.engine(view.url)
    month = edit.draft.month
    try:
        version = narrative.save(engine, workstream, month, text, user.name, based_on, catalogue=view.catalogue)
    except StaleEditError as error:
        latest = narrative.history(engine, workstream, month)
        edit.conflict, edit.theirs = error, latest["text"].iloc[0] if len(latest) else ""
        st.rerun()
    except narrative.NarrativeError as error:
        st.error(ui.plain(error), icon=":material/error:")
        return
    except SQLAlchemyError:
        ui.database_busy("the commentary")
        return
    if version == (based_on or 0):
        st.info("No change: nothing was saved.", icon=":material/info:")
        return
    name = view.catalogue.workstream(workstream).name
    _edit(engine, workstream, month, fresh=True)  # the next edit starts from the version just saved
    ui.done_then_rerun(_DONE, f"Saved version {version} of the {name} commentary for {periods.month_name(month)}.")


def _conflict(
    view: state.View, user: state.User, workstream: str, edit: Edit, error: StaleEditError, text: str
) -> None:
    """A save refused (``error``, the edit's conflict) because someone saved meanwhile: who
    and when, both texts side by side to merge from, and the two ways on (the user's text
    stays in the editor)."""
    with st.container(border=True, key="narrative-conflict"):
        st.error(ui.plain(str(error).split(" Hint:")[0]), icon=":material/sync_problem:")
        st.markdown(
            "Your text is still in the editor. Compare it with theirs, copy what you want to keep into the "
            f"editor, then save it as the version after version {error.version}; or discard yours."
        )
        mine, theirs = st.columns(2)
        mine.markdown("**Your text**")
        mine.code(text, language=None, wrap_lines=True)
        theirs.markdown(f"**Version {error.version}, saved by {ui.plain(error.saved_by)}**")
        theirs.code(edit.theirs, language=None, wrap_lines=True)
        left, right = st.columns(2)
        if left.button(
            f"Save my text as version {error.version + 1}",
            type="primary",
            icon=":material/save:",
            key=AFTER_THEIRS_KEY,
        ):
            edit.conflict = None
            _save(view, user, workstream, edit, text, error.version)
        if right.button(f"Discard my text and load version {error.version}", icon=":material/undo:", key=DISCARD_KEY):
            _edit(state.engine(view.url), workstream, edit.draft.month, fresh=True)
            st.rerun()


def _history(view: state.View, workstream: str, month: int) -> None:
    versions = narrative.history(state.engine(view.url), workstream, month)
    st.subheader("Saved versions")
    if versions.empty:
        st.caption(f"Nothing saved for {periods.month_name(month)} yet.")
        return
    st.dataframe(
        versions.assign(saved_at=versions["saved_at"].dt.strftime("%d %b %Y %H:%M UTC")).rename(
            columns={"version": "Version", "saved_by": "Saved by", "saved_at": "Saved at", "text": "Text"}
        )[["Version", "Saved by", "Saved at", "Text"]],
        hide_index=True,
        key="narrative-versions",
    )


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    if not access.allowed(user, Right.EDIT_NARRATIVE):
        return
    st.title("Write progress")
    ui.show_done(_DONE)
    workstream = _workstream(view)
    month = view.as_at
    edit = _edit(state.engine(view.url), workstream, month)
    draft = edit.draft
    st.caption(
        f"The commentary for **{periods.month_name(month)}** (the sidebar's month), shown on the workstream's page "
        "and in the board pack. Markdown: `**bold**`, `- bullet`, a blank line between paragraphs."
    )
    if draft.carried_forward and draft.from_month is not None:
        st.info(
            f"No commentary for {periods.month_name(month)} yet: the editor starts from "
            f"{periods.month_name(draft.from_month)}'s. Change it, then save it for {periods.month_name(month)}.",
            icon=":material/content_copy:",
        )
    left, right = st.columns(2)
    text = left.text_area(
        "Commentary (Markdown)",
        value=draft.text,
        height=360,
        max_chars=narrative.MAX_CHARS,
        key=f"{TEXT_KEY}-{workstream}-{month}-{edit.number}",
    )
    with right:
        st.markdown("**Preview**")
        # no fixed height: a scrolling box with nothing to focus cannot be scrolled from the keyboard (WCAG 2.1.1)
        with st.container(border=True):
            ui.commentary(text)
    if edit.conflict is not None:
        _conflict(view, user, workstream, edit, edit.conflict, text)
    elif st.button("Save commentary", type="primary", icon=":material/save:", key=SAVE_KEY):
        _save(view, user, workstream, edit, text, draft.based_on)
    _history(view, workstream, month)
