"""Page speed, measured side by side in one run: the browser time from navigation to
rendered content for the overview and a workstream page, and for a one-line blank
Streamlit page served the same way. Target: at most 2× the blank page.

    python benchmarks/pages.py [--runs 7]

Needs Chromium (Debian's ``chromium``) and Playwright (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import VIEWPORT, chromium, running_app, wait_rendered  # noqa: E402

TARGET_RATIO = 2.0
PAGES = {
    "blank page (one st.write)": ("blank", "/"),
    "overview": ("app", "/"),
    "workstream (Integrated Care, KPI table)": ("app", "/integrated_care"),
    "workstream, Trends tab (one Plotly figure)": ("app", "/integrated_care?tab=Trends"),
    "indicator (whole history, one Plotly figure)": ("app", "/indicator?id=nel_admissions"),
}
MEASURED = ("overview", "workstream (Integrated Care, KPI table)")


def time_page(browser, url: str, runs: int, warm: bool) -> list[float]:
    """Seconds from navigation start to rendered content; one warm-up run first, not
    counted. Every run is a new page, so a new Streamlit session. ``warm``: the runs
    share one browser context, so its HTTP cache (a returning user); otherwise each run
    has a fresh context (a first visit: every script bundle fetched and parsed)."""
    timings = []
    shared = browser.new_context(viewport=VIEWPORT) if warm else None
    for run in range(runs + 1):
        context = shared or browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        start = time.perf_counter()
        page.goto(url)
        wait_rendered(page, timeout_ms=60_000)
        elapsed = time.perf_counter() - start
        page.close()
        if not warm:
            context.close()
        if run:
            timings.append(elapsed)
    if shared:
        shared.close()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{Path(tmp) / 'kpis.sqlite'}"
        with (
            chromium() as browser,
            running_app(database) as app,
            running_app(database, script="benchmarks/blank_page.py") as blank,
        ):
            bases = {"app": app, "blank": blank}
            for warm, title in (
                (True, "Returning visit (browser cache warm)"),
                (False, "First visit (fresh browser context, cold cache)"),
            ):
                results = {
                    name: time_page(browser, bases[server] + path, args.runs, warm)
                    for name, (server, path) in PAGES.items()
                }
                failed |= report(title, results, args.runs)
    return 1 if failed else 0


def report(title: str, results: dict[str, list[float]], runs: int) -> bool:
    blank_median = statistics.median(results["blank page (one st.write)"])
    print(f"\n{title}: median of {runs} runs each, after one warm-up run; a new Streamlit session per run.")
    print(f"{'page':<42} {'median s':>9} {'min s':>7} {'max s':>7} {'× blank':>8}  target")
    failed = False
    for name, timings in results.items():
        median = statistics.median(timings)
        ratio = median / blank_median
        verdict = ("pass" if ratio <= TARGET_RATIO else "over") + f" (≤ {TARGET_RATIO:g}×)" if name in MEASURED else ""
        failed |= name in MEASURED and ratio > TARGET_RATIO
        print(f"{name:<42} {median:>9.3f} {min(timings):>7.3f} {max(timings):>7.3f} {ratio:>8.2f}  {verdict}")
    return failed


if __name__ == "__main__":
    sys.exit(main())
