"""Officers write each workstream's progress commentary for the sidebar's month, in
Markdown, starting from last month's text; every saved version is kept with who saved it
and when. What the board sees is previewed as they type (raw HTML shows as text)."""

from __future__ import annotations

import streamlit as st

from app import access, state, ui
from kpis import narrative, periods
from kpis.access import Right
from kpis.errors import StaleEditError

WORKSTREAM_KEY = "narrative_workstream"
SAVE_KEY = "narrative_save"
TEXT_KEY = "narrative_text"  # + workstream, month and version: a fresh editor after a save
WORKSTREAM_PARAM = "ws"
_DONE = "_narrative_saved"


def _workstream(view: state.View) -> str:
    ids = [w.id for w in view.catalogue.workstreams]
    asked = st.query_params.get(WORKSTREAM_PARAM)
    if asked in ids and WORKSTREAM_KEY not in st.session_state:
        st.session_state[WORKSTREAM_KEY] = asked
    names = {w.id: w.name for w in view.catalogue.workstreams}
    return st.selectbox("Workstream", ids, format_func=names.get, key=WORKSTREAM_KEY)


def _save(view: state.View, user: state.User, workstream: str, draft: narrative.Draft, text: str) -> None:
    try:
        version = narrative.save(
            state.engine(view.url), workstream, draft.month, text, user.name, draft.based_on, catalogue=view.catalogue
        )
    except StaleEditError as error:
        st.error(str(error), icon=":material/sync_problem:")
        return
    except narrative.NarrativeError as error:
        st.error(str(error), icon=":material/error:")
        return
    if version == (draft.based_on or 0):
        st.info("No change: nothing was saved.", icon=":material/info:")
        return
    name = view.catalogue.workstream(workstream).name
    st.session_state[_DONE] = f"Saved version {version} of the {name} commentary for {periods.month_name(draft.month)}."
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


def render(view: state.View, pages: dict, user: state.User) -> None:
    if not access.allowed(user, Right.EDIT_NARRATIVE):
        return
    st.title("Write progress")
    done = st.session_state.pop(_DONE, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    workstream = _workstream(view)
    month = view.as_at
    engine = state.engine(view.url)
    draft = narrative.starting_text(engine, workstream, month)
    st.caption(
        f"The commentary for **{periods.month_name(month)}** (the sidebar's month), shown on the workstream's page "
        "and in the board pack. Markdown: `**bold**`, `- bullet`, a blank line between paragraphs."
    )
    if draft.carried_forward:
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
        key=f"{TEXT_KEY}-{workstream}-{month}-{draft.based_on or 0}",
    )
    with right:
        st.markdown("**Preview**")
        with st.container(border=True, height=360):
            ui.commentary(text)
    if st.button("Save commentary", type="primary", icon=":material/save:", key=SAVE_KEY):
        _save(view, user, workstream, draft, text)
    _history(view, workstream, month)
