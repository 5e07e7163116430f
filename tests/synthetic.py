"""A seeded synthetic catalogue and its observations, for the differential test of the KPI
table (``tests/test_reference_differential.py``) and the engine benchmark
(``benchmarks/engine.py``): every unit, direction, frequency and aggregation, tolerances,
targets of every form (zero targets included), series with gaps, late starts, early ends
or no data, retired indicators with data, and revisions."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Catalogue, Target, parse_catalogue

AGGREGATIONS = ["as_reported", "ytd_sum", "ytd_mean", "ytd_ratio", "rolling_12m_sum", "rolling_12m_ratio"]
AGGREGATION_WEIGHTS = [0.34, 0.13, 0.10, 0.13, 0.13, 0.17]
RATIO, NEVER_EVENT, COUNT, PERCENT, CONTINUOUS, SIGNED = range(6)  # how a series' values are drawn
WORKSTREAMS = ["integrated_care", "prevention", "safe_quality", "market", "children", "public_health"]


@dataclass
class Model:
    """How each synthetic series' values are drawn (arrays in *spec order*: the monthly
    series first, then the quarterly, then the retired ones)."""

    ids: list[str]
    kind: np.ndarray
    mu: np.ndarray
    sd: np.ndarray
    p: np.ndarray
    den_base: np.ndarray
    scale: np.ndarray
    quarterly: np.ndarray

    def draw(self, rng: np.random.Generator, idx: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``value, numerator, denominator`` (len(idx) x n; NaN where not a ratio)."""
        shape = (len(idx), n)
        value = np.empty(shape)
        num = np.full(shape, np.nan)
        den = np.full(shape, np.nan)
        kinds = self.kind[idx]
        for code in (RATIO, NEVER_EVENT, COUNT, PERCENT, CONTINUOUS, SIGNED):
            sel = np.flatnonzero(kinds == code)
            if not len(sel):
                continue
            ii = idx[sel]
            size = (len(sel), n)
            if code == RATIO:
                d = np.maximum(1.0, np.round(self.den_base[ii, None] * rng.uniform(0.8, 1.2, size)))
                k = rng.binomial(d.astype(np.int64), self.p[ii, None]).astype(float)
                value[sel] = k / d * self.scale[ii, None]
                num[sel], den[sel] = k, d
            elif code == NEVER_EVENT:
                value[sel] = np.minimum(rng.poisson(0.4, size), 3)
            elif code == COUNT:
                value[sel] = rng.poisson(self.mu[ii, None], size)
            elif code == PERCENT:
                value[sel] = np.clip(np.round(rng.normal(self.mu[ii, None], self.sd[ii, None], size), 1), 0, 100)
            elif code == SIGNED:  # currency and number: either side of zero
                value[sel] = np.round(rng.normal(self.mu[ii, None], self.sd[ii, None], size), 1)
            else:
                value[sel] = np.round(np.abs(rng.normal(self.mu[ii, None], self.sd[ii, None], size)), 1)
        return value, num, den


@dataclass
class Synthetic:
    catalogue: Catalogue
    raw: dict  # the catalogue as given to parse_catalogue (without the retired indicators)
    retired_raw: list[dict]  # indicators that have observations but left the catalogue
    model: Model
    first: int  # first month of the bulk
    last: int  # last month of the bulk
    bulk: pd.DataFrame  # every stored row: spec, month, revision, value, numerator, denominator
    n_monthly: int
    n_quarterly: int
    n_retired: int


