"""The risk register on screen, through AppTest on the real app and its own SQLite file: the
register for everyone (filters, the overdue flag in words, a risk's text and history, the
CSV download), and the officers' page (adding and editing a risk in the form, a stale edit
refused, importing a file: rejected whole with every problem, or previewed then written).
Also the pure helper that says what each version changed."""

from __future__ import annotations

import csv
import getpass
import io
from datetime import date

import pandas as pd
import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from app.pages import risk_edit
from app.pages import risks as risks_page
from app.shell import AS_AT_KEY
from kpis import periods, store
from kpis.governance import risks
from tests.test_app import dataframe_with, open_page
from tests.test_app_officers import start, texts

USER = getpass.getuser()
HEADER = ",".join(risks.RISK_COLUMNS)
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
# The sample register (data/sample/risks.csv), most severe first, then by next review date.
SAMPLE_ORDER = [2, 3, 1, 4, 5, 6]
SAMPLE_RANKS = ["High", "High", "Moderate", "Moderate", "Moderate", "Low"]
SAMPLE_PROGRAMMES = [
    "Wheel Chair Service",
    "Hospital Discharge",
    "Home Care",
    "Make Care Safer",
    "Reliance on temporary staff in the Placement Service",
    "Looked After Children",
]


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """The bytes each download button offers, by media file id: AppTest drops its media
    store after every run, so keep a copy of what is put in it."""
    offered: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def keeping(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        offered[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keeping)
    return offered


def offered(downloads: dict[str, bytes], at: AppTest, key: str) -> bytes:
    button = next(b for b in at.get("download_button") if b.key == key)
    return downloads[button.proto.url.rsplit("/", 1)[-1].split(".")[0]]


def register_table(at: AppTest) -> pd.DataFrame:
    return at.dataframe[0].value


def select_row(at: AppTest, row: int) -> AppTest:
    """Select a row of the register, as a click on it does."""
    at.session_state[risks_page.TABLE_KEY] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    return at.run()


def page_links(at: AppTest) -> list[tuple[str, str]]:
    return [(link.proto.label, link.proto.query_string) for link in at.main.get("page_link")]


def widget(at: AppTest, kind: str, label: str):
    """The form's widget of ``kind`` with ``label`` (the keys carry the risk and version)."""
    found = [w for w in getattr(at, kind) if w.label == label]
    assert len(found) == 1, f"{len(found)} {kind} labelled {label!r}"
    return found[0]


def fill_form(at: AppTest, **values) -> AppTest:
    kinds = {
        "programme": "text_input",
        "description": "text_area",
        "rank": "selectbox",
        "owner": "selectbox",
        "mitigation": "text_area",
        "status": "radio",
        "workstream": "selectbox",
        "indicators": "multiselect",
        "next_review": "date_input",
    }
    for field, value in values.items():
        widget(at, kinds[field], risk_edit.LABELS[field]).set_value(value)
    return at


def submit(at: AppTest) -> AppTest:
    buttons = [b for b in at.button if b.key and b.key.startswith(f"FormSubmitter:{risk_edit.FORM_KEY}-")]
    assert len(buttons) == 1
    buttons[0].click().run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    open_page(at, "edit-risks")
    at.get("file_uploader")[0].set_value((name, content, "text/csv")).run()
    assert not at.exception
    return at


def versions(engine) -> pd.DataFrame:
    """Every stored version of every risk."""
    frames = [risks.history(engine, int(i)) for i in risks.current(engine)["risk_id"]]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def csv_bytes(*rows: str) -> bytes:
    return "\n".join([HEADER, *rows, ""]).encode("utf-8")


# The register, for everyone ------------------------------------------------------------


def test_a_viewer_sees_the_sample_register_most_severe_first(app_env, monkeypatch):
    at = start("viewer", monkeypatch)
    open_page(at, "risks")
    assert not at.exception
    assert [t.value for t in at.title] == ["Risks"]
    table = register_table(at)
    assert table["risk_id"].tolist() == SAMPLE_ORDER
    assert table["rank"].tolist() == SAMPLE_RANKS
    assert table["programme"].tolist() == SAMPLE_PROGRAMMES
    assert table["status"].tolist() == ["open"] * 6
    assert table.loc[2, "workstream"] == "Managing and Developing the Market"
    assert table.loc[2, "indicators"] == (
        "Total number of home care hours purchased per week; % of home care clients using a non-framework "
        "provider; Average days from referral received to placement start date (home care)"
    )
    assert table.loc[0, "indicators"] == ""  # the wheelchair service is linked to no indicator
    assert table.loc[0, "next_review"] == pd.Timestamp("2020-11-20")
    assert "Showing **6** of 6 risks." in texts(at, "markdown")
    assert at.multiselect(key=risks_page.STATUS_KEY).value == ["open"]
    assert at.multiselect(key=risks_page.OWNER_KEY).options[:2] == [
        "SR — Director of Quality and Integration",
        "DC — Associate Director, Integrated Care",
    ]
    # Read only: no link to the officers' page, not even for a selected risk.
    assert page_links(at) == []
    select_row(at, 0)
    assert not at.exception
    assert page_links(at) == []
    assert [b.label for b in at.get("download_button")] == ["Download the register (CSV)"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({risks_page.RANK_KEY: ["High"]}, [2, 3]),
        ({risks_page.RANK_KEY: ["Low", "V High"]}, [7]),  # 6 is closed
        ({risks_page.RANK_KEY: ["Low"], risks_page.STATUS_KEY: ["open", "closed"]}, [6, 7]),
        ({risks_page.OWNER_KEY: ["CP"]}, [1, 5]),
        ({risks_page.WORKSTREAM_KEY: ["integrated_care"]}, [2, 3]),
        ({risks_page.WORKSTREAM_KEY: ["market"], risks_page.RANK_KEY: ["Moderate"]}, [1, 5]),
        ({risks_page.STATUS_KEY: ["closed"]}, [6]),
        ({risks_page.STATUS_KEY: []}, [2, 3, 1, 4, 5, 6, 7]),  # nothing chosen: any status; no date last
        ({risks_page.WORKSTREAM_KEY: [risks_page.NOT_LINKED]}, [7]),
    ],
)
def test_the_filters_choose_the_rows(app_env, catalogue, monkeypatch, filters, expected):
    engine = store.connect(app_env)
    at = start("viewer", monkeypatch)  # the sample is loaded at first start
    closed = risks.history(engine, 6).iloc[0]
    looked_after = risks.validate_risk({**closed.to_dict(), "status": "closed"}, catalogue)
    risks.save(engine, looked_after, "someone", 6)
    unlinked = risks.validate_risk({"description": "No workstream", "rank": "Low", "owner": "SR"}, catalogue)
    risks.save(engine, unlinked, "someone")
    open_page(at, "risks")
    for key, value in filters.items():
        at.multiselect(key=key).set_value(value)
    at.run()
    assert not at.exception
    shown = register_table(at)
    assert shown["risk_id"].tolist() == expected
    assert f"Showing **{len(expected)}** of 7 risks." in texts(at, "markdown")


