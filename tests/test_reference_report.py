"""The 2020/21 edition (as at November) as a test: every row of its KPI tables must come
out of the engine from actual, target and last year alone.

Each reference row becomes an indicator of a catalogue built for the test, with the
row's actual at its period and its last-year figure twelve months earlier; the whole
``build_kpi_table`` pipeline runs over them. The published figures were computed by hand
from unrounded values, so some ``+/-`` and ``%`` figures differ from what the rounded
figures give (report-anatomy.md, "Known quirks"). For those rows the test checks that the
published figure is what *some* unrounded inputs behind the shown ones would give.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kpis import periods
from kpis.catalogue import parse_catalogue
from kpis.report.formatting import half_up
from kpis.report.performance import build_kpi_table, rag_summary
from tests.conftest import reference_path

AS_AT = periods.parse_period("2020-11")
WORKSTREAMS = {
    "Integrated Care (Better Care)": "a",
    "Prevention and Early Intervention": "b",
    "Commissioning Safe & High Quality Services": "c",
    "Managing and Developing the Market": "d",
}

# Figures whose published +/- or % differ from what the rounded figures give: the source's
# unrounded values. Keyed by (row number in the CSV, 0-based; comparison).
QUIRKS = {
    (0, "target"): "+13 and 357%: the target is 3.5, shown as 4 (16 - 3.5 = 12.5; 12.5 / 3.5 = 357%)",
    (9, "target"): "-23%: unrounded actual",
    (9, "last_year"): "-53%: unrounded figures",
    (10, "last_year"): "15%: unrounded figures",
    (13, "last_year"): "-7 and -14%: unrounded figures",
    (17, "last_year"): "-4 and -8%: unrounded figures",
    (18, "last_year"): "-5: unrounded figures",
    (19, "last_year"): "36%: unrounded figures",
    (26, "last_year"): "'-' although last year is 1, not 0: a slip in the source",
    (29, "target"): "-61%: unrounded days",
    (29, "last_year"): "-50%: unrounded days",
    (30, "target"): "-65%: unrounded days",
    (30, "last_year"): "-36%: unrounded days",
    (32, "target"): "74%: unrounded percentages",
    (32, "last_year"): "90%: unrounded percentages",
}

# Published RAG summaries (source text, section 3): the counts that reconcile with the rows.
PUBLISHED_SUMMARY = {
    ("b", "target"): (4, 0, 0, 5),
    ("b", "last_year"): (7, 2, 0, 0),
    ("c", "target"): (2, 0, 2, 1),
    ("c", "last_year"): (3, 0, 2, 0),
}


def _published_number(text: object) -> float:
    text = str(text).strip().rstrip("%")
    return np.nan if text in ("", "-", "nan") else float(text)


def _decimals(text: object) -> int:
    text = str(text)
    return len(text.split(".")[1]) if "." in text else 0


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(reference_path(), dtype=str, keep_default_na=False)


def _month_of(label: str) -> int:
    return periods.parse_period(f"{label} 2020/21" if label.startswith("M") else f"2020/21 {label}")


@pytest.fixture(scope="module")
def engine_rows(reference: pd.DataFrame) -> tuple[pd.DataFrame, object]:
    """The reference rows through build_kpi_table, one test indicator per row."""
    indicators, observations = [], []
    for i, row in reference.iterrows():
        target = _published_number(row["target"])
        indicators.append(
            {
                "id": f"row_{i:02d}",
                "name": row["indicator"],
                "workstream": WORKSTREAMS[row["workstream"]],
                "unit": row["unit"],
                "direction": row["direction"],
                "frequency": "quarterly" if row["period"].startswith("Q") else "monthly",
                **({} if np.isnan(target) else {"target": target}),
            }
        )
        month = _month_of(row["period"])
        observations.append((f"row_{i:02d}", month, float(row["actual"])))
        if row["last_year"]:
            observations.append((f"row_{i:02d}", month - 12, float(row["last_year"])))
    catalogue = parse_catalogue(
        {
            "tolerance": 0.10,
            "workstreams": [{"id": w, "name": name} for name, w in WORKSTREAMS.items()],
            "indicators": indicators,
        }
    )
    frame = pd.DataFrame(observations, columns=["indicator", "period", "value"]).assign(
        numerator=np.nan, denominator=np.nan
    )
    return build_kpi_table(frame, catalogue, AS_AT), catalogue


def test_every_row_comes_out_in_report_order_with_its_period(reference, engine_rows):
    table, _ = engine_rows
    assert len(table) == len(reference) == 33
    assert table["period_label"].str.split().str[0].tolist() == reference["period"].tolist()
    assert table["actual"].tolist() == reference["actual"].astype(float).tolist()


def _interval(
    actual: float, comparator: float, a_dec: int, c_dec: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Range of the +/- and % that unrounded inputs behind the shown ones could give."""
    ha, hc = 0.5 * 10.0**-a_dec, 0.5 * 10.0**-c_dec
    corners = [(actual + da, comparator + dc) for da in (-ha, ha) for dc in (-hc, hc)]
    diffs = [a - c for a, c in corners]
    pcts = [(a - c) / c * 100 for a, c in corners if c > 0]
    return (min(diffs), max(diffs)), (min(pcts, default=np.nan), max(pcts, default=np.nan))


