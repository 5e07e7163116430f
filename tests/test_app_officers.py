"""The officers' pages through AppTest, on the real app and its own SQLite file: loading an
extract (rejected with every problem and nothing written; previewed with its counts and
RAG changes; written only on confirmation), the data status page, rolling back, and who
may reach which page."""

from __future__ import annotations

import getpass
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app.pages import data_status, upload
from kpis import access, ingest, periods, sample, store
from kpis.errors import ExtractError
from kpis.report import presentation, status
from kpis.report.performance import build_kpi_table
from tests.conftest import store_snapshot
from tests.test_app import ROOT, TIMEOUT, dataframe_with, open_page
from tests.test_ingest import assert_store_unchanged

NOV = periods.parse_period("2020-11")
# Revises October's total non-elective admissions (1,748 in the sample) and adds November's.
GOOD = b"indicator,period,value\r\nnel_admissions,2020-10,9000\r\nnel_admissions,2020-11,9100\r\nmofd_bed_occupancy,2020-10,16\r\n"
BAD = b"indicator,period,value\nnel_admissions,2020-10,=1+2\nnel_admision,2020-10,5\nmofd_bed_occupancy,2020-13,n/a\n"


def start(role: str | None = None, monkeypatch=None) -> AppTest:
    if role is not None:
        monkeypatch.setenv(access.LOCAL_ROLE_ENV, role)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def upload_file(at: AppTest, name: str, content: bytes) -> AppTest:
    open_page(at, "upload")
    at.get("file_uploader")[0].set_value((name, content, "text/csv")).run()
    assert not at.exception
    return at