def test_the_register_shows_every_field_of_a_risk_in_the_board_packs_order_each_with_its_label(app_env, monkeypatch):
    at = start("viewer", monkeypatch)
    open_page(at, "risks")
    table = register_table(at)
    assert list(table.columns) == [
        "risk_id",
        "programme",
        "description",
        "rank",
        "owner",
        "mitigation",
        "status",
        "workstream",
        "indicators",
        "next_review",
        "overdue",
    ]
    assert list(risks_page.TABLE_COLUMNS) == list(table.columns)  # every column shown has its label


def test_a_risk_past_its_review_date_at_the_as_at_months_end_is_flagged_in_words(app_env, catalogue, monkeypatch):
    """As the board pack judges it (contents.review_day): a register as at Nov 2020 flags the
    reviews due before 30 Nov 2020, not every review before today."""
    engine = store.connect(app_env)
    at = start("viewer", monkeypatch)
    for risk_id, next_review in ((1, date(2020, 11, 29)), (4, date(2020, 11, 30))):  # the last day: not yet late
        fields = risks.history(engine, risk_id).iloc[0].to_dict()
        risks.save(engine, risks.validate_risk({**fields, "next_review": next_review}, catalogue), "someone", risk_id)
    open_page(at, "risks")
    assert at.sidebar.selectbox(key=AS_AT_KEY).value == periods.parse_period("2020-11")  # the report month
    table = register_table(at).set_index("risk_id")
    # Risk 2 was due on 20 Nov 2020, risk 1 on the 29th; the rest fall due from 30 Nov 2020 on.
    assert table["overdue"].to_dict() == {2: "⚠ overdue", 3: "", 1: "⚠ overdue", 4: "", 5: "", 6: ""}
    assert texts(at, "warning")[0] == "2 open risks were past their review date on 30 Nov 2020."
    at.multiselect(key=risks_page.OWNER_KEY).set_value(["CP"]).run()
    assert register_table(at)[["risk_id", "overdue"]].values.tolist() == [[1, "⚠ overdue"], [5, ""]]
    assert texts(at, "warning")[0] == "1 open risk was past its review date on 30 Nov 2020."
    at.sidebar.selectbox(key=AS_AT_KEY).select(periods.parse_period("2020-10")).run()
    assert not at.exception
    assert register_table(at)["overdue"].tolist() == ["", ""]  # as at Oct 2020 nothing was due yet
    assert not [w for w in texts(at, "warning") if "review date" in w]


