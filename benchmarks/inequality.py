"""Inequality benchmark: intervals, benchmark comparisons and the SII over 1.44M rows,
beside a lean pandas pass over the same rows measured in the same run.

    python benchmarks/inequality.py                       # 200 x 10 x 12 x 60 = 1,440,000 rows
    python benchmarks/inequality.py --indicators 20       # a smoke run
    python benchmarks/inequality.py --profile artifacts/profile-inequality   # + cProfile

What it does:

1. Makes synthetic observations: ``--indicators`` indicators (half proportions with
   Wilson intervals and ``sii_transform: logit``, half rates per 100,000 with Byar's /
   exact intervals and ``log``; directions higher / lower / none) × ``--areas`` areas
   (the first is the benchmark, England) × ``--groups`` ordered deprivation groups ×
   ``--months`` months. Counts rise with deprivation; some are below 10 (exact Poisson
   limits) and a few rows are missing (their area-month has no SII, with a note).
2. The product's pass (``inequality_pass`` below, the order the compare and inequality
   commands will run it): ``intervals.add_intervals`` (95% and 99.8%) →
   ``comparison.add_benchmark`` (the benchmark area's same indicator, period, group) →
   ``comparison.add_comparison`` twice (``vs_benchmark``, ``vs_benchmark_998``) →
   ``inequality.inequality`` (gaps, SII, RII and intervals per indicator, area, month,
   each indicator's own transform and scale).
3. The floor: a lean pandas pass over the same rows — the value as a vectorised ratio
   (numerator / denominator × scale) and a groupby over the same keys (indicator,
   area, period) taking each set's first and last group's value (the gap).
4. Checks before timing: every row has an interval or a note, every complete set an SII,
   the sets with a missing group are exactly those noted.
5. Prints a table: measurement, seconds (wall; CPU alongside), ratio, target, result.
   The target: the product's pass within 3x the floor (median of ``--runs``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.engine import machine, median_time, profile_to, timed  # noqa: E402
from kpis.report import comparison, inequality, intervals  # noqa: E402

TARGET_RATIO = 3.0
KEYS = ("indicator", "area", "period", "breakdown", "group")


def make_observations(n_indicators: int, n_areas: int, n_groups: int, n_months: int, seed: int) -> pd.DataFrame:
    """One row per indicator, area, month and group (most deprived group first), with
    the catalogue's per-indicator settings already joined on, as the compare and
    inequality commands will have them."""
    rng = np.random.default_rng(seed)
    shape = (n_indicators, n_areas, n_months, n_groups)
    ind, area, month, group = (a.ravel() for a in np.indices(shape))
    proportion = np.arange(n_indicators) % 2 == 0
    # populations: an area's size (England's the largest) shared among its groups
    area_size = rng.integers(40_000, 400_000, size=n_areas).astype(float)
    area_size[0] = 5_000_000
    share = rng.uniform(0.7, 1.3, size=(n_areas, n_groups))
    population = np.round(area_size[area] * share[area, group] / n_groups)
    # a level per indicator, rising with deprivation (rank 0 = most deprived)
    rank = (group + 0.5) / n_groups
    noise = rng.uniform(0.9, 1.1, size=ind.size)
    p = rng.uniform(0.02, 0.6, size=n_indicators)[ind] * (1.4 - 0.8 * rank) * noise
    rate = rng.uniform(2e-4, 5e-3, size=n_indicators)[ind] * (1.6 - rank) * noise
    expected = np.where(proportion[ind], np.clip(p, 0.001, 0.95), rate) * population
    numerator = rng.poisson(expected).astype(float)
    frame = pd.DataFrame(
        {
            "indicator": pd.array([f"IND{i:03d}" for i in range(n_indicators)], dtype="str")[ind],
            "area": pd.array(["E92000001"] + [f"E06{a:06d}" for a in range(1, n_areas)], dtype="str")[area],
            "period": pd.array([f"{2021 + m // 12}-{m % 12 + 1:02d}" for m in range(n_months)], dtype="str")[month],
            "breakdown": "imd",
            "group": pd.array([str(g + 1) for g in range(n_groups)], dtype="str")[group],
            "numerator": numerator,
            "denominator": population,
            "population": population,
            # closed sets from the catalogue, joined on per indicator: categoricals
            "ci_method": pd.Categorical(np.where(proportion, "wilson", "byar"))[ind],
            "scale": np.where(proportion, 100.0, 100000.0)[ind],
            "sii_transform": pd.Categorical(np.where(proportion, "logit", "log"))[ind],
            "direction": pd.Categorical(np.array(["higher", "lower", "none", "lower"])[np.arange(n_indicators) % 4])[
                ind
            ],
        }
    )
    # a few rows missing: their area-month gets no SII, and a note naming the group
    missing = rng.random(len(frame)) < 1e-4
    return frame[~missing].reset_index(drop=True)


def inequality_pass(obs: pd.DataFrame, groups: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The compare and inequality commands' statistics, in order."""
    # the keys as categoricals, once: every later grouping and lookup works on their codes
    obs = obs.astype({key: "category" for key in KEYS})
    rows = intervals.add_intervals(obs)
    rows = comparison.add_benchmark(rows, "E92000001")
    rows = comparison.add_comparison(rows, "vs_benchmark", "benchmark_value", suppressed=None)
    rows = comparison.add_comparison(
        rows, "vs_benchmark_998", "benchmark_value", lower="lower_998", upper="upper_998", suppressed=None
    )
    sets = inequality.inequality(rows, groups, transform="sii_transform", scale="scale")
    return rows, sets


