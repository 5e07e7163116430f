"""The dashboard end to end in headless Chromium (Debian's), driven by Playwright:
the real ``streamlit run dashboard.py`` on a temporary database. Screenshots of every
page go to ``artifacts/screenshots/`` (``KPIS_ARTIFACTS`` to change), kept by CI."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pptx
import pytest

from kpis import periods, store
from kpis.publish import contents, formats
from tests.browser import ARTIFACTS, running_app, wait_rendered

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_database(tmp_path_factory) -> str:
    """The app's store: a SQLite file the app fills with the sample at its first start."""
    return f"sqlite:///{tmp_path_factory.mktemp('browser') / 'kpis.sqlite'}"


@pytest.fixture(scope="module")
def base_url(app_database, browser):
    """The app, started once Chromium is known to be there (``browser`` skips or fails first)."""
    with running_app(app_database) as url:
        yield url


def shoot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']"
    ).first.inner_text()


def test_every_page_opens_without_an_exception(base_url, page, catalogue):
    paths = {
        "overview": "/",
        "indicator": "/indicator?id=nel_admissions",
        **{w.id: f"/{w.id}" for w in catalogue.workstreams},
        **{f"{w.id}-trends": f"/{w.id}?tab=Trends" for w in catalogue.workstreams},
    }
    for name, path in paths.items():
        page.goto(base_url + path)
        wait_rendered(page)
        assert_no_exception(page)
        assert page.locator("h1").count() >= 1, name
        if name.endswith("-trends"):
            page.locator("[data-testid='stPlotlyChart']").wait_for(timeout=30_000)
            wait_rendered(page)
        assert shoot(page, name).stat().st_size > 10_000


def test_the_trends_tab_opens_on_click(base_url, page):
    page.goto(base_url + "/market")
    wait_rendered(page)
    assert page.locator("[data-testid='stPlotlyChart']").count() == 0
    page.get_by_role("tab", name="Trends").click()
    page.locator("[data-testid='stPlotlyChart']").wait_for(timeout=30_000)
    wait_rendered(page)
    assert_no_exception(page)


def test_overview_shows_the_headline_tiles(base_url, page):
    page.goto(base_url + "/")
    wait_rendered(page)
    main = page.locator("[data-testid='stMain']")
    assert main.get_by_text("10,318", exact=True).count() == 1
    assert main.get_by_text("Target ≤ 13,140", exact=True).count() == 1
    assert main.get_by_text("✔ Green · against target").count() >= 1
    assert "As at M8 2020/21" in main.inner_text()


def test_changing_the_as_at_month_changes_every_page(base_url, page):
    page.goto(base_url + "/")
    wait_rendered(page)
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']", has_text="As at month").click()
    page.get_by_role("option", name="M5 2020/21 (Aug 2020)").click()
    wait_rendered(page)
    assert_no_exception(page)
    main = page.locator("[data-testid='stMain']")
    assert "As at M5 2020/21 (Aug 2020)" in main.inner_text()
    assert "as_at=2020-08" in page.url
    shoot(page, "overview-as-at-2020-08")
    page.locator("[data-testid='stSidebarNav']").get_by_text("Prevention and Early Intervention").click()
    wait_rendered(page)
    assert "As at M5 2020/21" in page.locator("[data-testid='stMain']").inner_text()


def test_a_tile_leads_to_its_indicator_page(base_url, page):
    page.goto(base_url + "/")
    wait_rendered(page)
    tile = page.locator("[class*='st-key-tile-'][class*='-nel_admissions']")
    tile.get_by_text("Trend and definition").click()
    page.wait_for_url(re.compile(r".*/indicator\?.*id=nel_admissions.*"))
    wait_rendered(page)
    assert_no_exception(page)
    main = page.locator("[data-testid='stMain']")
    assert main.locator("h1").first.inner_text().strip() == "Total non-elective admissions"
    assert "Values and revisions" in main.inner_text()
    shoot(page, "indicator-from-tile")


def slide_texts(content: bytes) -> list[list[str]]:
    deck = pptx.Presentation(io.BytesIO(content))
    return [[shape.text_frame.text for shape in slide.shapes if shape.has_text_frame] for slide in deck.slides]


def test_the_export_page_downloads_each_format(base_url, app_database, page, catalogue, tmp_path):
    page.goto(base_url + "/export")
    wait_rendered(page)
    assert_no_exception(page)
    shoot(page, "export")
    engine = store.connect(app_database)
    data = contents.export_data(engine, catalogue, periods.parse_period("2020-11"))
    labels = {
        "csv": "Download CSV",
        "xlsx": "Download Excel workbook",
        "html": "Board pack, HTML",
        "pdf": "Board pack, PDF",
        "pptx": "Board pack, PowerPoint",
    }
    assert set(labels) == set(formats.FORMATS)
    for fmt, label in labels.items():
        with page.expect_download(timeout=60_000) as caught:
            page.get_by_role("button", name=re.compile(label)).click()
        download = caught.value
        assert download.suggested_filename == f"icu-kpis-2020-11.{fmt}"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        expected = formats.export_bytes(data, catalogue, fmt)
        if fmt == "pptx":  # a zip stamped with the time it is written: the same slides, word for word
            assert slide_texts(saved.read_bytes()) == slide_texts(expected)
        else:
            assert saved.read_bytes() == expected
    assert_no_exception(page)
    pack = tmp_path / "icu-kpis-2020-11.html"
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(pack.as_uri())
    assert requested == [pack.as_uri()]  # self-contained: nothing loaded from anywhere else
    shoot(page, "board-pack-html")
    page.emulate_media(media="print")
    shoot(page, "board-pack-html-print")
    page.emulate_media(media="screen")


def test_a_chart_downloads_as_png_and_svg(base_url, page, tmp_path):
    page.goto(base_url + "/indicator?id=nel_admissions")
    wait_rendered(page)
    shoot(page, "indicator-chart-downloads")
    for image_format, magic in (("png", b"\x89PNG\r\n\x1a\n"), ("svg", b"<svg")):
        button = page.get_by_role("button", name=f"Download {image_format.upper()}").first
        with page.expect_download(timeout=60_000) as caught:
            button.click()
        assert caught.value.suggested_filename.endswith(f".{image_format}")
        saved = tmp_path / caught.value.suggested_filename
        caught.value.save_as(saved)
        assert saved.read_bytes().startswith(magic)
        assert len(saved.read_bytes()) > 10_000  # a drawn chart, not an empty picture
    assert_no_exception(page)