def test_a_closed_risk_is_never_overdue(app_env, catalogue, monkeypatch):
    engine = store.connect(app_env)
    at = start("viewer", monkeypatch)
    for risk_id in (2, 3):
        fields = risks.history(engine, risk_id).iloc[0].to_dict()
        risks.save(engine, risks.validate_risk({**fields, "status": "closed"}, catalogue), "someone", risk_id)
    open_page(at, "risks")
    at.multiselect(key=risks_page.STATUS_KEY).set_value(["open", "closed"]).run()
    table = register_table(at)
    assert table.set_index("risk_id").loc[[2, 3], "overdue"].tolist() == ["", ""]
    assert not [
        w for w in texts(at, "warning") if "review date" in w
    ]  # risk 2, due 20 Nov 2020, would be the one overdue were it open


def test_an_officer_adds_a_risk_edits_it_and_the_register_shows_both_versions(app_env, monkeypatch):
    engine = store.connect(app_env)
    at = start("officer", monkeypatch)
    open_page(at, "edit-risks")
    assert at.selectbox(key=risk_edit.CHOICE_KEY).value == risk_edit.NEW_RISK
    fill_form(
        at,
        programme="Care homes",
        description="Risk that care home places run short this winter.",
        rank="High",
        owner="DC",
        mitigation="Block booking of 20 beds.",
        workstream="market",
        indicators=["placements_via_team", "days_to_placement_residential"],
        next_review=date(2021, 1, 8),
    )
    submit(at)
    assert texts(at, "success") == ["Saved risk 7, version 1."]
    stored = risks.current(engine).set_index("risk_id").loc[7]
    assert stored[["programme", "description", "rank", "owner", "mitigation", "status"]].tolist() == [
        "Care homes",
        "Risk that care home places run short this winter.",
        "High",
        "DC",
        "Block booking of 20 beds.",
        "open",
    ]
    assert stored["workstream"] == "market"
    assert stored["indicators"] == "placements_via_team; days_to_placement_residential"
    assert stored["next_review"] == pd.Timestamp("2021-01-08")
    assert (stored["version"], stored["saved_by"]) == (1, USER)

    # The form now shows the saved risk; the officer raises its rank and closes it.
    assert at.selectbox(key=risk_edit.CHOICE_KEY).value == 7
    assert widget(at, "selectbox", "Rank").value == "High"
    fill_form(at, rank="V High", status="closed")
    submit(at)
    assert texts(at, "success") == ["Saved risk 7, version 2."]
    saved = risks.history(engine, 7)
    assert saved[["version", "rank", "status", "saved_by"]].values.tolist() == [
        [2, "V High", "closed", USER],
        [1, "High", "open", USER],
    ]
    # Saving again without a change writes nothing.
    submit(at)
    assert texts(at, "info") == ["No change: nothing was saved."]
    assert len(risks.history(engine, 7)) == 2

    open_page(at, "risks")
    at.multiselect(key=risks_page.STATUS_KEY).set_value(["closed"]).run()
    assert register_table(at)["risk_id"].tolist() == [7]
    select_row(at, 0)
    assert not at.exception
    assert "Risk 7" in [s.value for s in at.subheader]
    history = at.dataframe[1].value
    assert history.to_dict("list") == {
        "Version": [2, 1],
        "Saved by": [USER, USER],
        "Saved at": saved["saved_at"].dt.strftime("%d %b %Y %H:%M UTC").tolist(),
        "What changed": ["rank High → V High; status open → closed", "added"],
    }
    assert ("Edit risk 7", "risk=7") in page_links(at)


