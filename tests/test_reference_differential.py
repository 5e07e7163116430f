"""``build_kpi_table`` against the row-by-row reference (``tests/reference.py``) on a seeded
synthetic catalogue of a few hundred series: every unit, direction, frequency and
aggregation, targets by year, by month and constant (zero included), tolerances, gaps,
several as-at months. Every cell must agree: text exactly, floats to float noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpis import periods
from kpis.catalogue import Aggregation, Catalogue, Direction, Frequency, Indicator, Unit
from kpis.report.performance import KPI_COLUMNS, RAG_WORDS, TREND_WORDS, build_kpi_table
from tests.reference import compare_tables, reference_kpi_table
from tests.synthetic import Synthetic, expected_current, make_synthetic

SERIES = 300  # monthly; the generator adds an eighth as many quarterly ones
YEARS = 4
LAST = periods.from_text("2025-10")  # so the data run 2021-11 .. 2025-10
SEED = 20201130
AS_AT = [
    "2021-06",  # before any data: no period, no figure, every rating n/a
    "2022-04",  # M1 of the first full year: one-month year-to-date windows, no last year yet
    "2023-03",  # a year end and quarter end (M12, Q4)
    "2024-12",  # M9, Q3 end
    "2025-08",  # mid-quarter: a quarterly indicator's latest period is an earlier month
    "2025-10",  # the last month of data
    "2026-06",  # after the data: every indicator at its last observed month
]
NO_DATA = 3  # catalogue indicators whose observations are all dropped
VALUE_ONLY = 0.03  # share of ratio indicators' rows given as a value, without numerator/denominator
ON_THE_EDGE = 24  # indicators whose every value sits exactly on target or on the Amber edge


@pytest.fixture(scope="module")
def synthetic() -> Synthetic:
    return make_synthetic(SERIES, YEARS, 0, LAST, SEED)


def _on_the_edge(catalogue: Catalogue) -> list[Indicator]:
    """Indicators reported as they are, rated, with one constant target."""
    return [
        i
        for i in catalogue.indicators
        if i.aggregation is Aggregation.AS_REPORTED
        and i.direction is not Direction.NONE
        and i.target is not None
        and i.target.constant is not None
        and not i.target.by_year
        and not i.target.by_month
    ][:ON_THE_EDGE]


@pytest.fixture(scope="module")
def observations(synthetic: Synthetic) -> pd.DataFrame:
    """The current values as the store would give them, plus edges the generator leaves
    to chance: indicators with no data at all; ratio rows written as a figure only (an
    extract may do that; such a month leaves its ratio window incomplete); and series
    that sit exactly on target or on the Amber edge (missed by tolerance × |target|),
    month after month, so "same as last year" too."""
    rng = np.random.default_rng(SEED + 1)
    frame = expected_current(synthetic).drop(columns="revision")
    for k, indicator in enumerate(_on_the_edge(synthetic.catalogue)):
        target = indicator.target.constant
        band = synthetic.catalogue.tolerance_for(indicator) * abs(target)
        edge = target - band if indicator.direction is Direction.HIGHER else target + band
        frame.loc[frame["indicator"] == indicator.id, "value"] = edge if k % 2 else target
    silent = [i.id for i in synthetic.catalogue.indicators[:: len(synthetic.catalogue.indicators) // NO_DATA]]
    frame = frame[~frame["indicator"].isin(silent[:NO_DATA])]
    ratio_ids = {i.id for i in synthetic.catalogue.indicators if i.aggregation.uses_ratio}
    value_only = frame["indicator"].isin(ratio_ids).to_numpy() & (rng.random(len(frame)) < VALUE_ONLY)
    frame.loc[value_only, ["numerator", "denominator"]] = np.nan
    return frame.reset_index(drop=True)


def _layouts(observations: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """As the store gives them (sorted, indicator categorical), and in any order as plain text."""
    shuffled = observations.sample(frac=1, random_state=SEED).reset_index(drop=True)
    return {
        "store": observations.astype({"indicator": "category"}),
        "shuffled": shuffled.astype({"indicator": object}),
    }


def test_the_synthetic_catalogue_holds_every_kind_of_indicator(synthetic: Synthetic, observations: pd.DataFrame):
    indicators = synthetic.catalogue.indicators
    assert 300 <= len(indicators) <= 400
    assert {i.unit for i in indicators} == set(Unit)
    assert {i.direction for i in indicators} == set(Direction)
    assert {(i.frequency, i.aggregation) for i in indicators} == {(f, a) for f in Frequency for a in Aggregation}
    targets = [i.target for i in indicators if i.target is not None]
    assert any(t.by_month for t in targets) and any(t.by_year for t in targets)
    assert any(t.constant is not None and t.by_year and t.by_month for t in targets)  # month → year → constant
    assert any(t.constant == 0 for t in targets) and any(0.0 in dict(t.by_year).values() for t in targets)
    assert {i.tolerance for i in indicators} >= {None, 0.0, 0.05, 0.2}
    assert len(indicators) - observations["indicator"].nunique() + synthetic.n_retired >= NO_DATA
    assert (observations["value"] < 0).any()  # currency and number go below zero
    assert observations["numerator"].isna().any() and observations["denominator"].notna().any()
    assert len(_on_the_edge(synthetic.catalogue)) == ON_THE_EDGE


@pytest.mark.parametrize("as_at", AS_AT)
def test_build_kpi_table_agrees_with_the_row_by_row_reference(synthetic, observations, as_at):
    month = periods.from_text(as_at)
    reference = reference_kpi_table(observations, synthetic.catalogue, month)
    for layout, frame in _layouts(observations).items():
        table = build_kpi_table(frame, synthetic.catalogue, month)
        differences, _ = compare_tables(table, reference)
        shown = pd.DataFrame(differences).head(20).to_string(index=False) if differences else ""
        assert not differences, f"as at {as_at}, observations {layout}: {len(differences)} cells differ\n{shown}"


def test_the_comparison_is_not_vacuous(synthetic, observations):
    """Across the as-at months, the reference meets every rating and trend, the zero-target
    rule, and a figure of every aggregation: agreement above means agreement on these."""
    tables = [reference_kpi_table(observations, synthetic.catalogue, periods.from_text(m)) for m in AS_AT]
    everything = pd.concat(tables, ignore_index=True)
    assert list(everything.columns) == KPI_COLUMNS
    assert set(everything["rag_target"]) == set(everything["rag_last_year"]) == set(RAG_WORDS)
    assert set(everything["trend"]) == set(TREND_WORDS)
    zero_rule = (everything["target"] == 0) & (everything["rag_target"] == "Red") & (everything["trend"] == "same")
    assert zero_rule.any()
    aggregation = {i.id: i.aggregation for i in synthetic.catalogue.indicators}
    with_figure = everything.loc[everything["actual"].notna() & everything["last_year"].notna(), "indicator"]
    assert set(with_figure.map(aggregation)) == set(Aggregation)
    assert tables[0]["period"].isna().all() and tables[-1]["actual"].notna().sum() > 0.8 * len(tables[-1])