COMPARISONS = [
    ("target", "var_target", "var_target_pct", "variance_target", "variance_target_pct"),
    ("last_year", "var_last_year", "var_last_year_pct", "variance_last_year", "variance_last_year_pct"),
]


@pytest.mark.parametrize(("comparator", "pub_var", "pub_pct", "var", "pct"), COMPARISONS, ids=["target", "last_year"])
def test_variances_match_the_published_figures(reference, engine_rows, comparator, pub_var, pub_pct, var, pct):
    table, _ = engine_rows
    exact = 0
    for i, row in reference.iterrows():
        if not row[comparator]:
            assert np.isnan(table.at[i, var]) and np.isnan(table.at[i, pct]), f"row {i}: no {comparator}, no variance"
            continue
        published_var, published_pct = _published_number(row[pub_var]), _published_number(row[pub_pct])
        computed_var, computed_pct = table.at[i, var], table.at[i, pct]
        assert computed_var == pytest.approx(float(row["actual"]) - float(row[comparator])), f"row {i}"
        if float(row[comparator]) == 0:
            assert np.isnan(computed_pct) and np.isnan(published_pct), f"row {i}: % of a zero comparator is undefined"
        if (i, comparator) in QUIRKS:
            var_range, pct_range = _interval(
                float(row["actual"]), float(row[comparator]), _decimals(row["actual"]), _decimals(row[comparator])
            )
            assert var_range[0] - 0.5 <= published_var <= var_range[1] + 0.5, f"row {i}: {QUIRKS[i, comparator]}"
            if not np.isnan(published_pct) and not np.isnan(pct_range[0]):
                assert pct_range[0] - 0.5 <= published_pct <= pct_range[1] + 0.5, f"row {i}: {QUIRKS[i, comparator]}"
        else:
            decimals = _decimals(row[pub_var])
            assert half_up(computed_var, decimals) == pytest.approx(published_var), f"row {i} {row['indicator']}"
            if np.isnan(published_pct):
                assert np.isnan(computed_pct), f"row {i}"
            else:
                assert half_up(computed_pct, 0) == published_pct, f"row {i} {row['indicator']}"
            exact += 1
    quirks = sum(c == comparator for _, c in QUIRKS)
    assert exact == (reference[comparator] != "").sum() - quirks


def _rag_from_published(direction: str, variance: float, pct: float, tolerance: float = 0.10) -> str:
    """The report's key applied to the *published* +/- and %, independently of the engine."""
    if direction == "none" or np.isnan(variance):
        return "n/a"
    shortfall = -variance if direction == "higher" else variance
    if shortfall <= 0:
        return "Green"
    if np.isnan(pct):  # a miss of a zero comparator
        return "Red"
    return "Amber" if abs(pct) <= tolerance * 100 else "Red"


def test_rag_against_target_follows_the_published_variances(reference, engine_rows):
    table, _ = engine_rows
    expected = [
        _rag_from_published(r["direction"], _published_number(r["var_target"]), _published_number(r["var_target_pct"]))
        if r["target"]
        else "n/a"
        for _, r in reference.iterrows()
    ]
    assert table["rag_target"].tolist() == expected


def test_trend_follows_the_published_variances_against_last_year(reference, engine_rows):
    table, _ = engine_rows

    def published_trend(r: pd.Series) -> str:
        if not r["last_year"] or r["direction"] == "none":
            return "n/a"
        variance = _published_number(r["var_last_year"])
        if variance == 0:
            return "same"
        return "better" if (variance > 0) == (r["direction"] == "higher") else "worse"

    assert table["trend"].tolist() == [published_trend(r) for _, r in reference.iterrows()]


@pytest.mark.parametrize(("workstream", "comparison"), list(PUBLISHED_SUMMARY), ids=lambda v: str(v))
def test_rag_summary_reproduces_the_published_counts(engine_rows, workstream, comparison):
    table, catalogue = engine_rows
    summary = rag_summary(table, catalogue).set_index(["workstream", "comparison"])
    counts = tuple(int(summary.loc[(workstream, comparison), word]) for word in ("Green", "Amber", "Red", "n/a"))
    assert counts == PUBLISHED_SUMMARY[(workstream, comparison)]


def test_workstream_a_differs_from_its_published_target_block_only_by_the_known_quirk(engine_rows):
    """Published: Green 1, Amber 1, Red 5, n/a 6 — one n/a short of its 14 rows."""
    table, catalogue = engine_rows
    summary = rag_summary(table, catalogue).set_index(["workstream", "comparison"])
    counts = tuple(int(summary.loc[("a", "target"), w]) for w in ("Green", "Amber", "Red", "n/a"))
    assert counts == (1, 1, 5, 7)
