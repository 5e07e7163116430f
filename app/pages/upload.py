"""Officers load a monthly extract: the file is checked, then what it would change is shown
(new values, revised values old → new and the RAG change each causes), and only a
confirmation loads it, all of it in one transaction. A rejected file shows every problem,
located, and writes nothing."""

from __future__ import annotations

import os
from functools import partial

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from app import access, state, ui
from kpis import ingest, periods
from kpis.access import Right
from kpis.errors import ExtractError
from kpis.publish import template
from kpis.report import plausibility, presentation, reasons, status
from kpis.report.performance import build_kpi_table
from kpis.spreadsheet import safe_file_name

UPLOADER_KEY = "upload_file"
CONFIRM_KEY = "upload_confirm"
TEMPLATE_MONTH_KEY = "template_month"
_DONE = "upload_done"  # the last load's message, shown after the rerun
_GENERATION = "upload_generation"  # a new uploader (empty) after each load
UPLOAD_LIMIT_ENV = "KPIS_UPLOAD_MAX_MB"
UPLOAD_LIMIT_DEFAULT_MB = 20
SHEET_KEY = "upload_sheet"
UNUSUAL_KEY = "upload_unusual_checked"


def upload_limit_mb() -> float:
    """The browser's size limit (the command line has none): ``KPIS_UPLOAD_MAX_MB``, default 20."""
    try:
        limit = float(os.environ.get(UPLOAD_LIMIT_ENV, UPLOAD_LIMIT_DEFAULT_MB))
    except ValueError:
        return UPLOAD_LIMIT_DEFAULT_MB
    return limit if limit > 0 else UPLOAD_LIMIT_DEFAULT_MB


def _template(view: state.View) -> None:
    latest = view.months[-1] if view.months else periods.current_month() - 1
    last = min(latest + 1, periods.current_month())
    options = list(range(last, last - 13, -1))
    with st.expander("Template for a month", icon=":material/download:"):
        month = st.selectbox(
            "Month", options, format_func=periods.month_name, key=TEMPLATE_MONTH_KEY, label_visibility="collapsed"
        )
        due = status.due(view.catalogue, month)
        if not due:
            st.info(f"Nothing is due for {periods.month_name(month)}.", icon=":material/event_busy:")
            return
        layout = template.Layout(
            st.radio(
                "Layout",
                [x.value for x in template.Layout],
                format_func={"long": "Long: a row per indicator", "wide": "Wide: a column per month"}.__getitem__,
                horizontal=True,
                key="template_layout",
            )
        )
        st.caption(
            f"The {len(due)} indicators due for {periods.month_name(month)} (quarterly ones on a quarter's last "
            "month), figures left blank to fill in"
            + (" (the months of the financial year so far as columns)." if layout is template.Layout.WIDE else ".")
        )
        columns = st.columns(2)
        for column, fmt, mime, icon in (
            (columns[0], template.Format.CSV, "text/csv", ":material/table_view:"),
            (
                columns[1],
                template.Format.XLSX,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ":material/grid_on:",
            ),
        ):
            column.download_button(
                f"Download as {fmt.value.upper()}",
                # made when clicked, not on every run of the page (a workbook of every indicator takes a second or two)
                partial(_template_file, view, month, layout, fmt),
                file_name=template.template_name(month, layout, fmt),
                mime=mime,
                icon=icon,
                key=f"template_{fmt.value}",
            )


def _template_file(view: state.View, month: int, layout: template.Layout, fmt: template.Format) -> bytes:
    return template.template(view.catalogue, month, layout, fmt, view.observations())


def _rejected(error: ExtractError) -> None:
    ui.rejected_file(
        f"**{ui.plain(error.file_name)} was rejected; nothing was written.**",
        error.problems,
        "upload_problems",
        safe_file_name(error.file_name, "extract.csv"),
        total=error.total,
    )


def _rag_moves(view: state.View, after: pd.DataFrame, month: int) -> pd.DataFrame:
    """The ratings the file would move, each one that becomes n/a with its reason."""
    table = build_kpi_table(after, view.catalogue, month)
    table = table.join(reasons.reasons(table, after, view.catalogue, month))
    return presentation.rag_changes(table, view.table(month))


