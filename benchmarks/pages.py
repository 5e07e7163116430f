"""Page speed, measured side by side in one run against a one-line blank Streamlit page
served the same way, on the sample and on a store at the scale of a whole care system.

    python benchmarks/pages.py [--runs 5] [--indicators 2000] [--years 10] [--stores sample,large] [--only glossary,integrated-summary]

For each store: the first page (a new browser session at "/", browser cache warm) against
the blank page (target: at most 2×), then every page of the app's page table
(``app.navigation.page_table``) opened from the sidebar by a click, as a user moves
about a warm app (target: interactive within 1 s). The large store is 2,000 monthly
indicators (and 250 quarterly ones) over 10 years, made by ``tests/synthetic.py`` and
written the way ``benchmarks/engine.py`` writes it.

Needs Chromium (Debian's ``chromium``) and Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.engine import bulk_insert_core, load_average, make_synthetic  # noqa: E402
from kpis import periods, store  # noqa: E402
from kpis.catalogue import DEFAULT_PATH, Catalogue, Target, load_catalogue  # noqa: E402
from tests.browser import RENDERED, VIEWPORT, chromium, running_app, wait_rendered  # noqa: E402

FIRST_PAGE_RATIO = 2.0  # the first page against the blank page
WARM_SECONDS = 1.0  # any page, opened from the sidebar of a warm app
HEADLINE_TILES = 10  # the large catalogue's headline indicators, as many as the sample's
SETTLED = f"() => ({RENDERED})() && document.querySelector('[data-stale=\"true\"]') === null"


def yaml_target(target: object) -> object:
    """A target as the catalogue's YAML writes it (a synthetic ``Target`` object's years
    and months; its constant only where it has neither)."""
    if not isinstance(target, Target):
        return target
    written = {periods.fy_label(year): value for year, value in target.by_year}
    written.update({periods.to_text(month): value for month, value in target.by_month})
    return written or target.constant


def large_store(folder: Path, indicators: int, years: int, seed: int) -> tuple[Path, str, str]:
    """A synthetic catalogue (YAML) and a SQLite store of ``indicators`` monthly series over
    ``years`` years up to last month; its paths and a line saying what it holds."""
    syn = make_synthetic(indicators, years, 0, periods.current_month() - 1, seed)
    raw = dict(syn.raw, indicators=[dict(entry) for entry in syn.raw["indicators"]])
    for position, entry in enumerate(raw["indicators"]):
        if "target" in entry:
            entry["target"] = yaml_target(entry["target"])
        entry["headline"] = position < HEADLINE_TILES
    config = folder / "kpis.yaml"
    config.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    database = f"sqlite:///{folder / 'kpis.sqlite'}"
    written = bulk_insert_core(store.connect(database), syn)
    what = (
        f"{syn.n_monthly:,} monthly + {syn.n_quarterly:,} quarterly indicators in {len(raw['workstreams'])} "
        f"workstreams, {years} years, {written:,} observations"
    )
    return config, database, what


def time_first_page(browser, url: str, runs: int) -> list[float]:
    """Seconds from navigation start to rendered content, each run a new page (a new
    Streamlit session) in one browser context (its HTTP cache warm); one warm-up run first."""
    timings = []
    context = browser.new_context(viewport=VIEWPORT)
    for run in range(runs + 1):
        page = context.new_page()
        start = time.perf_counter()
        page.goto(url)
        wait_rendered(page, timeout_ms=120_000)
        if run:
            timings.append(time.perf_counter() - start)
        page.close()
    context.close()
    return timings


def time_clicks(browser, base: str, paths: list[str], runs: int) -> dict[str, list[float]]:
    """Seconds from a click on a page's sidebar link to its rendered content, for each
    path, in one session: ``runs`` rounds over every page after one warm-up round. The
    end: the server's message that the page's script has finished, then every element
    drawn (the page alone cannot show that its run has ended: its elements arrive while
    the script runs)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    finished: list[float] = []

    def on_frame(payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            with contextlib.suppress(Exception):  # not a single ForwardMsg: not the end of a run
                if ForwardMsg.FromString(payload).WhichOneof("type") == "script_finished":
                    finished.append(time.perf_counter())

    timings: dict[str, list[float]] = {path: [] for path in paths}
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.on("websocket", lambda socket: socket.on("framereceived", on_frame))
    page.goto(base + "/")
    wait_rendered(page, timeout_ms=120_000)
    port = base.rsplit(":", 1)[1]
    for run in range(runs + 1):
        for path in paths:
            link = page.locator(f'[data-testid="stSidebarNav"] a[href$=":{port}/{path}"]').first
            start = time.perf_counter()
            link.click()
            while not (finished and finished[-1] > start):
                page.wait_for_timeout(10)
            page.wait_for_function(SETTLED, timeout=600_000)
            if run:
                timings[path].append(time.perf_counter() - start)
    context.close()
    return timings


def sidebar_paths(catalogue: Catalogue) -> dict[str, str]:
    """Every page of the app's page table with a link in the sidebar: its URL path and title."""
    from app import navigation  # imports Streamlit: only here

    return {"" if row.default else row.path: row.title for row in navigation.page_table(catalogue) if not row.hidden}


def measure(
    browser, name: str, config: Path, database: str, env: dict, runs: int, skip: list[str], only: list[str]
) -> bool:
    """Both measurements on one store; whether every target was met."""
    catalogue = load_catalogue(config)
    paths = {p: t for p, t in sidebar_paths(catalogue).items() if p not in skip and (not only or p in only)}
    environment = {"KPIS_CONFIG": str(config), **env}
    with (
        running_app(database, env=environment, timeout=120) as app,
        running_app(database, script="benchmarks/blank_page.py") as blank,
    ):
        blank_times = time_first_page(browser, blank + "/", runs)
        first_times = time_first_page(browser, app + "/", runs)
        clicks = time_clicks(browser, app, list(paths), runs)
    blank_median, first_median = statistics.median(blank_times), statistics.median(first_times)
    ratio = first_median / blank_median
    met = ratio <= FIRST_PAGE_RATIO
    print(f"\n{name}: median of {runs} runs after one warm-up; load average now {load_average()}")
    print(f"{'page':<44} {'median s':>9} {'min s':>7} {'max s':>7} {'× blank':>8}  target")
    for label, times in (
        ("blank page (one st.write), new session", blank_times),
        ("first page, new session", first_times),
    ):
        median = statistics.median(times)
        verdict = "" if times is blank_times else ("pass" if met else "over") + f" (≤ {FIRST_PAGE_RATIO:g}× blank)"
        print(
            f"{label:<44} {median:>9.3f} {min(times):>7.3f} {max(times):>7.3f} {median / blank_median:>8.2f}  {verdict}"
        )
    for path, times in clicks.items():
        median = statistics.median(times)
        ok = median <= WARM_SECONDS
        met &= ok
        label = f"click: {paths[path]} (/{path})"[:44]
        print(
            f"{label:<44} {median:>9.3f} {min(times):>7.3f} {max(times):>7.3f} {median / blank_median:>8.2f}  "
            f"{'pass' if ok else 'over'} (≤ {WARM_SECONDS:g} s)"
        )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--indicators", type=int, default=2000, help="monthly indicators of the large store")
    parser.add_argument("--years", type=int, default=10, help="years of history of the large store")
    parser.add_argument("--seed", type=int, default=20201130)
    parser.add_argument("--stores", default="sample,large", help="which stores: sample, large or both")
    parser.add_argument("--skip", default="", help="URL paths of pages not to open, comma-separated")
    parser.add_argument("--only", default="", help="URL paths of the only pages to open, comma-separated")
    args = parser.parse_args()
    only = [p for p in args.only.split(",") if p]
    stores = args.stores.split(",")
    print(f"load average at start: {load_average()}; cores usable: {len(os.sched_getaffinity(0))}")
    met = True
    with tempfile.TemporaryDirectory(prefix="kpis-pages-") as tmp, chromium() as browser:
        if "sample" in stores:
            database = f"sqlite:///{Path(tmp) / 'sample.sqlite'}"
            met &= measure(
                browser,
                "The sample",
                DEFAULT_PATH,
                database,
                {},
                args.runs,
                [p for p in args.skip.split(",") if p],
                only,
            )
        if "large" in stores:
            folder = Path(tmp) / "large"
            folder.mkdir()
            started = time.perf_counter()
            config, database, what = large_store(folder, args.indicators, args.years, args.seed)
            print(f"\nlarge store: {what}; made in {time.perf_counter() - started:.1f} s")
            met &= measure(
                browser,
                "The large store",
                config,
                database,
                {"KPIS_LOAD_SAMPLE": "0"},
                args.runs,
                [p for p in args.skip.split(",") if p],
                only,
            )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
