"""Finding things in the dashboard through AppTest: the sidebar's indicator search, the
RAG filter above each KPI table, comparing two as-at months, and the glossary."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from app import shell
from app.pages import compare_months
from app.shell import AS_AT_KEY, SEARCH_KEY
from kpis import periods
from kpis.report.palette import rag_label
from tests.coded import coded_catalogue, write_catalogue
from tests.test_app import ROOT, TIMEOUT, dataframe_with, open_page


@pytest.fixture
def app(app_env) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def _page_title(at: AppTest) -> str:
    return at.title[0].value


@pytest.mark.parametrize("typed", ["nel_admissions", "NEL_ADMISSIONS "])
def test_the_search_opens_the_indicator_keeping_the_month(app, catalogue, typed):
    app.sidebar.selectbox(key=AS_AT_KEY).select(periods.parse_period("2020-09")).run()
    app.sidebar.selectbox(key=SEARCH_KEY).set_value(typed).run()
    assert not app.exception
    assert _page_title(app) == catalogue.indicator("nel_admissions").name
    assert app.query_params["id"] in ("nel_admissions", ["nel_admissions"])
    assert app.query_params["as_at"] in ("2020-09", ["2020-09"])
    assert app.sidebar.selectbox(key=SEARCH_KEY).value is None  # ready for the next search


def test_the_search_finds_an_alias(app_env, tmp_path, monkeypatch):
    catalogue = coded_catalogue(tmp_path)
    monkeypatch.setenv("KPIS_CONFIG", str(write_catalogue(tmp_path)))
    monkeypatch.setenv("KPIS_LOAD_SAMPLE", "0")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    at.sidebar.selectbox(key=SEARCH_KEY)  # the box is there
    indicator = catalogue.lookup("uhs-iapt-01")
    assert indicator is not None and "uhs-iapt-01" not in catalogue.indicator_ids
    assert "UHS-IAPT-01" in shell.search_label(catalogue, indicator.id)  # what the box matches typing against
    at.session_state[shell.SEARCH_TARGET_KEY] = " UHS-iapt-01 "  # an alias typed in the box, as it leaves it
    at.run()
    assert not at.exception
    assert at.query_params["id"] in (indicator.id, [indicator.id])


def test_the_search_labels_name_id_and_aliases(catalogue):
    indicator = catalogue.indicator("nel_admissions")
    assert shell.search_label(catalogue, "nel_admissions") == " · ".join(
        (indicator.name, ", ".join((indicator.id, *indicator.aliases)))
    )


def test_an_unknown_search_says_so_with_a_hint(app):
    # typed text that is no option (AppTest can only choose options): as the search leaves it
    app.session_state[shell.SEARCH_TARGET_KEY] = "nel_admisions"
    app.run()
    assert not app.exception
    assert "No indicator is named 'nel\\_admisions': did you mean 'nel\\_admissions'?" in app.sidebar.warning[0].value


def test_a_workstream_table_shows_only_the_reds(app, catalogue):
    open_page(app, "integrated_care")
    everything = dataframe_with(app, "RAG")
    app.radio(key="show-integrated_care").set_value("Red").run()
    reds = dataframe_with(app, "RAG")
    assert 0 < len(reds) < len(everything)
    assert set(reds["RAG"]) == {rag_label("Red")}
    assert list(reds["Indicator"]) == [
        n for n, r in zip(everything["Indicator"], everything["RAG"], strict=True) if r == rag_label("Red")
    ]


def test_the_exceptions_filter_by_rating(app):
    open_page(app, "integrated-summary")
    everything = dataframe_with(app, "Owner")
    app.radio(key="show-exceptions").set_value("Amber").run()
    assert not app.exception
    ambers = [d.value for d in app.dataframe if "Owner" in d.value.columns]
    if ambers:
        assert set(ambers[0]["RAG"]) == {rag_label("Amber")}
        assert len(ambers[0]) < len(everything)


def test_compare_months_shows_each_indicator_at_both_months(app, catalogue):
    open_page(app, "compare-months")
    assert not app.exception
    app.selectbox(key=compare_months.BEFORE_KEY).select(periods.parse_period("2020-10")).run()
    app.selectbox(key=compare_months.AFTER_KEY).select(periods.parse_period("2020-11")).run()
    assert app.radio(key=compare_months.ROWS_KEY).value == compare_months.MOVED  # what changed, first
    moved = [d.value for d in app.dataframe if "Change" in d.value.columns]
    assert all((table["Rating"] != "same").all() for table in moved)
    app.radio(key=compare_months.ROWS_KEY).set_value(compare_months.EVERY_INDICATOR).run()
    table = dataframe_with(app, "Change")
    assert len(table) == len(catalogue.indicators)
    assert len(table[table["Rating"] != "same"]) == (len(moved[0]) if moved else 0)
    counted = f"Ratings that moved: **{len(table[table['Rating'] != 'same'])}** of {len(table)} indicators."
    assert counted in [c.value for c in app.caption]
    # No colour fill: each rating reads as its symbol and word (colour-blind safe).
    assert {rag_label(r) for r in ("Green", "Amber", "Red", "n/a")} >= set(table["RAG, Nov 2020"])
    (sent,) = [d.proto for d in app.dataframe if "Change" in d.value.columns]
    assert not sent.arrow_data.HasField("styler")
    row = table.set_index("indicator").loc["nel_admissions"]
    assert row["Actual, Nov 2020"] == "10,318 (Oct 2020)"  # the tile's figure: October's, a month behind
    for _, row in table.iterrows():
        same_period = row["Actual, Oct 2020"].split(" (")[-1] == row["Actual, Nov 2020"].split(" (")[-1]
        assert (row["Change"] == "no newer figure") == same_period, row["Indicator"]
        assert row["Rating"] == "same" or " → " in row["Rating"]


def test_compare_months_change_and_moves():
    import pandas as pd

    from kpis.catalogue import load_catalogue

    catalogue = load_catalogue()
    ids = ["nel_admissions", "mofd_bed_occupancy"]

    def table(actual, period, rag):
        return pd.DataFrame(
            {
                "indicator": ids,
                "name": [catalogue.indicator(i).name for i in ids],
                "workstream": "integrated_care",
                "actual": actual,
                "period": period,
                "rag_target": rag,
                "rag_last_year": ["n/a", "n/a"],
                "target": [1.0, 1.0],
            }
        )

    before = table([1_000.0, 12.0], ["2020-09", "2020-09"], ["Green", "Red"])
    after = table([1_250.0, 12.0], ["2020-10", "2020-09"], ["Amber", "Red"])
    september, october = periods.parse_period("2020-09"), periods.parse_period("2020-10")
    shown = compare_months.compare(before, after, catalogue, september, october)
    assert list(shown["Change"]) == ["+250", "no newer figure"]
    assert list(shown["Rating"]) == [f"{rag_label('Green')} → {rag_label('Amber')}", "same"]
    assert list(shown["RAG, Oct 2020"]) == [rag_label("Amber"), rag_label("Red")]


def test_the_glossary_page_lists_the_catalogues_terms(app, catalogue):
    open_page(app, "glossary")
    assert not app.exception
    terms = app.table[0].value
    assert terms.loc["MOFD", "Meaning"] == catalogue.glossary["MOFD"]
    assert list(terms.index) == sorted(catalogue.glossary, key=str.casefold)


def test_a_kpi_tables_indicator_header_explains_its_abbreviations(app, catalogue):
    open_page(app, "integrated_care")
    explained = json.loads(app.dataframe[0].proto.columns)["Indicator"]["help"].split("\n\n")
    for term in ("CHC", "IIC", "MOFD"):  # in the names of Integrated Care's indicators
        assert f"{term}: {catalogue.glossary[term]}" in explained
    assert not [line for line in explained if line.startswith(("LARC", "IAPT"))]  # other workstreams' terms


def test_a_tiles_name_explains_its_abbreviation_on_hover(app, catalogue):
    names = [h.proto.body for h in app.get("html") if "tile-name" in h.proto.body]
    assert (
        "<div class='tile-name'>% acute beds occupied per day by patients who are "
        f"<abbr title='{catalogue.glossary['MOFD']}'>MOFD</abbr></div>"
    ) in names
    assert (
        "<div class='tile-name'>% of pregnant women who cease smoking by time of delivery</div>" in names
    )  # no term, no markup


def test_an_indicators_title_explains_its_abbreviations(app, catalogue):
    app.sidebar.selectbox(key=SEARCH_KEY).set_value("mofd_bed_occupancy").run()
    assert app.title[0].proto.help == f"MOFD: {catalogue.glossary['MOFD']}"
    app.sidebar.selectbox(key=SEARCH_KEY).set_value("nel_admissions").run()
    assert app.title[0].proto.help == ""


def test_compare_months_indicator_header_explains_its_abbreviations(app, catalogue):
    open_page(app, "compare-months")
    app.radio(key=compare_months.ROWS_KEY).set_value(compare_months.EVERY_INDICATOR).run()
    (table,) = [d for d in app.dataframe if "Change" in d.value.columns]
    header = json.loads(table.proto.columns)
    assert f"MOFD: {catalogue.glossary['MOFD']}" in header["Indicator"]["help"].split("\n\n")


@pytest.mark.parametrize(
    "typed, opened, warning",
    [
        ("non-elective admissions (65+", "nel_admissions_65_plus", None),
        ("MOFD", None, "3 indicators have 'MOFD' in their name: choose one from the list."),
    ],
)
def test_typed_text_opens_the_one_indicator_it_names_or_asks_to_choose(app, catalogue, typed, opened, warning):
    app.session_state[shell.SEARCH_TARGET_KEY] = typed
    app.run()
    assert not app.exception
    if opened:
        assert app.query_params["id"] in (opened, [opened])
    else:
        assert app.sidebar.warning[0].value == warning
