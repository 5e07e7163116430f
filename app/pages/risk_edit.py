"""Officers add and edit risks one at a time in a form, or import a register file (CSV).
Every save is a new version with who saved it and when; an edit started from a version
someone has since replaced is refused, and a file with any problem writes nothing."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from app import access, state, ui
from kpis.access import Right
from kpis.catalogue import Catalogue
from kpis.errors import StaleEditError
from kpis.governance import risks
from kpis.spreadsheet import safe_file_name

CHOICE_KEY = "risk_edit_choice"
FORM_KEY = "risk_form"
# The form's widgets are keyed "risk_<field>-<risk id>-<version>" ("risk_<field>-new-0" for
# a new risk), e.g. "risk_rank-3-2": a save or another risk makes fresh widgets, filled
# from the version shown. Fields: programme, description, rank, owner, mitigation, status,
# workstream, indicators, next_review.
FIELD_KEY = "risk_{field}-{risk}-{version}"
RELOAD_KEY = "risk_edit_reload"
TEMPLATE_KEY = "risk_import_template"
IMPORT_FILE_KEY = "risk_import_file"  # + "-<n>": a fresh, empty uploader after each import
IMPORT_CONFIRM_KEY = "risk_import_confirm"
PROBLEMS_DOWNLOAD_KEY = "risk_import_problems_download"
NEW_RISK = 0  # the choice "New risk"
_DONE = "_risk_edit_done"  # the last save's or import's message, shown after the rerun
_CHOOSE = "_risk_edit_choose"  # the risk to show after a save (the choice widget is drawn by then)
_LOADED = "_risk_edit_loaded"  # (risk id, version) the form was filled from: the edit's base
_IMPORTS = "_risk_import_generation"

LABELS = {
    "programme": "Project or programme",
    "description": "Description of risk/issue",
    "rank": "Rank",
    "owner": "Owner",
    "mitigation": "Proposed mitigation/resolution",
    "status": "Status",
    "workstream": "Linked workstream",
    "indicators": "Linked indicators",
    "next_review": "Next review",
}
BLANK = {
    "programme": "",
    "description": "",
    "rank": None,
    "owner": None,
    "mitigation": "",
    "status": "open",
    "workstream": "",
    "indicators": [],
    "next_review": None,
}


def choice_label(risk: pd.Series) -> str:
    """``12 · High · Home Care: Risk that the domiciliary care market…``."""
    text = f"{risk['programme']}: {risk['description']}" if risk["programme"] else risk["description"]
    text = " ".join(text.split())  # one line
    short = text if len(text) <= 70 else text[:69].rstrip() + "…"
    return f"{int(risk['risk_id'])} · {risk['rank']} · {short}"


def _choice(register: pd.DataFrame) -> int:
    ids = [int(i) for i in register["risk_id"]]
    chosen_after_save = st.session_state.pop(_CHOOSE, None)
    asked = st.query_params.get(ui.RISK_PARAM, "")
    if chosen_after_save in ids:
        st.session_state[CHOICE_KEY] = chosen_after_save
    elif CHOICE_KEY not in st.session_state and asked.isdigit() and int(asked) in ids:
        st.session_state[CHOICE_KEY] = int(asked)
    labels = {NEW_RISK: "New risk"} | {int(row["risk_id"]): choice_label(row) for _, row in register.iterrows()}
    chosen = st.selectbox("Risk to add or edit", list(labels), format_func=labels.get, key=CHOICE_KEY)
    if chosen == NEW_RISK:
        st.query_params.pop(ui.RISK_PARAM, None)
    else:
        st.query_params[ui.RISK_PARAM] = str(chosen)
    return chosen


def _base_version(register: pd.DataFrame, risk_id: int) -> int:
    """The version the editor started from: the latest when the risk was chosen, kept
    across reruns so that a version saved by someone else meanwhile is noticed on save."""
    loaded = st.session_state.get(_LOADED)
    if loaded is None or loaded[0] != risk_id:
        latest = int(register.loc[register["risk_id"] == risk_id, "version"].iloc[0])
        st.session_state[_LOADED] = (risk_id, latest)
    return st.session_state[_LOADED][1]


def _values(version_row: pd.Series) -> dict:
    """A stored version as the form's starting values."""
    review = version_row["next_review"]
    return {
        "programme": version_row["programme"],
        "description": version_row["description"],
        "rank": version_row["rank"],
        "owner": version_row["owner"],
        "mitigation": version_row["mitigation"],
        "status": version_row["status"],
        "workstream": version_row["workstream"],
        "indicators": [i for i in version_row["indicators"].split("; ") if i],
        "next_review": None if pd.isna(review) else review.date(),
    }


