"""Accessibility end to end (issue 19 part 11): axe-core's WCAG 2.2 AA rules over every page
of the running dashboard, as an admin and as a read-only viewer (a director), and over the HTML board pack, failing on any serious or critical
violation; and screenshots of the search, compare months and glossary to look at."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.browser import ROOT, running_app, wait_rendered
from tests.test_browser import assert_no_exception, shoot

pytestmark = pytest.mark.browser

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
FAILING = {"serious", "critical"}
PAGES = {
    "overview": "/",
    "workstream": "/integrated_care",
    "workstream-trends": "/integrated_care?tab=Trends",
    "indicator": "/indicator?id=nel_admissions",
    "integrated-summary": "/integrated-summary",
    "risks": "/risks",
    "export": "/export",
    "compare-areas": "/compare-areas",
    "compare-months": "/compare-months",
    "glossary": "/glossary",
    # the officers' pages (the app runs as an admin; a viewer does not see them)
    "upload": "/upload",
    "data-status": "/data-status",
    "narrative": "/narrative?ws=market",
    "edit-risks": "/edit-risks",
}
OFFICERS_PAGES = {"upload", "data-status", "narrative", "edit-risks"}
VIEWER_PAGES = {name: path for name, path in PAGES.items() if name not in OFFICERS_PAGES}
# Violations inside Streamlit's own widgets that our code cannot reach: (rule, where) and why.
# Streamlit's class names change with each release, so "where" is the widget's stable test id.
EXCLUDED: dict[tuple[str, str], str] = {
    # The sidebar menu's sections: Streamlit puts each section's heading <div> and its links'
    # <li> in one <ul> (streamlit 1.67, SidebarNav); a screen reader still reads every link.
    ("list", "[data-testid='stSidebarNav']"): "Streamlit's menu markup",
    ("listitem", "[data-testid='stSidebarNav']"): "Streamlit's menu markup",
}
INSIDE = "([target, scope]) => { const e = document.querySelector(target); return !!(e && e.closest(scope)); }"


@pytest.fixture(scope="module")
def app_database(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('accessible') / 'kpis.sqlite'}"


@pytest.fixture(scope="module")
def base_url(app_database, browser):
    with running_app(app_database, env={"KPIS_LOCAL_ROLE": "admin"}) as url:
        yield url


@pytest.fixture(scope="module")
def viewer_url(tmp_path_factory, browser):
    """The app as a read-only director sees it (its own store, the sample loaded at first start)."""
    database = f"sqlite:///{tmp_path_factory.mktemp('accessible-viewer') / 'kpis.sqlite'}"
    with running_app(database, env={"KPIS_LOCAL_ROLE": "viewer"}) as url:
        yield url


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical WCAG 2.2 A/AA violations on the page, one line per
    element, less :data:`EXCLUDED`."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in FAILING:
            continue
        for node in violation["nodes"]:
            selector = " ".join(str(t) for t in node["target"])
            if any(rule == violation["id"] and page.evaluate(INSIDE, [selector, scope]) for rule, scope in EXCLUDED):
                continue
            found.append(f"{violation['id']} ({violation['impact']}): {selector}: {node['failureSummary']}")
    return found


def page_violations(page, url: str, name: str) -> list[str]:
    """The serious WCAG 2.2 AA violations on a page, once it (and a Trends tab's chart) is drawn."""
    page.goto(url)
    wait_rendered(page)
    if name.endswith("-trends"):
        page.locator("[data-testid='stPlotlyChart']").first.wait_for(timeout=30_000)
        wait_rendered(page)
    assert_no_exception(page)
    return serious_violations(page)


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_meets_wcag_22_aa(base_url, page, name):
    found = page_violations(page, base_url + PAGES[name], name)
    assert not found, f"{name}:\n" + "\n".join(found)


def test_the_viewers_menu_holds_only_the_pages_checked_for_a_viewer(viewer_url, page, catalogue):
    page.goto(viewer_url)
    wait_rendered(page)
    links = page.locator("[data-testid='stSidebarNav'] a").evaluate_all("links => links.map(a => a.pathname)")
    workstreams = {f"/{w.id}" for w in catalogue.workstreams}  # one page, made for each workstream
    checked = {path.split("?")[0] for path in VIEWER_PAGES.values()}
    assert set(links) - workstreams == checked - workstreams
    assert not {PAGES[name] for name in OFFICERS_PAGES} & set(links)


@pytest.mark.parametrize("name", list(VIEWER_PAGES))
def test_every_page_a_viewer_sees_meets_wcag_22_aa(viewer_url, page, name):
    found = page_violations(page, viewer_url + VIEWER_PAGES[name], name)
    if name in ("overview", "risks", "export"):
        shoot(page, f"viewer-{name}")
    assert not found, f"viewer, {name}:\n" + "\n".join(found)


def test_the_html_board_pack_meets_wcag_22_aa(base_url, app_database, page, tmp_path):
    page.goto(base_url)  # the app's first page view loads the sample into the database
    wait_rendered(page)
    pack = tmp_path / "pack.html"
    subprocess.run(
        [sys.executable, "-m", "kpis", "export", "--format", "html", "--output", str(pack), "--database", app_database],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    page.set_content(pack.read_text(encoding="utf-8"))
    found = serious_violations(page)
    assert not found, "\n".join(found)


def test_screenshots_of_search_compare_months_and_glossary(base_url, page):
    page.goto(base_url + "/")
    wait_rendered(page)
    search = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']", has_text="Find an indicator")
    search.click()
    page.keyboard.type("mofd")
    page.wait_for_timeout(500)
    shoot(page, "search")
    page.keyboard.press("ArrowDown")  # past "Add: mofd" to the first indicator matched
    page.keyboard.press("Enter")
    page.wait_for_url("**/indicator?*", timeout=30_000)
    wait_rendered(page)
    assert "id=mofd_bed_occupancy" in page.url and "as_at=2020-11" in page.url
    assert_no_exception(page)
    for name, title in (("compare-months", "Compare months"), ("glossary", "Glossary")):
        page.goto(base_url + PAGES[name])
        page.locator("h1", has_text=title).wait_for(timeout=30_000)
        wait_rendered(page)
        assert_no_exception(page)
        shoot(page, name)


@pytest.mark.parametrize("name", ["overview", "workstream", "integrated-summary", "compare-months"])
def test_dark_mode_keeps_the_contrast(base_url, browser, name):
    """The app follows the system's dark setting (no ``base`` in .streamlit/config.toml):
    the RAG fills, tiles and badges still read at WCAG AA."""
    from tests.browser import VIEWPORT

    context = browser.new_context(viewport=VIEWPORT, color_scheme="dark")
    try:
        page = context.new_page()
        page.goto(base_url + PAGES[name])
        wait_rendered(page)
        assert (
            page.evaluate("getComputedStyle(document.querySelector('.stApp')).backgroundColor") != "rgb(255, 255, 255)"
        )
        found = serious_violations(page)
        shoot(page, f"dark-{name}")
        assert not found, f"{name}:\n" + "\n".join(found)
    finally:
        context.close()
