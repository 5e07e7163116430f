"""SPC (Making Data Count) end to end in headless Chromium: the indicator page's SPC chart,
the icons with their words in a workstream's KPI table, and the integrated performance
summary's matrix. Screenshots go to ``artifacts/screenshots/spc-*.png`` (the README's
pictures in ``docs/`` are copies of them)."""

from __future__ import annotations

import re

import pytest

from kpis import periods, store
from kpis.report import integrated
from kpis.report.integrated import ASSURANCE_TEXT, VARIATION_TEXT
from tests.browser import ARTIFACTS, running_app, wait_rendered
from tests.test_browser import assert_no_exception

pytestmark = pytest.mark.browser
AS_AT = periods.parse_period("2020-11")


@pytest.fixture(scope="module")
def app_database(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('browser-spc') / 'kpis.sqlite'}"


@pytest.fixture(scope="module")
def base_url(app_database, browser):
    with running_app(app_database) as url:
        yield url


def engine_table(app_database, catalogue):
    """The engine's table as at Nov 2020 from the app's own store (which the app fills with
    the sample at its first page)."""
    return integrated.report_table(store.current_observations(store.connect(app_database)), catalogue, AS_AT)


def shoot_element(locator, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    locator.screenshot(path=str(path))
    assert path.stat().st_size > 5_000


def test_the_indicator_page_draws_the_spc_chart_with_its_icons_and_rag(base_url, app_database, page, catalogue):
    page.goto(base_url + "/indicator?id=chc_assessments_within_28_days&as_at=2020-11")
    wait_rendered(page)
    assert_no_exception(page)
    table = engine_table(app_database, catalogue)
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("Statistical process control").wait_for()
    row = table.set_index("indicator").loc["chc_assessments_within_28_days"]
    icons = main.locator(".spc-icons")
    assert " ".join(icons.inner_text().split()) == (
        f"{VARIATION_TEXT[row['variation']]} {ASSURANCE_TEXT[row['assurance']]}"
    )
    assert [icons.locator("img").nth(k).get_attribute("alt") for k in range(2)] == [
        f"Variation: {VARIATION_TEXT[row['variation']]}",
        f"Assurance: {ASSURANCE_TEXT[row['assurance']]}",
    ]
    assert main.get_by_text("✖ Red against target (RAG)").count() == 1
    main.get_by_text("Show the 2-sigma lines").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.legendtext')].some(e => e.textContent === 'Upper 2-sigma')",
        timeout=30_000,
    )
    wait_rendered(page)
    chart = main.locator("[data-testid='stPlotlyChart']").nth(1)  # after the history chart
    legend = " ".join(chart.locator(".legendtext").evaluate_all("els => els.map(e => e.textContent)"))
    for name in (
        "Upper process limit",
        "Mean",
        "Lower process limit",
        "Upper 2-sigma",
        "Target",
        "Target ahead (trajectory)",
        "Special cause concern",
    ):
        assert name in legend, name
    shoot_element(main.locator(".st-key-spc-section"), "spc-chart")


def test_a_stepped_trajectory_is_drawn_with_the_months_ahead_dashed(base_url, page):
    page.goto(base_url + "/indicator?id=smi_health_checks&as_at=2020-11")
    wait_rendered(page)
    assert_no_exception(page)
    main = page.locator("[data-testid='stMain']")
    main.get_by_text("Statistical process control").wait_for()
    shoot_element(main.locator(".st-key-spc-section"), "spc-chart-trajectory")


def test_a_workstream_table_shows_the_icons_with_their_words(base_url, app_database, page, catalogue):
    page.goto(base_url + "/integrated_care?as_at=2020-11")
    wait_rendered(page)
    assert_no_exception(page)
    table = engine_table(app_database, catalogue)
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    grid.hover()
    page.mouse.wheel(600, 0)  # to the SPC columns; Period and Indicator stay pinned
    page.wait_for_timeout(500)
    # the grid is drawn on a canvas: its cells are checked through AppTest (tests/test_app.py)
    assert len(table[table["workstream"] == "integrated_care"]) == 14
    shoot_element(grid, "spc-workstream-table")


def test_the_summary_matrix_links_every_indicator_to_its_page(base_url, app_database, page, catalogue):
    page.set_viewport_size({"width": 1440, "height": 2600})  # the whole matrix in one picture
    page.goto(base_url + "/integrated-summary?as_at=2020-11")
    wait_rendered(page)
    assert_no_exception(page)
    table = engine_table(app_database, catalogue)
    main = page.locator("[data-testid='stMain']")
    matrix = integrated.matrix(table)
    assert sorted(i for ids in matrix["indicators"] for i in ids) == sorted(catalogue.indicator_ids)
    for group, assurance, ids in matrix.itertuples(index=False):  # each indicator in its own cell, in report order
        cell = main.locator(f".st-key-matrix-{group.replace('/', '')}-{assurance.replace('/', '')} a")
        hrefs = [cell.nth(k).get_attribute("href") for k in range(cell.count())]
        assert [re.search(r"id=([^&]+)", h).group(1) for h in hrefs] == ids, (group, assurance)
        assert all(h.endswith("&as_at=2020-11") for h in hrefs)
    links = main.locator(".matrix-cell a")
    shoot_element(main, "spc-summary-matrix")
    links.filter(has_text=catalogue.indicator("larc_uptake").display_name).first.click()
    page.wait_for_url(re.compile(r".*/indicator\?.*id=larc_uptake.*"))
    wait_rendered(page)
    assert "Statistical process control" in page.locator("[data-testid='stMain']").inner_text()


def test_the_overview_tiles_show_the_icons_with_their_words(base_url, app_database, page, catalogue):
    page.goto(base_url + "/?as_at=2020-11")
    wait_rendered(page)
    assert_no_exception(page)
    row = engine_table(app_database, catalogue).set_index("indicator").loc["mofd_bed_occupancy"]
    tile = page.locator("[class*='st-key-tile-'][class*='-mofd_bed_occupancy']")
    icons = tile.locator(".tile-spc img")
    assert [icons.nth(k).get_attribute("alt") for k in range(icons.count())] == [
        f"Variation: {VARIATION_TEXT[row['variation']]}",
        f"Assurance: {ASSURANCE_TEXT[row['assurance']]}",
    ]
    assert " ".join(tile.locator(".tile-spc").inner_text().split()) == (
        f"{VARIATION_TEXT[row['variation']]} {ASSURANCE_TEXT[row['assurance']]}"
    )
    shoot_element(page.locator("[data-testid='stMain']"), "spc-overview-tiles")
