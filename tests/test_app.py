"""The dashboard through Streamlit's AppTest: every page renders, the tiles and tables
show what the engine computes, the pages follow the catalogue, and bad states are
friendly. Each test runs the real app on its own SQLite file."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from app.pages import summary
from app.pages.workstream import TAB_KEY, TRENDS_TAB
from app.shell import AS_AT_KEY
from kpis import ingest, periods, store
from kpis.catalogue import DEFAULT_PATH, load_catalogue
from kpis.report import formatting, integrated, presentation
from kpis.report.integrated import ASSURANCE_TEXT, VARIATION_TEXT
from kpis.report.palette import rag_label
from kpis.report.performance import build_kpi_table
from tests.coded import store_values, write_catalogue

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


def open_page(at: AppTest, url_path: str) -> AppTest:
    """Go to a page registered by st.navigation under ``url_path``. AppTest.switch_page
    only finds file pages; ours are made from the catalogue, so select the page the way a
    browser does, by its URL path (Streamlit hashes it)."""
    matches = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == url_path]
    assert matches, f"no page at /{url_path}; pages: {[i.get('url_pathname') for i in at._registered_pages.values()]}"
    at._page_hash = matches[0]
    return at.run()


@pytest.fixture
def app(app_env) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def dataframe_with(at: AppTest, column: str):
    """The first table on the page that has ``column`` (AppTest does not expose the
    keys of non-widget dataframes)."""
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    assert frames, f"no table with a {column!r} column"
    return frames[0]


def _texts(at: AppTest) -> str:
    parts = [h.proto.body for h in at.get("html")] + [m.value for m in at.markdown] + [c.value for c in at.caption]
    return "\n".join(parts)


def test_every_page_renders_without_an_exception(app, catalogue):
    paths = ["", "indicator", "integrated-summary", *[w.id for w in catalogue.workstreams]]
    for path in paths:
        open_page(app, path)
        assert not app.exception, f"/{path}: {app.exception}"
        assert app.title, f"/{path} has no title"


def test_first_start_loads_the_sample_and_defaults_to_the_report_month(app, app_env):
    assert app.sidebar.selectbox(key=AS_AT_KEY).value == periods.parse_period("2020-11")
    assert "Illustrative sample data**: 802 of 802 values in force" in "\n".join(w.value for w in app.sidebar.warning)
    assert store.data_version(store.connect(app_env)) == 3


def test_tiles_show_the_reports_headline_figures(app):
    text = _texts(app)
    for value, comparator, badge in [
        ("16%", "Target ≤ 4%", ":red-badge[✖ Red · against target]"),
        ("10,318", "Target ≤ 13,140", ":green-badge[✔ Green · against target]"),
        ("1,251", "Prev Yr = 1,692", ":green-badge[✔ Green · against last year]"),
        ("37.8%", "Prev 12 mths = 31.7%", ":green-badge[✔ Green · against last year]"),
        ("33%", "Target ≥ 80%", ":red-badge[✖ Red · against target]"),
    ]:
        assert f"<div class='tile-value'>{value}</div>" in text
        assert f"<div class='tile-comparator'>{comparator}</div>" in text
        assert badge in text


def test_tiles_follow_the_as_at_month(app, app_env, catalogue):
    month = periods.parse_period("2020-08")
    app.sidebar.selectbox(key=AS_AT_KEY).set_value(month).run()
    assert not app.exception
    table = build_kpi_table(store.current_observations(store.connect(app_env)), catalogue, month)
    expected = presentation.tiles(table, catalogue)
    nel = expected.set_index("indicator").loc["nel_admissions"]
    assert nel["period_label"] == "M5 2020/21"
    text = _texts(app)
    for row in expected.itertuples():
        assert f"<div class='tile-value'>{row.value}</div>" in text
        assert f"[{rag_label(row.rag)} · against {row.rag_basis}]" in text
    assert "As at M5 2020/21 (Aug 2020)" in app.caption[0].value
    # M5: year to date to August, against that month's trajectory.
    assert nel["value"] == formatting.number(table.set_index("indicator").at["nel_admissions", "actual"])
    assert nel["comparator"] == "Target ≤ 9,386"


def test_overview_rag_summary_and_changes(app):
    target, last_year = [d.value.set_index("Workstream") for d in app.dataframe if "Total" in d.value]
    words = ["✔ Green", "▲ Amber", "✖ Red", "– n/a", "Total"]
    assert target.loc["Prevention and Early Intervention", words].tolist() == [4, 0, 0, 5, 9]
    assert last_year.loc["Prevention and Early Intervention", words].tolist() == [7, 2, 0, 0, 9]
    assert target.loc["All workstreams", "Total"] == 33 == last_year.loc["All workstreams", "Total"]
    assert target.drop(index="All workstreams").sum().tolist() == target.loc["All workstreams"].tolist()
    changes = dataframe_with(app, "Against")
    assert {"Workstream", "Indicator", "Against", "From", "To"} <= set(changes.columns)


def test_on_a_phone_each_kpi_row_is_a_card_with_actual_target_and_rag(app, catalogue):
    """The workstream table's phone view (shown below 640 px by CSS): a card per indicator
    with its name (a link keeping the month), actual, target and RAG."""
    open_page(app, "integrated_care")
    board = dataframe_with(app, "RAG")
    cards = next(h.proto.body for h in app.get("html") if "kpi-card" in h.proto.body)
    assert cards.count("class='kpi-card'") == len(catalogue.in_workstream("integrated_care"))
    for row in board.itertuples():
        name = html.escape(row.Indicator)
        assert f">{name}</a>" in cards
        assert f"<b>{html.escape(row.Actual)}</b>" in cards and html.escape(row.RAG) in cards
    assert "indicator?id=nel_admissions&amp;as_at=2020-11" in cards


def test_the_overview_opens_at_its_own_url_too(app):
    """A bookmark of /overview opens the overview (the default page answers at / as well)."""
    open_page(app, "overview")
    assert not app.exception
    assert app.title[0].value == "ICU Summary Performance Report"
    assert app.markdown[0].value == "**Report for Nov 2020**"


def test_the_default_month_is_the_report_month_not_the_latest_with_any_figure(app, app_env, catalogue):
    """December partly in (two lag-0 figures): the overview stays on November's report."""
    engine = store.connect(app_env)  # the sample, loaded at the app's first start
    december = (
        b"indicator,period,value\nreablement_no_ongoing_care,2020-12,80\nhome_care_hours_per_week,2020-12,24000\n"
    )
    ingest.ingest(engine, december, "december.csv", catalogue, "officer")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    heading = [m.value for m in at.markdown if m.value.startswith("**Report for")]
    # December's report expects 28 figures: the 33 less the five quarterly ones (not due: Oct, lag 2)
    assert heading == ["**Report for Nov 2020 · Dec 2020 data partly in (2 of 28)**"]
    assert "As at M8 2020/21 (Nov 2020)" in at.caption[0].value


