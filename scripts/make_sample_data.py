"""Make the illustrative sample extracts in ``data/sample/``: ``python scripts/make_sample_data.py``.

The figures are made up. They exist so that the dashboard has something believable to
show on first start and so that its demonstration matches the paper report: every series
is shaped like the real thing (seasonal admissions, the COVID-19 dip of spring 2020,
percentages drifting gently) and then pinned so that, through the engine's own
aggregation, each indicator gives the 2020/21 November edition's published actual at its
period and published last-year figure twelve months earlier. Nothing else in the files is
real. One seeded generator draws everything, so every run writes the same bytes.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script: make the kpis package importable
    sys.path.insert(0, str(ROOT))

from kpis import ingest, periods  # noqa: E402
from kpis.catalogue import Aggregation, Catalogue, Frequency, Indicator, Unit, load_catalogue  # noqa: E402
from kpis.report.aggregation import aggregate  # noqa: E402
from kpis.report.formatting import half_up  # noqa: E402

SEED = 2021
OUT_DIR = ROOT / "data" / "sample"
FIRST_MONTH = periods.month_index(2018, 4)  # the sample's history starts in 2018/19
NEW_MEASURE_START = periods.month_index(2020, 4)  # measures with no 2019/20 figure start in 2020/21
REPORT_YEAR = "2020/21"
FILE_COLUMNS = ["indicator", "period", "value", "numerator", "denominator", "note"]

# The 2020/21 edition as at November 2020 (the reference CSV, in catalogue order): the
# period of each row, its actual, and its figure a year earlier (None: a new measure).
PUBLISHED: dict[str, tuple[str, float, float | None]] = {
    "mofd_bed_occupancy": ("M7", 16, None),
    "discharged_home_with_support": ("M7", 80, None),
    "pathway2_discharged_48h": ("M7", 52, None),
    "pathway3_discharged_72h": ("M7", 24, None),
    "nel_admissions": ("M7", 10318, 13267),
    "nel_admissions_under_18": ("M6", 641, 1670),
    "nel_admissions_18_64": ("M6", 6560, 7354),
    "nel_admissions_65_plus": ("M6", 4794, 5810),
    "care_home_admissions_65_plus": ("M5", 66, 114),
    "ld_health_checks": ("Q2", 11, 23),
    "smi_health_checks": ("Q2", 21, 18),
    "care_home_ae_attendances": ("M6", 341, 462),
    "care_home_nel_admissions": ("M6", 376, 477),
    "reablement_no_ongoing_care": ("M8", 41, 47),
    "falls_admissions_65_plus": ("M5", 1251, 1692),
    "iapt_access": ("Q2", 5.9, 5.2),
    "iapt_recovery": ("Q2", 50.0, 50.0),
    "larc_uptake": ("M7", 41, 44),
    "hiv_tests_in_sti_screen": ("M7", 82, 86),
    "smoking_at_delivery_quit": ("Q2", 25, 18),
    "alcohol_treatment_success": ("M6", 37.8, 31.7),
    "opiate_treatment_success": ("M6", 6.0, 4.3),
    "non_opiate_treatment_success": ("M6", 33.1, 28.4),
    "chc_assessments_out_of_hospital": ("M7", 100, 93),
    "chc_assessments_within_28_days": ("M7", 33, 62),
    "cdiff_cases": ("M7", 15, 15),
    "mrsa_cases": ("M7", 1, 1),
    "cqc_good_or_outstanding": ("M7", 71, 68),
    "placements_via_team": ("M4", 91, 90),
    "days_to_placement_home_care": ("M4", 5, 11),
    "days_to_placement_residential": ("M4", 5, 8),
    "home_care_hours_per_week": ("M8", 24716, 22909),
    "non_framework_home_care": ("M6", 35, 18),
}

# The edition's +/- and % columns show that some figures carried decimals (41 against 47
# printed as -7 and -14%). These (actual, last year) values round to the published figures
# and reproduce those columns, so the sample's KPI table reads like the paper one. (Days
# to a home care placement cannot match both -6 and -50%; the % wins.)
UNDERLYING: dict[str, tuple[float, float]] = {
    "ld_health_checks": (10.8, 23.0),
    "smi_health_checks": (21.0, 18.3),
    "reablement_no_ongoing_care": (40.6, 47.4),
    "larc_uptake": (40.8, 44.4),
    "hiv_tests_in_sti_screen": (81.8, 86.4),
    "smoking_at_delivery_quit": (24.9, 18.3),
    "days_to_placement_home_care": (5.4, 10.8),
    "days_to_placement_residential": (4.9, 7.7),
    "non_framework_home_care": (34.8, 18.28),
}

# Share of activity lost to the first COVID-19 lockdown, by month (then a lasting dent).
COVID_DIP = {periods.month_index(2020, 4): 0.40, periods.month_index(2020, 5): 0.28, periods.month_index(2020, 6): 0.15}
COVID_AFTER = 0.08

# A few short notes, as analysts leave them on the latest or unusual rows.
NOTES = {
    ("mofd_bed_occupancy", "2020-04"): "New measure from April 2020",
    ("nel_admissions", "2020-04"): "COVID-19 lockdown",
    ("nel_admissions", "2020-10"): "Provisional",
    ("reablement_no_ongoing_care", "2020-11"): "Provisional",
    ("home_care_hours_per_week", "2020-11"): "Provisional",
}


@dataclass(frozen=True)
class Shape:
    """How one indicator's made-up series looks.

    ``start`` is the level at the first month, in the unit (for percentages that build up
    through the year: the first year's value at the reference quarter). ``noise`` is a
    standard deviation: in the unit for levels, relative (log scale) for counts.
    ``season`` is the amplitude of the winter peak and ``covid`` the share of the lockdown
    dip that applies (counts); ``base`` is the mean denominator per period (ratios);
    ``decimals`` are those written in the value column; ``low``/``high`` bound a level;
    ``cumulative`` marks percentages that build up through the financial year.
    """

    start: float | None = None
    noise: float = 0.0
    season: float = 0.0
    covid: float = 0.0
    base: float = 0.0
    decimals: int = 1
    low: float = 0.0
    high: float = 100.0
    cumulative: bool = False


SHAPES: dict[str, Shape] = {
    "mofd_bed_occupancy": Shape(start=9, noise=1.2),
    "discharged_home_with_support": Shape(start=84, noise=1.5),
    "pathway2_discharged_48h": Shape(start=68, noise=4),
    "pathway3_discharged_72h": Shape(start=40, noise=4),
    "nel_admissions": Shape(noise=0.02, season=0.08, covid=1),
    "nel_admissions_under_18": Shape(noise=0.04, season=0.15, covid=1),
    "nel_admissions_18_64": Shape(noise=0.03, season=0.05, covid=1),
    "nel_admissions_65_plus": Shape(noise=0.03, season=0.10, covid=1),
    "care_home_admissions_65_plus": Shape(noise=0.05, season=0.10, covid=1),
    "ld_health_checks": Shape(start=20, noise=1, cumulative=True),
    "smi_health_checks": Shape(start=16, noise=1, cumulative=True),
    "care_home_ae_attendances": Shape(noise=0.05, season=0.10, covid=1),
    "care_home_nel_admissions": Shape(noise=0.05, season=0.10, covid=1),
    "reablement_no_ongoing_care": Shape(start=50, noise=2.5),
    "falls_admissions_65_plus": Shape(noise=0.04, season=0.12, covid=1),
    "iapt_access": Shape(start=4.8, noise=0.15),
    "iapt_recovery": Shape(start=48, noise=1.5),
    "larc_uptake": Shape(start=42, noise=2),
    "hiv_tests_in_sti_screen": Shape(start=85, noise=1.5),
    "smoking_at_delivery_quit": Shape(start=16, base=70),
    "alcohol_treatment_success": Shape(start=30, base=80),
    "opiate_treatment_success": Shape(start=4.5, base=95),
    "non_opiate_treatment_success": Shape(start=27, base=40),
    "chc_assessments_out_of_hospital": Shape(start=90, noise=3),
    "chc_assessments_within_28_days": Shape(start=70, noise=6),
    "cdiff_cases": Shape(noise=0.1, season=0.10),
    "mrsa_cases": Shape(),
    "cqc_good_or_outstanding": Shape(start=66, noise=0.6),
    "placements_via_team": Shape(start=88, noise=2),
    "days_to_placement_home_care": Shape(start=12, noise=1.5, low=1, high=60),
    "days_to_placement_residential": Shape(start=9, noise=1.2, low=1, high=60),
    "home_care_hours_per_week": Shape(start=22100, noise=150, decimals=0, low=0, high=1e9),
    "non_framework_home_care": Shape(start=15, noise=2),
}


@dataclass(frozen=True)
class Plan:
    """What one indicator's series must reproduce: its months and its two published points."""

    indicator: Indicator
    shape: Shape
    months: np.ndarray  # month indices with a row (quarter ends for quarterly indicators)
    period: int  # the reference period (month index)
    actual: float  # published, as shown
    last_year: float | None  # published, as shown; None for a new measure
    goal_actual: float  # the value to aim at (with decimals where known)
    goal_last_year: float | None

    @property
    def anchors(self) -> dict[int, float]:
        """Month → value the series should give there (with decimals where known)."""
        points = {self.period: self.goal_actual}
        if self.goal_last_year is not None:
            points[self.period - 12] = self.goal_last_year
        return points

    @property
    def published(self) -> dict[int, float]:
        """Month → figure the report prints there."""
        points = {self.period: self.actual}
        if self.last_year is not None:
            points[self.period - 12] = self.last_year
        return points


# Planning ------------------------------------------------------------------------------


def make_plan(indicator: Indicator) -> Plan:
    """Months and anchors for an indicator; a measure with no figure last year is new, so
    its history starts in April 2020 rather than April 2018."""
    if indicator.id not in PUBLISHED or indicator.id not in SHAPES:
        raise KeyError(
            f"{indicator.id}: no published figures or shape in make_sample_data.py; add one to PUBLISHED and SHAPES"
        )
    code, actual, last_year = PUBLISHED[indicator.id]
    period = periods.parse_period(f"{code} {REPORT_YEAR}")
    start = FIRST_MONTH if last_year is not None else NEW_MEASURE_START
    months = np.arange(start, period + 1)
    if indicator.frequency is Frequency.QUARTERLY:
        months = months[periods.fy_months(months) % 3 == 0]
    goal_actual, goal_last_year = UNDERLYING.get(indicator.id, (actual, last_year))
    return Plan(indicator, SHAPES[indicator.id], months, period, actual, last_year, goal_actual, goal_last_year)


def window(plan: Plan, end: int) -> np.ndarray:
    """Positions in the plan's months of the aggregation window ending at ``end``: the
    financial year to date, or the 12 months to ``end``."""
    months = plan.months
    if plan.indicator.aggregation.is_rolling:
        inside = (months > end - 12) & (months <= end)
    else:
        inside = (periods.fy_start_years(months) == periods.fy_start_year(end)) & (months <= end)
    return np.flatnonzero(inside)


# Shapes over time ----------------------------------------------------------------------


def winter_peak(months: np.ndarray, amplitude: float) -> np.ndarray:
    """Seasonal factor peaking in January: emergency admissions rise every winter."""
    return 1 + amplitude * np.cos(2 * np.pi * (months % 12) / 12)


def covid_factor(months: np.ndarray, depth: float) -> np.ndarray:
    """Activity kept during the pandemic: a deep dip in April-June 2020, then a dent."""
    lost = np.array([COVID_DIP.get(int(m), COVID_AFTER if m > max(COVID_DIP) else 0.0) for m in months])
    return 1 - depth * lost


def drift(plan: Plan, start: float) -> np.ndarray:
    """A level moving in straight lines from ``start`` through the published points."""
    anchors = plan.anchors
    xs = [int(plan.months[0]), *sorted(anchors)]
    ys = [start, *(anchors[m] for m in sorted(anchors))]
    if xs[0] == xs[1]:  # the series starts on an anchor
        xs, ys = xs[1:], ys[1:]
    return np.interp(plan.months, xs, ys)


def wobble(n: int, sd: float, rng: np.random.Generator, persistence: float = 0.5) -> np.ndarray:
    """Autocorrelated noise: real monthly figures stray for a month or two, not at random."""
    shocks = rng.normal(0, sd * np.sqrt(1 - persistence**2), n)
    out = np.empty(n)
    level = rng.normal(0, sd)
    for i in range(n):
        level = persistence * level + shocks[i]
        out[i] = level
    return out


# Fitting whole numbers to published totals ---------------------------------------------


def rescale_to_total(values: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Whole numbers in proportion to ``values`` that sum to ``total`` exactly: floor the
    scaled values and hand the remainder to the largest fractions (largest-remainder)."""
    weights = values.astype(float) if values.sum() > 0 else rng.random(len(values))
    scaled = weights * total / weights.sum()
    whole = np.floor(scaled).astype(int)
    remainder = total - whole.sum()
    order = np.argsort(-(scaled - whole), kind="stable")
    whole[order[:remainder]] += 1
    return whole


def nudge_to_total(
    values: np.ndarray, total: int, low: np.ndarray, high: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Whole numbers moved one at a time, at random months, until they sum to ``total``
    while each stays within its bounds (a numerator within its denominator)."""
    values = values.copy()
    while (gap := total - int(values.sum())) != 0:
        step = 1 if gap > 0 else -1
        room = np.flatnonzero(values < high) if step > 0 else np.flatnonzero(values > low)
        if not len(room):
            raise ValueError(f"cannot reach a total of {total} within the bounds")
        values[rng.choice(room)] += step
    return values


def shows_as(value: float, shown: float, decimals: int) -> bool:
    """``value`` prints as ``shown``, and not by a hair: a value on an exact half would
    depend on the rounding rule of whoever reads it."""
    scaled = value * 10**decimals
    on_half = abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    return not on_half and abs(half_up(value, decimals) - shown) < 1e-9


def best_ratio(
    denominator: int, goal: float, shown: float, decimals: int, scale: float
) -> tuple[int, int, float] | None:
    """The whole (numerator, denominator) nearest ``goal`` that prints as ``shown``, trying
    denominators within a few of the one drawn (a single denominator may have no
    numerator that lands in a 0.1-point band)."""
    best = None
    for delta in sorted(range(-15, 16), key=lambda d: (abs(d), d)):
        den = denominator + delta
        if den < 1:
            continue
        guess = round(goal * den / scale)
        for num in (guess - 1, guess, guess + 1):
            if 0 <= num <= den and shows_as(num / den * scale, shown, decimals):
                error = abs(num / den * scale - goal)
                if best is None or error < best[2] - 1e-12:
                    best = (num, den, error)
    return best


# Series by aggregation -----------------------------------------------------------------


def count_series(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    """Monthly counts with a winter peak, slow growth, the lockdown dip and Poisson noise;
    each published year-to-date window is then rescaled to sum to the published figure."""
    shape, months = plan.shape, plan.months
    weights = (
        winter_peak(months, shape.season) * covid_factor(months, shape.covid) * 1.02 ** ((months - plan.period) / 12)
    )
    first_anchor = min(plan.anchors)
    per_weight = plan.anchors[first_anchor] / weights[window(plan, first_anchor)].sum()
    mean = per_weight * weights * rng.lognormal(0, shape.noise, len(months)) if shape.noise else per_weight * weights
    counts = rng.poisson(mean)
    for end, total in plan.anchors.items():
        span = window(plan, end)
        counts[span] = rescale_to_total(counts[span], int(total), rng)
    return pd.DataFrame({"month": months, "value": counts.astype(float)})


def ratio_series(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    """Whole numerators and denominators per period around a drifting rate; each published
    window's totals are then fitted so its percentage prints as published."""
    indicator, shape, months = plan.indicator, plan.shape, plan.months
    scale = indicator.ratio_scale
    den = np.maximum(rng.poisson(shape.base, len(months)), 1)
    rate = np.clip(drift(plan, shape.start) / scale, 0.001, 0.999)
    num = rng.binomial(den, rate)
    for end, goal in plan.anchors.items():
        span, shown = window(plan, end), plan.published[end]
        found = best_ratio(int(den[span].sum()), goal, shown, indicator.decimals, scale)
        if found is None:
            raise ValueError(f"{indicator.id}: no whole numerator/denominator prints as {shown}")
        total_num, total_den, _ = found
        den[span] = nudge_to_total(den[span], total_den, np.ones(len(span)), np.full(len(span), 10**9), rng)
        num[span] = nudge_to_total(np.minimum(num[span], den[span]), total_num, np.zeros(len(span)), den[span], rng)
    in_period = np.round(num / den * scale, 1)
    return pd.DataFrame({"month": months, "value": in_period, "numerator": num, "denominator": den})


def level_series(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    """A level drifting between the published points with autocorrelated noise that
    vanishes at them, kept within the unit's range."""
    shape = plan.shape
    noise = wobble(len(plan.months), shape.noise, rng)
    at_anchor = np.isin(plan.months, list(plan.anchors))
    noise -= np.interp(plan.months, plan.months[at_anchor], noise[at_anchor])
    values = np.round(np.clip(drift(plan, shape.start) + noise, shape.low, shape.high), shape.decimals)
    for month, goal in plan.anchors.items():
        values[plan.months == month] = goal
    return pd.DataFrame({"month": plan.months, "value": values})


def cumulative_series(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    """Quarterly percentages of a register reached so far this financial year: they climb
    from a low first quarter and start again each April."""
    shape, months = plan.shape, plan.months
    anchor_quarter = periods.quarter(plan.period)
    multiples = {1: (0.42, 0.58), 2: (0.85, 1.15), 3: (1.45, 1.7), 4: (2.0, 2.4)}
    values = np.empty(len(months))
    for year in np.unique(periods.fy_start_years(months)):
        anchor_month = periods.month_index(int(year), 4) + anchor_quarter * 3 - 1
        level = plan.anchors.get(anchor_month, shape.start + rng.normal(0, shape.noise))
        in_year = np.flatnonzero(periods.fy_start_years(months) == year)
        for i in in_year:
            q = periods.quarter(int(months[i]))
            share = 1.0 if q == anchor_quarter else rng.uniform(*multiples[q]) / np.mean(multiples[anchor_quarter])
            values[i] = min(round(level * share, shape.decimals), 95.0)
    return pd.DataFrame({"month": months, "value": values})


def indicator_series(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    """One indicator's rows: ``month, value`` and, for ratios, ``numerator, denominator``."""
    aggregation = plan.indicator.aggregation
    if aggregation is Aggregation.YTD_SUM:
        frame = count_series(plan, rng)
    elif aggregation.uses_ratio:
        frame = ratio_series(plan, rng)
    elif aggregation is Aggregation.AS_REPORTED and plan.shape.cumulative:
        frame = cumulative_series(plan, rng)
    elif aggregation is Aggregation.AS_REPORTED:
        frame = level_series(plan, rng)
    else:
        raise NotImplementedError(f"{plan.indicator.id}: no sample generator for aggregation {aggregation.value}")
    if plan.indicator.unit is Unit.COUNT:
        frame["value"] = frame["value"].round()
    return frame.assign(indicator=plan.indicator.id)


# Extracts ------------------------------------------------------------------------------


def sample_rows(catalogue: Catalogue) -> pd.DataFrame:
    """Every indicator's rows, in catalogue order then period, in the file's columns."""
    rng = np.random.default_rng(SEED)
    series = [indicator_series(make_plan(indicator), rng) for indicator in catalogue.indicators]
    rows = pd.concat(series, ignore_index=True)
    for column in ("numerator", "denominator"):
        if column not in rows:
            rows[column] = np.nan
    counted = rows["indicator"].isin(BREAKDOWN_SAMPLE) & rows["numerator"].isna()
    # The breakdown sample's percentages come with their counts (per 1,000), so that their
    # confidence intervals can be made; the values stay as they were.
    rows.loc[counted, "denominator"] = 1000
    rows.loc[counted, "numerator"] = (rows.loc[counted, "value"] * 10).round()
    period = periods.texts(rows["month"])
    note = [NOTES.get(key, "") for key in zip(rows["indicator"], period, strict=True)]
    return pd.DataFrame(
        {
            "indicator": rows["indicator"],
            "period": period,
            "value": rows["value"].astype(float),
            "numerator": rows["numerator"].astype("Int64"),
            "denominator": rows["denominator"].astype("Int64"),
            "note": note,
        }
    )


def plain_number(value: object) -> str:
    """A number as an analyst's export writes it: ``52``, ``37.8``, ``24716``; blank for none."""
    if value is None or pd.isna(value):
        return ""
    number = float(value)
    if number.is_integer():
        return str(int(number))
    return f"{number:.4f}".rstrip("0").rstrip(".")


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """The extract file's bytes: UTF-8, header row, plain numbers, ``\\n`` line ends."""
    text = frame[[*FILE_COLUMNS, *(c for c in BREAKDOWN_FILE_COLUMNS if c in frame)]].copy()
    for column in ("value", "numerator", "denominator"):
        text[column] = [plain_number(v) for v in frame[column]]
    buffer = io.StringIO()
    text.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().encode("utf-8")


def split_by_year(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One extract per financial year, as analysts send them: ``extract-2019-20.csv``."""
    fy = periods.fy_start_years(periods.from_texts(rows["period"]))
    return {
        f"extract-{year}-{(year + 1) % 100:02d}.csv": rows[fy == year].reset_index(drop=True)
        for year in sorted(set(fy.tolist()))
    }


def consistency_table(extracts: dict[str, pd.DataFrame], catalogue: Catalogue) -> pd.DataFrame:
    """Per indicator: the published actual and last year beside what the engine makes of
    the extracts, read back through the real ingest path (so the files, not just the
    frames, are checked)."""
    typed = []
    for name, frame in extracts.items():
        raw = ingest.read_extract(csv_bytes(frame), name, catalogue)
        typed.append(ingest.validate_extract(raw, catalogue, name))
    observations = pd.concat(typed, ignore_index=True)
    figures = aggregate(observations, catalogue).set_index(["indicator", "period"])["actual"]
    rows = []
    for indicator in catalogue.indicators:
        code, actual, last_year = PUBLISHED[indicator.id]
        period = periods.parse_period(f"{code} {REPORT_YEAR}")
        got = figures.get((indicator.id, period), np.nan)
        got_last = figures.get((indicator.id, period - 12), np.nan)
        ok = shows_as(got, actual, indicator.decimals) if np.isfinite(got) else False
        if last_year is None:
            ok_last = bool(np.isnan(got_last))
        else:
            ok_last = bool(np.isfinite(got_last)) and shows_as(got_last, last_year, indicator.decimals)
        rows.append(
            {
                "indicator": indicator.id,
                "period": code,
                "aggregation": indicator.aggregation.value,
                "published_actual": actual,
                "sample_actual": got,
                "published_last_year": np.nan if last_year is None else last_year,
                "sample_last_year": got_last,
                "ok": ok and ok_last,
            }
        )
    return pd.DataFrame(rows)


def check_consistency(extracts: dict[str, pd.DataFrame], catalogue: Catalogue) -> None:
    """Refuse to produce sample data that disagrees with the published report."""
    table = consistency_table(extracts, catalogue)
    wrong = table[~table["ok"]]
    assert wrong.empty, (
        "the sample extracts do not reproduce the published figures (rounded to each indicator's decimals):\n"
        + wrong.to_string(index=False)
    )


# Breakdowns and benchmarking (illustrative): three prevention indicators for the home area
# by deprivation quintile and sex, England (also by quintile and sex), the region and two
# neighbours, from 2019/20 on, so that every comparison and inequality screen has data.
BREAKDOWN_SAMPLE = ("larc_uptake", "hiv_tests_in_sti_screen", "alcohol_treatment_success")
BREAKDOWN_FILE_COLUMNS = ["area", "breakdown", "group"]
BREAKDOWN_START = periods.month_index(2019, 4)
ENGLAND = "E92000001"
OTHER_AREAS = {ENGLAND: 1.0, "E12000008": 1.03, "E06000044": 0.93, "E06000026": 0.97}  # their level vs the home area's
QUINTILE_LEVEL = (0.78, 0.9, 1.0, 1.08, 1.16)  # most deprived first: a gradient
SEX_LEVEL = {"F": 1.04, "M": 0.95}


def breakdown_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The breakdown sample's rows, made from the home area's whole-population figures:
    groups and areas at fixed levels around them, with seeded noise and counts."""
    rng = np.random.default_rng(SEED + 18)
    home = rows[rows["indicator"].isin(BREAKDOWN_SAMPLE)]
    home = home[periods.from_texts(home["period"]) >= BREAKDOWN_START]
    made = []
    for row in home.itertuples(index=False):
        base = float(row.value) if pd.notna(row.value) else float(row.numerator) / float(row.denominator) * 100
        cases = [("", "imd_quintile", str(k + 1), base * level, 900) for k, level in enumerate(QUINTILE_LEVEL)]
        cases += [("", "sex", sex, base * level, 2000) for sex, level in SEX_LEVEL.items()]
        for area, level in OTHER_AREAS.items():
            size = 400_000 if area == ENGLAND else 6000
            cases.append((area, "", "", base * level, size))
            if area == ENGLAND:
                cases += [(area, "imd_quintile", str(k + 1), base * q, 80_000) for k, q in enumerate(QUINTILE_LEVEL)]
                cases += [(area, "sex", sex, base * q, 200_000) for sex, q in SEX_LEVEL.items()]
        for area, breakdown, group, level, size in cases:
            denominator = int(size * rng.uniform(0.9, 1.1))
            share = min(max(level * rng.normal(1.0, 0.02), 1.0), 99.0) / 100
            numerator = round(denominator * share)
            made.append(
                {
                    "indicator": row.indicator,
                    "period": row.period,
                    "value": round(numerator / denominator * 100, 4),
                    "numerator": numerator,
                    "denominator": denominator,
                    "note": "",
                    "area": area,
                    "breakdown": breakdown,
                    "group": group,
                }
            )
    if not made:
        return pd.DataFrame()
    return pd.DataFrame(made).astype({"numerator": "Int64", "denominator": "Int64"})


def with_breakdowns(extracts: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each year's extract from 2019/20 with the breakdown sample's rows after its own."""
    out = {}
    for name, frame in extracts.items():
        extra = breakdown_rows(frame)
        if extra.empty:
            out[name] = frame
            continue
        whole = frame.assign(**dict.fromkeys(BREAKDOWN_FILE_COLUMNS, ""))
        out[name] = pd.concat([whole, extra], ignore_index=True)
    return out


def build_sample_extracts(catalogue: Catalogue) -> dict[str, pd.DataFrame]:
    """File name → extract frame, checked against the published figures."""
    extracts = split_by_year(sample_rows(catalogue))
    check_consistency(extracts, catalogue)
    return with_breakdowns(extracts)


def main() -> None:
    """Write ``data/sample/extract-*.csv``."""
    extracts = build_sample_extracts(load_catalogue())
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, frame in extracts.items():
        (OUT_DIR / name).write_bytes(csv_bytes(frame))
        print(f"wrote {(OUT_DIR / name).relative_to(ROOT)}: {len(frame)} rows")


if __name__ == "__main__":
    main()
