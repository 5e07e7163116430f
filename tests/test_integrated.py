"""SPC beside every RAG rating (kpis/report/integrated.py): one computation feeds every
output, so the limits, point types and icons of every indicator are the same in the app's
tables, the command line, the CSV and the workbook, and the board pack as HTML and PDF; a
change of one catalogue setting moves all of them together. Also what SPC runs on (in-month
values, the revision in force, targets in force each month), gaps, withdrawn values, the
matrix, the exceptions and the command line ``spc``."""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from kpis import cli, ingest, periods, sample, store
from kpis.catalogue import DEFAULT_PATH, load_catalogue, parse_catalogue
from kpis.governance import rollback
from kpis.publish import boardpack, contents, formats, workbook
from kpis.report import charts, formatting, integrated
from kpis.report.integrated import ASSURANCE_TEXT, CHART_COLUMNS, REPORT_COLUMNS, SPC_COLUMNS, VARIATION_TEXT
from tests.conftest import require
from tests.test_app import ROOT, TIMEOUT, dataframe_with, open_page

AS_AT = periods.parse_period("2020-11")
SPC_SHEET_START = 13  # column M: SPC mean, lower, upper, variation, assurance, limits


# --------------------------------------------------------------------------------------
# The sample store, and a catalogue changed in one setting
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory, catalogue) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('integrated') / 'kpis.sqlite'}"
    engine = store.connect(url)
    sample.load_sample(engine, catalogue)
    engine.dispose()
    return url


def catalogue_file(folder: Path, **spc) -> Path:
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    if spc:
        raw["spc"] = spc
    path = folder / "kpis.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def engine_view(url: str, path: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The engine's own answer: the report table, the chart rows and each indicator's reason."""
    catalogue = load_catalogue(path)
    observations = store.current_observations(store.connect(url))
    points = integrated.spc_charts(observations, catalogue, AS_AT)
    table = integrated.report_table(observations, catalogue, AS_AT, points)
    return table, integrated.chart_rows(points), integrated.spc_table(points, catalogue)


def run_cli(*args: str) -> str:
    out = io.StringIO()
    original = sys.stdout
    sys.stdout = out
    try:
        assert cli.main(list(args)) == 0
    finally:
        sys.stdout = original
    return out.getvalue()


def read_csv(text: str | bytes) -> pd.DataFrame:
    source = io.BytesIO(text) if isinstance(text, bytes) else io.StringIO(text)
    return pd.read_csv(source, encoding="utf-8-sig", keep_default_na=False, na_values=[""])


def limits_text(row: pd.Series, catalogue) -> str:
    """The pack's ``mean …, limits … to …`` for a row, as the board reads it."""
    if pd.isna(row["spc_mean"]):
        return "no limits"
    ind = catalogue.indicator(row["indicator"])
    d = min(ind.decimals + 1, 3)
    mean, low, high = (formatting.with_unit(row[c], ind.unit.value, d) for c in ("spc_mean", "spc_lower", "spc_upper"))
    return f"mean {mean}, limits {low} to {high}"