@pytest.mark.parametrize("workstream", ["integrated_care", "prevention", "safe_quality", "market"])
def test_workstream_table_equals_the_engines_kpi_table(app, app_env, catalogue, workstream):
    open_page(app, workstream)
    shown = dataframe_with(app, "RAG")
    observations = store.current_observations(store.connect(app_env))
    points = integrated.spc_charts(observations, catalogue, periods.parse_period("2020-11"))
    table = integrated.report_table(observations, catalogue, periods.parse_period("2020-11"), points)
    own = table[table["workstream"] == workstream].reset_index(drop=True)
    expected = pd.concat(
        [
            presentation.board_table(own, catalogue),
            presentation.spc_board(own, integrated.spc_table(points, catalogue)),
        ],
        axis=1,
    )
    # the board's columns as the engine makes them (a workstream with comparisons also shows "vs England"
    # and "Inequality", tested in tests/test_benchmark_views.py)
    pd.testing.assert_frame_equal(shown[list(expected.columns)].reset_index(drop=True), expected, check_dtype=False)
    assert len(shown) == len(catalogue.in_workstream(workstream))


def test_workstream_page_shows_the_board_figures(app):
    open_page(app, "integrated_care")
    shown = dataframe_with(app, "RAG").set_index("indicator")
    nel = shown.loc["nel_admissions"]
    assert (nel["Period"], nel["Actual"], nel["Last year"], nel["Last year +/-"], nel["Last year %"]) == (
        "M7",
        "10,318",
        "13,267",
        "-2,949",
        "-22%",
    )
    assert (nel["Target"], nel["Target +/-"], nel["Target %"], nel["RAG"], nel["Trend"]) == (
        "13,140",
        "-2,822",
        "-21%",
        "✔ Green",
        "↑ better",
    )
    mofd = shown.loc["mofd_bed_occupancy"]
    assert (mofd["Target"], mofd["Target +/-"], mofd["Target %"], mofd["RAG"]) == ("4", "13", "357%", "✖ Red")
    assert not app.get("plotly_chart"), "the charts wait for their tab"


