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
3. The floor: the leanest pandas pass doing the same work over the same rows
   (``floor_pass``): the same Wilson / Byar's / exact limits as column arithmetic, the
   benchmark's value by a merge, the two comparisons by ``np.select``, and the gaps and
   SII/RII with intervals by the same weighted regression from grouped sums. It trusts
   the rows (no notes, no checks), so the target it sets is, if anything, stricter. The
   check ``same_work`` proves it computes the product's figures (to 1e-9). The old floor
   (the value and one groupby, far less work) is printed as a reference line.
4. Checks before timing: every row has an interval or a note, every complete set an SII,
   the sets with a missing group are exactly those noted, the floor's figures are the product's.
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


def _exact_table(confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson limits of the counts 0..9: a ten-row lookup table, as any lean pass
    would hold them (the floor's only use of the product's code: its gamma quantiles)."""
    return intervals.exact_poisson_limits(np.arange(intervals.EXACT_BELOW, dtype=float), confidence)


def floor_pass(obs: pd.DataFrame, n_groups: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The leanest pandas pass doing the same work: the same intervals (Wilson; Byar's,
    exact below 10), the benchmark's value, the same two comparisons, and the gaps and
    the SII/RII with intervals by the same weighted regression (grouped sums), each
    indicator's transform. Leaner than the product where it may be: it trusts the rows
    (no notes, no checks) and takes each set's groups in row order (most deprived first,
    as made), so the target it sets is, if anything, stricter."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _floor_pass(obs, n_groups)


def _floor_pass(obs: pd.DataFrame, n_groups: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    x, n, scale = (obs[c].to_numpy() for c in ("numerator", "denominator", "scale"))
    wilson = (obs["ci_method"] == "wilson").to_numpy()
    rows = {"value": x / n * scale}
    # each method on its own rows: Wilson for proportions, Byar's (exact below 10) for rates
    xw, nw, sw = x[wilson], n[wilson], scale[wilson]
    xr, per_head = x[~wilson], scale[~wilson] / n[~wilson]
    small = xr < intervals.EXACT_BELOW
    whole = xr[small].astype(int)
    for suffix, z, confidence in (("95", intervals.Z_95, 0.95), ("998", intervals.Z_998, 0.998)):
        root = z * np.sqrt(4 * xw * (1 - xw / nw) + z * z)
        lower, upper = np.empty(len(x)), np.empty(len(x))
        lower[wilson] = np.where(xw > 0, (2 * xw + z * z - root) / (2 * (nw + z * z)), 0.0) * sw
        upper[wilson] = np.where(xw < nw, (2 * xw + z * z + root) / (2 * (nw + z * z)), 1.0) * sw
        x1 = xr + 1
        r_lower = xr * (1 - 1 / (9 * xr) - z / (3 * np.sqrt(xr))) ** 3
        r_upper = x1 * (1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1))) ** 3
        exact_lower, exact_upper = _exact_table(confidence)
        r_lower[small], r_upper[small] = exact_lower[whole], exact_upper[whole]
        lower[~wilson], upper[~wilson] = r_lower * per_head, r_upper * per_head
        rows[f"lower_{suffix}"], rows[f"upper_{suffix}"] = lower, upper
    frame = obs.assign(**rows)

    # the benchmark's value: England's row with the same indicator, period, breakdown and group
    keys = ["indicator", "period", "breakdown", "group"]
    england = frame.loc[frame["area"] == "E92000001", [*keys, "value"]].rename(columns={"value": "benchmark_value"})
    frame["benchmark_value"] = frame[keys].merge(england, on=keys, how="left")["benchmark_value"].to_numpy()
    higher, lower = (frame["direction"] == "higher").to_numpy(), (frame["direction"] == "lower").to_numpy()
    words = pd.Index(comparison.COMPARISON_WORDS)
    above_word = np.where(higher, 0, np.where(lower, 2, 3)).astype(np.int8)  # codes into COMPARISON_WORDS
    below_word = np.where(higher, 2, np.where(lower, 0, 4)).astype(np.int8)
    benchmark_value = frame["benchmark_value"].to_numpy()
    for name, suffix in (("vs_benchmark", "95"), ("vs_benchmark_998", "998")):
        code = np.select(
            [
                np.isnan(benchmark_value),
                frame[f"lower_{suffix}"].to_numpy() > benchmark_value,
                frame[f"upper_{suffix}"].to_numpy() < benchmark_value,
            ],
            [np.int8(5), above_word, below_word],
            np.int8(1),
        )
        frame[name] = pd.Categorical.from_codes(code, categories=words)

    # the SII: population shares a and cumulative midpoints b per set, the value on the
    # indicator's scale (log or logit), its standard error from the 95% limits; then the
    # weighted least squares slope and intercept from grouped sums
    sets = frame.groupby(["indicator", "area", "period"], sort=False).ngroup().to_numpy()
    logit = (frame["sii_transform"] == "logit").to_numpy()
    s = frame["scale"].to_numpy()
    v, lo, hi = (frame[c].to_numpy() for c in ("value", "lower_95", "upper_95"))
    y = np.where(logit, np.log(v / (s - v)), np.log(v))
    width = np.where(logit, np.log(hi * (s - lo) / (lo * (s - hi))), np.log(hi / lo))
    variance = (width / (2 * intervals.Z_95)) ** 2
    population = frame["population"]
    a = population / population.groupby(sets).transform("sum")
    b = a.groupby(sets).cumsum() - a / 2
    terms = pd.DataFrame(
        {
            "a": a,
            "ab": a * b,
            "abb": a * b * b,
            "ay": a * y,
            "aby": a * b * y,
            "ok": np.isfinite(y) & np.isfinite(variance),
        }
    )
    sums = terms.groupby(sets).sum()
    mean_b = sums["ab"]
    sxx = sums["abb"] - mean_b**2
    slope = (sums["aby"] - mean_b * sums["ay"]) / sxx
    intercept = sums["ay"] - slope * mean_b
    centred = b.to_numpy() - mean_b.to_numpy()[sets]
    spread = pd.Series(a.to_numpy() ** 2 * centred**2 * variance).groupby(sets).sum()
    sd = np.sqrt(spread) / sxx
    first = frame.groupby(sets).agg(
        indicator=("indicator", "first"),
        area=("area", "first"),
        period=("period", "first"),
        value_first=("value", "first"),
        value_last=("value", "last"),
        logit=("sii_transform", "first"),
    )
    bent_logit = (first["logit"] == "logit").to_numpy()
    scale_set = frame["scale"].groupby(sets).first().to_numpy()

    def back(t):
        return np.where(bent_logit, scale_set / (1 + np.exp(-t)), np.exp(t))

    at0, at1 = back(intercept), back(intercept + slope)
    middle = intercept + slope / 2
    complete = (sums["ok"] == frame.groupby(sets).size()) & (frame.groupby(sets).size() == n_groups)
    out = pd.DataFrame(
        {
            "indicator": first["indicator"],
            "area": first["area"],
            "period": first["period"],
            "gap_abs": first["value_last"] - first["value_first"],
            "gap_rel": first["value_last"] / first["value_first"],
            "sii": at1 - at0,
            "rii": at1 / at0,
        }
    )
    z = intervals.Z_95
    for end, limit in (("lower", slope - z * sd), ("upper", slope + z * sd)):
        top, bottom = back(middle + limit / 2), back(middle - limit / 2)
        out[f"sii_{end}"] = top - bottom
        out[f"rii_{end}"] = top / bottom
    out.loc[~complete.to_numpy(), "gap_abs":] = np.nan
    return frame, out


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


def groupby_pass(obs: pd.DataFrame) -> pd.DataFrame:
    """The floor used before: the value and one groupby over the sets' keys (first and
    last group) — far less work than the product; kept as a reference line only."""
    value = obs["numerator"] / obs["denominator"] * obs["scale"]
    grouped = obs.assign(value=value).groupby(["indicator", "area", "period"], sort=False)["value"]
    return grouped.agg(["first", "last"])


def same_work(rows: pd.DataFrame, sets: pd.DataFrame, floor_rows: pd.DataFrame, floor_sets: pd.DataFrame) -> list[str]:
    """The floor does the product's work: the same limits, comparisons and SII/RII (with
    limits) on every complete set, to 1e-9 relative."""
    problems = []
    for column in ("lower_95", "upper_95", "lower_998", "upper_998", "benchmark_value"):
        if not np.allclose(rows[column], floor_rows[column], rtol=1e-9, atol=0, equal_nan=True):
            problems.append(f"the floor's {column} differs from the product's")
    for column in ("vs_benchmark", "vs_benchmark_998"):
        if not (rows[column].astype(str).to_numpy() == floor_rows[column].to_numpy()).all():
            problems.append(f"the floor's {column} differs from the product's")
    keys = ["indicator", "area", "period"]
    floor_sets = sets[keys].astype(str).merge(floor_sets.astype({k: str for k in keys}), on=keys, how="left")
    with_sii = sets["sii"].notna().to_numpy()
    if not np.array_equal(with_sii, floor_sets["sii"].notna().to_numpy()):
        problems.append("the floor has an SII for other sets than the product")
    for column in ("gap_abs", "gap_rel", "sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper"):
        if not np.allclose(sets[column][with_sii], floor_sets[column].to_numpy()[with_sii], rtol=1e-9, atol=1e-12):
            problems.append(f"the floor's {column} differs from the product's")
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
    problems = check(obs, rows, sets, args.groups) + same_work(rows, sets, *floor_pass(obs, args.groups))
    print(f"\nChecks: {'all pass' if not problems else '; '.join(problems)}")
    print(f"  vs_benchmark: {rows['vs_benchmark'].value_counts().to_dict()}")
    print(f"  vs_benchmark_998: {rows['vs_benchmark_998'].value_counts().to_dict()}")
    print(f"  sets: {len(sets):,}, with an SII: {int(sets['sii'].notna().sum()):,}")
    notes = sets["note"].astype(str)
    print(f"  notes: {notes[notes != ''].value_counts().head(5).to_dict()}")

    if args.profile:
        profile_to(args.profile, lambda: inequality_pass(obs, groups))

    product, product_runs, _ = median_time(lambda: inequality_pass(obs, groups), args.runs, warmup=1)
    floor, floor_runs, _ = median_time(lambda: floor_pass(obs, args.groups), args.runs, warmup=1)
    bare, _, _ = median_time(lambda: groupby_pass(obs), args.runs, warmup=1)
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
        f"| floor: lean pandas, the same intervals, benchmark merge, 2 comparisons, gaps + SII/RII with "
        f"intervals by grouped sums, over {n} rows (median of {args.runs}) "
        f"| {floor:.3f} | {floor.cpu:.3f} | {len(obs) / floor:,.0f} rows/s | — | info |"
    )
    print(
        f"| reference: value ratio + one groupby(indicator, area, period) first/last (the old floor) "
        f"| {bare:.3f} | {bare.cpu:.3f} | product {product / bare:.2f}x | — | info |"
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