def icon_words(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return [
        (VARIATION_TEXT[str(v)], ASSURANCE_TEXT[str(a)])
        for v, a in zip(frame["variation"], frame["assurance"], strict=True)
    ]


def same_numbers(got: pd.Series, expected: pd.Series) -> bool:
    return np.allclose(got.to_numpy(dtype=float), expected.to_numpy(dtype=float), atol=1e-6, equal_nan=True)


def check_every_output(url: str, path: Path, folder: Path) -> pd.DataFrame:
    """Assert that every output shows the engine's limits, point types and icons for every
    indicator; the engine's table."""
    catalogue = load_catalogue(path)
    table, rows, reasons = engine_view(url, path)
    spc = table[["indicator", *SPC_COLUMNS]].reset_index(drop=True)

    # The command line: summary (the KPI table with its SPC) and spc (every point).
    summary = read_csv(run_cli("summary", "--as-at", "2020-11", "--database", url, "--config", str(path)))
    assert list(summary.columns) == REPORT_COLUMNS
    assert list(summary["indicator"]) == list(spc["indicator"])
    for column in ("spc_mean", "spc_lower", "spc_upper"):
        assert same_numbers(summary[column], spc[column]), column
    assert list(summary["variation"]) == list(spc["variation"].astype(str))
    assert list(summary["assurance"]) == list(spc["assurance"].astype(str))
    assert list(summary["spc_trial"]) == list(spc["spc_trial"])
    points = read_csv(run_cli("spc", "--as-at", "2020-11", "--database", url, "--config", str(path)))
    assert list(points.columns) == CHART_COLUMNS
    assert list(points["point_type"]) == list(rows["point_type"])
    assert list(points["rule"].fillna("")) == list(rows["rule"])
    for column in ("mean", "lower", "upper", "lower_2sigma", "upper_2sigma", "value"):
        assert same_numbers(points[column], rows[column]), column

    # CSV and workbook.
    data = contents.export_data(store.connect(url), catalogue, AS_AT)
    pd.testing.assert_frame_equal(read_csv(formats.kpi_csv(data.table)), summary)
    book = openpyxl.load_workbook(io.BytesIO(workbook.kpi_workbook(data, catalogue)))
    for ws, sheet in zip(catalogue.workstreams, book.worksheets[1 : 1 + len(catalogue.workstreams)], strict=True):
        own = spc[table["workstream"] == ws.id].reset_index(drop=True)
        cells = [[c.value for c in row[SPC_SHEET_START - 1 :]] for row in sheet.iter_rows(min_row=6)]
        assert len(cells) == len(own)
        for k, row in own.iterrows():
            figures = pd.Series([np.nan if v is None else v for v in cells[k][:3]], dtype=float)
            scale = 100 if catalogue.indicator(row["indicator"]).unit.value == "percent" else 1  # 0.52 for 52%
            expected = row[["spc_mean", "spc_lower", "spc_upper"]].astype(float) / scale
            assert same_numbers(figures, expected), row["indicator"]
            reason = reasons.set_index("indicator").loc[row["indicator"], "spc_reason"] or "final"
            assert cells[k][3:] == [VARIATION_TEXT[row["variation"]], ASSURANCE_TEXT[row["assurance"]], reason]

    # The board pack: each KPI row's icons and limits, and the exception charts' points.
    html = boardpack.pack_html(data, catalogue)
    cells = re.findall(r"<td class=\"spc\" id=\"kpi-(\d+)\">(.*?)</td>", html, flags=re.S)
    assert [int(k) for k, _ in cells] == list(range(len(catalogue.indicators)))
    for (_, cell), (_, row) in zip(cells, table.iterrows(), strict=True):
        words = re.findall(r"<span class='mdc-word'>([^<]*)</span>", cell)
        assert tuple(words) == (VARIATION_TEXT[row["variation"]], ASSURANCE_TEXT[row["assurance"]])
        assert f'<div class="limits">{limits_text(row, catalogue)}</div>' in cell
    listed = integrated.exceptions(table, catalogue)
    figures = re.findall(r"<figure class=\"spc-chart\" id=\"spc-(\d+)\".*?</figure>", html, flags=re.S)
    charts_html = re.findall(r"<figure class=\"spc-chart\".*?</figure>", html, flags=re.S)
    assert [catalogue.indicator_ids[int(k)] for k in figures] == list(listed["indicator"])
    for indicator, chart in zip(listed["indicator"], charts_html, strict=True):
        assert re.findall(r"data-point-type='(\w+)'", chart) == list(
            rows.loc[rows["indicator"] == indicator, "point_type"]
        )

    # The PDF: the same words and limits, as pdftotext reads them.
    require("pdftotext", shutil.which("pdftotext"), "install poppler-utils to read the PDF back")
    pdf = folder / "pack.pdf"
    pdf.write_bytes(formats.export_bytes(data, catalogue, "pdf"))
    text = " ".join(
        subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout.split()
    )
    assert (
        "Integrated performance summary" in text and "Exceptions: special cause concern or failing the target" in text
    )
    for _, row in table.iterrows():
        assert limits_text(row, catalogue) in text, row["indicator"]
    assert "Process limits" in text and "Target (ahead: dashed)" in text  # the charts' key
    # pdftotext interleaves the cells of a row, so the icons' words are counted: at least once
    # per indicator showing them (the KPI tables), as the HTML above holds them row by row
    for word, n in pd.Series([w for pair in icon_words(spc) for w in pair]).value_counts().items():
        assert len(re.findall(rf"(?<![\w(]){re.escape(word)}(?![\w)])", text)) >= n, word

    # The app's workstream tables.
    os.environ["KPIS_CONFIG"] = str(path)
    try:
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
        for ws in catalogue.workstreams:
            open_page(at, ws.id)
            assert not at.exception
            shown = dataframe_with(at, "Variation")
            own = spc[table["workstream"] == ws.id]
            assert list(zip(shown["Variation"], shown["Assurance"], strict=True)) == icon_words(own), ws.id
            expected = [r or "final" for r in reasons.set_index("indicator").loc[own["indicator"], "spc_reason"]]
            assert list(shown["SPC limits"]) == expected
    finally:
        del os.environ["KPIS_CONFIG"]
    return table


def test_one_computation_feeds_every_output_and_one_setting_moves_them_all(sample_db, tmp_path, monkeypatch):
    monkeypatch.setenv(store.DATABASE_ENV, sample_db)
    monkeypatch.setenv("KPIS_LOAD_SAMPLE", "0")
    (tmp_path / "mdc").mkdir()
    (tmp_path / "shift6").mkdir()
    before = check_every_output(sample_db, catalogue_file(tmp_path / "mdc"), tmp_path / "mdc")
    after = check_every_output(sample_db, catalogue_file(tmp_path / "shift6", shift=6), tmp_path / "shift6")
    moved = after["variation"].astype(str) != before["variation"].astype(str)
    assert list(after.loc[moved, "indicator"]) == ["nel_admissions_65_plus", "care_home_nel_admissions"]
    assert list(before.loc[moved, "variation"].astype(str)) == ["common_cause", "common_cause"]
    assert list(after.loc[moved, "variation"].astype(str)) == ["improvement_low", "improvement_low"]


# --------------------------------------------------------------------------------------
# What SPC runs on
# --------------------------------------------------------------------------------------


MINIMAL = {
    "workstreams": [{"id": "w", "name": "W"}],
    "indicators": [
        {"id": "rate", "name": "Rate", "workstream": "w", "unit": "percent", "direction": "higher",
         "target": {"2019/20": 50, "2020/21": 90}},
        {"id": "count", "name": "Count", "workstream": "w", "unit": "count", "direction": "lower",
         "aggregation": "ytd_sum", "target": 1000},
    ],
}  # fmt: skip


def observations(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": pd.Categorical([r[0] for r in rows]),
            "period": [periods.from_text(r[1]) for r in rows],
            "value": [r[2] for r in rows],
            "numerator": np.nan,
            "denominator": np.nan,
        }
    )


