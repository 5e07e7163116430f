"""What the inequality and benchmarking screens, the workbook and the board pack show,
from a small extract in a real SQLite store: the SII sentence, the tartan rug, the
workstream table's two columns, the workbook's sheets and the pack's section; and the
pages themselves through AppTest on the illustrative sample."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from kpis import ingest, periods, store
from kpis.publish import contents, formats
from kpis.report import benchmark_views as views
from kpis.report import benchmarking
from tests.test_benchmarking import EXTRACT

ROOT = Path(__file__).resolve().parent.parent
QUINTILES = "\n".join(
    f"larc_uptake,{month},{area},imd_quintile,{k + 1},,{v},1000"
    for month, area, values in (
        ("2019-10", "", (200, 250, 300, 350, 400)),
        ("2020-10", "", (100, 200, 300, 400, 500)),
        ("2020-10", "E92000001", (300, 320, 340, 360, 380)),
    )
    for k, v in enumerate(values)
)


@pytest.fixture
def engine(tmp_path, catalogue):
    engine = store.connect(f"sqlite:///{tmp_path / 'kpis.sqlite'}")
    ingest.ingest(engine, EXTRACT, "breakdowns.csv", catalogue, loaded_by="ann")
    ingest.ingest(engine, EXTRACT.split(b"\n")[0] + b"\n" + QUINTILES.encode(), "q.csv", catalogue, loaded_by="ann")
    yield engine
    engine.dispose()


def test_the_sii_as_a_sentence(engine, catalogue):
    every = benchmarking.inequality_table(store.current_breakdowns(engine), catalogue, every_period=True)
    now = every[(every["area"] == "E06000045") & (every["period"] == periods.from_text("2020-10"))].iloc[0]
    indicator, breakdown = catalogue.indicator("larc_uptake"), catalogue.breakdown("imd_quintile")
    assert views.sii_sentence(now, indicator, breakdown, "Southampton") == (
        "In Southampton, M7 2020/21: a gap of 50.0 percentage points between the most and least deprived "
        "(95% interval 45.8 to 54.0), higher at the least deprived end."
    )
    assert views.sii_sentence(None, indicator, breakdown, "Southampton") == (
        "No deprivation (imd quintile) figures for Southampton."
    )
    missing = now.copy()
    missing[["sii", "note"]] = [float("nan"), "group 3 missing"]
    assert views.sii_sentence(missing, indicator, breakdown, "Southampton") == (
        "In Southampton, no slope index of inequality for M7 2020/21: group 3 missing."
    )


def test_the_tartan_rug_of_a_workstream(engine, catalogue):
    compare = benchmarking.compare_table(store.current_breakdowns(engine), catalogue)
    values, words = views.tartan_rug(compare, catalogue, "prevention")
    assert values.to_dict("records") == [
        {
            "Indicator": "% LARC (all 4 methods) at Integrated Sexual Health Service",
            "Period": "M7 2020/21",
            "Southampton": "30.0 ▼",
            "England": "40.0",
            "South East": "",
            "Portsmouth": "40.0 ●",
            "Plymouth": "",
        }
    ]
    assert words.iloc[0, 2:].tolist() == ["worse", "benchmark", "not_compared", "similar", "not_compared"]
    assert views.cell_style("worse") == "background-color: #E66100; color: #1A1A1A"


def test_the_workstream_table_columns(engine, catalogue):
    observations = store.current_breakdowns(engine)
    compare = benchmarking.compare_table(observations, catalogue)
    every = benchmarking.inequality_table(observations, catalogue, every_period=True)
    columns = views.workstream_columns(compare, benchmarking.sii_change(every, periods.from_text("2020-11")), catalogue)
    assert columns.set_index("indicator").loc["larc_uptake"].tolist() == ["▼ worse", "↗ widening"]
    assert columns.set_index("indicator").loc["nel_admissions"].tolist() == ["", ""]


def test_the_workbook_and_the_pack_hold_the_comparisons(engine, catalogue):
    data = contents.export_data(engine, catalogue, periods.from_text("2020-11"))
    book = openpyxl.load_workbook(io.BytesIO(formats.export_bytes(data, catalogue, "xlsx")))
    assert book.sheetnames[-2:] == ["Comparisons", "Inequality"]
    sheet = book["Comparisons"]
    header = [c.value for c in sheet[5]]
    assert header == benchmarking.COMPARE_COLUMNS
    suppressed = next(r for r in sheet.iter_rows(min_row=6, values_only=True) if r[4] == "F" and r[2] == "E06000045")
    assert suppressed[5:12] == ("*", 100, "*", "*", "*", "*", "*")
    csv = formats.comparison_csv(data, "prevention", catalogue).decode("utf-8-sig")
    assert csv.splitlines()[0] == ",".join(benchmarking.COMPARE_COLUMNS)
    assert "larc_uptake,2020-10,E06000045,sex,F,*,100.0,*,*,*,*,*" in csv
    html = formats.export_bytes(data, catalogue, "html", "prevention").decode("utf-8")
    assert '<section class="inequalities" id="inequalities-prevention">' in html
    assert "Prevention and Early Intervention: inequalities and comparison with other areas</h3>" in html
    assert (
        "In Southampton, M7 2020/21: a gap of 50.0 percentage points between the most and least deprived "
        "(95% interval 45.8 to 54.0), higher at the least deprived end. Against a year before: ↗ widening." in html
    )
    market = formats.export_bytes(data, catalogue, "html", "market").decode("utf-8")
    assert "inequalities and comparison" not in market  # nothing to show there


def test_a_store_without_breakdowns_exports_as_before(tmp_path, catalogue):
    engine = store.connect(f"sqlite:///{tmp_path / 'plain.sqlite'}")
    ingest.ingest(engine, b"indicator,period,value\nnel_admissions,2020-10,7039\n", "x.csv", catalogue, "ann")
    data = contents.export_data(engine, catalogue, periods.from_text("2020-10"))
    assert data.comparisons.empty and data.inequalities.empty
    book = openpyxl.load_workbook(io.BytesIO(formats.export_bytes(data, catalogue, "xlsx")))
    assert "Comparisons" not in book.sheetnames
    engine.dispose()


def _open(at: AppTest, url_path: str, **query: str) -> AppTest:
    matches = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == url_path]
    at._page_hash = matches[0]
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def test_the_pages_on_the_sample(app_env):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=90).run()
    assert not at.exception
    _open(at, "indicator", id="larc_uptake", tab="Inequalities")
    assert not at.exception
    texts = "\n".join(m.value for m in at.markdown)
    assert "a gap of 18.1 percentage points between the most and least deprived" in texts
    _open(at, "compare-areas")
    assert not at.exception
    rug = at.dataframe[0].value
    assert list(rug.columns) == [
        "Indicator",
        "Period",
        "Southampton",
        "England",
        "South East",
        "Portsmouth",
        "Plymouth",
    ]
    assert rug.shape == (3, 7)
    _open(at, "prevention")
    assert not at.exception
    board = pd.concat([d.value for d in at.dataframe if "vs England" in d.value.columns])
    assert board.set_index("indicator").loc["larc_uptake", "vs England"] == "● similar"
