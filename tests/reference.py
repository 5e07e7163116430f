"""The KPI rules again, one indicator and one observation at a time, in plain Python: the
oracle ``build_kpi_table`` is checked against (``tests/test_reference_differential.py``,
and ``benchmarks/engine.py`` at a million observations).

It deliberately shares no code with the engine (no ``kpis.periods``, no
``kpis.report.aggregation``, no catalogue helpers, no numpy): it reads the catalogue's fields and
the observations, and writes down each rule as the report's key states it. The one thing
it takes from the engine is :data:`kpis.report.performance.KPI_COLUMNS`, the table's columns: that
list is the contract, and a column the reference has no rule for is an error here, not a
column silently left out of the comparison.
"""

from __future__ import annotations

import pandas as pd

from kpis.catalogue import Catalogue
from kpis.report.performance import KPI_COLUMNS

NAN = float("nan")


def _isnan(x: float) -> bool:
    return x != x


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def _fy_start(month: int) -> int:
    return (month - 3) // 12  # the financial year starts in April (month index % 12 == 3)


def _fy_month(month: int) -> int:
    return (month - 3) % 12 + 1


def _figure(indicator, series: dict[int, tuple[float, float, float]], month: int) -> float:
    """The reported figure of one indicator at one month: NaN unless the month is observed
    and (for year to date and rolling figures) its window is complete."""
    if month not in series:
        return NAN
    rule = indicator.aggregation.value
    if rule == "as_reported":
        return series[month][0]
    length = _fy_month(month) if rule.startswith("ytd") else 12
    expected = length // 3 if indicator.frequency.value == "quarterly" else length
    values, numerators, denominators = [], [], []
    for m in range(month - length + 1, month + 1):
        if m in series:
            value, numerator, denominator = series[m]
            if not _isnan(value):
                values.append(value)
            if not _isnan(numerator):
                numerators.append(numerator)
            if not _isnan(denominator):
                denominators.append(denominator)
    if rule in ("ytd_sum", "rolling_12m_sum"):
        return sum(values) if len(values) == expected else NAN
    if rule == "ytd_mean":
        return sum(values) / len(values) if len(values) == expected else NAN
    # ytd_ratio, rolling_12m_ratio
    if len(numerators) != expected or len(denominators) != expected:
        return NAN
    total = sum(denominators)
    if not total > 0:
        return NAN
    scale = indicator.scale if indicator.scale is not None else (100.0 if indicator.unit.value == "percent" else 1.0)
    return sum(numerators) / total * scale


def _target(indicator, month: int | None) -> float:
    target = indicator.target
    if target is None or month is None:
        return NAN
    by_month = dict(target.by_month)
    if month in by_month:
        return by_month[month]
    by_year = dict(target.by_year)
    if _fy_start(month) in by_year:
        return by_year[_fy_start(month)]
    return NAN if target.constant is None else target.constant


def _variance(actual: float, comparator: float) -> tuple[float, float]:
    difference = actual - comparator
    if comparator == 0 or _isnan(difference):
        return difference, NAN
    return difference, difference / comparator * 100


def _rag(actual: float, comparator: float, direction: str, tolerance: float) -> str:
    if _isnan(actual) or _isnan(comparator) or direction == "none":
        return "n/a"
    shortfall = comparator - actual if direction == "higher" else actual - comparator
    if shortfall <= 0 or _close(actual, comparator):
        return "Green"
    if shortfall <= tolerance * abs(comparator) + 1e-9 * max(1.0, abs(comparator)):
        return "Amber"
    return "Red"


def _trend(actual: float, last_year: float, direction: str) -> str:
    if _isnan(actual) or _isnan(last_year) or direction == "none":
        return "n/a"
    if _close(actual, last_year):
        return "same"
    better = actual > last_year if direction == "higher" else actual < last_year
    return "better" if better else "worse"


