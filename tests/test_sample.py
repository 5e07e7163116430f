"""The illustrative sample data: generated reproducibly, loadable, and pinned to the
published figures of the 2020/21 edition (period, actual, last year, target; RAG summary
of workstreams b and c) when loaded into a real store and run through the engine."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpis import ingest, periods, sample, store
from kpis.report.formatting import half_up
from kpis.report.performance import build_kpi_table, rag_summary
from tests.conftest import reference_path, store_snapshot

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, catalogue):
    engine = store.connect(f"sqlite:///{tmp_path_factory.mktemp('sample') / 'kpis.sqlite'}")
    results = sample.ensure_sample_loaded(engine, catalogue)
    yield engine, results
    engine.dispose()


def test_first_start_loads_every_sample_extract_once(loaded, catalogue):
    engine, results = loaded
    assert [r.file_name for r in results] == ["extract-2018-19.csv", "extract-2019-20.csv", "extract-2020-21.csv"]
    assert all(r.revised == 0 and r.new == r.rows for r in results)
    assert sample.ensure_sample_loaded(engine, catalogue) == []  # never again once the store has data
    assert set(store.extract_log(engine)["loaded_by"]) == {sample.SAMPLE_USER}


def test_sample_reproduces_the_published_rows(loaded, catalogue):
    engine, _ = loaded
    table = build_kpi_table(store.current_observations(engine), catalogue, periods.parse_period("2020-11"))
    reference = pd.read_csv(reference_path(), dtype=str, keep_default_na=False)
    decimals = pd.Series([i.decimals for i in catalogue.indicators])
    assert table["period_label"].str.split().str[0].tolist() == reference["period"].tolist()
    for column in ("actual", "last_year", "target"):
        shown = [half_up(v, d) if not np.isnan(v) else None for v, d in zip(table[column], decimals, strict=True)]
        published = [float(v) if v else None for v in reference[column]]
        assert shown == published, column


def test_sample_reproduces_the_published_rag_summaries_of_b_and_c(loaded, catalogue):
    engine, _ = loaded
    table = build_kpi_table(store.current_observations(engine), catalogue, periods.parse_period("2020-11"))
    summary = rag_summary(table, catalogue).set_index(["workstream", "comparison"])[["Green", "Amber", "Red", "n/a"]]
    assert summary.loc[("prevention", "target")].tolist() == [4, 0, 0, 5]
    assert summary.loc[("prevention", "last_year")].tolist() == [7, 2, 0, 0]
    assert summary.loc[("safe_quality", "target")].tolist() == [2, 0, 2, 1]
    assert summary.loc[("safe_quality", "last_year")].tolist() == [3, 0, 2, 0]


def test_committed_files_are_what_the_script_makes(catalogue, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_sample_data", ROOT / "scripts" / "make_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "make_sample_data", module)  # its dataclasses look themselves up
    spec.loader.exec_module(module)
    extracts = module.build_sample_extracts(catalogue)
    for name, frame in extracts.items():
        assert module.csv_bytes(frame) == (sample.SAMPLE_DIR / name).read_bytes(), name


def test_sample_is_labelled_illustrative():
    readme = (sample.SAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    assert "illustrative" in readme.lower() and "made up" in readme.lower()


# Labelled while in force, removed in one step -------------------------------------------


@pytest.fixture
def fresh(tmp_path, catalogue):
    engine = store.connect(f"sqlite:///{tmp_path / 'kpis.sqlite'}")
    sample.load_sample(engine, catalogue)
    yield engine
    engine.dispose()


def test_every_figure_of_the_sample_report_is_labelled_until_an_officer_loads_real_ones(fresh, catalogue):
    nov = periods.parse_period("2020-11")
    table = build_kpi_table(store.current_observations(fresh), catalogue, nov)
    flags = sample.sample_figures(
        table, sample.sample_keys(store.current_observations(fresh), store.extract_log(fresh))
    )
    assert flags.all() and len(flags) == 33
    real = b"indicator,period,value\nreablement_no_ongoing_care,2020-11,77\n"
    ingest.ingest(fresh, real, "november.csv", catalogue, "officer")
    observations = store.current_observations(fresh)
    table = build_kpi_table(observations, catalogue, nov)
    keys = sample.sample_keys(observations, store.extract_log(fresh))
    flags = sample.sample_figures(table, keys).set_axis(table["indicator"])
    assert not flags["reablement_no_ongoing_care"] and flags.sum() == 32
    assert sample.sample_values_in_force(observations, store.extract_log(fresh)) == len(observations) - 1


def test_removing_the_sample_withdraws_every_sample_value_and_keeps_real_ones(fresh, catalogue):
    ingest.ingest(
        fresh, b"indicator,period,value\nreablement_no_ongoing_care,2020-11,77\n", "nov.csv", catalogue, "ann"
    )
    before_rows = len(store_snapshot(fresh)[1])
    in_force = len(store.current_breakdowns(fresh))  # every area, breakdown and group
    removed = sample.remove_sample(fresh, "Ann Admin")
    assert removed == 5
    current = store.current_observations(fresh)
    assert current[["indicator", "value"]].values.tolist() == [["reablement_no_ongoing_care", 77.0]]
    assert store.current_breakdowns(fresh)["extract_id"].tolist() == [4]  # the officer's value only
    assert len(store_snapshot(fresh)[1]) == before_rows + in_force - 1  # a withdrawal each; nothing deleted
    log = store.extract_log(fresh).set_index("id")
    assert log.loc[5, ["file_name", "loaded_by", "rows_revised"]].tolist() == [
        sample.REMOVAL_FILE,
        "Ann Admin",
        in_force - 1,
    ]
    # the report as it stood before can still be rebuilt, and a second removal writes nothing
    assert len(store.current_observations(fresh, as_of_extract=4)) > 1
    assert sample.remove_sample(fresh, "Ann Admin") is None
    assert store.data_version(fresh) == 5
