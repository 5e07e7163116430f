"""The command line, run as users run it: ``python -m kpis ...`` in a subprocess from the
repository root, against a temporary SQLite file (and once on every store backend).

The extracts are small and hand-written so that the KPI table's figures are known:

* ``mofd_bed_occupancy`` (percent, lower is better, target 3.5): 16 in Oct 2020, 20 in
  Oct 2019 → +12.5 / +357.142857% against target (Red); -4 / -20% against last year
  (better, Green).
* ``discharged_home_with_support`` (percent, higher, target 85): 80 in Nov 2020 and Nov
  2019 → -5 / -5.882353% (Amber, within 10% of 85); same as last year (Green).
* ``mrsa_cases`` (count, year-to-date sum, target 0): one case in June of each year, so
  1 year to date in Nov 2020 and Nov 2019 → +1, % undefined (Red); same as last year,
  which for a missed zero target rates Red.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpis import store
from kpis.catalogue import Catalogue, Indicator, Workstream
from kpis.report.performance import RAG_WORDS, SUMMARY_COLUMNS, TREND_WORDS
from tests.conftest import store_snapshot

REPO_ROOT = Path(__file__).resolve().parent.parent

REQUIRED_COLUMNS = [
    "workstream",
    "indicator",
    "name",
    "period",
    "actual",
    "target",
    "variance_target",
    "variance_target_pct",
    "rag_target",
    "last_year",
    "variance_last_year",
    "variance_last_year_pct",
    "trend",
    "rag_last_year",
]


def _mrsa_rows() -> list[str]:
    rows = []
    for year in (2019, 2020):
        for m in range(4, 12):
            rows.append(f"mrsa_cases,{year}-{m:02d},{1 if m == 6 else 0}")
    return rows


GOOD = "\n".join(
    [
        "indicator,period,value",
        "mofd_bed_occupancy,2019-10,20",
        "mofd_bed_occupancy,2020-10,16",
        "discharged_home_with_support,2019-11,80",
        "discharged_home_with_support,2020-11,80",
        *_mrsa_rows(),
        "",
    ]
)
GOOD_ROWS = 4 + 16

# A correction: MOFD in October 2020 was on target after all.
REVISION = "indicator,period,value\nmofd_bed_occupancy,2020-10,3.5\nmofd_bed_occupancy,2020-09,4\n"
# What `rollback 2 --dry-run` lists after REVISION: each value withdrawn or restored.
DRY_RUN_LINES = ["  mofd_bed_occupancy 2020-09: 4 → withdrawn", "  mofd_bed_occupancy 2020-10: 3.5 → 16"]

BAD = "\n".join(
    [
        "indicator,period,value",
        "mofd_bed_occupancy,2020-10,abc",
        "mofd_bed_ocupancy,2020-10,5",
        "discharged_home_with_support,2020-13,50",
        "",
    ]
)

# (indicator, period, actual, target, variance_target, variance_target_pct, rag_target,
#  last_year, variance_last_year, variance_last_year_pct, trend, rag_last_year) as at 2020-11
EXPECTED = {
    "mofd_bed_occupancy": (
        "2020-10",
        16.0,
        3.5,
        12.5,
        357.142857,
        "Red",
        20.0,
        -4.0,
        -20.0,
        "better",
        "Green",
    ),
    "discharged_home_with_support": (
        "2020-11",
        80.0,
        85.0,
        -5.0,
        -5.882353,
        "Amber",
        80.0,
        0.0,
        0.0,
        "same",
        "Green",
    ),
    "mrsa_cases": ("2020-11", 1.0, 0.0, 1.0, None, "Red", 1.0, 0.0, 0.0, "same", "Red"),
}
FIELDS = REQUIRED_COLUMNS[REQUIRED_COLUMNS.index("period") :]  # the per-row figures


@pytest.fixture
def cli(tmp_path):
    """Run ``python -m kpis`` from the repository root. ``KPIS_DATABASE_URL`` points at a
    decoy file that no test passing ``--database`` may create, so that the shipped
    ``data/kpis.sqlite`` is never touched and ``--database`` is shown to win."""
    decoy = tmp_path / "decoy" / "env.sqlite"

    def run(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        environment = {**os.environ, store.DATABASE_ENV: f"sqlite:///{decoy}", "PYTHONIOENCODING": "utf-8"}
        environment.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "kpis", *map(str, args)],
            cwd=REPO_ROOT,
            env=environment,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=180,
        )

    run.decoy = decoy
    return run


@pytest.fixture
def db(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'cli' / 'kpis.sqlite'}"


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    paths = {}
    for name, text in (("good.csv", GOOD), ("revision.csv", REVISION), ("bad.csv", BAD)):
        paths[name] = tmp_path / name
        paths[name].write_text(text, encoding="utf-8")
    return paths


def ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result


def csv_frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), keep_default_na=False, dtype=str)


def number(text: str) -> float | None:
    return None if text == "" else float(text)


def assert_row(row: dict, indicator: str) -> None:
    """A row of the CSV table (all text) against EXPECTED."""
    expected = dict(zip(FIELDS, EXPECTED[indicator], strict=True))
    for field, want in expected.items():
        got = row[field]
        if isinstance(want, float):
            assert number(got) == pytest.approx(want, abs=1e-6), (indicator, field, got)
        elif want is None:
            assert got == "", (indicator, field, got)
        else:
            assert got == want, (indicator, field, got)


def load_good(cli, db, files) -> None:
    ok(cli("ingest", files["good.csv"], "--database", db, "--user", "tester"))


# validate ------------------------------------------------------------------------------


def test_validate_the_shipped_catalogue(cli, catalogue: Catalogue):
    result = ok(cli("validate"))
    assert "valid" in result.stdout
    assert f"{len(catalogue.workstreams)} workstreams, {len(catalogue.indicators)} indicators" in result.stdout
    assert str(REPO_ROOT / "config" / "kpis.yaml") in result.stdout
    assert result.stderr == ""
    assert not cli.decoy.exists()  # validate does not open the store


BAD_CATALOGUE = """\
tolerance: 0.1
workstreams:
  - id: care
    name: Care