def _row(indicator, series: dict[int, tuple[float, float, float]], as_at: int, default_tolerance: float) -> dict:
    """One row of the table, every column by name."""
    period = None
    for month in series:
        if month <= as_at and (period is None or month > period):
            period = month
    direction = indicator.direction.value
    tolerance = default_tolerance if indicator.tolerance is None else indicator.tolerance
    if period is None:
        actual = last_year = NAN
        period_text = period_label = NAN
    else:
        actual = _figure(indicator, series, period)
        last_year = _figure(indicator, series, period - 12)
        period_text = f"{period // 12:04d}-{period % 12 + 1:02d}"
        fy = _fy_start(period)
        short = (
            f"Q{(_fy_month(period) - 1) // 3 + 1}"
            if indicator.frequency.value == "quarterly"
            else f"M{_fy_month(period)}"
        )
        period_label = f"{short} {fy}/{(fy + 1) % 100:02d}"
    target = _target(indicator, period)
    variance_target, variance_target_pct = _variance(actual, target)
    variance_last_year, variance_last_year_pct = _variance(actual, last_year)
    rag_target = _rag(actual, target, direction, tolerance)
    trend = _trend(actual, last_year, direction)
    rag_last_year = _rag(actual, last_year, direction, tolerance)
    if target == 0 and rag_target == "Red" and trend == "same":
        rag_last_year = "Red"  # a zero target still missed: standing still is not good enough
    return {
        "workstream": indicator.workstream,
        "indicator": indicator.id,
        "name": indicator.name,
        "unit": indicator.unit.value,
        "direction": direction,
        "frequency": indicator.frequency.value,
        "period": period_text,
        "period_label": period_label,
        "actual": actual,
        "target": target,
        "variance_target": variance_target,
        "variance_target_pct": variance_target_pct,
        "rag_target": rag_target,
        "last_year": last_year,
        "variance_last_year": variance_last_year,
        "variance_last_year_pct": variance_last_year_pct,
        "trend": trend,
        "rag_last_year": rag_last_year,
    }


def reference_kpi_table(observations: pd.DataFrame, catalogue: Catalogue, as_at: int) -> pd.DataFrame:
    """The KPI table with :data:`KPI_COLUMNS`, one indicator and one observation at a time:
    no numpy, no pandas operations beyond reading the input columns into lists and
    building the output."""
    listed = {ind.id for ind in catalogue.indicators}
    by_indicator: dict[str, dict[int, tuple[float, float, float]]] = {}
    for indicator_id, month, value, numerator, denominator in zip(
        observations["indicator"].tolist(),
        observations["period"].tolist(),
        observations["value"].tolist(),
        observations["numerator"].tolist(),
        observations["denominator"].tolist(),
        strict=True,
    ):
        if indicator_id in listed:
            by_indicator.setdefault(indicator_id, {})[month] = (value, numerator, denominator)
    rows = [_row(ind, by_indicator.get(ind.id, {}), as_at, catalogue.tolerance) for ind in catalogue.indicators]
    unruled = [column for column in KPI_COLUMNS if rows and column not in rows[0]]
    if unruled:
        raise NotImplementedError(
            f"the reference has no rule for the KPI table's column(s) {unruled}: add them to tests/reference.py"
        )
    return pd.DataFrame([[row[column] for column in KPI_COLUMNS] for row in rows], columns=KPI_COLUMNS)


def tolerance(column: str) -> float:
    """How far a float cell may stray, relative to max(1, |reference|). Both sides add a
    window's values in month order, so today they agree bit for bit; the tolerance is
    float noise, left for a different order of summing (prefix sums, say), far below any
    rule's effect. A % divides a difference by the comparator, which can magnify noise."""
    return 1e-7 if column.endswith("_pct") else 1e-9


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and x != x)


def compare_tables(engine_table: pd.DataFrame, reference: pd.DataFrame) -> tuple[list[dict], dict[str, float]]:
    """Every (row, column) where the two tables differ, and the largest float difference
    per numeric column (relative to max(1, |reference|)). Text is compared exactly; a cell
    missing on one side only is a difference; columns are the engine's
    :data:`KPI_COLUMNS`, in its order."""
    differences: list[dict] = []
    largest: dict[str, float] = {}
    if list(engine_table.columns) != KPI_COLUMNS or list(reference.columns) != KPI_COLUMNS:
        return [
            {
                "row": -1,
                "indicator": "",
                "column": "(columns)",
                "engine": list(engine_table.columns),
                "reference": list(reference.columns),
            }
        ], largest
    if len(engine_table) != len(reference):
        return [
            {"row": -1, "indicator": "", "column": "(rows)", "engine": len(engine_table), "reference": len(reference)}
        ], largest
    ids = reference["indicator"].tolist()
    for column in KPI_COLUMNS:
        for row, (x, y) in enumerate(zip(engine_table[column].tolist(), reference[column].tolist(), strict=True)):
            if _missing(x) and _missing(y):
                continue
            if isinstance(y, float) and isinstance(x, float) and not _missing(x) and not _missing(y):
                scaled = abs(x - y) / max(1.0, abs(y))
                largest[column] = max(largest.get(column, 0.0), scaled)
                if scaled <= tolerance(column):
                    continue
            elif type(x) is type(y) and x == y:
                continue
            differences.append({"row": row, "indicator": ids[row], "column": column, "engine": x, "reference": y})
    return differences, largest
