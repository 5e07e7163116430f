"""The inequality and benchmarking screens end to end in headless Chromium on the
illustrative sample (loaded at first start): the indicator's Inequalities tab, Compare
areas and the workstream table's "vs England" and "Inequality" columns, each kept as a
screenshot in ``artifacts/screenshots/`` and, with ``KPIS_DOCS_SCREENSHOTS=1``, in
``docs/inequality-*.png``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, running_app, wait_rendered

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory, browser):
    with running_app(f"sqlite:///{tmp_path_factory.mktemp('inequality') / 'kpis.sqlite'}") as url:
        yield url


def shoot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"inequality-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("KPIS_DOCS_SCREENSHOTS") == "1":
        shutil.copyfile(path, DOCS / path.name)
    return path


def no_exception(page) -> None:
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()


def test_the_inequalities_tab(base_url, page):
    page.set_viewport_size({"width": 1440, "height": 2300})  # the whole tab in one screenshot
    page.goto(base_url + "/indicator?id=larc_uptake&tab=Inequalities")
    wait_rendered(page)
    page.locator("[data-testid='stPlotlyChart']").nth(2).wait_for(timeout=60_000)
    wait_rendered(page)
    no_exception(page)
    main = page.locator("[data-testid='stMain']").inner_text()
    assert "a gap of 18.1 percentage points between the most and least deprived" in main
    assert "Deprivation (IMD quintile), M7 2020/21" in main
    assert page.locator("[data-testid='stPlotlyChart']").count() == 3  # groups, the SII over time, each group
    assert shoot(page, "tab").stat().st_size > 20_000


def test_compare_areas(base_url, page):
    page.goto(base_url + "/compare-areas")
    wait_rendered(page)
    page.locator("[data-testid='stPlotlyChart']").wait_for(timeout=60_000)
    wait_rendered(page)
    no_exception(page)
    main = page.locator("[data-testid='stMain']")
    assert "Compare areas" in main.inner_text()
    assert shoot(page, "compare-areas").stat().st_size > 20_000


def test_the_workstream_table_gains_vs_england_and_inequality(base_url, page):
    page.set_viewport_size({"width": 1800, "height": 1300})  # the board table is wide
    page.goto(base_url + "/prevention")
    wait_rendered(page)
    no_exception(page)
    main = page.locator("[data-testid='stMain']").inner_text()
    assert "vs England: the latest figure against England's" in main
    assert shoot(page, "workstream-table").stat().st_size > 20_000