def texts(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def test_a_rejected_file_shows_every_problem_and_writes_nothing(app_env, catalogue):
    at = start()
    engine = store.connect(app_env)
    before = store_snapshot(engine)
    upload_file(at, "bad.csv", BAD)
    assert_store_unchanged(engine, before)
    assert texts(at, "error")[0].startswith("**bad.csv was rejected; nothing was written.** 4 problems below")
    with pytest.raises(ExtractError) as expected:
        ingest.check_extract(BAD, "bad.csv", catalogue)
    shown = dataframe_with(at, "hint")
    pd.testing.assert_frame_equal(
        shown.drop(columns="row").reset_index(drop=True), expected.value.problems.drop(columns="row"), check_dtype=False
    )
    assert shown["row"].tolist() == ["2", "3", "4", "4"]
    assert shown["column"].tolist() == ["value", "indicator", "period", "value"]
    assert shown.loc[1, "hint"] == "did you mean 'nel_admissions'?"
    assert [b.label for b in at.get("download_button")][-1] == "Download the problems (CSV)"
    assert not [b for b in at.button if b.key == upload.CONFIRM_KEY]


def _expected_moves(tmp_path: Path, catalogue) -> pd.DataFrame:
    """The RAG changes the file causes as at November, from two real stores: the sample
    alone, and the sample with the file loaded."""
    engine = store.connect(f"sqlite:///{tmp_path / 'expected.sqlite'}")
    sample.load_sample(engine, catalogue)
    before = build_kpi_table(store.current_observations(engine), catalogue, NOV)
    ingest.ingest(engine, GOOD, "good.csv", catalogue, "expected")
    after = build_kpi_table(store.current_observations(engine), catalogue, NOV)
    return presentation.rag_changes(after, before)


def test_a_good_file_is_previewed_then_written_only_on_confirmation(app_env, catalogue, tmp_path):
    at = start()
    engine = store.connect(app_env)
    before = store_snapshot(engine)
    upload_file(at, "November.csv", GOOD)
    assert_store_unchanged(engine, before)  # a preview writes nothing
    assert [m.value for m in at.metric] == ["3", "1", "1", "1"]  # rows, new, revised, unchanged
    moves = _expected_moves(tmp_path, catalogue)
    assert not moves.empty
    shown = dataframe_with(at, "Rating")
    assert shown["Change"].tolist() == presentation.move_texts(moves).tolist()
    assert shown["Indicator"].tolist() == moves["name"].tolist()
    changes = dataframe_with(at, "In the file")
    assert changes[["Change", "Period", "Stored", "In the file"]].values.tolist() == [
        ["revised", "M7 2020/21", "1,748", "9,000"],
        ["new", "M8 2020/21", "", "9,100"],
    ]
    assert "revised" in texts(at, "warning")[0]
    assert not at.get("checkbox")  # nothing unusual: 9,000 is under 5 times the usual level

    at.button(key=upload.CONFIRM_KEY).click().run()
    assert not at.exception
    assert texts(at, "success") == [
        "November.csv: loaded as extract 4: 3 rows, 1 new, 1 revised, 1 unchanged. Every page now shows the new data."
    ]
    log = store.extract_log(engine)
    assert (log.loc[0, "id"], log.loc[0, "file_name"], log.loc[0, "loaded_by"]) == (
        4,
        "November.csv",
        getpass.getuser(),
    )
    assert store.extract_content(engine, 4) == GOOD
    assert at.get("file_uploader")[0].value is None  # a fresh uploader for the next file
    # The other pages show the new data: the indicator's value history has the revision.
    at.query_params["id"] = "nel_admissions"
    open_page(at, "indicator")
    history = at.dataframe[0].value
    assert "changed from 1,748 to 9,000" in " ".join(history["History"])


def test_a_file_that_changes_nothing_offers_nothing_to_load(app_env, catalogue):
    at = start()
    engine = store.connect(app_env)
    ingest.ingest(engine, GOOD, "first.csv", catalogue, "someone")
    upload_file(at, "again.csv", GOOD)
    assert [m.value for m in at.metric] == ["3", "0", "0", "3"]
    assert texts(at, "info") == ["Nothing to load: every row matches the value already stored."]
    assert not [b for b in at.button if b.key == upload.CONFIRM_KEY]


def test_an_oversized_file_gets_a_message_naming_the_command_line_not_a_crash(app_env, monkeypatch):
    monkeypatch.setenv(upload.UPLOAD_LIMIT_ENV, "1")
    at = start()
    engine = store.connect(app_env)
    before = store_snapshot(engine)
    upload_file(at, "huge.csv", b"indicator,period,value\n" + b"x" * (1024 * 1024))
    assert_store_unchanged(engine, before)
    problems = dataframe_with(at, "hint")
    assert problems.loc[0, ["row", "problem"]].tolist() == [
        "whole file",
        "the file is larger than the upload limit of 1 MB",
    ]
    assert "python -m kpis ingest" in problems.loc[0, "hint"]


def test_the_upload_page_states_its_size_limit_before_a_file_is_chosen(app_env, monkeypatch):
    monkeypatch.setenv(upload.UPLOAD_LIMIT_ENV, "12")
    at = start()
    open_page(at, "upload")
    assert "At most **12 MB** here" in " ".join(c.value for c in at.caption)
    assert "python -m kpis ingest FILE" in " ".join(c.value for c in at.caption)


def test_a_rating_the_file_would_make_n_a_says_why(app_env):
    """December's year-to-date admissions without November: no figure, and the preview says why."""
    at = start()
    upload_file(at, "December.csv", b"indicator,period,value\nnel_admissions,2020-12,1800\n")
    moves = dataframe_with(at, "Rating")
    changes = moves.set_index("Rating")["Change"]
    assert changes["against target"].endswith("→ – n/a (needs Nov 2020, not yet loaded)")


def test_a_file_that_moves_no_rating_previews_without_error(app_env):
    """One revised value and no rating moved: the changes table has no reasons to add."""
    at = start()
    upload_file(at, "october-revision.csv", b"indicator,period,value\r\nnel_admissions,2020-10,2748\r\n")
    assert "No rating would change." in texts(at, "caption")
    changes = dataframe_with(at, "In the file")
    assert changes[["Change", "Stored", "In the file", "RAG as at"]].values.tolist() == [
        ["revised", "1,748", "2,748", "no change"]
    ]


def test_a_value_far_from_its_history_needs_a_tick_before_loading(app_env):
    at = start()
    engine = store.connect(app_env)
    upload_file(at, "November.csv", b"indicator,period,value\nnel_admissions,2020-11,105000\n")
    unusual = dataframe_with(at, "Why")
    # Nov 2019 to Oct 2020 of the sample: the median of the 12 months before November is
    # (1,611 + 1,748) / 2 = 1,679.5, and 105,000 / 1,679.5 = 62.5.
    assert unusual.values.tolist() == [
        [
            "Total non-elective admissions",
            "Nov 2020",
            "105,000 is 62.5 times the median of its last 12 months (1,679.5)",
        ]
    ]
    assert any("far from its indicator's usual level" in w for w in texts(at, "warning"))
    assert at.button(key=upload.CONFIRM_KEY).disabled
    before = store_snapshot(engine)
    at.checkbox(key=upload.UNUSUAL_KEY).check().run()
    assert not at.button(key=upload.CONFIRM_KEY).disabled
    assert_store_unchanged(engine, before)  # ticking writes nothing
    at.button(key=upload.CONFIRM_KEY).click().run()
    assert not at.exception
    assert store.data_version(engine) == 4


def test_the_template_is_offered_for_the_month_after_the_latest_data(app_env):
    at = start()
    open_page(at, "upload")
    assert at.selectbox(key=upload.TEMPLATE_MONTH_KEY).value == NOV + 1
    assert [b.label for b in at.get("download_button") if b.label.startswith("Download as")] == [
        "Download as CSV",
        "Download as XLSX",
    ]
    assert at.radio(key="template_layout").options == ["Long: a row per indicator", "Wide: a column per month"]
    assert "Dec 2020" in " ".join(c.value for c in at.caption)


def test_data_status_shows_the_grid_the_extracts_and_downloads(app_env, catalogue):
    at = start()
    open_page(at, data_status.__name__.rsplit(".", 1)[-1].replace("_", "-"))
    assert not at.exception
    assert at.title[0].value == "Data status"
    # At first only the indicators with a value late or missing (none in the sample), the rest counted.
    assert at.radio(key=data_status.GRID_KEY).value == data_status.TO_CHASE
    assert not [d for d in at.dataframe if "Indicator" in d.value.columns]
    counted = f"Indicators with a value late or missing: **0** of {len(catalogue.indicators)}."
    assert any(c.startswith(counted) for c in texts(at, "caption"))
    at.radio(key=data_status.GRID_KEY).set_value(data_status.EVERY_INDICATOR).run()
    grid = dataframe_with(at, "Indicator")
    assert len(grid) == len(catalogue.indicators)
    assert grid.columns[-1] == "Nov 20"
    assert set(grid["Nov 20"]) <= set(status.SYMBOL.values())  # each state its word or symbol, no colour needed
    extracts = dataframe_with(at, "sha256")
    assert extracts["file_name"].tolist() == [p.name for p in reversed(sample.sample_files())]
    assert at.selectbox(key=data_status.EXTRACT_KEY).value == 3
    assert "Download extract 3" in [b.label for b in at.get("download_button")]
    # An officer may not roll back: the section says who can.
    assert not [s for s in at.selectbox if s.key == data_status.ROLLBACK_KEY]
    assert any("An admin can roll back" in c for c in texts(at, "caption"))


def test_an_admin_rolls_back_an_extract_with_a_preview_first(app_env, catalogue, monkeypatch):
    engine = store.connect(app_env)
    at = start("admin", monkeypatch)
    ingest.ingest(engine, GOOD, "good.csv", catalogue, "officer")
    open_page(at, "data-status")
    at.selectbox(key=data_status.ROLLBACK_KEY).set_value(4).run()
    before = store_snapshot(engine)
    assert "would restore **1** values to their earlier revision, withdraw **1** values" in " ".join(
        m.value for m in at.markdown
    )
    changes = dataframe_with(at, "After the rollback")
    assert changes[["Indicator", "Period", "Now", "After the rollback", "What happens"]].values.tolist() == [
        ["Total non-elective admissions", "Nov 2020", "9,100", "withdrawn", "withdrawn (new in this extract)"],
        ["Total non-elective admissions", "Oct 2020", "9,000", "1,748", "restored to its earlier value"],
    ]
    assert_store_unchanged(engine, before)
    at.button(key=data_status.ROLLBACK_CONFIRM_KEY).click().run()
    assert not at.exception
    assert texts(at, "success")[0].startswith("Extract 4 rolled back as extract 5: 1 values restored")
    current = store.current_observations(engine).set_index(["indicator", "period"])["value"]
    assert current[("nel_admissions", periods.parse_period("2020-10"))] == 1748
    assert ("nel_admissions", NOV) not in current.index
    # The extracts table marks both; a second rollback of extract 4 says which extract undid it.
    extracts = dataframe_with(at, "sha256").set_index("id")
    assert extracts.loc[4, "reverts"] == "rolled back by extract 5"
    assert extracts.loc[5, "reverts"] == "rolls back extract 4"
    at.selectbox(key=data_status.ROLLBACK_KEY).set_value(4).run()
    assert "Nothing to roll back: it was already rolled back by extract 5." in texts(at, "info")


def test_the_sample_is_labelled_until_an_admin_removes_it_in_one_step(app_env, monkeypatch):
    at = start("admin", monkeypatch)
    assert "**33 of 33 figures on this page are illustrative sample data**" in " ".join(texts(at, "info"))
    assert any("values in force are sample figures" in w for w in texts(at, "warning"))
    open_page(at, "data-status")
    at.button(key=data_status.REMOVE_SAMPLE_KEY).click().run()
    assert not at.exception
    assert texts(at, "success") == ["The sample data was removed as extract 4."]
    assert not [b for b in at.button if b.key == data_status.REMOVE_SAMPLE_KEY]  # nothing left to remove
    open_page(at, "")
    assert not any("illustrative sample data" in i for i in texts(at, "info"))
    assert store.current_observations(store.connect(app_env)).empty


def test_the_sample_count_follows_a_real_value_loaded_since(app_env, catalogue, monkeypatch):
    """The sample's keys are cached per data version: a new extract is counted at once."""
    at = start("officer", monkeypatch)
    assert "**33 of 33 figures on this page are illustrative sample data**" in " ".join(texts(at, "info"))
    real = b"indicator,period,value\nreablement_no_ongoing_care,2020-11,77\n"
    ingest.ingest(store.connect(app_env), real, "november.csv", catalogue, "officer")
    at.run()
    assert "**32 of 33 figures on this page are illustrative sample data**" in " ".join(texts(at, "info"))


def test_an_officer_is_not_offered_the_removal(app_env, monkeypatch):
    at = start("officer", monkeypatch)
    open_page(at, "data-status")
    assert data_status.REMOVE_SAMPLE_KEY not in [b.key for b in at.button]


@pytest.mark.parametrize("path", ["upload", "data-status"])
def test_a_viewer_is_refused_the_officer_pages_by_url(app_env, monkeypatch, path):
    at = start("viewer", monkeypatch)
    open_page(at, path)
    assert not at.exception
    assert [t.value for t in at.title] == ["Not available"]
    assert texts(at, "error")[0].startswith("You need the officer role to ")
    assert not at.get("file_uploader") and not at.dataframe


def test_an_officer_may_not_roll_back_by_any_route(app_env, monkeypatch):
    at = start("officer", monkeypatch)
    open_page(at, "data-status")
    assert data_status.ROLLBACK_CONFIRM_KEY not in [b.key for b in at.button]


def test_an_unknown_local_role_is_a_message(app_env, monkeypatch):
    monkeypatch.setenv(access.LOCAL_ROLE_ENV, "superuser")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert texts(at, "error") == ["KPIS_LOCAL_ROLE='superuser' is not a role; use one of viewer, officer, admin."]


def _oidc_config(tmp_path, monkeypatch) -> None:
    path = tmp_path / "access.yaml"
    path.write_text("authentication: oidc\nroles:\n  officer: ['@perf.example.org']\n  viewer: ['@example.org']\n")
    monkeypatch.setenv(access.ACCESS_ENV, str(path))


AUTH_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-test-secret",
    "client_id": "icu-dashboard",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://login.example.org/.well-known/openid-configuration",
}