indicators:
  - id: a_one
    name: One
    workstream: care
    unit: furlongs
    direction: lower
  - id: B two!
    name: Two
    workstream: care
    unit: count
    direction: higher
    decimals: 9
    colour: red
  - id: c_three
    name: Three
    workstream: care
    unit: count
  - id: d_four
    name: Four
    workstream: care
    unit: percent
    direction: none
    target: 50
"""


def test_validate_lists_every_problem_with_location_value_and_hint(cli, tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(BAD_CATALOGUE, encoding="utf-8")
    result = cli("validate", "--config", config)
    assert result.returncode == 1, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == f"{config}: 6 problem(s)", result.stderr
    # location → (value shown, a fragment of the problem, a fragment of the hint)
    expected = {
        "indicators[0].unit": ("'furlongs'", "Input should be", "use one of 'percent', 'count'"),
        "indicators[1].id": ("'B two!'", "String should match pattern", "letters, digits and _ - . ( ) /"),
        "indicators[1].decimals": ("9", "less than or equal to 3", "within the allowed range"),
        "indicators[1].colour": ("'red'", "Extra inputs are not permitted", "remove it or correct its spelling"),
        "indicators[2].direction": ("(missing)", "Field required", "add 'direction'"),
        "indicators[3].target": ("'50'", "a target needs a direction", "set 'direction' to higher or lower"),
    }
    for location, (value, problem, hint) in expected.items():
        matching = [line for line in lines if line.strip().startswith(f"{location}: ")]
        assert len(matching) == 1, (location, result.stderr)
        line = matching[0].strip()
        assert line.startswith(f"{location}: {value}: "), line
        assert problem in line, line
        assert "Hint: " in line and hint in line.split("Hint: ", 1)[1], line


def test_validate_reports_an_unknown_workstream_even_when_a_top_level_key_is_invalid(cli, tmp_path):
    """The catalogue promises every problem in one run. An invalid top-level key
    (``tolerance: 2``) must not hide an indicator's unknown workstream: the workstreams
    themselves are valid, so the check can be made."""
    config = tmp_path / "two-problems.yaml"
    config.write_text(
        "tolerance: 2\n"
        "workstreams:\n  - id: care\n    name: Care\n"
        "indicators:\n  - id: a_one\n    name: One\n    workstream: nowhere\n    unit: count\n    direction: lower\n",
        encoding="utf-8",
    )
    result = cli("validate", "--config", config)
    assert result.returncode == 1
    assert "tolerance: 2: " in result.stderr
    assert "indicators[0].workstream: 'nowhere': is not a workstream id" in result.stderr, result.stderr


def test_validate_invalid_yaml_gives_the_line(cli, tmp_path):
    config = tmp_path / "broken.yaml"
    config.write_text("tolerance: 0.1\nworkstreams:\n  - id: care\n    name: Care: and more\nindicators: []\n")
    result = cli("validate", "--config", config)
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{config}: 1 problem(s)" in result.stderr
    assert "line 4, column 15" in result.stderr
    assert "is not valid YAML" in result.stderr
    assert "Hint: " in result.stderr


def test_validate_a_missing_file(cli, tmp_path):
    result = cli("validate", "--config", tmp_path / "nowhere.yaml")
    assert result.returncode == 1
    assert "cannot be read" in result.stderr
    assert "Hint: check the path given to --config" in result.stderr


# ingest --------------------------------------------------------------------------------


def test_ingest_a_good_file_then_again(cli, db, files):
    first = ok(cli("ingest", files["good.csv"], "--database", db, "--user", "tester"))
    assert first.stdout == f"good.csv: loaded as extract 1: {GOOD_ROWS} rows, {GOOD_ROWS} new, 0 revised, 0 unchanged\n"
    again = ok(cli("ingest", files["good.csv"], "--database", db))
    assert "no changes" in again.stdout
    assert f"all {GOOD_ROWS} rows match the stored values" in again.stdout
    assert "the same file was loaded as extract 1" in again.stdout
    revised = ok(cli("ingest", files["revision.csv"], "--database", db))
    assert revised.stdout == "revision.csv: loaded as extract 2: 2 rows, 1 new, 1 revised, 0 unchanged\n"
    engine = store.connect(db)
    try:
        log = store.extract_log(engine)
        assert list(log["id"]) == [2, 1]
        assert log["loaded_by"].iloc[1] == "tester"
        assert store.extract_content(engine, 1) == files["good.csv"].read_bytes()
    finally:
        engine.dispose()
    assert not cli.decoy.exists()


def test_ingest_a_bad_file_changes_nothing(cli, db, files):
    load_good(cli, db, files)
    engine = store.connect(db)
    try:
        before = store_snapshot(engine)
        result = cli("ingest", files["bad.csv"], "--database", db)
        assert result.returncode == 1
        assert result.stdout == ""
        err = result.stderr
        assert "bad.csv: rejected, nothing was written (3 problem(s))" in err
        assert "row 2, column value, value 'abc': is not a number. Hint: write a plain number" in err
        assert (
            "row 3, column indicator, value 'mofd_bed_ocupancy': is not an indicator id in the catalogue. "
            "Hint: did you mean 'mofd_bed_occupancy'?"
        ) in err
        assert "row 4, column period, value '2020-13': is not a period. Hint: month 13 does not exist" in err
        assert "Nothing was loaded" in err
        after = store_snapshot(engine)
        pd.testing.assert_frame_equal(before[0], after[0])
        pd.testing.assert_frame_equal(before[1], after[1])
    finally:
        engine.dispose()


def test_ingest_a_good_and_a_bad_file_loads_neither(cli, db, files, tmp_path):
    result = cli("ingest", files["good.csv"], files["bad.csv"], "--database", db)
    assert result.returncode == 1
    assert "loaded as extract" not in result.stdout
    assert "bad.csv: rejected" in result.stderr
    assert "good.csv" not in result.stderr
    assert "Nothing was loaded" in result.stderr
    engine = store.connect(db)
    try:
        assert store.data_version(engine) == 0
        assert store.current_observations(engine).empty
    finally:
        engine.dispose()


def test_ingest_a_missing_file_loads_nothing(cli, db, files, tmp_path):
    result = cli("ingest", files["good.csv"], tmp_path / "missing.csv", "--database", db)
    assert result.returncode == 1
    assert "missing.csv: cannot be read" in result.stderr
    engine = store.connect(db)
    try:
        assert store.data_version(engine) == 0
    finally:
        engine.dispose()


def test_ingest_and_summary_use_kpis_database_url(cli, files, tmp_path):
    env_path = tmp_path / "from-env" / "kpis.sqlite"
    env = {store.DATABASE_ENV: f"sqlite:///{env_path}"}
    ok(cli("ingest", files["good.csv"], env=env))
    assert env_path.is_file()
    table = csv_frame(ok(cli("summary", "--as-at", "2020-11", env=env)).stdout)
    assert_row(table.set_index("indicator").loc["mofd_bed_occupancy"].to_dict(), "mofd_bed_occupancy")


# summary -------------------------------------------------------------------------------


def test_summary_csv_has_the_report_columns_and_real_figures(cli, db, files, catalogue):
    load_good(cli, db, files)
    result = ok(cli("summary", "--as-at", "2020-11", "--format", "csv", "--database", db))
    header = result.stdout.splitlines()[0].split(",")
    for column in REQUIRED_COLUMNS:
        assert column in header, column
    table = csv_frame(result.stdout)
    assert list(table["indicator"]) == catalogue.indicator_ids
    assert list(table["workstream"]) == [i.workstream for i in catalogue.indicators]
    assert list(table["name"]) == [i.name for i in catalogue.indicators]
    assert set(table["rag_target"]) <= set(RAG_WORDS)
    assert set(table["rag_last_year"]) <= set(RAG_WORDS)
    assert set(table["trend"]) <= set(TREND_WORDS)
    rows = table.set_index("indicator")
    for indicator in EXPECTED:
        assert_row(rows.loc[indicator].to_dict(), indicator)
    others = rows.drop(index=list(EXPECTED))
    assert (others[["rag_target", "rag_last_year", "trend"]] == "n/a").all().all()
    assert (others[["period", "actual", "variance_target"]] == "").all().all()


def test_summary_json(cli, db, files, catalogue):
    load_good(cli, db, files)
    records = json.loads(ok(cli("summary", "--as-at", "2020-11", "--format", "json", "--database", db)).stdout)
    assert [r["indicator"] for r in records] == catalogue.indicator_ids
    by_id = {r["indicator"]: r for r in records}
    mofd = by_id["mofd_bed_occupancy"]
    assert mofd["actual"] == 16.0
    assert mofd["variance_target"] == 12.5
    assert mofd["variance_target_pct"] == pytest.approx(357.142857, abs=1e-6)
    assert (mofd["rag_target"], mofd["trend"], mofd["rag_last_year"]) == ("Red", "better", "Green")
    assert by_id["mrsa_cases"]["variance_target_pct"] is None
    assert by_id["larc_uptake"]["actual"] is None
    assert by_id["larc_uptake"]["rag_target"] == "n/a"
    for record in records:
        assert record["rag_target"] in RAG_WORDS and record["rag_last_year"] in RAG_WORDS
        assert record["trend"] in TREND_WORDS


def test_summary_markdown(cli, db, files, catalogue):
    load_good(cli, db, files)
    text = ok(cli("summary", "--as-at", "2020-11", "--format", "markdown", "--database", db)).stdout
    lines = text.splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    for column in REQUIRED_COLUMNS:
        assert column in header, column
    assert set(lines[1].strip("|").split("|")) == {"---"}
    assert len(lines) == 2 + len(catalogue.indicators)
    mofd = next(line for line in lines if "| mofd_bed_occupancy |" in line)
    cells = dict(zip(header, (c.strip() for c in mofd.strip("|").split("|")), strict=True))
    assert (cells["actual"], cells["target"], cells["variance_target"], cells["rag_target"]) == (
        "16",
        "3.5",
        "12.5",
        "Red",
    )


def test_summary_output_writes_the_file(cli, db, files, tmp_path):
    load_good(cli, db, files)
    target = tmp_path / "out" / "table.csv"
    target.parent.mkdir()
    result = ok(cli("summary", "--as-at", "2020-11", "--output", target, "--database", db))
    assert result.stdout == ""
    written = target.read_text(encoding="utf-8")
    assert written == ok(cli("summary", "--as-at", "2020-11", "--database", db)).stdout
    assert_row(csv_frame(written).set_index("indicator").loc["mofd_bed_occupancy"].to_dict(), "mofd_bed_occupancy")


def test_summary_counts(cli, db, files, catalogue):
    load_good(cli, db, files)
    text = ok(cli("summary", "--as-at", "2020-11", "--counts", "--database", db)).stdout
    counts = pd.read_csv(io.StringIO(text), keep_default_na=False)
    assert list(counts.columns) == SUMMARY_COLUMNS == ["workstream", "comparison", "Green", "Amber", "Red", "n/a"]
    assert set(counts["comparison"]) == {"target", "last_year"}
    assert list(counts["workstream"]) == [w.id for w in catalogue.workstreams for _ in range(2)]
    size = {w.id: len(catalogue.in_workstream(w.id)) for w in catalogue.workstreams}
    got = {(r.workstream, r.comparison): (r.Green, r.Amber, r.Red, r[5]) for r in counts.itertuples(index=False)}
    assert got[("integrated_care", "target")] == (0, 1, 1, size["integrated_care"] - 2)
    assert got[("integrated_care", "last_year")] == (2, 0, 0, size["integrated_care"] - 2)
    assert got[("safe_quality", "target")] == (0, 0, 1, size["safe_quality"] - 1)
    assert got[("safe_quality", "last_year")] == (0, 0, 1, size["safe_quality"] - 1)
    for workstream in ("prevention", "market"):
        for comparison in ("target", "last_year"):
            assert got[(workstream, comparison)] == (0, 0, 0, size[workstream])
    for row in counts.itertuples(index=False):
        assert row.Green + row.Amber + row.Red + row[5] == size[row.workstream]


def test_summary_as_of_an_earlier_extract(cli, db, files):
    load_good(cli, db, files)
    ok(cli("ingest", files["revision.csv"], "--database", db))
    now = csv_frame(ok(cli("summary", "--as-at", "2020-11", "--database", db)).stdout).set_index("indicator")
    mofd = now.loc["mofd_bed_occupancy"]
    assert (mofd["actual"], mofd["variance_target"], mofd["variance_target_pct"], mofd["rag_target"]) == (
        "3.5",
        "0.0",
        "0.0",
        "Green",
    )
    then = csv_frame(
        ok(cli("summary", "--as-at", "2020-11", "--as-of-extract", "1", "--database", db)).stdout
    ).set_index("indicator")
    assert_row(then.loc["mofd_bed_occupancy"].to_dict(), "mofd_bed_occupancy")


def test_summary_defaults_to_the_latest_month_with_data(cli, db, files):
    load_good(cli, db, files)
    default = ok(cli("summary", "--database", db)).stdout
    assert default == ok(cli("summary", "--as-at", "2020-11", "--database", db)).stdout


@pytest.mark.parametrize(
    ("as_at", "message"),
    [("2020-13", "month 13 does not exist"), ("November", "is not a period")],
)
def test_summary_rejects_a_bad_month(cli, db, as_at, message):
    result = cli("summary", "--as-at", as_at, "--database", db)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "argument --as-at" in result.stderr
    assert message in result.stderr


def test_summary_rejects_an_unknown_format(cli, db):
    result = cli("summary", "--format", "xlsx", "--database", db)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


# Both store backends ---------------------------------------------------------------------


def test_ingest_and_summary_on_each_backend(cli, database_url, files):
    ok(cli("ingest", files["good.csv"], "--database", database_url))
    ok(cli("ingest", files["revision.csv"], "--database", database_url))
    table = csv_frame(
        ok(cli("summary", "--as-at", "2020-11", "--as-of-extract", "1", "--database", database_url)).stdout
    ).set_index("indicator")
    for indicator in EXPECTED:
        assert_row(table.loc[indicator].to_dict(), indicator)
    assert not cli.decoy.exists()


# reference and usage ---------------------------------------------------------------------


def test_reference_lists_every_catalogue_key(cli):
    text = ok(cli("reference")).stdout
    assert "| key | required | default | meaning |" in text
    assert "|---|---|---|---|" in text
    for model in (Catalogue, Workstream, Indicator):
        for name, field in model.model_fields.items():
            rows = [line for line in text.splitlines() if line.startswith(f"| `{name}` |")]
            assert rows, name
            assert any(field.description in row for row in rows), name
    indicator_table = text.split("**Indicator", 1)[1]
    for name in Indicator.model_fields:
        assert f"| `{name}` |" in indicator_table, name


def test_no_command_is_a_usage_error(cli):
    result = cli()
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_output_csv_is_well_formed(cli, db, files, catalogue):
    """Names hold commas and '%': the CSV quotes them, so every row has every column."""
    load_good(cli, db, files)
    text = ok(cli("summary", "--as-at", "2020-11", "--database", db)).stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + len(catalogue.indicators)
    assert {len(row) for row in rows} == {len(rows[0])}


# template and rollback -------------------------------------------------------------------


def test_template_writes_the_indicators_due_for_a_month(cli, catalogue, tmp_path):
    result = ok(cli("template", "--month", "2020-10"))
    lines = list(csv.reader(result.stdout.splitlines()))
    assert lines[0] == [
        "indicator", "name", "unit", "figure", "enter", "last month", "period", "value", "numerator", "denominator",
        "note",
    ]  # fmt: skip
    monthly = [i.id for i in catalogue.indicators if i.frequency.value == "monthly"]
    assert [(row[0], *row[6:]) for row in lines[1:]] == [(i, "2020-10", "", "", "", "") for i in monthly]
    out = tmp_path / "december.csv"
    written = ok(cli("template", "--month", "2020-12", "--output", out))
    assert written.stdout == f"{out}: the long template for Dec 2020, {len(catalogue.indicators)} indicators due\n"
    assert out.read_bytes().count(b"\r\n") == len(catalogue.indicators) + 1


def test_the_cli_writes_a_wide_workbook_template(cli, catalogue, tmp_path):
    result = cli("template", "--month", "2020-10", "--layout", "wide", "--format", "xlsx", "--output", tmp_path)
    assert result.returncode == 0, result.stderr
    path = tmp_path / "extract-template-2020-10-wide.xlsx"
    due = [i for i in catalogue.indicators if i.frequency.value == "monthly"]
    assert result.stdout == f"{path}: the wide template for Oct 2020, {len(due)} indicators due\n"
    sheet = openpyxl.load_workbook(path)["Template"]
    assert [c.value for c in sheet[1]][:8] == [
        "indicator", "name", "unit", "figure", "enter", "last month", "measure", "Apr-20",
    ]  # fmt: skip


def test_a_workbook_template_needs_an_output_file(cli):
    result = cli("template", "--month", "2020-10", "--format", "xlsx")
    assert (result.returncode, result.stderr) == (2, "A workbook cannot go to standard output: give --output FILE.\n")


def test_ingest_records_the_os_user_when_no_user_is_given(cli, db, files):
    ok(cli("ingest", files["good.csv"], "--database", db))
    engine = store.connect(db)
    try:
        assert store.extract_log(engine)["loaded_by"].tolist() == [getpass.getuser()]
    finally:
        engine.dispose()


def test_rollback_dry_run_then_for_real(cli, db, files):
    load_good(cli, db, files)
    ok(cli("ingest", files["revision.csv"], "--database", db))
    dry = ok(cli("rollback", "2", "--dry-run", "--database", db))
    assert dry.stdout.splitlines()[0] == "Extract 2: would restore 1, withdraw 1 and keep 0 values; nothing written"
    assert dry.stdout.splitlines()[1:] == DRY_RUN_LINES
    engine = store.connect(db)
    try:
        assert store.data_version(engine) == 2
        done = ok(cli("rollback", "2", "--database", db, "--user", "ann"))
        assert done.stdout.startswith("Extract 2 rolled back as extract 3: 1 values restored")
        log = store.extract_log(engine)
        assert (log.loc[0, "loaded_by"], log.loc[0, "reverts"]) == ("ann", 2)
    finally:
        engine.dispose()


def test_rollback_of_an_unknown_extract_fails_cleanly(cli, db, files):
    load_good(cli, db, files)
    result = cli("rollback", "7", "--database", db)
    assert result.returncode == 1
    assert (
        result.stderr == "Extract 7 cannot be rolled back: there is no extract 7; see the extract history for the ids\n"
    )


def test_an_unreachable_database_is_a_message_not_a_traceback(cli, files):
    result = cli("ingest", files["good.csv"], "--database", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    assert result.stderr.startswith("The database could not complete the command (")
    assert result.stderr.endswith("; nothing was written.\n")
    assert "Traceback" not in result.stderr


# export --------------------------------------------------------------------------------------

# December's extract: its own month, and a correction to October (MOFD was on target).
DECEMBER = "indicator,period,value\nmofd_bed_occupancy,2020-10,3.5\ndischarged_home_with_support,2020-12,90\n"


def exported_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, dtype=str)


def test_export_csv_into_a_directory_is_the_summary_table_under_a_generated_name(cli, db, files, tmp_path, catalogue):
    load_good(cli, db, files)
    out = tmp_path / "exports"
    out.mkdir()
    result = ok(cli("export", "--as-at", "2020-11", "--format", "csv", "--output", out, "--database", db))
    path = out / "icu-kpis-2020-11.csv"
    assert result.stdout == f"{path}: {len(catalogue.indicators)} indicators as at Nov 2020, data version 1\n"
    assert sorted(out.iterdir()) == [path]
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    exported = exported_csv(path)
    summary = csv_frame(ok(cli("summary", "--as-at", "2020-11", "--format", "csv", "--database", db)).stdout)
    pd.testing.assert_frame_equal(exported, summary)
    assert_row(exported.set_index("indicator").loc["mofd_bed_occupancy"].to_dict(), "mofd_bed_occupancy")


def test_export_xlsx_of_one_workstream(cli, db, files, tmp_path, catalogue):
    load_good(cli, db, files)
    result = ok(
        cli(
            "export", "--as-at", "2020-11", "--format", "xlsx", "--workstream", "integrated_care",
            "--output", tmp_path, "--database", db,
        )
    )  # fmt: skip
    path = tmp_path / "icu-kpis-2020-11-integrated_care.xlsx"
    size = len(catalogue.in_workstream("integrated_care"))
    assert result.stdout == f"{path}: {size} indicators as at Nov 2020, data version 1\n"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Summary", "Integrated Care (Better Care)", "Key"]
    sheet = book["Integrated Care (Better Care)"]
    assert sheet["A2"].value == "As at Nov 2020 (M8 2020/21)"
    assert sheet["A3"].value.startswith("Data version 1: the latest extract used, loaded ")
    rows = {row[1].value: [c.value for c in row] for row in sheet.iter_rows(min_row=6)}
    assert len(rows) == size
    mofd = rows[catalogue.indicator("mofd_bed_occupancy").name]
    # Period, Indicator, Actual, Last year, +/-, %, Target, +/-, %, RAG, Trend, Last year RAG, then the SPC
    assert mofd[0] == "M7"
    # a percentage is stored as a fraction (16% as 0.16), so Excel computes with it
    assert mofd[2:5] == pytest.approx([0.16, 0.20, -0.04])
    assert mofd[5] == pytest.approx(-0.20)
    assert mofd[6:8] == pytest.approx([0.035, 0.125])
    assert mofd[8] == pytest.approx(3.57142857, abs=1e-8)
    assert mofd[9:12] == ["Red", "Better than last year", "Green"]
    # SPC of 20 then 16: mean 18, limits 18 ± 2.66 × 4; the target 3.5 below the lower limit (lower is better)
    assert mofd[12:15] == pytest.approx([0.18, 0.0736, 0.2864])
    assert mofd[15:] == ["Common cause", "Fail", "trial limits (2 of 12 points)"]
    summary = [c.value for c in book["Summary"][7]]
    assert summary == ["Integrated Care (Better Care)", size, 0, 1, 1, size - 2, 2, 0, 0, size - 2]


def test_export_to_a_file_path_writes_that_file(cli, db, files, tmp_path):
    load_good(cli, db, files)
    path = tmp_path / "board paper.xlsx"
    result = ok(cli("export", "--as-at", "2020-11", "--format", "xlsx", "--output", path, "--database", db))
    assert result.stdout.startswith(f"{path}: ")
    assert openpyxl.load_workbook(path).sheetnames[0] == "Summary"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".xlsx") == ["board paper.xlsx"]


@pytest.mark.parametrize(("fmt", "start"), [("html", b"<!DOCTYPE html>"), ("pdf", b"%PDF-"), ("pptx", b"PK\x03\x04")])
def test_export_the_board_pack(cli, db, files, tmp_path, catalogue, fmt, start):
    load_good(cli, db, files)
    result = ok(cli("export", "--as-at", "2020-11", "--format", fmt, "--output", tmp_path, "--database", db))
    path = tmp_path / f"icu-kpis-2020-11.{fmt}"
    assert result.stdout == f"{path}: {len(catalogue.indicators)} indicators as at Nov 2020, data version 1\n"
    assert path.read_bytes().startswith(start)


def test_export_an_unknown_workstream_lists_the_valid_ids(cli, db, tmp_path):
    result = cli(
        "export", "--as-at", "2020-11", "--format", "csv", "--workstream", "markets", "--output", tmp_path,
        "--database", db,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "python -m kpis export: error: argument --workstream: 'markets' is not a workstream id; "
        "use one of: integrated_care, prevention, safe_quality, market\n"
    )
    assert not list(tmp_path.glob("icu-kpis-*"))
    assert not Path(db.split("///", 1)[1]).exists()  # refused before opening the store


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-at", "2020-11", "--format", "docx"], "argument --format: invalid choice: 'docx'"),
        (["--as-at", "2020-11"], "the following arguments are required: --format"),
    ],
)
def test_export_usage_errors(cli, db, tmp_path, args, message):
    result = cli("export", *args, "--output", tmp_path, "--database", db)
    assert result.returncode == 2
    assert message in result.stderr
    assert not list(tmp_path.glob("icu-kpis-*"))


def test_export_defaults_to_the_report_month(cli, db, files, tmp_path):
    empty = cli("export", "--format", "csv", "--output", tmp_path, "--database", db)
    assert (empty.returncode, empty.stderr) == (
        1,
        "Nothing to export: no extract is loaded yet (or give --as-at YYYY-MM).\n",
    )
    load_good(cli, db, files)
    result = ok(cli("export", "--format", "csv", "--output", tmp_path, "--database", db))
    assert result.stdout.startswith(f"{tmp_path / 'icu-kpis-2020-11.csv'}: ")


def test_export_as_published_is_the_first_export_after_a_revision(cli, db, files, tmp_path):
    load_good(cli, db, files)
    first, published, now = (tmp_path / name for name in ("first", "published", "now"))
    for folder in (first, published, now):
        folder.mkdir()
    for fmt in ("xlsx", "csv"):
        ok(cli("export", "--as-at", "2020-11", "--format", fmt, "--output", first, "--database", db))
    december = tmp_path / "december.csv"
    december.write_text(DECEMBER, encoding="utf-8")
    ok(cli("ingest", december, "--database", db))
    for fmt in ("xlsx", "csv"):
        again = ok(
            cli(
                "export",
                "--as-at",
                "2020-11",
                "--format",
                fmt,
                "--as-published",
                "--output",
                published,
                "--database",
                db,
            )
        )
        assert again.stdout.endswith("indicators as at Nov 2020 as published, data version 1\n")
        ok(cli("export", "--as-at", "2020-11", "--format", fmt, "--output", now, "--database", db))
        name = f"icu-kpis-2020-11.{fmt}"
        assert (published / name).read_bytes() == (first / name).read_bytes(), fmt
        assert (now / name).read_bytes() != (first / name).read_bytes(), fmt
    revised = exported_csv(now / "icu-kpis-2020-11.csv").set_index("indicator").loc["mofd_bed_occupancy"]
    assert (revised["actual"], revised["rag_target"]) == ("3.5", "Green")
    as_published = exported_csv(published / "icu-kpis-2020-11.csv").set_index("indicator")
    assert_row(as_published.loc["mofd_bed_occupancy"].to_dict(), "mofd_bed_occupancy")


def test_export_as_published_of_a_month_never_reported_on_its_own(cli, db, files, tmp_path):
    load_good(cli, db, files)  # one extract, October and November together
    result = cli(
        "export", "--as-at", "2020-10", "--format", "csv", "--as-published", "--output", tmp_path, "--database", db
    )
    assert result.returncode == 1
    assert result.stderr == (
        "No report for Oct 2020 was produced from this store: extract 1 (good.csv), the first loaded, "
        "already held later months. Export without --as-published for the figures as they stand now.\n"
    )
    assert not list(tmp_path.glob("icu-kpis-*"))


def test_export_on_each_backend(cli, database_url, files, tmp_path):
    ok(cli("ingest", files["good.csv"], "--database", database_url))
    ok(cli("export", "--as-at", "2020-11", "--format", "csv", "--output", tmp_path, "--database", database_url))
    table = exported_csv(tmp_path / "icu-kpis-2020-11.csv").set_index("indicator")
    for indicator in EXPECTED:
        assert_row(table.loc[indicator].to_dict(), indicator)
    assert not cli.decoy.exists()


def test_load_sample_then_remove_sample(cli, db):
    assert ok(cli("load-sample", "--database", db)).stdout.count("loaded as extract") == 3
    assert (
        ok(cli("load-sample", "--database", db)).stdout == "The store already holds data: the sample was not loaded.\n"
    )
    removed = ok(cli("remove-sample", "--database", db, "--user", "ann"))
    assert removed.stdout == "The sample data was removed as extract 4.\n"
    engine = store.connect(db)
    try:
        assert store.current_observations(engine).empty
        assert store.extract_log(engine).loc[0, ["loaded_by", "file_name"]].tolist() == [
            "ann",
            "remove-sample-data.csv",
        ]
    finally:
        engine.dispose()
    again = ok(cli("remove-sample", "--database", db))
    assert again.stdout == "No sample value is in force: nothing to remove.\n"


def test_a_scheduled_ingest_starts_without_loading_the_exports_or_the_sample():
    # The exports, the board pack and the sample are imported by the commands that use them.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, kpis.cli; print(sorted(m for m in sys.modules if m.startswith(PREFIXES)))"
         .replace("PREFIXES", "('pptx', 'weasyprint', 'kpis.sample', 'kpis.publish.formats', 'kpis.publish.boardpack')")],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert loaded.stdout.strip() == "[]"