def months(first: str, n: int) -> list[str]:
    start = periods.from_text(first)
    return [periods.to_text(start + k) for k in range(n)]


def test_spc_runs_on_in_month_values_with_the_target_in_force_each_month():
    catalogue = parse_catalogue(MINIMAL)
    values = [60, 61, 59, 60, 62, 58, 60, 61, 59, 60, 61, 60]
    span = months("2019-12", 12)  # December 2019 to November 2020: two financial years
    obs = observations([("rate", m, v) for m, v in zip(span, values, strict=True)] + [("count", m, 100) for m in span])
    points = integrated.spc_charts(obs, catalogue, periods.from_text("2020-11"))
    rate = points[points["indicator"] == "rate"]
    assert list(rate["target"]) == [50, 50, 50, 50, *[90] * 8]  # stepped at April 2020
    count = points[points["indicator"] == "count"]
    assert list(count["value"]) == [100] * 12  # the month's value, never the year to date
    assert count["target"].isna().all()  # a year-to-date target is not a month's
    table = integrated.spc_table(points, catalogue).set_index("indicator")
    # the latest target (90) is above the upper limit of a higher-is-better process: fail
    # (against the 2019/20 target of 50, below the lower limit, it would have been pass)
    assert table.loc["rate", "spc_target"] == 90 and table.loc["rate", "spc_upper"] < 90
    assert table.loc["rate", "spc_lower"] > 50
    assert table.loc["rate", "assurance"] == "fail"
    assert table.loc["count", "assurance"] == "n/a"
    line = charts.spc_target_line(catalogue, "rate", periods.from_text("2019-12"), periods.from_text("2020-11"))
    assert list(line["target"]) == [50, 50, 50, 50, *[90] * 12]  # to March 2021
    assert list(line["ahead"]) == [False] * 12 + [True] * 4


def test_months_after_the_as_at_month_are_not_points():
    catalogue = parse_catalogue(MINIMAL)
    obs = observations([("rate", m, 60 + k) for k, m in enumerate(months("2020-04", 10))])
    points = integrated.spc_charts(obs, catalogue, periods.from_text("2020-10"))
    assert list(integrated.chart_rows(points)["period"]) == months("2020-04", 7)


