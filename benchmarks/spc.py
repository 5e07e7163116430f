"""SPC benchmark: the XmR charts, special causes and icons of 2,000 indicators × 120 months,
beside a floor measured in the same run, and checked against a point-by-point reference.

    python benchmarks/spc.py                          # 2,000 indicators x 120 months
    python benchmarks/spc.py --indicators 200         # smoke run
    python benchmarks/spc.py --profile artifacts/profile   # + a cProfile dump of one SPC run

What it does, in order:

1. Makes synthetic observations (as ``store.current_observations`` returns them: sorted,
   ``indicator`` categorical): ``--indicators`` series of ``--months`` monthly values, one
   decimal (so ties and points exactly on the mean occur), with level shifts, trends and
   outliers so every rule fires; some series have gaps, withdrawn values (NaN) or only a
   few months (trial limits, a single point). Settings vary by indicator: rebases,
   ``fix_after``, ``screen_outliers: false``, run lengths 6 and 8; directions higher,
   lower and none; targets for the latest month.
2. Times the floor (median of ``--runs``): the leanest pandas pass over the same frame, a
   grouped mean of the values and a grouped diff/abs/mean (the mean and the average
   moving range of every series, nothing else).
3. Times ``spc_points`` and ``spc_summary`` (median of ``--runs`` after a warm-up).
4. Computes the same charts point by point in plain Python (``reference_points`` below:
   loops and lists, no numpy) and compares segment, mean, limits, rule and point type of
   every point, and the icons of every indicator, before anything is timed.
5. Prints a table: measurement, seconds (wall; CPU alongside), ratio, target, result.

Exit status: 1 if the engine and the reference disagree; else 0 (``--strict``: also 1 when
the target is missed).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.engine import Row, load_average, machine, median_time, print_table, profile_to, verdict  # noqa: E402
from kpis import periods  # noqa: E402
from kpis.catalogue import SpcSettings  # noqa: E402
from kpis.report.spc import spc_points, spc_summary  # noqa: E402

TARGET_SECONDS = 1.0
LAST = periods.month_index(2025, 10)
FLOAT_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------


def make_data(
    n: int, months: int, seed: int
) -> tuple[pd.DataFrame, dict[str, str], dict[str, SpcSettings], pd.DataFrame, dict[str, int]]:
    """Observations, directions, settings, targets and counts of what was made."""
    rng = np.random.default_rng(seed)
    first = LAST - months + 1
    ids = [f"kpi_{i:05d}" for i in range(n)]
    t = np.arange(months)
    level = rng.uniform(10, 1000, n)
    sd = level * rng.uniform(0.02, 0.2, n)
    values = level[:, None] + sd[:, None] * rng.standard_normal((n, months))
    u = rng.random(n)
    step_at = rng.integers(months // 4, months - 6, n)
    shifted = u < 0.25
    values += np.where(shifted[:, None] & (t[None, :] >= step_at[:, None]), 1.5 * sd[:, None], 0.0)
    trending = (u >= 0.25) & (u < 0.35)
    values += np.where(trending[:, None], sd[:, None] * 0.05 * t[None, :], 0.0)
    outliers = rng.random((n, months)) < 0.01
    values += np.where(outliers, 5 * sd[:, None] * rng.choice([-1, 1], (n, months)), 0.0)
    values = np.round(values, 1)
    present = np.ones((n, months), dtype=bool)
    gaps = rng.random(n) < 0.03
    present[gaps] &= rng.random((int(gaps.sum()), months)) > 0.1
    withdrawn = (rng.random((n, months)) < 0.002) & present
    values[withdrawn] = np.nan
    short = rng.choice(n, max(1, n // 100), replace=False)
    for k, s in enumerate(short):  # late starters: trial limits, and a few single points
        present[s, : months - (1 if k % 5 == 0 else int(rng.integers(2, 12)))] = False

    rows, cols = np.nonzero(present)
    observations = pd.DataFrame(
        {
            "indicator": pd.Categorical.from_codes(rows, categories=pd.Index(ids, dtype="str")),
            "period": first + cols,
            "value": values[rows, cols],
        }
    )
    direction_of = rng.choice(["higher", "lower", "none"], n, p=[0.45, 0.45, 0.10])
    directions = dict(zip(ids, direction_of.tolist(), strict=True))
    settings: dict[str, SpcSettings] = {}
    kind = rng.random(n)
    for i, name in enumerate(ids):
        if kind[i] < 0.10 and shifted[i]:
            settings[name] = SpcSettings(rebase=[periods.to_text(first + int(step_at[i]))])
        elif kind[i] < 0.20:
            settings[name] = SpcSettings(fix_after=int(rng.integers(12, 25)))
        elif kind[i] < 0.25:
            settings[name] = SpcSettings(screen_outliers=False)
        elif kind[i] < 0.35:
            run = int(rng.choice([6, 8]))
            settings[name] = SpcSettings(shift=run, trend=run, min_points=int(rng.choice([6, 12, 20])))
    with_target = direction_of != "none"
    targets = pd.DataFrame(
        {
            "indicator": np.array(ids)[with_target],
            "period": LAST,
            "target": np.round(level[with_target] * rng.uniform(0.7, 1.3, int(with_target.sum())), 1),
        }
    )
    counts = {
        "observations": len(observations),
        "points": int(observations["value"].notna().sum()),
        "level shifts": int(shifted.sum()),
        "trends": int(trending.sum()),
        "with gaps": int(gaps.sum()),
        "withdrawn values": int(withdrawn.sum()),
        "late starters": len(short),
        "rebased": sum(bool(s.rebase) for s in settings.values()),
        "fix_after": sum(s.fix_after is not None for s in settings.values()),
        "unscreened": sum(not s.screen_outliers for s in settings.values()),
        "other run lengths": sum(s.shift != 7 for s in settings.values()),
    }
    return observations, directions, settings, targets, counts


# --------------------------------------------------------------------------------------
# Reference: the same charts point by point, in plain Python
# --------------------------------------------------------------------------------------


def _reference_series(points: list[tuple[int, float]], settings: SpcSettings, direction: str) -> list[dict]:
    rebases = settings.rebase_months
    segments: list[list[tuple[int, float]]] = []
    previous = None
    for month, value in points:
        if previous is None or any(previous < r <= month for r in rebases):
            segments.append([])
        segments[-1].append((month, value))
        previous = month
    out = []
    for number, segment in enumerate(segments, start=1):
        ys = [v for _, v in segment]
        base = ys[: settings.fix_after] if settings.fix_after else ys
        ranges = [abs(base[i] - base[i - 1]) for i in range(1, len(base))]
        if len(ys) < 2:
            mean = lower = upper = lower2 = upper2 = math.nan
        else:
            mean = sum(base) / len(base)
            amr = sum(ranges) / len(ranges)
            if settings.screen_outliers and amr > 0:
                kept = [r for r in ranges if r < 3.267 * amr]
                amr = sum(kept) / len(kept)
            upper, lower = mean + 2.66 * amr, mean - 2.66 * amr
            upper2, lower2 = mean + 2 * (2.66 / 3) * amr, mean - 2 * (2.66 / 3) * amr
        k = len(ys)
        side = [0 if math.isnan(mean) else (1 if y > mean else -1 if y < mean else 0) for y in ys]
        astro = [y > upper or y < lower for y in ys]
        close = [not astro[i] and (ys[i] > upper2 or ys[i] < lower2) for i in range(k)]
        shift = [False] * k
        i = 0
        while i < k:
            j = i
            while j + 1 < k and side[j + 1] == side[i]:
                j += 1
            if side[i] != 0 and j - i + 1 >= settings.shift:
                shift[i : j + 1] = [True] * (j - i + 1)
            i = j + 1
        trend, trend_side = [False] * k, [0] * k
        i = 0
        while i < k - 1:
            step = (ys[i + 1] > ys[i]) - (ys[i + 1] < ys[i])
            j = i + 1
            while step and j + 1 < k and (ys[j + 1] > ys[j]) - (ys[j + 1] < ys[j]) == step:
                j += 1
            if step and j - i + 1 >= settings.trend:
                for p in range(i, j + 1):  # a later run overwrites the point it shares
                    trend[p], trend_side[p] = True, step
            i = j if step else i + 1
        two = [False] * k
        for i in range(k - 2):
            s = side[i]
            if s and side[i + 1] == s and side[i + 2] == s and sum(close[i : i + 3]) >= 2:
                for p in range(i, i + 3):
                    two[p] = two[p] or close[p]
        for i in range(k):
            if astro[i]:
                special = side[i]
            elif trend[i]:
                special = trend_side[i]
            elif two[i] or shift[i]:
                special = side[i]
            else:
                special = 0
            if not special:
                point_type = "common_cause"
            elif direction == "none":
                point_type = "special_cause_neutral"
            elif (special > 0) == (direction == "higher"):
                point_type = "special_cause_improvement"
            else:
                point_type = "special_cause_concern"
            rule = ";".join(
                name
                for name, hit in zip(
                    ("astronomical", "shift", "trend", "two_of_three"),
                    (astro[i], shift[i], trend[i], two[i]),
                    strict=True,
                )
                if hit
            )
            out.append(
                {
                    "period": segment[i][0],
                    "segment": number,
                    "mean": mean,
                    "lower": lower,
                    "upper": upper,
                    "rule": rule,
                    "point_type": point_type,
                }
            )
    return out


def reference_points(observations: pd.DataFrame, directions: dict, settings: dict) -> pd.DataFrame:
    series: dict[str, list[tuple[int, float]]] = {}
    for indicator, month, value in zip(
        observations["indicator"].astype(str), observations["period"], observations["value"], strict=True
    ):
        if not math.isnan(value):
            series.setdefault(indicator, []).append((int(month), float(value)))
    rows = []
    for indicator in sorted(series):
        for row in _reference_series(
            sorted(series[indicator]), settings.get(indicator, SpcSettings()), directions.get(indicator, "none")
        ):
            rows.append({"indicator": indicator, **row})
    return pd.DataFrame(rows)


def compare(points: pd.DataFrame, reference: pd.DataFrame) -> list[str]:
    """Differing cells, as text (empty: the engine and the reference agree)."""
    problems = []
    if len(points) != len(reference):
        return [f"{len(points)} points, the reference {len(reference)}"]
    engine = points.astype({"indicator": str, "rule": str, "point_type": str}).reset_index(drop=True)
    for column in ("indicator", "period", "segment", "rule", "point_type"):
        differ = engine[column].to_numpy() != reference[column].to_numpy()
        problems += [
            f"{engine['indicator'][i]} {periods.to_text(int(engine['period'][i]))} {column}:"
            f" {engine[column][i]!r} != {reference[column][i]!r}"
            for i in np.flatnonzero(differ)[:10]
        ]
    for column in ("mean", "lower", "upper"):
        a, b = engine[column].to_numpy(), reference[column].to_numpy(dtype=float)
        same = (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= FLOAT_TOLERANCE * np.maximum(1.0, np.abs(b)))
        problems += [f"{engine['indicator'][i]} {column}: {a[i]} != {b[i]}" for i in np.flatnonzero(~same)[:10]]
    return problems


# --------------------------------------------------------------------------------------
# Run
# --------------------------------------------------------------------------------------


def floor(observations: pd.DataFrame) -> pd.DataFrame:
    """The leanest pandas pass: each series' mean and average moving range."""
    grouped = observations.groupby("indicator", observed=True, sort=False)["value"]
    mean = grouped.mean()
    moving_range = grouped.diff().abs()
    amr = moving_range.groupby(observations["indicator"], observed=True, sort=False).mean()
    return pd.DataFrame({"mean": mean, "amr": amr})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--indicators", type=int, default=2000, help="series; default 2000")
    parser.add_argument("--months", type=int, default=120, help="months per series; default 120")
    parser.add_argument("--runs", type=int, default=7, help="timed runs (median); default 7")
    parser.add_argument("--seed", type=int, default=20201130)
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile stats of one SPC run here")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    print("Machine")
    for key, value in machine().items():
        print(f"  {key}: {value}")

    observations, directions, settings, targets, counts = make_data(args.indicators, args.months, args.seed)
    print(f"\nSynthetic data: {args.indicators:,} indicators x {args.months} months (seed {args.seed})")
    print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))

    def run() -> pd.DataFrame:
        return spc_summary(spc_points(observations, settings, directions, targets))

    points = spc_points(observations, settings, directions, targets)
    summary = spc_summary(points)
    print(f"  point types: {points['point_type'].value_counts().to_dict()}")
    print(f"  rules: {points['rule'].astype(str).replace('', '(none)').value_counts().head(8).to_dict()}")
    print(f"  variation: {summary['variation'].value_counts().to_dict()}")
    print(f"  assurance: {summary['assurance'].value_counts().to_dict()}")
    print(f"  trial limits: {int(summary['spc_trial'].sum())} indicators")

    check_started = time.perf_counter()
    reference = reference_points(observations, directions, settings)
    problems = compare(points, reference)
    print(
        f"\nReference (point by point, {time.perf_counter() - check_started:.1f} s): {len(reference):,} points,"
        f" {len(problems)} differing cells"
    )
    for problem in problems[:20]:
        print(f"  {problem}")

    rows: list[Row] = []
    floor_time, _, _ = median_time(lambda: floor(observations), args.runs, warmup=1)
    points_time, _, _ = median_time(
        lambda: spc_points(observations, settings, directions, targets), args.runs, warmup=1
    )
    summary_time, _, _ = median_time(lambda: spc_summary(points), args.runs, warmup=1)
    total_time, runs, _ = median_time(run, args.runs, warmup=1)
    print(f"\nspc_points + spc_summary: runs {', '.join(f'{t:.3f}' for t in runs)} s")
    size = f"{args.indicators:,} indicators x {args.months} months, {counts['points']:,} points"
    rows += [
        Row(
            f"floor: grouped mean + grouped diff/abs/mean ({size}; median of {args.runs})",
            floor_time,
            "1.0×",
            "—",
            "info",
        ),
        Row(f"spc_points (median of {args.runs})", points_time, f"{points_time / floor_time:.1f}×", "—", "info"),
        Row(f"spc_summary (median of {args.runs})", summary_time, f"{summary_time / floor_time:.1f}×", "—", "info"),
        Row(
            f"SPC: spc_points + spc_summary (median of {args.runs})",
            total_time,
            f"{total_time / floor_time:.1f}× the floor",
            f"< {TARGET_SECONDS:g} s",
            verdict(total_time < TARGET_SECONDS),
        ),
        Row(
            "check: engine == point-by-point reference",
            None,
            f"{len(problems)} cells differ",
            "0",
            verdict(not problems),
        ),
    ]
    if args.profile:
        profile_to(args.profile / "spc.pstats", run)
    print(f"\nResults (total run {time.perf_counter() - started:.0f} s; load average at the end {load_average()})\n")
    print_table(rows)
    if problems:
        print("\nCHECK FAILED: the engine and the reference disagree")
        return 1
    if total_time >= TARGET_SECONDS:
        print("\nTarget missed")
        return 1 if args.strict else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
