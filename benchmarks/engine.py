"""Engine benchmark: a store of 1,000,000+ observations, the KPI table, a row-by-row
reference, and extract ingest, in one run.

    python benchmarks/engine.py                      # 8,000 monthly series x 10 years (+ quarterly)
    python benchmarks/engine.py --series 500 --years 3 --min-observations 0   # smoke run
    python benchmarks/engine.py --profile artifacts/profile                   # + cProfile dumps

What it does, in order:

1. Makes a synthetic catalogue (``tests/synthetic.py``: ``parse_catalogue`` of a dict):
   ``--series`` monthly indicators plus enough quarterly ones to pass
   ``--min-observations``, over six workstreams, mixing units, directions, aggregations, tolerances and targets of every
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
4. Runs the plain row-by-row reference of the same table (python loops and dicts,
   ``tests/reference.py``, which the test suite also runs against the engine on a small
   catalogue), compares every row and column with the engine's, then times it (median of 3).
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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pydantic
import sqlalchemy
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpis import ingest, periods, store  # noqa: E402
from kpis.catalogue import Catalogue, parse_catalogue  # noqa: E402
from kpis.report import performance  # noqa: E402
from kpis.report.aggregation import prepare  # noqa: E402
from kpis.report.performance import KPI_COLUMNS, build_kpi_table  # noqa: E402
from tests.reference import compare_tables, reference_kpi_table, tolerance  # noqa: E402
from tests.synthetic import Synthetic, expected_current, make_synthetic  # noqa: E402

TARGET_TABLE_SECONDS = 1.0
TARGET_SPEEDUP = 20.0
TARGET_INGEST_ROWS_PER_S = 50_000
INGEST_ROWS = 100_000
LOADED_BY = "benchmark"


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
# The store: the round trip, extract CSVs and bulk loading
# --------------------------------------------------------------------------------------


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
# Command line
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


# --------------------------------------------------------------------------------------
# The measurements, in the order a run makes them
# --------------------------------------------------------------------------------------


@dataclass
class Report:
    """The rows of the final table, and the correctness checks that failed."""

    rows: list[Row] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def check(self, name: str, ok: bool) -> bool:
        if not ok:
            self.failed_checks.append(name)
        return ok


def print_machine() -> None:
    print("Machine")
    for key, value in machine().items():
        print(f"  {key}: {value}")


def describe_data(syn: Synthetic, expected: pd.DataFrame, seconds: float, seed: int, as_at: int) -> None:
    """What was generated: indicators by frequency and aggregation, target forms, months, rows."""
    catalogue = syn.catalogue
    listed = expected["indicator"].isin(set(catalogue.indicator_ids))
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
    print(f"\nSynthetic data (made in {seconds:.1f} s, seed {seed})")
    print(
        f"  catalogue: {len(catalogue.indicators):,} indicators in {len(catalogue.workstreams)} workstreams: "
        f"{syn.n_monthly:,} monthly, {syn.n_quarterly:,} quarterly; plus {syn.n_retired} retired indicators with stored data"
    )
    print(f"  aggregations: {aggs}")
    print(f"  targets (an indicator may have several forms): {forms}")
    print(f"  months: {periods.to_text(syn.first)} .. {periods.to_text(syn.last)}; as at {periods.to_text(as_at)}")
    print(
        f"  observations: {len(syn.bulk):,} stored rows ({int((syn.bulk['revision'] > 1).sum()):,} of them revision 2); "
        f"{len(expected):,} current values, of which {int(listed.sum()):,} for catalogue indicators"
    )


def ingest_today(syn: Synthetic) -> pd.Timestamp:
    """The day ingest's future-period check counts from: after every period this run loads."""
    today_month = syn.last + 2 * math.ceil(INGEST_ROWS / syn.n_monthly) + 1
    return pd.Timestamp(year=today_month // 12, month=today_month % 12 + 1, day=1)


def measure_bulk_write(
    engine: sqlalchemy.Engine, syn: Synthetic, via: str, db_path: Path, today: pd.Timestamp, report: Report
) -> None:
    """1. Write every generated row into the store (info only)."""
    if via == "core":
        seconds, written = timed(lambda: bulk_insert_core(engine, syn))
        how = "SQLAlchemy Core insert into store.extracts/observations"
    else:
        seconds, written = timed(lambda: bulk_ingest(engine, syn, today))
        how = "ingest.ingest of extract CSVs"
    size = sum(f.stat().st_size for f in db_path.parent.iterdir()) / 1024 / 1024
    print(f"\nStore: {db_path} ({size:.0f} MB with WAL), bulk written via {how}")
    report.add(Row(f"bulk write: {written:,} rows ({how})", seconds, f"{written / seconds:,.0f} rows/s", "—", "info"))


def measure_load(engine: sqlalchemy.Engine, expected: pd.DataFrame, report: Report) -> pd.DataFrame:
    """Load the current values back (median of 3) and check them against the generated ones."""
    load_median, load_times, obs = median_time(lambda: store.current_observations(engine), runs=3)
    print(
        f"  store.current_observations: {len(obs):,} rows; runs {', '.join(f'{t:.2f}' for t in load_times)} s"
        f" (CPU {', '.join(f'{t.cpu:.2f}' for t in load_times)} s)"
    )
    report.add(Row(f"load: store.current_observations → {len(obs):,} rows (median of 3)", load_median, "", "—", "info"))
    problems = same_observations(obs, expected)
    if not report.check("store round trip", not problems):
        print(f"  STORE ROUND TRIP DIFFERS: {problems}")
    report.add(Row("check: loaded frame == generated observations", None, "", "identical", verdict(not problems)))
    return obs


def measure_kpi_table(
    obs: pd.DataFrame, catalogue: Catalogue, as_at: int, runs: int, report: Report
) -> tuple[pd.DataFrame, Seconds]:
    """2. ``build_kpi_table`` (median of ``runs`` after a warm-up), its steps, and what it rated."""
    table_median, table_times, table = median_time(lambda: build_kpi_table(obs, catalogue, as_at), runs, 1)
    print(f"\nbuild_kpi_table as at {periods.to_text(as_at)}: runs {', '.join(f'{t:.3f}' for t in table_times)} s")
    steps = [kpi_steps(obs, catalogue, as_at) for _ in range(3)]
    print("  steps (median of 3):" if steps[0] else "  steps: not available (kpis.report.performance has changed)")
    for name in steps[0]:
        print(f"    {name:<16} {statistics.median(s[name] for s in steps):.3f} s")
    print(f"  rag_target: {pd.Series(table['rag_target']).value_counts().to_dict()}")
    print(f"  trend: {pd.Series(table['trend']).value_counts().to_dict()}")
    print(f"  rag_last_year: {pd.Series(table['rag_last_year']).value_counts().to_dict()}")
    print(f"  rows with no period: {int(table['period'].isna().sum())}, no actual: {int(table['actual'].isna().sum())}")
    report.add(
        Row(
            f"build_kpi_table ({len(table):,} indicators, median of {runs})",
            table_median,
            "",
            f"< {TARGET_TABLE_SECONDS:g} s",
            verdict(table_median < TARGET_TABLE_SECONDS),
        )
    )
    return table, table_median


def check_reference(table: pd.DataFrame, obs: pd.DataFrame, catalogue: Catalogue, as_at: int, report: Report) -> None:
    """3. The row-by-row reference (``tests/reference.py``), compared with the engine's
    table cell by cell before anything of it is timed."""
    seconds, reference = timed(lambda: reference_kpi_table(obs, catalogue, as_at))
    differences, largest = compare_tables(table, reference)
    print(f"\nReference (check run {seconds:.2f} s): {len(differences)} differing cells")
    print("  largest float difference per column (relative to max(1, |reference|)):")
    for column, value in largest.items():
        print(f"    {column:<24} {value:.2e}  (tolerance {tolerance(column):.0e})")
    zero_rule = int(((table["target"] == 0) & (table["rag_target"] == "Red") & (table["trend"] == "same")).sum())
    print(f"  rows where the zero-target rule applies: {zero_rule}")
    if not report.check("engine vs reference", not differences):
        frame = pd.DataFrame(differences)
        print("  differing cells per column:", frame["column"].value_counts().to_dict())
        with pd.option_context("display.width", 200, "display.max_columns", 10):
            print(frame.head(40).to_string(index=False))
    report.add(
        Row(
            f"check: build_kpi_table == reference (all rows; {len(KPI_COLUMNS)} columns)",
            None,
            f"{len(differences)} cells differ",
            "0 differences",
            verdict(not differences),
        )
    )


def measure_reference(
    obs: pd.DataFrame, catalogue: Catalogue, as_at: int, runs: int, table_median: Seconds, report: Report
) -> None:
    """The reference timed (median of ``runs``), and the engine's speed-up over it."""
    ref_median, ref_times, _ = median_time(lambda: reference_kpi_table(obs, catalogue, as_at), runs)
    print(f"  timed runs: {', '.join(f'{t:.3f}' for t in ref_times)} s")
    report.add(Row(f"reference, row by row (median of {runs})", ref_median, "", "—", "info"))
    speedup = ref_median / table_median
    report.add(
        Row(
            "speed-up: reference / build_kpi_table",
            None,
            f"{speedup:.1f}× (CPU time: {ref_median.cpu / table_median.cpu:.1f}×)",
            f"≥ {TARGET_SPEEDUP:g}×",
            verdict(speedup >= TARGET_SPEEDUP),
        )
    )


@dataclass
class NewPeriods:
    """Extracts of new periods for every monthly series, month after month."""

    syn: Synthetic
    rng: np.random.Generator

    def __post_init__(self) -> None:
        self.ids = [i.id for i in self.syn.catalogue.indicators if i.frequency.value == "monthly"]
        spec_of = {s: k for k, s in enumerate(self.syn.model.ids)}
        self.specs = np.array([spec_of[i] for i in self.ids])

    def extract(self, start_month: int) -> tuple[bytes, pd.DataFrame]:
        """``INGEST_ROWS`` rows from ``start_month`` on (1% with a note): the CSV, and its rows."""
        n_months = math.ceil(INGEST_ROWS / len(self.specs))
        value, num, den = self.syn.model.draw(self.rng, self.specs, n_months)
        frame = pd.DataFrame(
            {
                "indicator": np.tile(np.asarray(self.ids, dtype=object), n_months),
                "spec": np.tile(self.specs, n_months),
                "month": np.repeat(start_month + np.arange(n_months), len(self.specs)),
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


def revision_of(frame: pd.DataFrame, syn: Synthetic) -> bytes:
    """The same rows with every value changed (a denominator one higher for a ratio)."""
    revised = frame.copy()
    ratio = revised["denominator"].notna()
    new_den = revised["denominator"] + 1
    revised.loc[ratio, "value"] = (revised["numerator"] / new_den * syn.model.scale[revised["spec"].to_numpy()])[ratio]
    revised.loc[ratio, "denominator"] = new_den[ratio]
    percent = revised["indicator"].map({i.id: i.unit.value == "percent" for i in syn.catalogue.indicators})
    v = revised["value"]
    revised.loc[~ratio, "value"] = np.where(percent & (v >= 99), v - 1, v + 1)[~ratio.to_numpy()]
    return extract_csv(
        revised["indicator"].tolist(),
        revised["month"].tolist(),
        revised["value"],
        revised["numerator"],
        revised["denominator"],
        revised["note"].tolist(),
    )


def _ingest_row(measurement: str, seconds: Seconds, rows: int, ok: bool) -> Row:
    rate = rows / seconds
    return Row(
        measurement,
        seconds,
        f"{rate:,.0f} rows/s",
        f"≥ {TARGET_INGEST_ROWS_PER_S:,} rows/s",
        verdict(rate >= TARGET_INGEST_ROWS_PER_S and ok),
    )


def measure_ingest_new(
    engine: sqlalchemy.Engine, content: bytes, frame: pd.DataFrame, syn: Synthetic, today: pd.Timestamp, report: Report
) -> None:
    """4a. A file of new periods into the full store, with a breakdown of its read-only steps."""
    catalogue = syn.catalogue
    print(
        f"\nIngest extract: {len(frame):,} rows, {len(content) / 1024 / 1024:.1f} MB, "
        f"periods {periods.to_text(int(frame['month'].min()))} .. {periods.to_text(int(frame['month'].max()))}"
    )
    breakdown = ingest_steps(engine, content, "new.csv", catalogue, today)
    seconds, result = timed(lambda: ingest.ingest(engine, content, "new.csv", catalogue, LOADED_BY, today=today))
    print(f"  new: {result.message} ({seconds:.2f} s, CPU {seconds.cpu:.2f} s)")
    ok = report.check("ingest new", result.new == len(frame))
    n_stored = len(syn.bulk)
    report.add(
        _ingest_row(
            f"ingest: {len(frame):,} new rows into the {n_stored / 1e6:.2f}M-row store", seconds, len(frame), ok
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


def measure_ingest_again(
    engine: sqlalchemy.Engine,
    content: bytes,
    frame: pd.DataFrame,
    catalogue: Catalogue,
    today: pd.Timestamp,
    report: Report,
) -> None:
    """4b. The same file again: the no-op path, nothing written."""
    seconds, result = timed(lambda: ingest.ingest(engine, content, "new.csv", catalogue, LOADED_BY, today=today))
    print(f"  same file again: {result.message} ({seconds:.2f} s, CPU {seconds.cpu:.2f} s)")
    ok = report.check("ingest no-op", result.extract_id is None and result.unchanged == len(frame))
    report.add(_ingest_row("ingest: the same file again (no-op: nothing written)", seconds, len(frame), ok))


def measure_ingest_revision(
    engine: sqlalchemy.Engine, frame: pd.DataFrame, syn: Synthetic, today: pd.Timestamp, report: Report
) -> None:
    """4c. A revision of every row of that file."""
    revised_content = revision_of(frame, syn)
    seconds, result = timed(
        lambda: ingest.ingest(engine, revised_content, "revised.csv", syn.catalogue, LOADED_BY, today=today)
    )
    print(f"  revision: {result.message} ({seconds:.2f} s, CPU {seconds.cpu:.2f} s)")
    ok = report.check("ingest revision", result.revised == len(frame))
    report.add(_ingest_row(f"ingest: a revision of it (all {len(frame):,} rows revised)", seconds, len(frame), ok))


def print_results(report: Report, started: float, strict: bool) -> int:
    """The table, and the exit status: 1 if a check failed (or, with ``strict``, a target was missed)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024  # KiB on Linux
    print(
        f"\nResults (total run {time.perf_counter() - started:.0f} s; peak memory {peak:.1f} GiB;"
        f" load average at the end {load_average()})\n"
    )
    print_table(report.rows)
    misses = [r.measurement for r in report.rows if r.result == "FAIL"]
    if report.failed_checks:
        print(f"\nCHECKS FAILED: {', '.join(report.failed_checks)}")
        return 1
    if misses:
        print(f"\nTargets missed: {'; '.join(misses)}")
        return 1 if strict else 0
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    last = periods.from_text(args.last)
    as_at = periods.from_text(args.as_at) if args.as_at else last - 1
    report = Report()

    print_machine()
    seconds, syn = timed(lambda: make_synthetic(args.series, args.years, args.min_observations, last, args.seed))
    expected = expected_current(syn)
    describe_data(syn, expected, seconds, args.seed, as_at)
    catalogue = syn.catalogue

    with tempfile.TemporaryDirectory(prefix="kpis-bench-") as tmp:
        db_path = Path(tmp) / "kpis.sqlite"
        engine = store.connect(f"sqlite:///{db_path}")
        today = ingest_today(syn)

        measure_bulk_write(engine, syn, args.bulk_via, db_path, today, report)
        obs = measure_load(engine, expected, report)
        table, table_median = measure_kpi_table(obs, catalogue, as_at, args.runs, report)
        check_reference(table, obs, catalogue, as_at, report)
        measure_reference(obs, catalogue, as_at, args.reference_runs, table_median, report)
        if args.profile:
            profile_to(args.profile / "current_observations.pstats", lambda: store.current_observations(engine))
            profile_to(args.profile / "build_kpi_table.pstats", lambda: build_kpi_table(obs, catalogue, as_at))

        new_periods = NewPeriods(syn, np.random.default_rng(args.seed + 1))
        content, frame = new_periods.extract(syn.last + 1)
        measure_ingest_new(engine, content, frame, syn, today, report)
        measure_ingest_again(engine, content, frame, catalogue, today, report)
        measure_ingest_revision(engine, frame, syn, today, report)
        if args.profile:
            more, _ = new_periods.extract(int(frame["month"].max()) + 1)
            profile_to(
                args.profile / "ingest_new.pstats",
                lambda: ingest.ingest(engine, more, "profiled.csv", catalogue, LOADED_BY, today=today),
            )
        engine.dispose()

    return print_results(report, started, args.strict)


if __name__ == "__main__":
    sys.exit(main())