def test_a_series_with_a_gap_joins_its_points_and_the_chart_shows_the_gap():
    catalogue = parse_catalogue(MINIMAL)
    obs = observations(
        [("rate", m, v) for m, v in (("2020-04", 60), ("2020-05", 62), ("2020-08", 58), ("2020-09", 60))]
    )
    points = integrated.spc_charts(obs, catalogue, periods.from_text("2020-09"))
    rows = integrated.chart_rows(points)
    assert list(rows["period"]) == ["2020-04", "2020-05", "2020-08", "2020-09"]
    # moving ranges 2, 4, 2 across the gap: AMR 8/3
    assert rows["mean"].iloc[0] == 60 and rows["upper"].iloc[0] == pytest.approx(60 + 2.66 * 8 / 3)
    series = charts.spc_series(points, catalogue, "rate")
    assert list(series["gap_before"]) == [False, False, True, False]
    figure = charts.spc_figure(
        series,
        charts.spc_target_line(catalogue, "rate", series["period"].iloc[0], series["period"].iloc[-1]),
        catalogue.indicator("rate"),
    )
    value = next(t for t in figure.data if t.name == "Value")
    assert list(value.y) == [60, 62, None, 58, 60]  # the line breaks at the gap


def test_values_withdrawn_by_a_rollback_are_not_points(tmp_path):
    catalogue = parse_catalogue(MINIMAL)
    engine = store.connect(f"sqlite:///{tmp_path / 'kpis.sqlite'}")
    first = "indicator,period,value\n" + "".join(f"rate,{m},{60 + k % 3}\n" for k, m in enumerate(months("2020-04", 6)))
    ingest.ingest(engine, first.encode(), "first.csv", catalogue, "tester")
    later = ingest.ingest(engine, b"indicator,period,value\nrate,2020-10,95\n", "later.csv", catalogue, "tester")
    as_at = periods.from_text("2020-10")
    with_it = integrated.spc_charts(store.current_observations(engine), catalogue, as_at)
    assert list(with_it["value"])[-1] == 95
    rollback.rollback(engine, later.extract_id, "tester")
    without = integrated.chart_rows(integrated.spc_charts(store.current_observations(engine), catalogue, as_at))
    assert list(without["period"]) == months("2020-04", 6)
    assert 95 not in list(without["value"])


def test_as_published_spc_reads_the_revision_in_force_then(tmp_path):
    catalogue = parse_catalogue(MINIMAL)
    engine = store.connect(f"sqlite:///{tmp_path / 'kpis.sqlite'}")
    rows = "".join(f"rate,{m},{60 + k % 3}\n" for k, m in enumerate(months("2020-04", 7)))
    ingest.ingest(engine, ("indicator,period,value\n" + rows).encode(), "oct.csv", catalogue, "tester")
    ingest.ingest(engine, b"indicator,period,value\nrate,2020-10,99\nrate,2020-11,61\n", "nov.csv", catalogue, "t")
    october = periods.from_text("2020-10")
    published = contents.export_data(engine, catalogue, october, as_published=True)
    now = contents.export_data(engine, catalogue, october)
    assert list(published.spc["value"])[-1] == 60  # October as the October report showed it
    assert list(now.spc["value"])[-1] == 99
    assert published.table.loc[0, "spc_mean"] != now.table.loc[0, "spc_mean"]


# --------------------------------------------------------------------------------------
# The matrix, the exceptions, the rebase check and the spc command
# --------------------------------------------------------------------------------------


def test_the_matrix_places_every_indicator_once_and_the_exceptions_are_concern_or_fail(sample_db, catalogue):
    table, _, _ = engine_view(sample_db, DEFAULT_PATH)
    cells = integrated.matrix(table)
    assert len(cells) == len(integrated.MATRIX_ROWS) * len(integrated.MATRIX_COLUMNS)
    placed = [i for ids in cells["indicators"] for i in ids]
    assert sorted(placed) == sorted(catalogue.indicator_ids)
    concern = cells[(cells["variation_group"] == "concern") & (cells["assurance"] == "fail")]["indicators"].iloc[0]
    assert concern == ["mofd_bed_occupancy", "pathway2_discharged_48h", "chc_assessments_within_28_days"]
    listed = integrated.exceptions(table, catalogue)
    assert list(listed["indicator"]) == [
        "mofd_bed_occupancy",
        "pathway2_discharged_48h",
        "pathway3_discharged_72h",
        "reablement_no_ongoing_care",
        "iapt_access",
        "larc_uptake",
        "chc_assessments_within_28_days",
        "non_framework_home_care",
    ]
    first = listed.iloc[0]
    assert (first["actual"], first["rag_target"], first["owner"], first["why"]) == (
        16.0,
        "Red",
        "Associate Director, Integrated Care",
        "special cause concern; failing the target",
    )


