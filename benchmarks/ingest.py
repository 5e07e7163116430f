"""Loading a warehouse-sized extract from the command line, end to end, beside a floor.

``python benchmarks/ingest.py [--rows 1000000] [--indicators 8000]`` writes a catalogue of
``--indicators`` count indicators and a long CSV of ``--rows`` rows, then measures, in one
run and side by side:

- ``python -m kpis ingest`` into an empty SQLite store (process start included), then the
  same file again (nothing changes), each with the child's peak RSS;
- the floor: a lean pass doing the same work, pandas reading the file (pyarrow engine)
  and one ``executemany`` of its rows into the store's own observations table (the same
  columns, unique key and indexes) in a new SQLite file, with the store's pragmas and the
  rows in key order; beside it the earlier floor (file order, the driver's defaults);
- reading the catalogue of ``--indicators`` indicators.

Targets (issue 14): ≥ 100,000 rows/s for the first load, ≥ 200,000 rows/s for the reload,
the catalogue well under a second; a 5,000,000-row load under 1.5 GB peak RSS (run with
``--rows 5000000 --indicators 40000``, so that its months stay in the past). Results are recorded in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kpis import store  # noqa: E402
from kpis.catalogue import load_catalogue  # noqa: E402


def write_inputs(folder: Path, rows: int, indicators: int) -> tuple[Path, Path]:
    catalogue = folder / "kpis.yaml"
    catalogue.write_text(
        yaml.safe_dump(
            {
                "workstreams": [{"id": "all", "name": "All"}],
                "indicators": [
                    {
                        "id": f"ind_{k:05d}",
                        "name": f"Indicator {k}",
                        "workstream": "all",
                        "unit": "count",
                        "direction": "none",
                    }
                    for k in range(indicators)
                ],
            }
        ),
        encoding="utf-8",
    )
    number = np.arange(rows)
    months = 2010 * 12 + number // indicators  # month by month from April 2010... on, indicators in turn
    frame = pd.DataFrame(
        {
            "indicator": pd.Series([f"ind_{k:05d}" for k in range(indicators)]).to_numpy()[number % indicators],
            "period": [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months],
            "value": (number * 7 % 100_000) / 10,
        }
    )
    extract = folder / "extract.csv"
    frame.to_csv(extract, index=False)
    return catalogue, extract


def timed_cli(catalogue: Path, extract: Path, database: Path) -> tuple[float, float, str, float]:
    """Seconds, CPU seconds (user + system: what a shared machine's load changes least),
    output, and the child's own peak RSS in MB: its ``VmHWM``, read while it runs. (The
    kernel's ``ru_maxrss`` of a child counts the parent's peak too, since the child is
    spawned from the parent's memory: after the floor and the inputs were made here it
    overstated a five-million-row load by half a gigabyte, docs/benchmarks.md.)"""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "kpis", "ingest", str(extract), "--config", str(catalogue),
         "--database", f"sqlite:///{database}", "--user", "bench"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    peak_kb = 0
    while child.poll() is None:
        peak_kb = max(peak_kb, _peak_rss_kb(child.pid))
        time.sleep(0.02)
    out, err = child.communicate()
    if child.returncode:
        raise SystemExit(f"python -m kpis ingest failed:\n{err}")
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu, out.strip(), peak_kb / 1024


def _peak_rss_kb(pid: int) -> int:
    """A running process's peak resident set so far (0 once it has gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


def floor(extract: Path, database: Path, lean: bool = True) -> tuple[float, float]:
    """pandas (pyarrow) reads the file; one ``executemany`` writes its rows into the
    store's own observations table (the same columns, unique key and indexes) in a new
    SQLite file. ``lean``: as the store writes, the rows in the unique key's order, the
    same page cache (``store.WRITER_CACHE_KIB``) and ``synchronous=NORMAL``, and only the
    three columns that vary bound (the revision and extract as literals); else the rows
    in file order with the driver's defaults (the floor of the earlier runs)."""
    store.connect(f"sqlite:///{database}").dispose()  # the schema, made before the clock starts
    start, cpu = time.perf_counter(), time.process_time()
    frame = pd.read_csv(extract, engine="pyarrow", dtype={"indicator": str, "period": str, "value": float})
    if lean:
        frame = frame.sort_values(["indicator", "period"])
    with sqlite3.connect(database) as conn:
        if lean:
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA cache_size={-store.WRITER_CACHE_KIB}")
        conn.execute(
            "INSERT INTO extracts (id, sha256, file_name, loaded_by, loaded_at, rows_total, rows_new, rows_revised,"
            " rows_unchanged, content) VALUES (1, '', 'floor', 'floor', '2026-01-01', 0, 0, 0, 0, x'')"
        )
        conn.executemany(
            "INSERT INTO observations (indicator, period, revision, value, extract_id) VALUES (?, ?, 1, ?, 1)",
            zip(frame["indicator"].tolist(), frame["period"].tolist(), frame["value"].tolist(), strict=True),
        )
    return time.perf_counter() - start, time.process_time() - cpu