def test_the_form_refuses_a_risk_with_problems_and_writes_nothing(app_env, monkeypatch):
    engine = store.connect(app_env)
    at = start("officer", monkeypatch)
    before = versions(engine)
    open_page(at, "edit-risks")
    fill_form(at, programme="Care homes", mitigation="Something")
    submit(at)
    assert texts(at, "error") == ["The risk was not saved: 3 problems below. Correct them and save again."]
    problems = at.dataframe[0].value
    assert problems[["column", "problem"]].values.tolist() == [
        ["Description of risk/issue", "the description is blank"],
        ["Rank", "the rank is blank"],
        ["Owner", "the owner is blank"],
    ]
    pd.testing.assert_frame_equal(versions(engine), before)
    assert not at.success


def test_an_edit_started_before_someone_elses_save_is_refused(app_env, catalogue, monkeypatch):
    engine = store.connect(app_env)
    at = start("officer", monkeypatch)
    at.query_params["risk"] = "3"  # the risks page's "Edit risk 3" link
    open_page(at, "edit-risks")
    assert at.selectbox(key=risk_edit.CHOICE_KEY).value == 3
    discharge = risks.history(engine, 3).iloc[0]
    assert widget(at, "text_area", "Description of risk/issue").value == discharge["description"]
    assert widget(at, "date_input", "Next review").value == date(2020, 12, 18)
    # A colleague saves version 2 while this officer is editing version 1.
    theirs = risks.validate_risk({**discharge.to_dict(), "rank": "V High"}, catalogue)
    risks.save(engine, theirs, "colleague", 3, based_on=1)
    fill_form(at, status="closed")
    submit(at)
    assert texts(at, "error")[0].startswith("Risk 3: colleague saved version 2 on ")
    assert texts(at, "error")[0].endswith(
        "after you started editing from version 1; nothing was written. Hint: reload to see their version, "
        "then make your changes to it again."
    )
    assert risks.history(engine, 3)["version"].tolist() == [2, 1]
    at.button(key=risk_edit.RELOAD_KEY).click().run()
    assert widget(at, "selectbox", "Rank").value == "V High"  # their version, to edit again
    assert widget(at, "radio", "Status").value == "open"


def test_user_text_is_saved_and_shown_as_text_and_the_download_is_safe(app_env, catalogue, monkeypatch, downloads):
    engine = store.connect(app_env)
    at = start("officer", monkeypatch)
    open_page(at, "edit-risks")
    fill_form(at, programme=FORMULA, description=SCRIPT, rank="V High", owner="SR", mitigation=FORMULA)
    submit(at)
    stored = risks.current(engine).set_index("risk_id").loc[7]
    assert stored[["programme", "description", "mitigation"]].tolist() == [FORMULA, SCRIPT, FORMULA]

    open_page(at, "risks")
    table = register_table(at)
    assert table.loc[0, ["risk_id", "programme", "description", "mitigation"]].tolist() == [7, FORMULA, SCRIPT, FORMULA]
    select_row(at, 0)
    assert [t.value for t in at.text] == [FORMULA, SCRIPT, FORMULA]  # st.text: neither Markdown nor HTML
    rendered = texts(at, "markdown") + texts(at, "caption") + [h.proto.body for h in at.get("html")]
    assert not [r for r in rendered if "<script>" in r or "HYPERLINK" in r]

    content = offered(downloads, at, risks_page.DOWNLOAD_KEY)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert [int(r["risk_id"]) for r in rows] == [7, *SAMPLE_ORDER]
    assert (rows[0]["programme"], rows[0]["description"], rows[0]["mitigation"]) == (
        "'" + FORMULA,
        SCRIPT,
        "'" + FORMULA,
    )
    assert content == risks.to_csv(risks.register(risks.current(engine), date.today(), status=["open"]))
    # The download is the import format: imported back, it changes nothing.
    assert risks.import_csv(engine, content, catalogue, "someone").message == "0 new, 0 updated, 7 unchanged"


