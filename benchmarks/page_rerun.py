"""Server-side time of a warm rerun of chosen pages, with Streamlit's AppTest (no browser),
on the large store of ``benchmarks/pages.py`` (2,000 monthly + 250 quarterly indicators),
and what each page sends: its elements and its tables' bytes.

    python benchmarks/page_rerun.py [--pages integrated-summary,compare-months,data-status] [--runs 5] [--folder DIR]

The store is made once in ``--folder`` (kept, so a second run, e.g. after a change, reuses it).
Each page is opened, run once to fill the per-data-version caches, then rerun ``--runs``
times; the median and range of those warm reruns are printed. The browser's part (drawing
what is sent) is ``benchmarks/pages.py``'s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.engine import load_average  # noqa: E402
from benchmarks.pages import large_store  # noqa: E402
from kpis import store  # noqa: E402


def elements(node) -> list:
    """Every element under an AppTest node (blocks not counted: they are layout)."""
    children = getattr(node, "children", None)
    if children is None:
        return [node]
    return [leaf for child in children.values() for leaf in elements(child)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--pages", default="integrated-summary,compare-months,data-status", help="URL paths, comma-separated"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--indicators", type=int, default=2000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20201130)
    parser.add_argument("--folder", default="/tmp/kpis-page-rerun")
    args = parser.parse_args()
    folder = Path(args.folder)
    config, database = folder / "kpis.yaml", f"sqlite:///{folder / 'kpis.sqlite'}"
    if not config.exists():
        folder.mkdir(parents=True, exist_ok=True)
        config, database, what = large_store(folder, args.indicators, args.years, args.seed)
        print(f"large store made: {what}")
    os.environ.update({"KPIS_CONFIG": str(config), "KPIS_LOAD_SAMPLE": "0", store.DATABASE_ENV: database})
    from streamlit.testing.v1 import AppTest

    from tests.test_app import open_page

    print(f"load average at start: {load_average()}")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600).run()
    for path in args.pages.split(","):
        open_page(at, path)  # the first run fills the caches
        assert not at.exception, at.exception
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
        sent = sum(frame.proto.ByteSize() for frame in at.dataframe) / 1e6  # what the browser receives and draws
        print(
            f"{path:<20} warm rerun median {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}, {args.runs} runs); "
            f"{len(elements(at.main))} elements in the main area, tables {sent:.2f} MB"
        )
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