def test_the_kpi_tables_text_wraps_instead_of_being_cut_off(app):
    """At 1440 px long names and reasons ("no figure for Oct 2019", "– n/a: no target set")
    were cut off: Streamlit wraps a cell's text only in rows taller than 4rem (64 px), and
    draws an image as tall as its row, so each icon's column is as wide as a row is tall."""
    open_page(app, "integrated_care")
    (kpi,) = [d for d in app.dataframe if "RAG" in d.value.columns]
    assert kpi.proto.row_height > 64
    columns = json.loads(kpi.proto.columns)
    assert columns["Variation icon"]["width"] >= kpi.proto.row_height
    assert columns["Assurance icon"]["width"] >= kpi.proto.row_height
    assert columns["Indicator"]["width"] >= 300


def test_workstream_trends_tab_draws_a_chart_per_indicator(app):
    open_page(app, "integrated_care")
    app.session_state[TAB_KEY] = TRENDS_TAB
    app.run()
    assert not app.exception
    (chart,) = app.get("plotly_chart")
    spec = json.loads(chart.proto.spec)
    titles = [a["text"].replace("<br>", " ") for a in spec["layout"]["annotations"]]
    assert titles == [i.name for i in load_catalogue().in_workstream("integrated_care")]
    markers = [t["legendgroup"] for t in spec["data"] if t.get("mode") == "markers"]
    assert markers[:4] == [
        "✖ Red (latest, against target)",
        "▲ Amber (latest, against target)",
        "✖ Red (latest, against target)",
        "✖ Red (latest, against target)",
    ]
    assert "✔ Green (latest, against last year)" in markers  # no target: rated against last year


def test_indicator_page_shows_definition_and_revisions(app):
    app.query_params["id"] = "nel_admissions"
    open_page(app, "indicator")
    assert not app.exception
    assert app.title[0].value == "Total non-elective admissions"
    assert [m.value for m in app.metric][:3] == ["10,318", "13,140", "13,267"]
    definition = "\n".join(m.value for m in app.markdown)
    assert "| Aggregation | ytd sum |" in definition and "| Direction | lower is better |" in definition
    values = dataframe_with(app, "History")
    assert values.iloc[0]["Period"] == "M7 2020/21" and values.iloc[0]["Value"] == "1,748"
    assert values.iloc[0]["History"].startswith("first loaded on ")