def test_the_spc_command_refuses_a_rebase_month_without_a_value_located(sample_db, tmp_path, capsys):
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["indicators"][9]["spc"] = {"rebase": ["2020-08"]}  # ld_health_checks: quarterly, no August value
    path = tmp_path / "kpis.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    assert cli.main(["spc", "--database", sample_db, "--config", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"{path}: 1 problem(s)\n  indicators[9].spc.rebase[0]: '2020-08': is not a period of this indicator. "
        "Hint: rebase at a month with a value: ld_health_checks has values from 2018-06 to 2020-09\n"
    )


def test_the_spc_command_prints_one_row_per_indicator_and_period(sample_db):
    text = run_cli("spc", "--indicator", "MRSA_CASES", "--as-at", "2018-06", "--database", sample_db)
    assert text == (
        "indicator,period,value,segment,mean,lower,upper,lower_2sigma,upper_2sigma,point_type,rule,trial\n"
        "mrsa_cases,2018-04,0.0,1,0.0,0.0,0.0,0.0,0.0,common_cause,,true\n"
        "mrsa_cases,2018-05,0.0,1,0.0,0.0,0.0,0.0,0.0,common_cause,,true\n"
        "mrsa_cases,2018-06,0.0,1,0.0,0.0,0.0,0.0,0.0,common_cause,,true\n"
    )
    assert cli.main(["spc", "--indicator", "nope", "--database", sample_db]) == 2


def test_a_rebase_starts_a_new_segment_in_every_output(sample_db, tmp_path):
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["indicators"][0]["spc"] = {"rebase": ["2020-07"]}
    path = tmp_path / "kpis.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    text = run_cli("spc", "--indicator", "mofd_bed_occupancy", "--as-at", "2020-11", "--database", sample_db,
                   "--config", str(path))  # fmt: skip
    rows = read_csv(text)
    assert list(rows["segment"]) == [1, 1, 1, 2, 2, 2, 2]
    assert list(rows["trial"]) == [True] * 7
    second = rows[rows["segment"] == 2]
    assert second["mean"].iloc[0] == pytest.approx(np.mean(second["value"]), abs=1e-6)
    assert math.isclose(rows["mean"].iloc[0], np.mean(rows["value"].iloc[:3]), abs_tol=1e-6)


def test_the_spc_command_in_markdown_keeps_six_decimals(sample_db):
    text = run_cli("spc", "--indicator", "home_care_hours_per_week", "--as-at", "2020-11", "--format", "markdown",
                   "--database", sample_db)  # fmt: skip
    lines = text.splitlines()
    assert lines[0] == (
        "| indicator | period | value | segment | mean | lower | upper | lower_2sigma | upper_2sigma | point_type | "
        "rule | trial |"
    )
    last = [cell.strip() for cell in lines[-1].strip("|").split("|")]
    rows = integrated.chart_rows(
        integrated.spc_charts(store.current_observations(store.connect(sample_db)), load_catalogue(), AS_AT)
    )
    expected = rows[rows["indicator"] == "home_care_hours_per_week"].iloc[-1]
    assert last[:2] == ["home_care_hours_per_week", "2020-11"]
    assert last[4] == f"{round(expected['mean'], 6):.6f}".rstrip("0").rstrip(".")
    assert abs(float(last[4]) - expected["mean"]) < 1e-6 and "e+" not in text


def test_a_top_level_rebase_is_located_at_the_top_level_for_each_indicator(sample_db, catalogue):
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["spc"] = {"rebase": ["2020-08"]}
    changed = parse_catalogue(raw)
    observations = store.current_observations(store.connect(sample_db))
    problems = integrated.check_rebases(changed, observations)
    august = set(observations.loc[observations["period"] == periods.from_text("2020-08"), "indicator"].astype(str))
    without = [k for k, i in enumerate(catalogue.indicators) if i.id not in august]  # quarterly, or not yet in
    assert len(without) == 8
    assert [p.location for p in problems] == [f"spc.rebase[0] (for indicators[{k}])" for k in without]
