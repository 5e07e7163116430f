"""Engine benchmark: a store of 1,000,000+ observations, the KPI table, a row-by-row
reference, and extract ingest, in one run.

    python benchmarks/engine.py                      # 8,000 monthly series x 10 years (+ quarterly)
    python benchmarks/engine.py --series 500 --years 3 --min-observations 0   # smoke run
    python benchmarks/engine.py --profile artifacts/profile                   # + cProfile dumps

What it does, in order:

1. Makes a synthetic catalogue (``parse_catalogue`` of a dict): ``--series`` monthly
   indicators plus enough quarterly ones to pass ``--min-observations``, over six
   workstreams, mixing units, directions, aggregations, tolerances and targets of every
   form (a number, per financial year, a monthly trajectory, mixed; a few ``Target``
   objects also carry a constant fallback), zero targets ("never events") included.
   Series have gaps, late starts, early ends and no data at all; some observations
   belong to retired indicators (in the store, not in the catalogue) and some values
   are revised (revision 2).
2. Writes them into a real SQLite file in a temporary directory. By default the bulk is
   inserted directly with SQLAlchemy Core into ``store.extracts`` / ``store.observations``
   (one extract row per financial year plus one for the revisions);
   ``--bulk-via ingest`` loads the same rows as extract CSVs through ``ingest.ingest``
   instead. Then loads them back with ``store.current_observations`` (timed) and checks
   the frame against the generated data.
3. Times ``build_kpi_table`` as at one month (median of 5 after a warm-up), with a
   per-step breakdown.
4. Runs a plain row-by-row reference of the same table (python loops and dicts, below),
   compares every row and column with the engine's, then times it (median of 3).
5. Ingests a 100,000-row extract of new periods into the 1M-row store through
   ``ingest.ingest``, then the same file again (the no-op path) and a revision of it
   (every row revised), with a breakdown of the first.
6. Prints a table: measurement, seconds (wall; CPU alongside), rate, target, result.

Exit status: 1 if the engine and the reference disagree, or the store does not give back
what was written, or (with ``--strict``) a target is missed; else 0.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
import os
import platform
import pstats
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pydantic
import sqlalchemy
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpis import ingest, performance, periods, store  # noqa: E402
from kpis.aggregation import prepare  # noqa: E402
from kpis.catalogue import Catalogue, Target, parse_catalogue  # noqa: E402
from kpis.performance import build_kpi_table  # noqa: E402

TARGET_TABLE_SECONDS = 1.0
TARGET_SPEEDUP = 20.0
TARGET_INGEST_ROWS_PER_S = 50_000
INGEST_ROWS = 100_000
LOADED_BY = "benchmark"

AGGREGATIONS = ["as_reported", "ytd_sum", "ytd_mean", "ytd_ratio", "rolling_12m_sum", "rolling_12m_ratio"]
AGGREGATION_WEIGHTS = [0.34, 0.13, 0.10, 0.13, 0.13, 0.17]
RATIO, NEVER_EVENT, COUNT, PERCENT, CONTINUOUS = range(5)  # how a series' values are drawn
WORKSTREAMS = ["integrated_care", "prevention", "safe_quality", "market", "children", "public_health"]


# --------------------------------------------------------------------------------------
# Machine
# --------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "kpis"], capture_output=True, text=True, check=True
        ).stdout.split("\n")
        changed = sorted(line[3:] for line in dirty if line.strip())
        code = head + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        code = "unknown (no git)"
    return {
        "code": code,
        "cores (usable)": str(cores),
        "CPU": cpu,
        "memory": memory,
        "OS": platform.platform(),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "SQLAlchemy": sqlalchemy.__version__,
        "SQLite": sqlite3.sqlite_version,
        "pydantic": pydantic.VERSION,
        "load average at start (1, 5, 15 min)": load_average(),
    }


def load_average() -> str:
    """Other processes compete for the cores: worth knowing when reading the timings."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