def test_indicator_page_lists_a_revision_with_its_old_and_new_value(app, app_env, catalogue):
    from kpis import ingest

    engine = store.connect(app_env)
    ingest.ingest(
        engine, b"indicator,period,value\nnel_admissions,2020-10,1800\n", "correction.csv", catalogue, "officer"
    )
    app.query_params["id"] = "nel_admissions"
    open_page(app, "indicator")
    values = dataframe_with(app, "History")
    latest = values.iloc[0]
    assert (latest["Value"], latest["Revision"], latest["By"]) == ("1,800", 2, "officer")
    assert (
        "changed from 1,748 to 1,800 on " in latest["History"] and "by extract 4 (correction.csv)" in latest["History"]
    )
    assert next(m.value for m in app.metric) == "10,370"  # the new year to date, after a rerun picks up version 4


def test_a_new_workstream_in_the_catalogue_is_a_new_page(app_env, tmp_path, monkeypatch):
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["workstreams"].append(
        {"id": "inequalities", "name": "Health Inequalities", "description": "Added for the test."}
    )
    raw["indicators"].append(
        {
            "id": "gap_in_checks",
            "name": "Gap in health checks between most and least deprived",
            "workstream": "inequalities",
            "unit": "percent",
            "direction": "lower",
            "target": 5,
        }
    )
    path = tmp_path / "kpis.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("KPIS_CONFIG", str(path))
    assert len(load_catalogue(path).workstreams) == 5
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    open_page(at, "inequalities")
    assert not at.exception
    assert at.title[0].value == "Health Inequalities"
    shown = dataframe_with(at, "RAG")
    assert shown["indicator"].tolist() == ["gap_in_checks"] and shown["Period"].tolist() == ["no data"]


def test_an_empty_store_explains_how_to_load_data(app_env, monkeypatch):
    monkeypatch.setenv("KPIS_LOAD_SAMPLE", "0")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "No data yet" in at.info[0].value and "python -m kpis ingest" in at.info[0].value
    open_page(at, "integrated_care")
    assert not at.exception and "No data yet" in at.info[0].value


def test_an_invalid_catalogue_is_a_message_not_a_traceback(app_env, tmp_path, monkeypatch):
    path = tmp_path / "kpis.yaml"
    path.write_text("workstreams: []\nindicators:\n  - id: x\n    unit: percnt\n", encoding="utf-8")
    monkeypatch.setenv("KPIS_CONFIG", str(path))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "catalogue of indicators is not valid" in at.error[0].value
    assert "indicators[0].unit" in at.code[0].value


# Ids that are codes ------------------------------------------------------------------------


@pytest.fixture
def coded_app(app_env, tmp_path, monkeypatch) -> AppTest:
    """The app on the coded catalogue (ids such as ``ASCOF 2A(1)`` and ``a/b``, aliases,
    money) with its values in the app's own SQLite file, and no sample."""
    path = write_catalogue(tmp_path)
    monkeypatch.setenv("KPIS_CONFIG", str(path))
    monkeypatch.setenv("KPIS_LOAD_SAMPLE", "0")
    engine = store.connect(app_env)
    store_values(engine, load_catalogue(path))
    engine.dispose()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def test_every_page_renders_with_coded_ids(coded_app):
    for path in ["", "indicator", "finance", "export"]:
        open_page(coded_app, path)
        assert not coded_app.exception, f"/{path}: {coded_app.exception}"


@pytest.mark.parametrize(
    ("asked", "shown"),
    [
        ("ASCOF 2A(1)", "ASCOF 2A(1)"),  # sent quoted, as ASCOF+2A%281%29
        ("  ascof 2a(1) ", "ASCOF 2A(1)"),
        ("fin-var", "ASCOF 2A(1)"),  # an alias
        ("A/B", "a/b"),
        ("phof-2.22III", "PHOF-2.22iii"),
        ("x/../../etc/passwd", "x/../../etc/passwd"),  # an id, and only an id: no path is read
        ("../../etc/passwd", "iapt-recovery"),  # no such indicator: the first
        ("", "iapt-recovery"),
    ],
)
def test_the_indicator_page_resolves_its_quoted_id_through_the_catalogue(coded_app, asked, shown):
    coded_app.query_params["id"] = asked
    open_page(coded_app, "indicator")
    assert not coded_app.exception
    indicator = load_catalogue(Path(os.environ["KPIS_CONFIG"])).indicator(shown)
    assert coded_app.title[0].value == indicator.name
    assert coded_app.query_params["id"] == shown  # the URL now carries the id as the catalogue spells it
    assert f"| Id (for extracts) | `{shown}` |" in "\n".join(m.value for m in coded_app.markdown)


