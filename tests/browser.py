"""Running the real app for browser tests and page benchmarks: ``streamlit run`` on a free
port against a given database, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Screenshots and rendered pages to look at (kept by CI): KPIS_ARTIFACTS to change.
ARTIFACTS = Path(os.environ.get("KPIS_ARTIFACTS", ROOT / "artifacts")) / "screenshots"
VIEWPORT = {"width": 1440, "height": 1100}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Rendered: no placeholder skeletons and no script run in progress.
RENDERED = (
    '() => document.querySelectorAll(\'[data-testid="stMain"] [data-testid="stElementContainer"]\').length > 0'
    " && document.querySelectorAll('[data-testid=\"stSkeleton\"]').length === 0"
    " && document.querySelector('[data-testid=\"stStatusWidget\"] button') === null"
    # and every Plotly chart drawn, not just placed
    " && [...document.querySelectorAll('[data-testid=\"stPlotlyChart\"]')].every(c => c.querySelector('.main-svg'))"
)


def chromium_path() -> str | None:
    return os.environ.get("KPIS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(
    database_url: str,
    script: str = "dashboard.py",
    env: dict | None = None,
    timeout: float = 60,
    address: str = "127.0.0.1",
) -> Iterator[str]:
    """``streamlit run SCRIPT`` on a free port, listening on ``address``; yields its base
    URL (on 127.0.0.1) once healthy."""
    port = free_port()
    environment = {**os.environ, "KPIS_DATABASE_URL": database_url, **(env or {})}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read() if process.stdout else ""
                raise RuntimeError(f"streamlit did not become healthy on {base}:\n{output}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium browser (Playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_rendered(page, timeout_ms: int = 60_000) -> None:
    page.wait_for_timeout(300)  # let the script run start before asking whether it ended
    page.wait_for_function(RENDERED, timeout=timeout_ms)