def oidc_app(email: str | None, secrets: bool = True, verified: object = True) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    if secrets:
        at.secrets["auth"] = AUTH_SECRETS
    signed_in = {"is_logged_in": True, "email": email, "email_verified": verified}
    at.user = signed_in if email else {"is_logged_in": False}
    return at.run()


def test_with_oidc_but_no_provider_configured_the_app_says_so(app_env, tmp_path, monkeypatch):
    _oidc_config(tmp_path, monkeypatch)
    at = oidc_app(None, secrets=False)
    assert not at.exception
    assert [t.value for t in at.title] == ["Sign-in is not set up"]
    assert not at.button


def test_with_oidc_a_signed_out_user_sees_only_the_sign_in(app_env, tmp_path, monkeypatch):
    _oidc_config(tmp_path, monkeypatch)
    at = oidc_app(None)
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.metric


@pytest.mark.parametrize(
    ("email", "role"),
    [("sam@perf.example.org", "officer"), ("director@example.org", "viewer"), ("someone@elsewhere.org", None)],
)
def test_with_oidc_the_role_comes_from_the_signed_in_email(app_env, catalogue, tmp_path, monkeypatch, email, role):
    _oidc_config(tmp_path, monkeypatch)
    at = oidc_app(email)
    assert not at.exception
    if role is None:
        assert [t.value for t in at.title] == ["No access"]
        assert texts(at, "error")[0].startswith(f"You are signed in as {email}, who has no access")
        return
    assert at.title[0].value == catalogue.title
    assert f"Signed in: **{email}** ({role}, signed in)" in " ".join(texts(at.sidebar, "caption"))
    open_page(at, "upload")
    assert bool(at.get("file_uploader")) is (role == "officer")