def test_the_indicator_page_shows_money_and_aliases(coded_app):
    coded_app.query_params["id"] = "FIN-VAR"
    open_page(coded_app, "indicator")
    assert [m.value for m in coded_app.metric][:3] == ["-£56k", "£0", "£150k"]
    definition = "\n".join(m.value for m in coded_app.markdown)
    assert "| Unit | currency |" in definition and "| Aliases | `FIN-VAR` |" in definition
    chart = json.loads(coded_app.get("plotly_chart")[0].proto.spec)
    assert chart["layout"]["yaxis"]["tickprefix"] == "£"
    assert [t["customdata"] for t in chart["data"] if t["name"] == "Actual"] == [["£150k", "-£56k"]]


def test_links_to_an_indicator_carry_its_id_quoted(coded_app):
    links = [p.proto for p in coded_app.get("page_link") if p.proto.label == "Trend and definition"]
    assert [link.query_string for link in links] == [
        "id=ASCOF+2A%281%29&as_at=2020-11",
        "id=a%2Fb&as_at=2020-11",
    ]
    # a tile's key (its CSS class in the page) carries the id as a slug: no space, no slash
    assert [key.split("-tile-")[1] for key in block_ids(coded_app._tree) if "-tile-" in key] == [
        "Red-ASCOF%202A%281%29",
        "Red-a%2Fb",
    ]


def block_ids(node) -> list[str]:
    """The ids of every keyed container in the page, in order."""
    found = []
    for child in getattr(node, "children", {}).values():
        if isinstance(getattr(getattr(child, "proto", None), "id", None), str) and child.proto.id:
            found.append(child.proto.id)
        found += block_ids(child)
    return found


def test_the_workstream_table_keeps_coded_ids(coded_app):
    open_page(coded_app, "finance")
    shown = dataframe_with(coded_app, "RAG").set_index("indicator")
    assert shown.index.tolist() == [i.id for i in load_catalogue(Path(os.environ["KPIS_CONFIG"])).indicators]
    assert shown.loc["ASCOF 2A(1)", ["Actual", "Last year", "Last year +/-", "Target"]].tolist() == [
        "-£56k",
        "£150k",
        "-£206k",
        "£0",
    ]
    assert shown.loc["PHOF-2.22iii", "Actual"] == "-1,234"
    coded_app.session_state[TAB_KEY] = TRENDS_TAB
    coded_app.run()
    assert not coded_app.exception
    spec = json.loads(coded_app.get("plotly_chart")[0].proto.spec)
    axes = ["yaxis", *(f"yaxis{n}" for n in range(2, 7))]  # one chart per indicator, in catalogue order
    assert [spec["layout"][axis].get("tickprefix", "") for axis in axes] == ["", "", "", "£", "£", ""]


def test_tiles_show_the_spc_icons_with_their_words(app):
    tiles = [h.proto.body for h in app.get("html") if "tile-spc" in h.proto.body]
    assert len(tiles) == len([i for i in load_catalogue().indicators if i.headline])
    mofd = tiles[0]
    assert "alt='Variation: Concern (high)'" in mofd and "<span class='mdc-word'>Concern (high)</span>" in mofd
    assert "alt='Assurance: Fail'" in mofd and "<span class='mdc-word'>Fail</span>" in mofd