# --------------------------------------------------------------------------------------
# Synthetic catalogue and observations
# --------------------------------------------------------------------------------------


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
        for code in (RATIO, NEVER_EVENT, COUNT, PERCENT, CONTINUOUS):
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
    return float(round(value)) if unit == "count" else round(float(value), 1)


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
            unit = "count"
            kind[s] = NEVER_EVENT if rng.random() < 0.25 else COUNT
            mu[s] = rng.uniform(2, 400)
            level = mu[s]
        elif agg == "ytd_mean":
            unit = str(rng.choice(["days", "hours", "percent"]))
            kind[s] = PERCENT if unit == "percent" else CONTINUOUS
            mu[s] = rng.uniform(5, 95) if unit == "percent" else rng.uniform(1, 50)
            sd[s] = mu[s] * rng.uniform(0.05, 0.3)
            level = mu[s]
        else:
            unit = str(
                rng.choice(["percent", "count", "days", "hours", "rate", "ratio"], p=[0.35, 0.3, 0.1, 0.1, 0.1, 0.05])
            )
            if unit == "percent":
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
                entry["target"] = 0.0 if never_event else _target_value(rng, level_at(mid_year), unit)
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


def same_observations(loaded: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    """Differences between the store's frame and the generated one (empty: identical)."""
    if len(loaded) != len(expected):
        return [f"{len(loaded):,} rows loaded, {len(expected):,} expected"]
    problems = []
    for column in ("indicator", "period", "revision"):
        if not np.array_equal(loaded[column].to_numpy(dtype=object), expected[column].to_numpy(dtype=object)):
            problems.append(f"column {column} differs")
    for column in ("value", "numerator", "denominator"):
        if not np.array_equal(
            loaded[column].to_numpy(dtype=float), expected[column].to_numpy(dtype=float), equal_nan=True
        ):
            problems.append(f"column {column} differs")
    return problems


# --------------------------------------------------------------------------------------
# Extract CSVs and bulk loading
# --------------------------------------------------------------------------------------

_HEADER = "indicator,period,value,numerator,denominator,note\n"


def _cell(x: float) -> str:
    if x != x:  # NaN
        return ""
    return str(int(x)) if x.is_integer() else repr(x)


def extract_csv(
    indicator: list[str], month: list[int], value, numerator, denominator, note: list[str] | None = None
) -> bytes:
    """An extract in the canonical columns; numbers written so that they read back exactly."""
    notes = note if note is not None else [""] * len(indicator)
    lines = [
        f"{i},{periods.to_text(m)},{_cell(v)},{_cell(n)},{_cell(d)},{t}\n"
        for i, m, v, n, d, t in zip(
            indicator,
            month,
            np.asarray(value, dtype=float).tolist(),
            np.asarray(numerator, dtype=float).tolist(),
            np.asarray(denominator, dtype=float).tolist(),
            notes,
            strict=True,
        )
    ]
    return (_HEADER + "".join(lines)).encode("utf-8")


def bulk_insert_core(engine: sqlalchemy.Engine, syn: Synthetic) -> int:
    """Insert every generated row with SQLAlchemy Core: one ``extracts`` row per financial
    year of revision-1 rows, one for the revisions. Returns the rows written."""
    ids = np.asarray(syn.model.ids, dtype=object)
    texts = {m: periods.to_text(m) for m in range(syn.first, syn.last + 1)}
    bulk = syn.bulk.assign(
        indicator=ids[syn.bulk["spec"].to_numpy()],
        fy=periods.fy_start_years(syn.bulk["month"].to_numpy()),
    )
    bulk["chunk"] = np.where(bulk["revision"] == 1, bulk["fy"], 10_000)
    bulk = bulk.sort_values(["chunk", "indicator", "month", "revision"], kind="stable")
    written = 0
    with store.write_transaction(engine) as conn:
        for chunk, rows in bulk.groupby("chunk", sort=True):
            label = "revisions" if chunk == 10_000 else periods.fy_label(int(chunk))
            content = f"benchmark bulk load ({label}): {len(rows)} rows inserted directly with SQLAlchemy Core".encode()
            extract_id = conn.execute(
                insert(store.extracts).values(
                    sha256=ingest.sha256(content),
                    file_name=f"bulk-{label.replace('/', '-')}.csv",
                    loaded_by=LOADED_BY,
                    loaded_at=pd.Timestamp.now(tz="UTC").to_pydatetime(),
                    rows_total=len(rows),
                    rows_new=int((rows["revision"] == 1).sum()),
                    rows_revised=int((rows["revision"] > 1).sum()),
                    rows_unchanged=0,
                    content=content,
                )
            ).inserted_primary_key[0]
            numerator = rows["numerator"].to_numpy()
            denominator = rows["denominator"].to_numpy()
            records = [
                {
                    "indicator": i,
                    "period": texts[m],
                    "revision": r,
                    "value": v,
                    "numerator": None if n != n else n,
                    "denominator": None if d != d else d,
                    "note": None,
                    "extract_id": extract_id,
                }
                for i, m, r, v, n, d in zip(
                    rows["indicator"].tolist(),
                    rows["month"].tolist(),
                    rows["revision"].tolist(),
                    rows["value"].tolist(),
                    numerator.tolist(),
                    denominator.tolist(),
                    strict=True,
                )
            ]
            conn.execute(insert(store.observations), records)
            written += len(records)
    return written


def bulk_ingest(engine: sqlalchemy.Engine, syn: Synthetic, today: pd.Timestamp) -> int:
    """Load the same rows as extract CSVs through ``ingest.ingest``: one file per financial
    year (split to stay within MAX_ROWS and MAX_BYTES), then one of revisions. The
    retired indicators are loaded with a catalogue that still lists them."""
    loading = parse_catalogue(
        {**syn.raw, "indicators": [*syn.raw["indicators"], *syn.retired_raw]}, "synthetic+retired"
    )
    ids = np.asarray(syn.model.ids, dtype=object)
    bulk = syn.bulk.assign(fy=periods.fy_start_years(syn.bulk["month"].to_numpy()))
    bulk["chunk"] = np.where(bulk["revision"] == 1, bulk["fy"], 10_000)
    written = 0
    for chunk, rows in bulk.groupby("chunk", sort=True):
        label = "revisions" if chunk == 10_000 else periods.fy_label(int(chunk)).replace("/", "-")
        parts = math.ceil(len(rows) / 100_000)
        for k, part in enumerate(np.array_split(np.arange(len(rows)), max(parts, 1))):
            sub = rows.iloc[part]
            content = extract_csv(
                list(ids[sub["spec"].to_numpy()]),
                sub["month"].tolist(),
                sub["value"],
                sub["numerator"],
                sub["denominator"],
            )
            result = ingest.ingest(engine, content, f"bulk-{label}-{k}.csv", loading, LOADED_BY, today=today)
            written += result.new + result.revised
    return written


# --------------------------------------------------------------------------------------
# The reference: the KPI table row by row, in plain python
# --------------------------------------------------------------------------------------

REFERENCE_COLUMNS = [
    "workstream",
    "indicator",
    "period",
    "period_label",
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


def reference_kpi_table(observations: pd.DataFrame, catalogue: Catalogue, as_at: int) -> pd.DataFrame:
    """The KPI table, one indicator and one observation at a time: no numpy, no pandas
    operations beyond reading the input columns into lists and building the output."""
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

    rows = []
    for ind in catalogue.indicators:
        series = by_indicator.get(ind.id, {})
        period = None
        for month in series:
            if month <= as_at and (period is None or month > period):
                period = month
        direction = ind.direction.value
        tolerance = catalogue.tolerance if ind.tolerance is None else ind.tolerance
        if period is None:
            actual = last_year = NAN
            period_text = period_label = NAN
        else:
            actual = _figure(ind, series, period)
            last_year = _figure(ind, series, period - 12)
            period_text = f"{period // 12:04d}-{period % 12 + 1:02d}"
            fy = _fy_start(period)
            short = (
                f"Q{(_fy_month(period) - 1) // 3 + 1}"
                if ind.frequency.value == "quarterly"
                else f"M{_fy_month(period)}"
            )
            period_label = f"{short} {fy}/{(fy + 1) % 100:02d}"
        target = _target(ind, period)
        variance_target, variance_target_pct = _variance(actual, target)
        variance_last_year, variance_last_year_pct = _variance(actual, last_year)
        rag_target = _rag(actual, target, direction, tolerance)
        trend = _trend(actual, last_year, direction)
        rag_last_year = _rag(actual, last_year, direction, tolerance)
        if target == 0 and rag_target == "Red" and trend == "same":
            rag_last_year = "Red"  # a zero target still missed: standing still is not good enough
        rows.append(
            (
                ind.workstream,
                ind.id,
                period_text,
                period_label,
                actual,
                target,
                variance_target,
                variance_target_pct,
                rag_target,
                last_year,
                variance_last_year,
                variance_last_year_pct,
                trend,
                rag_last_year,
            )
        )
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)


FLOAT_COLUMNS = [
    "actual",
    "target",
    "last_year",
    "variance_target",
    "variance_last_year",
    "variance_target_pct",
    "variance_last_year_pct",
]
TEXT_COLUMNS = ["workstream", "indicator", "period", "period_label", "rag_target", "trend", "rag_last_year"]
# Sums are made differently (the engine subtracts prefix sums, the reference adds the
# window), so figures agree to float noise, not bit for bit. A % divides a difference by
# the comparator, which can magnify that noise; hence the looser tolerance there.
FLOAT_TOLERANCE = {c: (1e-7 if c.endswith("_pct") else 1e-9) for c in FLOAT_COLUMNS}


def compare_tables(engine_table: pd.DataFrame, reference: pd.DataFrame) -> tuple[list[dict], dict[str, float]]:
    """Every (row, column) where the two tables differ, and the largest float difference
    per column (relative to max(1, |reference|))."""
    differences: list[dict] = []
    largest: dict[str, float] = {}
    if len(engine_table) != len(reference):
        return [
            {"row": -1, "indicator": "", "column": "(rows)", "engine": len(engine_table), "reference": len(reference)}
        ], largest
    ids = reference["indicator"].tolist()
    for column in TEXT_COLUMNS:
        a = engine_table[column].tolist()
        b = reference[column].tolist()
        for row, (x, y) in enumerate(zip(a, b, strict=True)):
            x_missing = x is None or (isinstance(x, float) and x != x)
            y_missing = y is None or (isinstance(y, float) and y != y)
            if (x_missing and y_missing) or (not x_missing and not y_missing and x == y):
                continue
            differences.append({"row": row, "indicator": ids[row], "column": column, "engine": x, "reference": y})
    for column in FLOAT_COLUMNS:
        a = engine_table[column].to_numpy(dtype=float)
        b = reference[column].to_numpy(dtype=float)
        both_nan = np.isnan(a) & np.isnan(b)
        scaled = np.abs(a - b) / np.maximum(1.0, np.abs(b))
        scaled = np.where(both_nan, 0.0, scaled)
        bad = ~both_nan & ((np.isnan(a) != np.isnan(b)) | (scaled > FLOAT_TOLERANCE[column]))
        finite = scaled[np.isfinite(scaled)]
        largest[column] = float(finite.max()) if len(finite) else 0.0
        for row in np.flatnonzero(bad):
            differences.append(
                {"row": int(row), "indicator": ids[row], "column": column, "engine": a[row], "reference": b[row]}
            )
    return differences, largest


# --------------------------------------------------------------------------------------
# Timing helpers and the report
# --------------------------------------------------------------------------------------


class Seconds(float):
    """Wall-clock seconds (the float), with the CPU seconds this process used meanwhile:
    on a shared machine, wall time well above CPU time means waiting for a core or I/O."""

    cpu: float | None = None


def timed(fn: Callable[[], object]) -> tuple[Seconds, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    seconds = Seconds(time.perf_counter() - wall)
    seconds.cpu = time.process_time() - cpu
    return seconds, result


def median_time(fn: Callable[[], object], runs: int, warmup: int = 0) -> tuple[Seconds, list[Seconds], object]:
    """The median run (``runs`` odd: a real run, with its CPU time), every run, the last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(runs):
        seconds, result = timed(fn)
        times.append(seconds)
    middle = sorted(times)[(len(times) - 1) // 2]
    return middle, times, result


@dataclass
class Row:
    measurement: str
    seconds: Seconds | None
    rate: str
    target: str
    result: str


def print_table(rows: list[Row]) -> None:
    print("| measurement | seconds | CPU s | rate / ratio | target | result |")
    print("|---|---:|---:|---:|---|---|")
    for r in rows:
        seconds = "" if r.seconds is None else f"{r.seconds:.3f}"
        cpu = "" if r.seconds is None or r.seconds.cpu is None else f"{r.seconds.cpu:.3f}"
        print(f"| {r.measurement} | {seconds} | {cpu} | {r.rate} | {r.target} | {r.result} |")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def profile_to(path: Path, fn: Callable[[], object], lines: int = 25) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(path))
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
        text = "\n".join(
            line for line in out.getvalue().splitlines() if line.strip() and not line.startswith(" " * 3 + "List")
        )
        print(f"\ncProfile ({path}), top {lines} by {order} time:")
        print(text[:8000])


def kpi_steps(observations: pd.DataFrame, catalogue: Catalogue, as_at: int) -> dict[str, float]:
    """Seconds spent in each step of build_kpi_table (the same calls, one at a time).
    Empty if the steps have been renamed since this was written."""
    times: dict[str, float] = {}
    names = [
        "latest_periods",
        "add_actuals",
        "add_targets",
        "add_variances",
        "add_ratings",
        "add_labels",
        "KPI_COLUMNS",
    ]
    if not all(hasattr(performance, name) for name in names):
        return times

    def step(name: str, fn: Callable[[], pd.DataFrame]):
        seconds, out = timed(fn)
        times[name] = seconds
        return out

    observed = step("prepare", lambda: prepare(observations, catalogue))
    table = step("latest_periods", lambda: performance.latest_periods(catalogue, observed, as_at))
    table = step("add_actuals", lambda: performance.add_actuals(table, observed, catalogue))
    table = step("add_targets", lambda: performance.add_targets(table, catalogue))
    table = step("add_variances", lambda: performance.add_variances(table))
    table = step("add_ratings", lambda: performance.add_ratings(table))
    table = step("add_labels", lambda: performance.add_labels(table))
    step("select columns", lambda: table[performance.KPI_COLUMNS])
    return times


def ingest_steps(engine: sqlalchemy.Engine, content: bytes, name: str, catalogue: Catalogue, today) -> dict[str, float]:
    """Seconds in each read-only step of ingest.ingest for this file against the store as
    it is (the write itself is the remainder of the ingest's time)."""
    times: dict[str, float] = {}
    times["read_extract (csv → cells)"], raw = timed(lambda: ingest.read_extract(content, name, catalogue))
    times["validate_extract"], rows = timed(lambda: ingest.validate_extract(raw, catalogue, name, today))
    with engine.connect() as conn:
        wanted = sorted(rows["indicator"].unique())
        times["current_observations(indicators=…) (store read)"], current = timed(
            lambda: store.current_observations(conn, indicators=wanted)
        )
    times["plan_extract"], _ = timed(lambda: ingest.plan_extract(rows, current))
    times["(rows read back by the store read)"] = float(len(current))
    return times


# --------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--series", type=int, default=8000, help="monthly series (indicators); default 8000")
    parser.add_argument("--years", type=int, default=10, help="years of monthly history; default 10")
    parser.add_argument(
        "--min-observations",
        type=int,
        default=1_000_000,
        help="add quarterly series until the catalogue's observations reach this; default 1,000,000 (0: just series/8)",
    )
    parser.add_argument("--last", default="2025-10", help="last month of the bulk, YYYY-MM; default 2025-10")
    parser.add_argument(
        "--as-at", default=None, help="month of the KPI table, YYYY-MM; default the month before --last"
    )
    parser.add_argument("--bulk-via", choices=["core", "ingest"], default="core", help="how the bulk is written")
    parser.add_argument("--seed", type=int, default=20201130)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of build_kpi_table (median); default 5")
    parser.add_argument("--reference-runs", type=int, default=3, help="timed runs of the reference; default 3")
    parser.add_argument(
        "--profile", type=Path, default=None, help="write cProfile stats of one table and one ingest here"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    last = periods.from_text(args.last)
    as_at = periods.from_text(args.as_at) if args.as_at else last - 1
    rows: list[Row] = []
    failed_checks: list[str] = []

    print("Machine")
    for key, value in machine().items():
        print(f"  {key}: {value}")

    seconds, syn = timed(lambda: make_synthetic(args.series, args.years, args.min_observations, last, args.seed))
    catalogue = syn.catalogue
    expected = expected_current(syn)
    listed = expected["indicator"].isin(set(catalogue.indicator_ids))
    n_stored = len(syn.bulk)
    n_current = len(expected)
    n_catalogue_obs = int(listed.sum())
    aggs = pd.Series([i.aggregation.value for i in catalogue.indicators]).value_counts().to_dict()
    forms = {
        "constant": sum(1 for i in catalogue.indicators if i.target and i.target.constant is not None),
        "by_year": sum(1 for i in catalogue.indicators if i.target and i.target.by_year),
        "by_month": sum(1 for i in catalogue.indicators if i.target and i.target.by_month),
        "zero": sum(
            1 for i in catalogue.indicators if i.target and 0.0 in {i.target.constant, *dict(i.target.by_year).values()}
        ),
        "none": sum(1 for i in catalogue.indicators if i.target is None),
    }
    print(f"\nSynthetic data (made in {seconds:.1f} s, seed {args.seed})")
    print(
        f"  catalogue: {len(catalogue.indicators):,} indicators in {len(catalogue.workstreams)} workstreams: "
        f"{syn.n_monthly:,} monthly, {syn.n_quarterly:,} quarterly; plus {syn.n_retired} retired indicators with stored data"
    )
    print(f"  aggregations: {aggs}")
    print(f"  targets (an indicator may have several forms): {forms}")
    print(f"  months: {periods.to_text(syn.first)} .. {periods.to_text(syn.last)}; as at {periods.to_text(as_at)}")
    print(
        f"  observations: {n_stored:,} stored rows ({int((syn.bulk['revision'] > 1).sum()):,} of them revision 2); "
        f"{n_current:,} current values, of which {n_catalogue_obs:,} for catalogue indicators"
    )

    with tempfile.TemporaryDirectory(prefix="kpis-bench-") as tmp:
        db_path = Path(tmp) / "kpis.sqlite"
        engine = store.connect(f"sqlite:///{db_path}")
        # "Today" for ingest's future-period check: after every period this run loads.
        today_month = last + 2 * math.ceil(INGEST_ROWS / syn.n_monthly) + 1
        ingest_today = pd.Timestamp(year=today_month // 12, month=today_month % 12 + 1, day=1)

        # 1. Bulk and load.
        if args.bulk_via == "core":
            seconds, written = timed(lambda: bulk_insert_core(engine, syn))
            how = "SQLAlchemy Core insert into store.extracts/observations"
        else:
            seconds, written = timed(lambda: bulk_ingest(engine, syn, ingest_today))
            how = "ingest.ingest of extract CSVs"
        size = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1024 / 1024
        print(f"\nStore: {db_path} ({size:.0f} MB with WAL), bulk written via {how}")
        rows.append(
            Row(f"bulk write: {written:,} rows ({how})", seconds, f"{written / seconds:,.0f} rows/s", "—", "info")
        )

        load_median, load_times, obs = median_time(lambda: store.current_observations(engine), runs=3)
        print(
            f"  store.current_observations: {len(obs):,} rows; runs {', '.join(f'{t:.2f}' for t in load_times)} s"
            f" (CPU {', '.join(f'{t.cpu:.2f}' for t in load_times)} s)"
        )
        rows.append(
            Row(f"load: store.current_observations → {len(obs):,} rows (median of 3)", load_median, "", "—", "info")
        )
        problems = same_observations(obs, expected)
        if problems:
            failed_checks.append("store round trip")
            print(f"  STORE ROUND TRIP DIFFERS: {problems}")
        rows.append(Row("check: loaded frame == generated observations", None, "", "identical", verdict(not problems)))

        # 2. The engine.
        table_median, table_times, table = median_time(lambda: build_kpi_table(obs, catalogue, as_at), args.runs, 1)
        print(f"\nbuild_kpi_table as at {periods.to_text(as_at)}: runs {', '.join(f'{t:.3f}' for t in table_times)} s")
        steps = [kpi_steps(obs, catalogue, as_at) for _ in range(3)]
        print("  steps (median of 3):" if steps[0] else "  steps: not available (kpis.performance has changed)")
        for name in steps[0]:
            print(f"    {name:<16} {statistics.median(s[name] for s in steps):.3f} s")
        print(f"  rag_target: {pd.Series(table['rag_target']).value_counts().to_dict()}")
        print(f"  trend: {pd.Series(table['trend']).value_counts().to_dict()}")
        print(f"  rag_last_year: {pd.Series(table['rag_last_year']).value_counts().to_dict()}")
        print(
            f"  rows with no period: {int(table['period'].isna().sum())}, no actual: {int(table['actual'].isna().sum())}"
        )
        rows.append(
            Row(
                f"build_kpi_table ({len(table):,} indicators, median of {args.runs})",
                table_median,
                "",
                f"< {TARGET_TABLE_SECONDS:g} s",
                verdict(table_median < TARGET_TABLE_SECONDS),
            )
        )

        # 3. The reference, checked against the engine before it is timed.
        seconds, reference = timed(lambda: reference_kpi_table(obs, catalogue, as_at))
        differences, largest = compare_tables(table, reference)
        print(f"\nReference (check run {seconds:.2f} s): {len(differences)} differing cells")
        print("  largest float difference per column (relative to max(1, |reference|)):")
        for column, value in largest.items():
            print(f"    {column:<24} {value:.2e}  (tolerance {FLOAT_TOLERANCE[column]:.0e})")
        zero_rule = int(((table["target"] == 0) & (table["rag_target"] == "Red") & (table["trend"] == "same")).sum())
        print(f"  rows where the zero-target rule applies: {zero_rule}")
        if differences:
            failed_checks.append("engine vs reference")
            frame = pd.DataFrame(differences)
            print("  differing cells per column:", frame["column"].value_counts().to_dict())
            with pd.option_context("display.width", 200, "display.max_columns", 10):
                print(frame.head(40).to_string(index=False))
        rows.append(
            Row(
                "check: build_kpi_table == reference (all rows; 14 columns)",
                None,
                f"{len(differences)} cells differ",
                "0 differences",
                verdict(not differences),
            )
        )
        ref_median, ref_times, _ = median_time(lambda: reference_kpi_table(obs, catalogue, as_at), args.reference_runs)
        print(f"  timed runs: {', '.join(f'{t:.3f}' for t in ref_times)} s")
        rows.append(Row(f"reference, row by row (median of {args.reference_runs})", ref_median, "", "—", "info"))
        speedup = ref_median / table_median
        rows.append(
            Row(
                "speed-up: reference / build_kpi_table",
                None,
                f"{speedup:.1f}× (CPU time: {ref_median.cpu / table_median.cpu:.1f}×)",
                f"≥ {TARGET_SPEEDUP:g}×",
                verdict(speedup >= TARGET_SPEEDUP),
            )
        )

        if args.profile:
            profile_to(args.profile / "current_observations.pstats", lambda: store.current_observations(engine))
            profile_to(args.profile / "build_kpi_table.pstats", lambda: build_kpi_table(obs, catalogue, as_at))

        # 4. Ingest: 100,000 rows of new periods (monthly series, month after month).
        monthly_ids = [i.id for i in catalogue.indicators if i.frequency.value == "monthly"]
        spec_of = {s: k for k, s in enumerate(syn.model.ids)}
        specs = np.array([spec_of[i] for i in monthly_ids])
        rng = np.random.default_rng(args.seed + 1)

        def new_extract(start_month: int) -> tuple[bytes, pd.DataFrame]:
            n_months = math.ceil(INGEST_ROWS / len(specs))
            value, num, den = syn.model.draw(rng, specs, n_months)
            frame = pd.DataFrame(
                {
                    "indicator": np.tile(np.asarray(monthly_ids, dtype=object), n_months),
                    "spec": np.tile(specs, n_months),
                    "month": np.repeat(start_month + np.arange(n_months), len(specs)),
                    "value": value.T.ravel(),
                    "numerator": num.T.ravel(),
                    "denominator": den.T.ravel(),
                }
            ).head(INGEST_ROWS)
            notes = ["synthetic note" if k % 100 == 0 else "" for k in range(len(frame))]
            content = extract_csv(
                frame["indicator"].tolist(),
                frame["month"].tolist(),
                frame["value"],
                frame["numerator"],
                frame["denominator"],
                notes,
            )
            return content, frame.assign(note=notes)

        first_new = syn.last + 1
        content, frame = new_extract(first_new)
        print(
            f"\nIngest extract: {len(frame):,} rows, {len(content) / 1024 / 1024:.1f} MB, "
            f"periods {periods.to_text(int(frame['month'].min()))} .. {periods.to_text(int(frame['month'].max()))}"
        )
        breakdown = ingest_steps(engine, content, "new.csv", catalogue, ingest_today)

        seconds, result = timed(
            lambda: ingest.ingest(engine, content, "new.csv", catalogue, LOADED_BY, today=ingest_today)
        )
        print(f"  new: {result.message} ({seconds:.2f} s, CPU {seconds.cpu:.2f} s)")
        ok = result.new == len(frame)
        if not ok:
            failed_checks.append("ingest new")
        rate = len(frame) / seconds
        rows.append(
            Row(
                f"ingest: {len(frame):,} new rows into the {n_stored / 1e6:.2f}M-row store",
                seconds,
                f"{rate:,.0f} rows/s",
                f"≥ {TARGET_INGEST_ROWS_PER_S:,} rows/s",
                verdict(rate >= TARGET_INGEST_ROWS_PER_S and ok),
            )
        )
        known = sum(v for k, v in breakdown.items() if not k.startswith("("))
        print("  breakdown (the same steps run separately before the ingest; wall s, CPU s):")
        for name, value in breakdown.items():
            if name.startswith("("):
                print(f"    {name:<50} {value:,.0f}")
            else:
                print(f"    {name:<50} {value:7.3f} {value.cpu:7.3f}")
        known_cpu = sum(v.cpu for k, v in breakdown.items() if not k.startswith("("))
        print(
            f"    {'the rest: write (inserts, commit), SHA-256, log':<50} {max(seconds - known, 0):7.3f}"
            f" {max(seconds.cpu - known_cpu, 0):7.3f}"
        )

        seconds, result = timed(
            lambda: ingest.ingest(engine, content, "new.csv", catalogue, LOADED_BY, today=ingest_today)
        )
        print(f"  same file again: {result.message} ({seconds:.2f} s, CPU {seconds.cpu:.2f} s)")
        ok = result.extract_id is None and result.unchanged == len(frame)
        if not ok:
            failed_checks.append("ingest no-op")
        rate = len(frame) / seconds
        rows.append(
            Row(
                "ingest: the same file again (no-op: nothing written)",
                seconds,
                f"{rate:,.0f} rows/s",
                f"≥ {TARGET_INGEST_ROWS_PER_S:,} rows/s",
                verdict(rate >= TARGET_INGEST_ROWS_PER_S and ok),
            )
        )

        revised = frame.copy()
        ratio = revised["denominator"].notna()
        new_den = revised["denominator"] + 1
        revised.loc[ratio, "value"] = (revised["numerator"] / new_den * syn.model.scale[revised["spec"].to_numpy()])[
            ratio
        ]
        revised.loc[ratio, "denominator"] = new_den[ratio]
        percent = revised["indicator"].map({i.id: i.unit.value == "percent" for i in catalogue.indicators})
        v = revised["value"]
        revised.loc[~ratio, "value"] = np.where(percent & (v >= 99), v - 1, v + 1)[~ratio.to_numpy()]
        revised_content = extract_csv(
            revised["indicator"].tolist(),
            revised["month"].tolist(),
            revised["value"],
            revised["numerator"],
            revised["denominator"],
            revised["note"].tolist(),
        )
        seconds, result = timed(
            lambda: ingest.ingest(engine, revised_content, "revised.csv", catalogue, LOADED_BY, today=ingest_today)
        )
        print(f"  revision: {result.message} ({seconds:.2f} s, CPU {seconds.cpu:.2f} s)")
        ok = result.revised == len(frame)
        if not ok:
            failed_checks.append("ingest revision")
        rate = len(frame) / seconds
        rows.append(
            Row(
                f"ingest: a revision of it (all {len(frame):,} rows revised)",
                seconds,
                f"{rate:,.0f} rows/s",
                f"≥ {TARGET_INGEST_ROWS_PER_S:,} rows/s",
                verdict(rate >= TARGET_INGEST_ROWS_PER_S and ok),
            )
        )

        if args.profile:
            more, _ = new_extract(int(frame["month"].max()) + 1)
            profile_to(
                args.profile / "ingest_new.pstats",
                lambda: ingest.ingest(engine, more, "profiled.csv", catalogue, LOADED_BY, today=ingest_today),
            )
        engine.dispose()

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KiB on Linux
    print(
        f"\nResults (total run {time.perf_counter() - started:.0f} s; peak memory {peak:.1f} GiB;"
        f" load average at the end {load_average()})\n"
    )
    print_table(rows)
    misses = [r.measurement for r in rows if r.result == "FAIL"]
    if failed_checks:
        print(f"\nCHECKS FAILED: {', '.join(failed_checks)}")
        return 1
    if misses:
        print(f"\nTargets missed: {'; '.join(misses)}")
        return 1 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