def _gap_mask(rng: np.random.Generator, n_series: int, n_points: int) -> np.ndarray:
    """True where a series has an observation: most are complete; some have holes,
    start late, stop early, or have nothing."""
    present = np.ones((n_series, n_points), dtype=bool)
    u = rng.random(n_series)
    for s in np.flatnonzero(u < 0.002):
        present[s] = False
    for s in np.flatnonzero((u >= 0.002) & (u < 0.022)):
        present[s, : rng.integers(1, max(2, n_points // 2))] = False
    for s in np.flatnonzero((u >= 0.022) & (u < 0.032)):
        present[s, n_points - rng.integers(1, max(2, n_points // 8)) :] = False
    for s in np.flatnonzero((u >= 0.032) & (u < 0.072)):
        present[s, rng.integers(0, n_points, rng.integers(1, 4))] = False
    return present


def _target_value(rng: np.random.Generator, level: float, unit: str) -> float:
    value = level * rng.uniform(0.85, 1.15)
    return float(round(value)) if unit in ("count", "currency") else round(float(value), 1)


def _signed(rng: np.random.Generator, unit: str) -> tuple[float, float]:
    """Mean and spread of a currency (pounds: a budget line, a deficit) or number series
    (a net change), centred near enough to zero that some values are negative."""
    if unit == "currency":
        return rng.uniform(-20_000, 200_000), rng.uniform(2_000, 30_000)
    return rng.uniform(-20, 40), rng.uniform(1, 15)


def make_synthetic(n_monthly: int, years: int, min_observations: int, last: int, seed: int) -> Synthetic:
    rng = np.random.default_rng(seed)
    n_months = years * 12
    first = last - n_months + 1
    months = np.arange(first, last + 1)
    quarter_months = months[periods.fy_months(months) % 3 == 0]

    monthly_present = _gap_mask(rng, n_monthly, n_months)
    short = max(0, min_observations - int(monthly_present.sum()))
    per_quarterly = len(quarter_months) * 0.97  # allow for gaps
    n_quarterly = max(n_monthly // 8, math.ceil(short / per_quarterly) + 10 if short else 0)
    quarterly_present = _gap_mask(rng, n_quarterly, len(quarter_months))
    while short and int(monthly_present.sum() + quarterly_present.sum()) < min_observations:
        n_quarterly += 10
        quarterly_present = np.vstack([quarterly_present, np.ones((10, len(quarter_months)), dtype=bool)])
    n_retired = 25

    n_specs = n_monthly + n_quarterly + n_retired
    ids = [f"kpi_{i:05d}" for i in range(n_monthly + n_quarterly)] + [f"old_{i:03d}" for i in range(n_retired)]
    quarterly = np.zeros(n_specs, dtype=bool)
    quarterly[n_monthly : n_monthly + n_quarterly] = True
    kind = np.zeros(n_specs, dtype=int)
    mu, sd, p = np.zeros(n_specs), np.zeros(n_specs), np.zeros(n_specs)
    den_base, scale = np.ones(n_specs), np.ones(n_specs)

    fy_first = int(periods.fy_start_year(first))
    fy_last = int(periods.fy_start_year(last + 30))
    trajectory_months = [m for m in range(last - 23, last + 30)]
    entries: list[dict] = []
    for s in range(n_specs):
        retired = s >= n_monthly + n_quarterly
        q = bool(quarterly[s])
        agg = "as_reported" if retired else str(rng.choice(AGGREGATIONS, p=AGGREGATION_WEIGHTS))
        entry: dict = {"id": ids[s], "name": f"Synthetic indicator {ids[s]}"}
        if agg in ("ytd_ratio", "rolling_12m_ratio"):
            unit = str(rng.choice(["percent", "rate", "ratio"], p=[0.6, 0.25, 0.15]))
            kind[s] = RATIO
            p[s] = rng.uniform(0.001, 0.05) if unit == "rate" else rng.uniform(0.05, 0.95)
            den_base[s] = rng.integers(40, 1500)
            if unit == "rate":
                entry["scale"] = 1000.0
            scale[s] = {"percent": 100.0, "rate": 1000.0, "ratio": 1.0}[unit]
            level = p[s] * scale[s]
        elif agg in ("ytd_sum", "rolling_12m_sum"):
            unit = "currency" if rng.random() < 0.2 else "count"
            if unit == "currency":
                kind[s] = SIGNED
                mu[s], sd[s] = _signed(rng, unit)
            else:
                kind[s] = NEVER_EVENT if rng.random() < 0.25 else COUNT
                mu[s] = rng.uniform(2, 400)
            level = mu[s]
        elif agg == "ytd_mean":
            unit = str(rng.choice(["days", "hours", "percent", "number"]))
            if unit == "number":
                kind[s] = SIGNED
                mu[s], sd[s] = _signed(rng, unit)
            else:
                kind[s] = PERCENT if unit == "percent" else CONTINUOUS
                mu[s] = rng.uniform(5, 95) if unit == "percent" else rng.uniform(1, 50)
                sd[s] = mu[s] * rng.uniform(0.05, 0.3)
            level = mu[s]
        else:
            unit = str(
                rng.choice(
                    ["percent", "count", "days", "hours", "rate", "ratio", "currency", "number"],
                    p=[0.3, 0.26, 0.09, 0.09, 0.09, 0.05, 0.06, 0.06],
                )
            )
            if unit in ("currency", "number"):
                kind[s] = SIGNED
                mu[s], sd[s] = _signed(rng, unit)
            elif unit == "percent":
                kind[s], mu[s] = PERCENT, rng.uniform(5, 95)
                sd[s] = rng.uniform(1, 10)
            elif unit == "count":
                kind[s] = NEVER_EVENT if rng.random() < 0.25 else COUNT
                mu[s] = rng.uniform(2, 400)
            else:
                kind[s], mu[s] = CONTINUOUS, rng.uniform(0.5, 60)
                sd[s] = mu[s] * rng.uniform(0.05, 0.3)
            level = mu[s]
        never_event = kind[s] == NEVER_EVENT
        direction = "lower" if never_event else str(rng.choice(["higher", "lower", "none"], p=[0.45, 0.45, 0.10]))
        entry.update(
            workstream="",  # set below, by report position
            unit=unit,
            direction=direction,
            frequency="quarterly" if q else "monthly",
            aggregation=agg,
        )
        if rng.random() < 0.25:
            entry["tolerance"] = float(rng.choice([0.0, 0.05, 0.2]))

        points = 4 if q else 12

        def level_at(month: int, agg: str = agg, level: float = level, points: int = points) -> float:
            if agg == "ytd_sum":
                fm = int(periods.fy_month(month))
                return level * (fm // 3 if points == 4 else fm)
            if agg == "rolling_12m_sum":
                return level * points
            return level

        if direction != "none":
            form = str(
                rng.choice(
                    ["none", "constant", "year", "month", "mixed", "all3"], p=[0.08, 0.35, 0.2, 0.15, 0.15, 0.07]
                )
            )
            if never_event:
                form = "constant" if rng.random() < 0.7 else "zero_years"
            valid_months = [m for m in trajectory_months if not q or periods.is_quarter_end(m)]
            mid_year = first + 5
            if form == "constant":
                # A signed series may aim at zero too (break even), met or missed either side.
                zero = never_event or (kind[s] == SIGNED and rng.random() < 0.3)
                entry["target"] = 0.0 if zero else _target_value(rng, level_at(mid_year), unit)
            elif form == "zero_years":
                entry["target"] = {periods.fy_label(y): 0.0 for y in range(fy_first, fy_last + 1) if rng.random() < 0.8}
            elif form in ("year", "mixed", "all3"):
                keep = 0.8 if form != "all3" else 0.5
                by_year = {
                    y: _target_value(rng, level_at(mid_year), unit)
                    for y in range(fy_first, fy_last + 1)
                    if rng.random() < keep
                }
                recent = valid_months[-12:] if form != "all3" else valid_months
                by_month = {}
                if form != "year":
                    by_month = {m: _target_value(rng, level_at(m), unit) for m in recent if rng.random() < 0.7}
                if form == "all3":
                    entry["target"] = Target(
                        constant=_target_value(rng, level_at(mid_year), unit),
                        by_year=tuple(sorted(by_year.items())),
                        by_month=tuple(sorted(by_month.items())),
                    )
                elif by_year or by_month:
                    entry["target"] = {periods.fy_label(y): v for y, v in by_year.items()} | {
                        periods.to_text(m): v for m, v in by_month.items()
                    }
            elif form == "month":
                by_month = {
                    periods.to_text(m): _target_value(rng, level_at(m), unit)
                    for m in valid_months
                    if rng.random() < 0.85
                }
                if by_month:
                    entry["target"] = by_month
        entries.append(entry)

    # Report order: shuffled, then cut into workstreams; retired indicators are not listed.
    current = rng.permutation(n_monthly + n_quarterly)
    for position, s in enumerate(current):
        entries[s]["workstream"] = WORKSTREAMS[position * len(WORKSTREAMS) // len(current)]
    raw = {
        "title": "Synthetic benchmark catalogue",
        "tolerance": 0.10,
        "workstreams": [{"id": w, "name": w.replace("_", " ").title()} for w in WORKSTREAMS],
        "indicators": [entries[s] for s in current],
    }
    retired_raw = [dict(entries[s], workstream=WORKSTREAMS[0]) for s in range(n_monthly + n_quarterly, n_specs)]
    catalogue = parse_catalogue(raw, "synthetic")
    model = Model(ids, kind, mu, sd, p, den_base, scale, quarterly)

    # Observations, revision 1.
    frames = []
    groups = (
        (np.arange(n_monthly), months, monthly_present),
        (np.arange(n_monthly, n_monthly + n_quarterly), quarter_months, quarterly_present),
        (np.arange(n_monthly + n_quarterly, n_specs), months, np.ones((n_retired, n_months), dtype=bool)),
    )
    for idx, group_months, present in groups:
        value, num, den = model.draw(rng, idx, len(group_months))
        r, c = np.nonzero(present)
        frames.append(
            pd.DataFrame(
                {
                    "spec": idx[r],
                    "month": group_months[c],
                    "revision": 1,
                    "value": value[r, c],
                    "numerator": num[r, c],
                    "denominator": den[r, c],
                }
            )
        )
    first_revisions = pd.concat(frames, ignore_index=True)

    # Revision 2 for 0.5% of the catalogue's observations.
    in_catalogue = np.flatnonzero(first_revisions["spec"].to_numpy() < n_monthly + n_quarterly)
    chosen = np.sort(rng.choice(in_catalogue, size=len(in_catalogue) // 200, replace=False))
    revised = first_revisions.iloc[chosen].copy()
    revised["revision"] = 2
    ratio = revised["denominator"].notna()
    new_den = revised["denominator"] + 1
    revised.loc[ratio, "value"] = (revised["numerator"] / new_den * model.scale[revised["spec"].to_numpy()])[ratio]
    revised.loc[ratio, "denominator"] = new_den[ratio]
    v = revised["value"]
    is_percent = np.array([entries[s]["unit"] == "percent" for s in revised["spec"].to_numpy()], dtype=bool)
    bump = np.where(is_percent & (v >= 99), v - 1, v + 1)
    revised.loc[~ratio, "value"] = bump[~ratio.to_numpy()]
    bulk = pd.concat([first_revisions, revised], ignore_index=True)
    return Synthetic(catalogue, raw, retired_raw, model, first, last, bulk, n_monthly, n_quarterly, n_retired)


def expected_current(syn: Synthetic) -> pd.DataFrame:
    """What ``store.current_observations`` should give back: the latest revision of each
    (indicator, month), as generated."""
    latest = syn.bulk.sort_values("revision").drop_duplicates(["spec", "month"], keep="last")
    ids = np.asarray(syn.model.ids, dtype=object)
    frame = pd.DataFrame(
        {
            "indicator": ids[latest["spec"].to_numpy()],
            "period": latest["month"].to_numpy(),
            "value": latest["value"].to_numpy(),
            "numerator": latest["numerator"].to_numpy(),
            "denominator": latest["denominator"].to_numpy(),
            "revision": latest["revision"].to_numpy(),
        }
    )
    return frame.sort_values(["indicator", "period"]).reset_index(drop=True)