def test_the_download_follows_the_filters(app_env, monkeypatch, downloads):
    at = start("viewer", monkeypatch)
    open_page(at, "risks")
    at.multiselect(key=risks_page.RANK_KEY).set_value(["High"]).run()
    rows = list(csv.DictReader(io.StringIO(offered(downloads, at, risks_page.DOWNLOAD_KEY).decode("utf-8-sig"))))
    assert [r["risk_id"] for r in rows] == ["2", "3"]
    assert list(rows[0]) == risks.RISK_COLUMNS


# Who may edit ---------------------------------------------------------------------------


def test_a_viewer_opening_the_edit_page_is_refused(app_env, monkeypatch):
    at = start("viewer", monkeypatch)
    open_page(at, "edit-risks")
    assert not at.exception
    assert [t.value for t in at.title] == ["Not available"]
    assert texts(at, "error")[0].startswith("You need the officer role to add, edit and import risks")
    assert risk_edit.CHOICE_KEY not in [s.key for s in at.selectbox] and not at.text_area
    assert not at.get("file_uploader") and not at.button


def test_an_officer_gets_the_links_to_edit(app_env, monkeypatch):
    at = start("officer", monkeypatch)
    open_page(at, "risks")
    assert page_links(at) == [("Add or edit risks", "")]
    select_row(at, 1)
    assert page_links(at) == [("Add or edit risks", ""), ("Edit risk 3", "risk=3")]
    assert [t.value for t in at.text][1] == risks.history(store.connect(app_env), 3).loc[0, "description"]


# Importing ------------------------------------------------------------------------------


def test_a_file_with_a_bad_row_shows_every_problem_and_writes_nothing(app_env, monkeypatch):
    engine = store.connect(app_env)
    at = start("officer", monkeypatch)
    before = versions(engine)
    content = csv_bytes(
        ",Care homes,Places may run short,High,DC,,open,market,,2021-01-08",
        ",Care homes,Another,Critical,XY,,open,,nel_admision,31/02/2021",
    )
    upload(at, "bad.csv", content)
    assert texts(at, "error")[0].startswith("bad.csv was rejected; nothing was written. 4 problems below")
    problems = at.dataframe[0].value
    assert problems[["row", "column", "value"]].values.tolist() == [
        ["3", "rank", "Critical"],
        ["3", "owner", "XY"],
        ["3", "indicators", "nel_admision"],
        ["3", "next_review", "31/02/2021"],
    ]
    assert problems.loc[2, "hint"].startswith("did you mean 'nel_admissions' for 'nel_admision'?")
    assert risk_edit.IMPORT_CONFIRM_KEY not in [b.key for b in at.button]
    assert "Download the problems (CSV)" in [b.label for b in at.get("download_button")]
    pd.testing.assert_frame_equal(versions(engine), before)


def test_a_good_file_is_previewed_then_imported_on_confirmation(app_env, monkeypatch):
    engine = store.connect(app_env)
    at = start("officer", monkeypatch)
    before = versions(engine)
    at.query_params["risk"] = "2"  # the form shows risk 2, which the file updates
    content = csv_bytes(
        ",Care homes,Places may run short,High,DC,Block booking,open,market,placements_via_team,2021-01-08",
        ',,"Staff absence, winter",v high,cp,,,,,',
        "2,Wheel Chair Service,Waits are long,Moderate,DC,New contract,closed,integrated_care,,",
    )
    upload(at, "winter.csv", content)
    assert "The file holds **3** risks: **2** new (blank risk_id) and **1** update of risks in the register." in (
        texts(at, "markdown")
    )
    preview = at.dataframe[0].value
    assert preview.values.tolist() == [
        [2, "new", "Places may run short", "High", "DC", "open"],
        [3, "new", "Staff absence, winter", "V High", "CP", "open"],
        [4, "update risk 2", "Waits are long", "Moderate", "DC", "closed"],
    ]
    pd.testing.assert_frame_equal(versions(engine), before)  # a preview writes nothing

    at.button(key=risk_edit.IMPORT_CONFIRM_KEY).click().run()
    assert not at.exception
    assert texts(at, "success") == ["winter.csv imported: 2 new, 1 updated, 0 unchanged."]
    register = risks.current(engine).set_index("risk_id")
    assert register.index.tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert register.loc[[7, 8], "description"].tolist() == ["Places may run short", "Staff absence, winter"]
    assert register.loc[[2, 7, 8], "version"].tolist() == [2, 1, 1]
    assert register.loc[[2, 7, 8], "saved_by"].tolist() == [USER] * 3
    assert at.get("file_uploader")[0].value is None  # a fresh uploader: the file cannot be imported twice
    # The form now starts from the imported version, so editing it is not a stale edit.
    assert widget(at, "selectbox", "Rank").value == "Moderate"
    fill_form(at, rank="Low")
    submit(at)
    assert texts(at, "success") == ["Saved risk 2, version 3."]


