"""One page's warm rerun, server side: Streamlit's AppTest (no browser) on the large store
of ``benchmarks/pages.py``, timing reruns of a page after its first run (every
per-data-version cache filled) and counting the elements the page sends.

    python benchmarks/page_rerun.py [--page integrated-summary] [--runs 5] [--indicators 2000] [--years 10]

The browser's part (drawing what is sent) is ``benchmarks/pages.py``'s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.testing.v1 import AppTest  # noqa: E402

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
    parser.add_argument("--page", default="integrated-summary", help="the page's URL path")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--indicators", type=int, default=2000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20201130)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kpis-rerun-") as tmp:
        config, database, what = large_store(Path(tmp), args.indicators, args.years, args.seed)
        os.environ.update({"KPIS_CONFIG": str(config), "KPIS_LOAD_SAMPLE": "0", store.DATABASE_ENV: database})
        print(f"large store: {what}; load average {load_average()}")
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=600).run()
        pages = [h for h, info in at._registered_pages.items() if info.get("url_pathname") == args.page]
        assert pages, f"no page at /{args.page}"
        at._page_hash = pages[0]
        started = time.perf_counter()
        at.run()
        print(f"first run of /{args.page}: {time.perf_counter() - started:.2f} s")
        assert not at.exception, at.exception
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - started)
        main_area = elements(at.main)
        kinds: dict[str, int] = {}
        for element in main_area:
            kinds[element.type] = kinds.get(element.type, 0) + 1
        print(
            f"warm rerun of /{args.page}, {args.runs} runs: median {statistics.median(times):.3f} s "
            f"(min {min(times):.3f}, max {max(times):.3f}); load average {load_average()}"
        )
        print(f"elements in the main area: {len(main_area)}; sidebar: {len(elements(at.sidebar))}")
        print("by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