def test_the_indicator_page_shows_the_spc_chart_beside_the_rag(app):
    app.query_params["id"] = "chc_assessments_within_28_days"
    open_page(app, "indicator")
    assert not app.exception
    icons = next(h.proto.body for h in app.get("html") if "spc-icons" in h.proto.body)
    assert "<span class='mdc-word'>Concern (low)</span>" in icons and "<span class='mdc-word'>Fail</span>" in icons
    assert ":red-badge[✖ Red against target (RAG)]" in _texts(app)
    _history, spc = app.get("plotly_chart")
    spec = json.loads(spc.proto.spec)
    names = [t.get("name") for t in spec["data"]]
    assert names[:4] == ["Upper process limit", "Mean", "Lower process limit", "Target"]
    assert "Target ahead (trajectory)" in names and "Special cause concern" in names
    app.toggle(key="spc-2sigma-chc_assessments_within_28_days").set_value(True).run()
    names = [t.get("name") for t in json.loads(app.get("plotly_chart")[1].proto.spec)["data"]]
    assert {"Upper 2-sigma", "Lower 2-sigma"} <= set(names)


def test_a_summary_cell_quotes_ids_and_escapes_names():
    cell = summary._cell(
        "indicator", ["a&b c'd", "x"], {"a&b c'd": "<b>A & B</b>", "x": "X's"}, "Fail", periods.parse_period("2020-11")
    )
    assert cell == (
        "<div class='matrix-cell'><p class='count'><span class='cell-assurance'>Fail: </span>2 indicators</p><ul>"
        "<li><a href='indicator?id=a%26b+c%27d&amp;as_at=2020-11' target='_self'>&lt;b&gt;A &amp; B&lt;/b&gt;</a></li>"
        "<li><a href='indicator?id=x&amp;as_at=2020-11' target='_self'>X&#x27;s</a></li></ul></div>"
    )
    assert "none</p></div>" in summary._cell("indicator", [], {}, "Fail", periods.parse_period("2020-11"))


def test_the_summary_page_shows_the_matrix_and_the_exceptions(app, app_env, catalogue):
    open_page(app, "integrated-summary")
    assert not app.exception
    table = integrated.report_table(
        store.current_observations(store.connect(app_env)), catalogue, periods.parse_period("2020-11")
    )
    cells = integrated.matrix(table)
    names = {i.id: i.display_name for i in catalogue.indicators}
    # each cell is one element: its assurance, its count, and a link to each indicator's page as at the month
    shown = [h.proto.body for h in app.get("html") if h.proto.body.startswith("<div class='matrix-cell'>")]
    assert not app.get("page_link")
    if not any(cells.loc[cells["variation_group"] == "n/a", "indicators"]):
        cells = cells[cells["variation_group"] != "n/a"]
    assert len(shown) == len(cells)
    for body, assurance, ids in zip(shown, cells["assurance"], cells["indicators"], strict=True):
        assert f"{integrated.MATRIX_COLUMNS[assurance]}: </span>" in body
        assert (f"{len(ids)} indicator" if ids else "none") in body
        links = re.findall(r"<a href='indicator\?id=([^&']+)&amp;as_at=2020-11' target='_self'>([^<]+)</a>", body)
        assert links == [(i, html.escape(names[i])) for i in ids]
    in_matrix = [i for ids in cells["indicators"] for i in ids]  # every indicator once, cell by cell
    assert sorted(in_matrix) == sorted(names)
    exceptions = dataframe_with(app, "Why")
    listed = integrated.exceptions(table, catalogue)
    assert list(exceptions["Indicator"]) == list(listed["name"])
    assert list(exceptions["Variation"]) == [VARIATION_TEXT[v] for v in listed["variation"]]
    assert list(exceptions["Assurance"]) == [ASSURANCE_TEXT[a] for a in listed["assurance"]]
    assert list(exceptions["Owner"]) == list(listed["owner"])