def reload_floor(extract: Path, database: Path) -> tuple[float, float]:
    """The lean pass doing the reload's work: pandas (pyarrow) reads the file, one query
    reads the home area's stored values (every cell the file touches; one revision each
    here), and a merge on (indicator, period) finds the rows whose value is unchanged."""
    start, cpu = time.perf_counter(), time.process_time()
    frame = pd.read_csv(extract, engine="pyarrow", dtype={"indicator": str, "period": str, "value": float})
    with sqlite3.connect(database) as conn:
        stored = pd.DataFrame(
            conn.execute(
                "SELECT indicator, period, revision, value, numerator, denominator, note FROM observations"
                " WHERE area = '' AND breakdown = '' AND \"group\" = ''"
            ).fetchall(),
            columns=["indicator", "period", "revision", "stored", "numerator", "denominator", "note"],
        )
    both = frame.merge(stored, on=["indicator", "period"], how="left")
    unchanged = int((both["value"] == both["stored"]).sum())
    assert unchanged == len(frame), "the reload floor runs on a store holding the file"
    return time.perf_counter() - start, time.process_time() - cpu


def process_start() -> tuple[float, float]:
    """A process that starts and imports the command line, and does nothing."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kpis", "--help"], cwd=ROOT, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--indicators", type=int, default=8_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        catalogue, extract = write_inputs(folder, args.rows, args.indicators)
        start = time.perf_counter()
        load_catalogue(catalogue)
        catalogue_seconds = time.perf_counter() - start
        floor_seconds, floor_cpu = floor(extract, folder / "floor.sqlite")
        plain, plain_cpu = floor(extract, folder / "plain-floor.sqlite", lean=False)
        first, first_cpu, first_out, first_rss = timed_cli(catalogue, extract, folder / "kpis.sqlite")
        again, again_cpu, again_out, again_rss = timed_cli(catalogue, extract, folder / "kpis.sqlite")
        reload, reload_cpu = reload_floor(extract, folder / "kpis.sqlite")
        started, started_cpu = process_start()
        megabytes = extract.stat().st_size / 1e6
    rows = args.rows
    print(f"{rows:,} rows of {args.indicators:,} indicators ({megabytes:.0f} MB)")
    print(f"catalogue of {args.indicators:,} indicators read in {catalogue_seconds:.2f} s")
    print(f"{'step':<34}{'seconds':>9}{'rows/s':>12}{'× floor':>9}{'CPU s':>8}{'× floor':>9}{'peak RSS MB':>13}")
    for name, seconds, cpu, rss in (
        ("floor: pandas read + executemany", floor_seconds, floor_cpu, None),
        ("  the same, file order, defaults", plain, plain_cpu, None),
        ("kpis ingest, empty store", first, first_cpu, first_rss),
        ("kpis ingest, same file again", again, again_cpu, again_rss),
    ):
        print(
            f"{name:<34}{seconds:>9.2f}{rows / seconds:>12,.0f}{seconds / floor_seconds:>9.1f}"
            f"{cpu:>8.2f}{cpu / floor_cpu:>9.1f}" + ("" if rss is None else f"{rss:>13,.0f}")
        )
    print(f"{'reload floor: read + query + merge':<34}{reload:>9.2f}{rows / reload:>12,.0f}{'':>9}{reload_cpu:>8.2f}")
    print(
        f"  the reload against it: {again / reload:.1f}× wall, {again_cpu / reload_cpu:.1f}× CPU;"
        f" process start and imports alone (python -m kpis --help): {started:.2f} s, {started_cpu:.2f} CPU s"
    )
    print(first_out)
    print(again_out)


if __name__ == "__main__":
    main()