@pytest.mark.parametrize("verified", [False, None])
def test_with_oidc_an_unverified_email_gets_no_role(app_env, tmp_path, monkeypatch, verified):
    _oidc_config(tmp_path, monkeypatch)
    at = oidc_app("sam@perf.example.org", verified=verified)
    assert not at.exception
    assert [t.value for t in at.title] == ["Email not verified"]
    assert texts(at, "error")[0].startswith(
        "Your identity provider has not confirmed that sam@perf.example.org is your address"
    )
    assert not at.dataframe and not at.metric and not at.get("file_uploader")


def test_the_export_page_offers_the_engines_files_to_every_role(app_env, catalogue, monkeypatch):
    at = start("viewer", monkeypatch)
    open_page(at, "export")
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert labels == [
        "Download CSV (the KPI table)",
        "Download Excel workbook (summary, a sheet per workstream, key)",
        "Download Board pack, HTML (opens in a browser; prints A4 landscape)",
        "Download Board pack, PDF",
        "Download Board pack, PowerPoint (a slide per section, charts with alt text)",
        "Download Risk register (CSV)",
    ]
    assert "with every revision loaded so far" in " ".join(texts(at, "caption"))
    at.selectbox(key="export_workstream").set_value("market").run()
    at.toggle(key="export_as_published").set_value(True).run()
    assert not at.exception
    # November is the latest month of the sample: its report is still the current one.
    assert "as published" in " ".join(texts(at, "caption"))
    assert len(at.get("download_button")) == 6


def test_a_wide_workbook_of_two_sheets_is_previewed_from_the_sheet_chosen(app_env):
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("Notes").write(0, 0, "read me")
    sheet = book.add_worksheet("Returns")
    for r, row in enumerate(
        [["indicator", "Oct-20", "Nov-20"], ["NEL_ADMISSIONS", 9000, 9100], ["mofd_bed_occupancy", 16, None]]
    ):
        sheet.write_row(r, 0, row)
    book.close()
    at = start()
    engine = store.connect(app_env)
    before = store_snapshot(engine)
    open_page(at, "upload")
    at.get("file_uploader")[0].set_value(("returns.xlsx", buffer.getvalue(), "application/octet-stream")).run()
    assert at.selectbox(key=upload.SHEET_KEY).options == ["Notes", "Returns"]
    assert at.get("dataframe")  # the first sheet holds no extract: refused, located
    at.selectbox(key=upload.SHEET_KEY).set_value("Returns").run()
    assert not at.exception
    assert [m.value for m in at.metric] == ["3", "1", "1", "1"]  # as the same rows in a long CSV
    assert_store_unchanged(engine, before)