def _fields(catalogue: Catalogue, values: dict, risk_key: str, version: int) -> dict:
    """The form's widgets, filled with ``values``; what they hold now."""

    def key(field: str) -> str:
        return FIELD_KEY.format(field=field, risk=risk_key, version=version)

    owners = list(dict.fromkeys([*catalogue.owners, *([values["owner"]] if values["owner"] else [])]))
    workstreams = {"": "None"} | {w.id: w.name for w in catalogue.workstreams}
    indicators = {i.id: i.name for i in catalogue.indicators}
    fields = {}
    fields["programme"] = st.text_input(
        LABELS["programme"], value=values["programme"], max_chars=risks.MAX_PROGRAMME, key=key("programme")
    )
    fields["description"] = st.text_area(
        LABELS["description"], value=values["description"], max_chars=risks.MAX_TEXT, key=key("description")
    )
    rank_col, owner_col, status_col = st.columns(3)
    fields["rank"] = rank_col.selectbox(
        LABELS["rank"],
        risks.RANKS,
        index=risks.RANKS.index(values["rank"]) if values["rank"] in risks.RANKS else None,
        placeholder="Choose a rank",
        key=key("rank"),
    )
    fields["owner"] = owner_col.selectbox(
        LABELS["owner"],
        owners,
        index=owners.index(values["owner"]) if values["owner"] in owners else None,
        format_func=lambda o: ui.owner_label(catalogue, o),
        placeholder="Choose an owner",
        key=key("owner"),
    )
    fields["status"] = status_col.radio(
        LABELS["status"],
        risks.STATUSES,
        index=risks.STATUSES.index(values["status"]),
        horizontal=True,
        key=key("status"),
    )
    fields["mitigation"] = st.text_area(
        LABELS["mitigation"], value=values["mitigation"], max_chars=risks.MAX_TEXT, key=key("mitigation")
    )
    workstream_col, review_col = st.columns(2)
    fields["workstream"] = workstream_col.selectbox(
        LABELS["workstream"],
        list(workstreams),
        index=list(workstreams).index(values["workstream"]) if values["workstream"] in workstreams else 0,
        format_func=workstreams.get,
        key=key("workstream"),
    )
    fields["next_review"] = review_col.date_input(
        LABELS["next_review"],
        value=values["next_review"],
        min_value=date(2000, 1, 1),
        max_value=date(2099, 12, 31),
        format="DD/MM/YYYY",
        help="Leave it empty if no review is planned.",
        key=key("next_review"),
    )
    fields["indicators"] = st.multiselect(
        LABELS["indicators"],
        list(indicators),
        default=[i for i in values["indicators"] if i in indicators],
        format_func=indicators.get,
        placeholder="None",
        key=key("indicators"),
    )
    return fields


def _invalid(error: risks.RiskError) -> None:
    count = len(error.problems)
    st.error(
        f"The risk was not saved: {count} problem{'s' if count != 1 else ''} below. Correct them and save again.",
        icon=":material/block:",
    )
    shown = error.problems.assign(column=error.problems["column"].map(lambda c: LABELS.get(c, c)))
    st.dataframe(
        shown[["column", "value", "problem", "hint"]],
        hide_index=True,
        key="risk_form_problems",
        column_config={
            "column": "Field",
            "value": "Value",
            "problem": st.column_config.TextColumn("Problem", width="large"),
            "hint": st.column_config.TextColumn("How to fix it", width="large"),
        },
    )


def _save(view: state.View, user: state.User, fields: dict, risk_id: int | None, based_on: int | None) -> None:
    try:
        risk = risks.validate_risk(fields, view.catalogue)
        saved_id, version = risks.save(state.engine(view.url), risk, user.name, risk_id, based_on=based_on)
    except risks.RiskError as error:
        _invalid(error)
        return
    except StaleEditError as error:
        st.error(ui.plain(error), icon=":material/sync_problem:")
        st.button(
            "Load the latest version",
            icon=":material/refresh:",
            key=RELOAD_KEY,
            on_click=lambda: st.session_state.pop(_LOADED, None),
        )
        return
    except SQLAlchemyError:
        st.error(
            "The database could not take the risk just now (it is busy or unreachable); nothing was written. "
            "Try again in a minute.",
            icon=":material/database:",
        )
        return
    if risk_id is not None and version == based_on:
        st.info("No change: nothing was saved.", icon=":material/info:")
        return
    st.session_state[_DONE] = f"Saved risk {saved_id}, version {version}."
    st.session_state[_LOADED] = (saved_id, version)
    st.session_state[_CHOOSE] = saved_id
    st.rerun()