def floor_pass(obs: pd.DataFrame) -> pd.DataFrame:
    """A lean pandas pass over the same rows: the value, then a groupby over the same keys."""
    value = obs["numerator"] / obs["denominator"] * obs["scale"]
    grouped = obs.assign(value=value).groupby(["indicator", "area", "period"], sort=False)["value"]
    return grouped.agg(["first", "last"])


def check(obs: pd.DataFrame, rows: pd.DataFrame, sets: pd.DataFrame, n_groups: int) -> list[str]:
    problems = []
    no_interval = rows["lower_95"].isna() & (rows["ci_note"] == "")
    if no_interval.any():
        problems.append(f"{int(no_interval.sum())} rows without an interval or a note")
    complete = sets["groups"] == n_groups
    unexplained = complete & sets["sii"].isna() & (sets["note"] == "")
    if unexplained.any():
        problems.append(f"{int(unexplained.sum())} complete sets without an SII or a note")
    incomplete_noted = sets.loc[~complete, "note"].astype(str).str.endswith("missing")
    if not incomplete_noted.all():
        problems.append("sets with a missing group without a note naming it")
    if (sets.loc[complete, "note"].astype(str).str.endswith("missing")).any():
        problems.append("complete sets noted as missing a group")
    expected_sets = obs.groupby(["indicator", "area", "period"]).ngroups
    if len(sets) != expected_sets:
        problems.append(f"{len(sets)} sets, expected {expected_sets}")
    return problems


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--indicators", type=int, default=200)
    parser.add_argument("--areas", type=int, default=10)
    parser.add_argument("--groups", type=int, default=12)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each pass (median); default 5")
    parser.add_argument("--seed", type=int, default=20240301)
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile stats of one product pass here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    print("Machine")
    for key, value in machine().items():
        print(f"  {key}: {value}")

    seconds, obs = timed(lambda: make_observations(args.indicators, args.areas, args.groups, args.months, args.seed))
    groups = [str(g + 1) for g in range(args.groups)]
    print(
        f"\nSynthetic observations (made in {seconds:.1f} s, seed {args.seed}): {len(obs):,} rows = "
        f"{args.indicators} indicators x {args.areas} areas x {args.groups} groups x {args.months} months "
        f"less {args.indicators * args.areas * args.groups * args.months - len(obs)} missing rows; "
        f"counts below 10: {int((obs['numerator'] < 10).sum()):,}"
    )

    rows, sets = inequality_pass(obs, groups)
    problems = check(obs, rows, sets, args.groups)
    print(f"\nChecks: {'all pass' if not problems else '; '.join(problems)}")
    print(f"  vs_benchmark: {rows['vs_benchmark'].value_counts().to_dict()}")
    print(f"  vs_benchmark_998: {rows['vs_benchmark_998'].value_counts().to_dict()}")
    print(f"  sets: {len(sets):,}, with an SII: {int(sets['sii'].notna().sum()):,}")
    notes = sets["note"].astype(str)
    print(f"  notes: {notes[notes != ''].value_counts().head(5).to_dict()}")

    if args.profile:
        profile_to(args.profile, lambda: inequality_pass(obs, groups))

    product, product_runs, _ = median_time(lambda: inequality_pass(obs, groups), args.runs, warmup=1)
    floor, floor_runs, _ = median_time(lambda: floor_pass(obs), args.runs, warmup=1)
    steps = {}
    keyed = obs.astype({key: "category" for key in KEYS})
    for name, fn in (
        ("keys as categoricals", lambda: obs.astype({key: "category" for key in KEYS})),
        ("add_intervals", lambda: intervals.add_intervals(keyed)),
        ("add_benchmark", lambda: comparison.add_benchmark(rows, "E92000001")),
        (
            "add_comparison x2",
            lambda: comparison.add_comparison(
                comparison.add_comparison(rows, "a", "benchmark_value", suppressed=None),
                "b",
                "benchmark_value",
                lower="lower_998",
                upper="upper_998",
                suppressed=None,
            ),
        ),
        ("inequality", lambda: inequality.inequality(rows, groups, transform="sii_transform", scale="scale")),
    ):
        steps[name] = statistics.median(timed(fn)[0] for _ in range(3))
    print(f"\nproduct pass runs: {', '.join(f'{t:.3f}' for t in product_runs)} s")
    print(f"floor runs: {', '.join(f'{t:.3f}' for t in floor_runs)} s")
    print("product steps (median of 3): " + ", ".join(f"{k} {v:.3f} s" for k, v in steps.items()))

    ratio = product / floor
    ok = ratio <= TARGET_RATIO
    n = f"{len(obs):,}"
    print()
    print("| measurement | seconds | CPU s | rate / ratio | target | result |")
    print("|---|---:|---:|---:|---|---|")
    print(
        f"| floor: value ratio + groupby(indicator, area, period) over {n} rows (median of {args.runs}) "
        f"| {floor:.3f} | {floor.cpu:.3f} | {len(obs) / floor:,.0f} rows/s | — | info |"
    )
    print(
        f"| product: intervals 95% + 99.8%, benchmark lookup, 2 comparisons, gaps + SII/RII with intervals "
        f"for {len(sets):,} sets (median of {args.runs}) | {product:.3f} | {product.cpu:.3f} "
        f"| {len(obs) / product:,.0f} rows/s | — | info |"
    )
    print(
        f"| product / floor | | | {ratio:.2f}x (CPU: {product.cpu / floor.cpu:.2f}x) | ≤ {TARGET_RATIO:.0f}x | {'PASS' if ok else 'FAIL'} |"
    )
    print(f"| checks | | | | all pass | {'PASS' if not problems else 'FAIL'} |")
    print(
        f"\n{time.perf_counter() - started:.0f} s in all; load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if problems:
        return 1
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