def _unusual(view: state.View, plan: pd.DataFrame, after: pd.DataFrame) -> bool:
    """The values far from their indicator's history, each to be confirmed; whether the
    officer has ticked that they are right (True when there are none)."""
    found = plausibility.unusual(plan, after, view.catalogue)
    if found.empty:
        return True
    count = len(found)
    st.warning(
        f"**{count} value{'s are' if count != 1 else ' is'} far from {'their' if count != 1 else 'its'} "
        f"indicator's usual level**: {plausibility.RULE}. Check {'them' if count != 1 else 'it'} in the file "
        "before loading; a wrong unit or a misplaced decimal point is the usual cause.",
        icon=":material/warning:",
    )
    names = {i.id: i.name for i in view.catalogue.indicators}
    st.dataframe(
        pd.DataFrame(
            {
                "Indicator": found["indicator"].map(lambda i: names.get(i, i)),
                "Period": found["period"].map(periods.month_name),
                "Why": found["reason"],
            }
        ),
        hide_index=True,
        key="upload_unusual",
    )
    return st.checkbox(
        f"I have checked {'these' if count != 1 else 'this'} {count} value{'s' if count != 1 else ''} and "
        f"{'they are' if count != 1 else 'it is'} right",
        key=UNUSUAL_KEY,
    )


def _load(view: state.View, user: state.User, source: ingest.Source, counts: dict[str, int]) -> None:
    content, file_name = source.content, source.file_name
    try:
        result = ingest.ingest(
            state.engine(view.url), content, file_name, view.catalogue, user.name, sheet=source.sheet
        )
    except ExtractError as error:  # the catalogue changed since the preview
        _rejected(error)
        return
    except SQLAlchemyError:
        ui.database_busy("the file")
        return
    message = result.message + (". Every page now shows the new data." if result.extract_id else ".")
    if (result.new, result.revised) != (counts["new"], counts["revised"]):
        message += (
            " The stored data changed after the preview (another extract was loaded meanwhile), "
            "so these counts differ from the preview's."
        )
    st.session_state[_GENERATION] = st.session_state.get(_GENERATION, 0) + 1
    ui.done_then_rerun(_DONE, ui.plain(message))


def _preview(view: state.View, user: state.User, source: ingest.Source, plan: pd.DataFrame) -> None:
    file_name = source.file_name
    by_status = plan["status"].value_counts()
    counts = {status: int(by_status.get(status, 0)) for status in ("new", "revised", "unchanged")}
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
    after = ingest.applied(view.observations(), plan)
    moves = _rag_moves(view, after, month)
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
            f"{counts['revised']} {ui.plural(counts['revised'], 'value')} already stored would be revised. "
            "The values stored now stay in each indicator's history.",
            icon=":material/history:",
        )
    st.markdown("**New and revised values**")
    st.dataframe(presentation.planned_changes(plan, view.catalogue, moves), hide_index=True, key="upload_changes")
    checked = _unusual(view, plan, after)
    total = counts["new"] + counts["revised"]
    if st.button(
        f"Load {total:,} {ui.plural(total, 'change')}",
        type="primary",
        icon=":material/database_upload:",
        key=CONFIRM_KEY,
        disabled=not checked,
        help=None if checked else "Tick that you have checked the unusual values first.",
    ):
        _load(view, user, source, counts)


def render(view: state.View, pages: state.Pages, user: state.User) -> None:
    if not access.allowed(user, Right.UPLOAD):
        return
    st.title("Load a monthly extract")
    ui.show_done(_DONE)
    limit = upload_limit_mb()
    st.caption(
        "A CSV file or an Excel workbook (.xlsx, .xlsm): one row per indicator and month "
        "(`indicator,period,value`, optionally `numerator,denominator,note`), or one row per indicator with a "
        f"column per month (`indicator,Apr-20,May-20,...`). At most **{limit:g} MB** here; larger files load from "
        "the command line (`python -m kpis ingest FILE`), which has no size limit. Nothing is written until you "
        "have seen what the file changes and confirmed it."
    )
    _template(view)
    file = st.file_uploader(
        "Extract file (CSV or Excel)",
        type=["csv", "xlsx", "xlsm"],
        key=f"{UPLOADER_KEY}-{st.session_state.get(_GENERATION, 0)}",
        # Twice the limit, so that a file somewhat over it gets our message naming the command line;
        # above this the browser refuses the file itself, with only a red mark.
        max_upload_size=int(2 * limit) + 1,
    )
    if file is None:
        return
    source = ingest.Source(file.getvalue(), file.name)
    try:
        ingest.refuse_oversized(source.content, source.file_name, int(limit * 1024 * 1024))
        sheets = ingest.sheet_names(source)
        if len(sheets) > 1:
            source = ingest.Source(source.content, source.file_name, st.selectbox("Sheet", sheets, key=SHEET_KEY))
        plan = ingest.preview(
            state.engine(view.url), source.content, source.file_name, view.catalogue, sheet=source.sheet
        )
    except ExtractError as error:
        _rejected(error)
        return
    _preview(view, user, source, plan)