def test_a_file_naming_a_risk_not_in_the_register_writes_nothing(app_env, monkeypatch):
    engine = store.connect(app_env)
    at = start("officer", monkeypatch)
    before = versions(engine)
    upload(at, "ids.csv", csv_bytes(",,New one,Low,SR,,,,,", "99,,Unknown,Low,SR,,,,,"))
    at.button(key=risk_edit.IMPORT_CONFIRM_KEY).click().run()
    assert not at.exception
    assert texts(at, "error")[0].startswith("ids.csv was rejected; nothing was written. 1 problem below")
    problems = dataframe_with(at, "hint")
    assert problems[["row", "column", "value", "problem"]].values.tolist() == [
        ["3", "risk_id", "99", "there is no risk 99 in the register"]
    ]
    pd.testing.assert_frame_equal(versions(engine), before)


# Empty register and every role -----------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "message"),
    [
        (
            "officer",
            "There are no risks in the register yet. Add them one by one, or import a CSV file of risks, "
            "on the Edit risks page.",
        ),
        ("viewer", "There are no risks in the register yet. The performance team adds them."),
    ],
)
def test_an_empty_register_says_how_risks_get_there(app_env, monkeypatch, role, message):
    monkeypatch.setenv("KPIS_LOAD_SAMPLE", "0")
    at = start(role, monkeypatch)
    open_page(at, "risks")
    assert not at.exception
    assert texts(at, "info") == [message]
    assert not at.dataframe
    assert page_links(at) == ([("Add or import risks", "")] if role == "officer" else [])


@pytest.mark.parametrize("role", ["officer", "admin"])
def test_both_pages_render_for_every_editing_role(app_env, monkeypatch, role):
    at = start(role, monkeypatch)
    for path in ("risks", "edit-risks"):
        open_page(at, path)
        assert not at.exception, f"/{path}: {at.exception}"
    assert [t.value for t in at.title] == ["Edit risks"]


# What changed between versions ----------------------------------------------------------


def _version(version: int, **changed) -> dict:
    base = {
        "risk_id": 3,
        "version": version,
        "programme": "Hospital Discharge",
        "description": "Risks of the new Discharge Model.",
        "rank": "High",
        "owner": "DC",
        "mitigation": "Discharge hub.",
        "status": "open",
        "workstream": "integrated_care",
        "indicators": "mofd_bed_occupancy",
        "next_review": pd.Timestamp("2020-12-18"),
        "saved_by": "jo",
        "saved_at": pd.Timestamp("2020-11-23 14:05", tz="UTC"),
    }
    return {**base, **changed}


def test_changes_describes_each_version_against_the_one_before():
    history = pd.DataFrame(
        [
            _version(5, mitigation="Discharge hub and extra beds.", description="Risks, reworded."),
            _version(4, workstream="", indicators="", next_review=pd.NaT),
            _version(3, owner="SR", next_review=pd.Timestamp("2021-01-15")),
            _version(2, rank="V High", status="closed", programme="Discharge"),
            _version(1),
        ]
    )
    assert risks.changes(history) == [
        "workstream none → integrated_care; indicators none → mofd_bed_occupancy; "
        "next review none → 2020-12-18; description edited; mitigation edited",
        "owner SR → DC; workstream integrated_care → none; indicators mofd_bed_occupancy → none; "
        "next review 2021-01-15 → none",
        "rank V High → High; status closed → open; owner DC → SR; next review 2020-12-18 → 2021-01-15; "
        "programme edited",
        "rank High → V High; status open → closed; programme edited",
        "added",
    ]


def test_changes_of_a_risk_saved_once():
    assert risks.changes(pd.DataFrame([_version(1)])) == ["added"]
