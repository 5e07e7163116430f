"""Officers load a monthly extract: the file is checked, then what it would change is shown
(new values, revised values old → new and the RAG change each causes), and only a
confirmation loads it, all of it in one transaction. A rejected file shows every problem,
located, and writes nothing."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from app import access, state, ui
from kpis import ingest, periods, presentation, status
from kpis.access import Right
from kpis.errors import ExtractError
from kpis.performance import build_kpi_table
from kpis.spreadsheet import safe_file_name

UPLOADER_KEY = "upload_file"
CONFIRM_KEY = "upload_confirm"
TEMPLATE_MONTH_KEY = "template_month"
_DONE = "upload_done"  # the last load's message, shown after the rerun
_GENERATION = "upload_generation"  # a new uploader (empty) after each load
# The uploader takes files up to twice the engine's limit, so that a file somewhat over it
# (the usual mistake: a whole year instead of a month) gets the engine's message with its
# advice on screen. Above this the browser refuses the file itself, with only a red mark.
UPLOAD_LIMIT_MB = 2 * ingest.MAX_BYTES // (1024 * 1024)


def _template(view: state.View) -> None:
    latest = view.months[-1] if view.months else periods.current_month() - 1
    last = min(latest + 1, periods.current_month())
    options = list(range(last, last - 13, -1))
    with st.expander("Template for a month", icon=":material/download:"):
        month = st.selectbox(
            "Month", options, format_func=periods.month_name, key=TEMPLATE_MONTH_KEY, label_visibility="collapsed"
        )
        due = status.due(view.catalogue, month)
        st.caption(
            f"The header and the {len(due)} indicators due for {periods.month_name(month)} "
            "(quarterly ones on a quarter's last month), values left blank to fill in."
        )
        st.download_button(
            f"Download the template for {periods.month_name(month)}",
            status.template(view.catalogue, month),
            file_name=status.template_name(month),
            mime="text/csv",
            icon=":material/table_view:",
        )


def _rejected(error: ExtractError) -> None:
    count = len(error.problems)
    st.error(
        f"**{ui.plain(error.file_name)} was rejected; nothing was written.** {count} problem{'s' if count != 1 else ''} "
        "below, each with its row in the file (the header is row 1). Fix them and upload the file again.",
        icon=":material/block:",
    )
    ui.problems_table(error.problems, "upload_problems", safe_file_name(error.file_name, "extract.csv"))


def _rag_moves(view: state.View, plan, month: int):
    before = view.table(month)
    after = build_kpi_table(ingest.applied(view.observations(), plan), view.catalogue, month)
    return presentation.rag_changes(after, before)


def _load(view: state.View, user: state.User, content: bytes, file_name: str, counts: dict) -> None:
    try:
        result = ingest.ingest(state.engine(view.url), content, file_name, view.catalogue, user.name)
    except ExtractError as error:  # the catalogue changed since the preview
        _rejected(error)
        return
    except SQLAlchemyError:
        st.error(
            "The database could not take the file just now (it is busy or unreachable); nothing was written. "
            "Try again in a minute.",
            icon=":material/database:",
        )
        return
    message = result.message + (". Every page now shows the new data." if result.extract_id else ".")
    if (result.new, result.revised) != (counts["new"], counts["revised"]):
        message += (
            " The stored data changed after the preview (another extract was loaded meanwhile), "
            "so these counts differ from the preview's."
        )
    st.session_state[_DONE] = ui.plain(message)
    st.session_state[_GENERATION] = st.session_state.get(_GENERATION, 0) + 1
    st.rerun()


def _preview(view: state.View, user: state.User, content: bytes, file_name: str, plan) -> None:
    counts = plan["status"].value_counts().reindex(["new", "revised", "unchanged"], fill_value=0).to_dict()
    st.subheader(f"What {ui.plain(file_name)} would change")
    columns = st.columns(4)
    columns[0].metric("Rows in the file", f"{len(plan):,}")
    columns[1].metric("New values", f"{counts['new']:,}")
    columns[2].metric("Revised values", f"{counts['revised']:,}")
    columns[3].metric("Unchanged", f"{counts['unchanged']:,}")
    if counts["new"] + counts["revised"] == 0:
        st.info("Nothing to load: every row matches the value already stored.", icon=":material/check_circle:")
        return
    month = max(view.as_at, int(plan["period"].max()))
    moves = _rag_moves(view, plan, month)
    st.markdown(f"**RAG ratings that would change, as at {periods.label(month)} ({periods.month_name(month)})**")
    if moves.empty:
        st.caption("No rating would change.")
    else:
        st.dataframe(
            moves.assign(
                change=presentation.move_texts(moves),
                comparison="against " + moves["comparison"],
            )[["name", "comparison", "change"]].rename(
                columns={"name": "Indicator", "comparison": "Rating", "change": "Change"}
            ),
            hide_index=True,
            key="upload_rag_moves",
        )
    if counts["revised"]:
        st.warning(
            f"{counts['revised']} value{'s' if counts['revised'] != 1 else ''} already stored would be revised. "
            "The values stored now stay in each indicator's history.",
            icon=":material/history:",
        )
    st.markdown("**New and revised values**")
    st.dataframe(presentation.planned_changes(plan, view.catalogue, moves), hide_index=True, key="upload_changes")
    total = counts["new"] + counts["revised"]
    if st.button(
        f"Load {total:,} change{'s' if total != 1 else ''}",
        type="primary",
        icon=":material/database_upload:",
        key=CONFIRM_KEY,
    ):
        _load(view, user, content, file_name, counts)


def render(view: state.View, pages: dict, user: state.User) -> None:
    if not access.allowed(user, Right.UPLOAD):
        return
    st.title("Load a monthly extract")
    done = st.session_state.pop(_DONE, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    st.caption(
        "A CSV file with the columns `indicator,period,value` (and optionally `numerator,denominator,note`), "
        f"at most {ingest.MAX_BYTES // (1024 * 1024)} MB and {ingest.MAX_ROWS:,} rows. Nothing is written "
        "until you have seen what the file changes and confirmed it."
    )
    _template(view)
    file = st.file_uploader(
        "Extract file (CSV)",
        type="csv",
        key=f"{UPLOADER_KEY}-{st.session_state.get(_GENERATION, 0)}",
        max_upload_size=UPLOAD_LIMIT_MB,
    )
    if file is None:
        return
    content = file.getvalue()
    try:
        plan = ingest.preview(state.engine(view.url), content, file.name, view.catalogue)
    except ExtractError as error:
        _rejected(error)
        return
    _preview(view, user, content, file.name, plan)