def _edit(view: state.View, user: state.User, register: pd.DataFrame) -> None:
    chosen = _choice(register)
    if chosen == NEW_RISK:
        risk_id, version, values = None, 0, BLANK
        st.caption("A new risk gets the next number and is open unless you say otherwise.")
    else:
        risk_id = chosen
        version = _base_version(register, risk_id)
        versions = risks.history(state.engine(view.url), risk_id)
        base = versions[versions["version"] == version].iloc[0]
        values = _values(base)
        st.caption(
            f"Version {version}, saved by {ui.plain(base['saved_by'])} on {base['saved_at']:%d %b %Y %H:%M} UTC. "
            "Saving makes a new version; the earlier ones stay in the risk's history."
        )
    with st.form(FORM_KEY):
        fields = _fields(view.catalogue, values, str(risk_id) if risk_id else "new", version)
        submitted = st.form_submit_button(
            "Add the risk" if risk_id is None else f"Save risk {risk_id}", type="primary", icon=":material/save:"
        )
    if submitted:
        _save(view, user, fields, risk_id, version if risk_id is not None else None)


def _rejected(error: risks.RiskError, file_name: str) -> None:
    count = len(error.problems)
    st.error(
        f"{ui.plain(file_name)} was rejected; nothing was written. {count} problem{'s' if count != 1 else ''} below, each "
        "with its row in the file (the header is row 1). Fix them and upload the file again.",
        icon=":material/block:",
    )
    ui.problems_table(
        error.problems, "risk_import_problems", safe_file_name(file_name, "risks.csv"), PROBLEMS_DOWNLOAD_KEY
    )


def _import_preview(imported: list[risks.ImportedRisk]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Row": [i.row for i in imported],
            "Change": ["new" if i.risk_id is None else f"update risk {i.risk_id}" for i in imported],
            "Description": [i.risk.description for i in imported],
            "Rank": [i.risk.rank for i in imported],
            "Owner": [i.risk.owner for i in imported],
            "Status": [i.risk.status for i in imported],
        }
    )


def _import(view: state.View, user: state.User, register: pd.DataFrame) -> None:
    st.caption(
        f"A CSV file (UTF-8) with the columns {', '.join(risks.RISK_COLUMNS)}, the header first. A blank risk_id "
        "adds a risk; the id of a risk in the register saves a new version of it (a row the same as the register "
        "saves nothing). indicators: ids separated by ;. next_review: YYYY-MM-DD. A file with any problem is "
        "rejected whole, and nothing is written until you confirm."
    )
    st.download_button(
        "Download the register as a template (CSV)",
        risks.to_csv(register),
        file_name="risk-register.csv",
        mime="text/csv",
        icon=":material/table_view:",
        key=TEMPLATE_KEY,
    )
    file = st.file_uploader(
        "Register file (CSV)", type="csv", key=f"{IMPORT_FILE_KEY}-{st.session_state.get(_IMPORTS, 0)}"
    )
    if file is None:
        return
    content = file.getvalue()
    try:
        imported = risks.read_csv(content, view.catalogue, file.name)
    except risks.RiskError as error:
        _rejected(error, file.name)
        return
    new = sum(i.risk_id is None for i in imported)
    updates = len(imported) - new
    st.markdown(
        f"The file holds **{len(imported)}** risk{'s' if len(imported) != 1 else ''}: **{new}** new "
        f"(blank risk_id) and **{updates}** update{'s' if updates != 1 else ''} of risks in the register."
    )
    st.dataframe(_import_preview(imported), hide_index=True, key="risk_import_rows")
    if st.button(
        f"Import {len(imported)} risk{'s' if len(imported) != 1 else ''}",
        type="primary",
        icon=":material/database_upload:",
        key=IMPORT_CONFIRM_KEY,
    ):
        try:
            result = risks.import_csv(state.engine(view.url), content, view.catalogue, user.name, file.name)
        except risks.RiskError as error:  # an id not in the register, or the catalogue changed
            _rejected(error, file.name)
            return
        except SQLAlchemyError:
            st.error(
                "The database could not take the file just now (it is busy or unreachable); nothing was written. "
                "Try again in a minute.",
                icon=":material/database:",
            )
            return
        st.session_state[_DONE] = ui.plain(f"{file.name} imported: {result.message}.")
        st.session_state[_IMPORTS] = st.session_state.get(_IMPORTS, 0) + 1
        st.session_state.pop(_LOADED, None)  # the file may have saved a new version of the risk in the form
        st.rerun()


def render(view: state.View, pages: dict, user: state.User) -> None:
    if not access.allowed(user, Right.EDIT_RISKS):
        return
    st.title("Edit risks")
    st.page_link(pages["risks"], label="The risk register", icon=":material/arrow_back:")
    done = st.session_state.pop(_DONE, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    register = risks.current(state.engine(view.url))
    edit_tab, import_tab = st.tabs(["Add or edit a risk", "Import from CSV"])
    with edit_tab:
        _edit(view, user, register)
    with import_tab:
        _import(view, user, register)
