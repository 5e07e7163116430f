"""An officer's monthly load end to end in headless Chromium: a file dropped on the
uploader is previewed, confirmed, and the overview changes; a bad file shows its problems;
a viewer has no officer pages in the menu and is refused them by URL. Each scenario runs
its own ``streamlit run dashboard.py`` on its own database. Screenshots go to
``artifacts/screenshots/``."""

from __future__ import annotations

import socket

import pytest

from kpis import store
from tests.browser import VIEWPORT, running_app, wait_rendered
from tests.test_browser import assert_no_exception, shoot

pytestmark = pytest.mark.browser
# October's non-elective admissions revised from 1,748 to 2,748: the year to date goes
# from 10,318 to 11,318 on the overview's tile.
REVISION = b"indicator,period,value\r\nnel_admissions,2020-10,2748\r\n"
BAD = b"indicator;period;value\r\nnel_admissions;2020-10;2748\r\n"


def drop(page, name: str, content: bytes) -> None:
    """Put a file in the uploader's dropzone, as choosing it in the file dialog does."""
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    wait_rendered(page)


def test_an_officer_uploads_previews_confirms_and_the_overview_changes(page, tmp_path):
    url = f"sqlite:///{tmp_path / 'kpis.sqlite'}"
    with running_app(url, env={"KPIS_LOCAL_ROLE": "officer"}) as base:
        page.goto(base + "/")
        wait_rendered(page)
        main = page.locator("[data-testid='stMain']")
        assert main.get_by_text("10,318", exact=True).count() == 1

        page.locator("[data-testid='stSidebarNav']").get_by_text("Load an extract").click()
        wait_rendered(page)
        drop(page, "bad.csv", BAD)
        main.get_by_text("bad.csv was rejected").wait_for(timeout=30_000)
        wait_rendered(page)
        assert_no_exception(page)
        assert "bad.csv was rejected; nothing was written." in main.inner_text()
        assert main.locator("[data-testid='stDataFrame']").count() == 1  # the problems (drawn on a canvas)
        shoot(page, "upload-rejected")
        assert store.data_version(store.connect(url)) == 3

        drop(page, "october-revision.csv", REVISION)
        main.get_by_text("What october-revision.csv would change").wait_for(timeout=30_000)
        wait_rendered(page)
        assert_no_exception(page)
        text = main.inner_text()
        assert "What october-revision.csv would change" in text
        assert "1 value already stored would be revised" in text
        shoot(page, "upload-preview")
        assert store.data_version(store.connect(url)) == 3  # nothing written before confirming

        drop(page, "ten-megabytes.csv", b"indicator,period,value\r\n" + b"nel_admissions,2020-10,2748\r\n" * 380_000)
        main.get_by_text("ten-megabytes.csv was rejected; nothing was written.").wait_for(timeout=60_000)
        wait_rendered(page)
        shoot(page, "upload-too-large")
        assert store.data_version(store.connect(url)) == 3
        drop(page, "october-revision.csv", REVISION)
        main.get_by_text("What october-revision.csv would change").wait_for(timeout=30_000)
        wait_rendered(page)

        page.get_by_role("button", name="Load 1 change").click()
        main.get_by_text("october-revision.csv: loaded as extract 4").wait_for(timeout=30_000)
        wait_rendered(page)
        assert_no_exception(page)
        shoot(page, "upload-loaded")
        assert store.data_version(store.connect(url)) == 4

        page.locator("[data-testid='stSidebarNav']").get_by_text("Overview").click()
        main.get_by_text("11,318", exact=True).wait_for(timeout=30_000)
        wait_rendered(page)
        assert main.get_by_text("10,318", exact=True).count() == 0

        page.locator("[data-testid='stSidebarNav']").get_by_text("Data status").click()
        main.get_by_text("Download extract 4").wait_for(timeout=30_000)  # the latest extract is offered
        wait_rendered(page)
        assert_no_exception(page)
        shoot(page, "data-status")


def test_a_viewer_has_no_officer_pages(page, tmp_path):
    with running_app(f"sqlite:///{tmp_path / 'kpis.sqlite'}", env={"KPIS_LOCAL_ROLE": "viewer"}) as base:
        page.goto(base + "/")
        wait_rendered(page)
        menu = page.locator("[data-testid='stSidebarNav']").inner_text()
        assert "Overview" in menu
        assert "Load an extract" not in menu and "Data status" not in menu
        for path in ("/upload", "/data-status"):
            page.goto(base + path)
            wait_rendered(page)
            main = page.locator("[data-testid='stMain']")
            assert main.locator("h1").first.inner_text().strip() == "Not available"
            assert "You need the officer role" in main.inner_text()
            assert page.locator("[data-testid='stFileUploader']").count() == 0
        shoot(page, "viewer-refused")


def _outward_address() -> str | None:
    """An address of this machine that is not the loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_without_sign_in_the_app_refuses_other_machines(page, tmp_path):
    outward = _outward_address()
    if outward is None:
        pytest.skip("this machine has no address besides the loopback to connect from")
    with running_app(f"sqlite:///{tmp_path / 'kpis.sqlite'}", address="0.0.0.0") as base:
        page.goto(base + "/")
        wait_rendered(page)
        assert page.locator("[data-testid='stMain'] h1").first.inner_text().strip() != "Not available from this address"
        page.goto(base.replace("127.0.0.1", outward) + "/")
        main = page.locator("[data-testid='stMain']")
        main.get_by_text("Not available from this address").wait_for(timeout=30_000)
        assert page.locator("[data-testid='stSidebarNav']").count() == 0
        assert page.locator("[data-testid='stMetric'], [data-testid='stDataFrame']").count() == 0
        shoot(page, "local-only-refused")


def _proxy_config(tmp_path) -> str:
    path = tmp_path / "access.yaml"
    path.write_text(
        "authentication: proxy\nproxy_header: X-Forwarded-Email\n"
        "roles:\n  officer: ['@perf.example.org']\n  viewer: ['@example.org']\n"
    )
    return str(path)


def test_behind_a_proxy_the_role_comes_from_the_header(browser, tmp_path):
    env = {"KPIS_ACCESS_CONFIG": _proxy_config(tmp_path)}
    with running_app(f"sqlite:///{tmp_path / 'kpis.sqlite'}", env=env) as base:
        for email, menu_has_upload in (("sam@perf.example.org", True), ("director@example.org", False)):
            context = browser.new_context(viewport=VIEWPORT, extra_http_headers={"X-Forwarded-Email": email})
            page = context.new_page()
            page.goto(base + "/")
            wait_rendered(page)
            assert_no_exception(page)
            sidebar = page.locator("[data-testid='stSidebar']").inner_text()
            assert f"Signed in: {email}" in sidebar
            assert ("Load an extract" in sidebar) is menu_has_upload
            context.close()
        context = browser.new_context(viewport=VIEWPORT)  # straight to the app, no proxy in between
        page = context.new_page()
        page.goto(base + "/")
        page.locator("[data-testid='stMain']").get_by_text("Sign-in required").wait_for(timeout=30_000)
        assert page.locator("[data-testid='stSidebarNav']").count() == 0
        context.close()
