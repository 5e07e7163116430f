"""The compare and inequality tables end to end: an extract with areas, breakdowns and a
small count → the store → ``python -m kpis compare`` / ``inequality`` (in process, on a
real SQLite file), with the issue's columns, words, ``*`` and ``YYYY-MM``; and the SII
now against a year ago."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from kpis import cli, ingest, periods, store
from kpis.report import benchmarking

EXTRACT = b"""indicator,period,area,breakdown,group,value,numerator,denominator
larc_uptake,2019-10,,,,40,400,1000
larc_uptake,2020-10,,,,30,300,1000
larc_uptake,2020-10,E92000001,,,40,40000,100000
larc_uptake,2020-10,E06000044,,,40,404,1010
larc_uptake,2020-10,,sex,F,,3,100
larc_uptake,2020-10,,sex,M,,297,900
larc_uptake,2020-10,E92000001,sex,F,,20000,50000
larc_uptake,2020-10,,imd_quintile,1,,50,250
larc_uptake,2020-10,,imd_quintile,2,,50,200
larc_uptake,2020-10,,imd_quintile,4,,60,200
larc_uptake,2020-10,,imd_quintile,5,,70,200
"""

COMPARE_CSV = """\
indicator,period,area,breakdown,group,numerator,denominator,value,lower_95,upper_95,lower_998,upper_998,benchmark_area,benchmark_value,vs_benchmark,vs_benchmark_998,vs_area_total,vs_last_year
larc_uptake,2020-10,E06000045,,,300.0,1000.0,30.0,27.240684,32.912386,25.728229,34.650139,E92000001,40.0,worse,worse,not_compared,worse
larc_uptake,2020-10,E06000045,imd_quintile,1,50.0,250.0,20.0,15.512401,25.395597,13.352221,28.855343,E92000001,,not_compared,not_compared,worse,not_compared
larc_uptake,2020-10,E06000045,imd_quintile,2,50.0,200.0,25.0,19.508168,31.434098,16.825594,35.452992,E92000001,,not_compared,not_compared,similar,not_compared
larc_uptake,2020-10,E06000045,imd_quintile,4,60.0,200.0,30.0,24.074745,36.679068,21.086398,40.736472,E92000001,,not_compared,not_compared,similar,not_compared
larc_uptake,2020-10,E06000045,imd_quintile,5,70.0,200.0,35.0,28.728824,41.836536,25.47853,45.888622,E92000001,,not_compared,not_compared,similar,not_compared
larc_uptake,2020-10,E06000045,sex,F,*,100.0,*,*,*,*,*,E92000001,40.0,not_compared,not_compared,not_compared,not_compared
larc_uptake,2020-10,E06000045,sex,M,297.0,900.0,33.0,30.005936,36.138569,28.35712,37.999852,E92000001,,not_compared,not_compared,better,not_compared
larc_uptake,2020-10,E92000001,,,40000.0,100000.0,40.0,39.696753,40.304015,39.52224,40.47967,E92000001,40.0,similar,similar,not_compared,not_compared
larc_uptake,2020-10,E92000001,sex,F,20000.0,50000.0,40.0,39.571377,40.430159,39.324936,40.678884,E92000001,40.0,similar,similar,similar,not_compared
larc_uptake,2020-10,E06000044,,,404.0,1010.0,40.0,37.022087,43.053693,35.351492,44.835836,E92000001,40.0,similar,similar,not_compared,not_compared
"""


@pytest.fixture
def database(tmp_path, catalogue) -> str:
    url = f"sqlite:///{tmp_path / 'kpis.sqlite'}"
    engine = store.connect(url)
    ingest.ingest(engine, EXTRACT, "breakdowns.csv", catalogue, loaded_by="ann")
    engine.dispose()
    return url


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_compare_gives_every_area_and_group_with_its_comparisons(database, capsys):
    code, out, err = run(capsys, "compare", "--database", database, "--as-at", "2020-11")
    assert (code, err) == (0, "")
    assert out == COMPARE_CSV
    # the home area's whole population (30%, 27.2 to 32.9) is worse than England's 40% at 95% and 99.8%,
    # and than its own 40% a year before; the small count (3 < suppress_below 5) is * and not compared


def test_compare_as_json_and_markdown_keep_six_decimals(database, capsys):
    _, out, _ = run(capsys, "compare", "--database", database, "--indicator", "LARC_UPTAKE", "--format", "json")
    records = json.loads(out)
    assert list(records[0]) == benchmarking.COMPARE_COLUMNS
    assert (records[0]["lower_95"], records[5]["value"], records[5]["vs_benchmark"]) == (27.240684, "*", "not_compared")
    _, out, _ = run(capsys, "compare", "--database", database, "--format", "markdown")
    assert out.splitlines()[2].startswith(
        "| larc_uptake | 2020-10 | E06000045 |  |  | 300.000000 | 1000.000000 | 30.000000 | 27.240684 | 32.912386 |"
    )


def test_inequality_says_why_an_sii_is_not_computed(database, capsys, tmp_path):
    output = tmp_path / "inequality.csv"
    code, out, err = run(capsys, "inequality", "--database", database, "--output", str(output))
    assert (code, out) == (0, "")
    assert err == "larc_uptake 2020-10 E06000045 imd_quintile: not computed because group 3 missing\n"
    frame = pd.read_csv(output, keep_default_na=False)
    assert list(frame.columns) == benchmarking.INEQUALITY_TABLE_COLUMNS
    assert frame.iloc[0, :7].tolist() == ["larc_uptake", "2020-10", "E06000045", "imd_quintile", 4, 15.0, 1.75]
    assert frame.iloc[0, 7:].tolist() == [""] * 6  # gaps need only the ends; the SII every group


def test_an_unknown_indicator_is_a_usage_error(database, capsys):
    code, out, err = run(capsys, "compare", "--database", database, "--indicator", "larc_uptak")
    assert (code, out) == (2, "")
    assert err == (
        "python -m kpis compare: error: argument --indicator: not an indicator: larc_uptak (did you mean 'larc_uptake'?)\n"
    )


def _complete(month: str, values: tuple[int, ...], size: int = 1000) -> list[str]:
    return [f"larc_uptake,{month},,imd_quintile,{k + 1},,{v},{size}" for k, v in enumerate(values)]


def test_the_sii_now_against_a_year_ago(tmp_path, catalogue):
    engine = store.connect(f"sqlite:///{tmp_path / 'kpis.sqlite'}")
    lines = [
        *_complete("2019-10", (200, 250, 300, 350, 400)),  # SII 25 points
        *_complete("2020-10", (100, 200, 300, 400, 500)),  # SII 50 points: wider, and clearly so
    ]
    content = ("indicator,period,area,breakdown,group,value,numerator,denominator\n" + "\n".join(lines)).encode()
    ingest.ingest(engine, content, "sii.csv", catalogue, loaded_by="ann")
    every = benchmarking.inequality_table(store.current_breakdowns(engine), catalogue, every_period=True)
    change = benchmarking.sii_change(every, periods.from_text("2020-11"))
    assert change[["indicator", "area", "breakdown", "change"]].values.tolist() == [
        ["larc_uptake", "E06000045", "imd_quintile", "widening"]
    ]
    assert round(float(change["sii"].iloc[0]), 6) == 50.0 and round(float(change["sii_year_ago"].iloc[0]), 6) == 25.0
    earlier = benchmarking.sii_change(every, periods.from_text("2019-11"))
    assert earlier["change"].tolist() == ["not_compared"]  # no SII a year before that
    engine.dispose()


def test_no_step_changes_its_input(tmp_path, catalogue):
    engine = store.connect(f"sqlite:///{tmp_path / 'kpis.sqlite'}")
    ingest.ingest(engine, EXTRACT, "breakdowns.csv", catalogue, loaded_by="ann")
    observations = store.current_breakdowns(engine)
    before = observations.copy()
    benchmarking.compare_table(observations, catalogue)
    benchmarking.inequality_table(observations, catalogue, every_period=True)
    pd.testing.assert_frame_equal(observations, before)
    engine.dispose()


def test_whole_population_reading_is_unchanged_by_breakdown_rows(database):
    engine = store.connect(database)
    whole = store.current_observations(engine)
    assert whole[["indicator", "value"]].astype({"indicator": str}).values.tolist() == [
        ["larc_uptake", 40.0],
        ["larc_uptake", 30.0],
    ]
    engine.dispose()
