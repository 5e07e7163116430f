"""The board's words end to end in headless Chromium: an officer writes a workstream's
commentary, and a director (another user, signed in at a proxy) reads it on the
workstream page and in the board pack they download; the risk register as each sees it.
Screenshots go to ``artifacts/screenshots/``."""

from __future__ import annotations

import re

import pytest

from tests.browser import VIEWPORT, running_app, wait_rendered
from tests.test_browser import assert_no_exception, shoot
from tests.test_browser_upload import _proxy_config

pytestmark = pytest.mark.browser
OFFICER, DIRECTOR = "sam@perf.example.org", "director@example.org"
TEXT = "Home care hours **up 11%** since April 2019.\n\n- Provider failure protocol under review\n- <b>not bold</b>"


def signed_in(browser, email: str):
    context = browser.new_context(
        viewport=VIEWPORT, extra_http_headers={"X-Forwarded-Email": email}, accept_downloads=True
    )
    return context, context.new_page()


def test_an_officer_writes_a_commentary_and_a_director_reads_it_on_the_page_and_in_the_pack(browser, tmp_path):
    env = {"KPIS_ACCESS_CONFIG": _proxy_config(tmp_path)}
    with running_app(f"sqlite:///{tmp_path / 'kpis.sqlite'}", env=env) as base:
        context, page = signed_in(browser, OFFICER)
        page.goto(base + "/narrative?ws=market")
        wait_rendered(page)
        assert_no_exception(page)
        editor = page.get_by_label("Commentary (Markdown)")
        editor.fill(TEXT)
        editor.press("Tab")  # leaves the box: Streamlit takes the value
        preview = page.locator("[data-testid='stMain'] .commentary strong", has_text="up 11%")
        preview.wait_for(timeout=30_000)  # the preview, after Streamlit's rerun
        wait_rendered(page)
        shoot(page, "narrative-edit")
        page.get_by_role("button", name="Save commentary").click()
        page.get_by_text("Saved version 2 of the Managing and Developing the Market commentary").wait_for(
            timeout=30_000
        )
        assert_no_exception(page)
        context.close()

        context, page = signed_in(browser, DIRECTOR)
        page.goto(base + "/market")
        wait_rendered(page)
        assert_no_exception(page)
        progress = page.locator("[class*='st-key-progress-market']")
        assert progress.locator("strong", has_text="up 11%").count() == 1
        assert "<b>not bold</b>" in progress.inner_text()  # raw HTML shows as text
        assert f"saved by {OFFICER}" in progress.inner_text()
        assert "Write progress" not in page.locator("[data-testid='stSidebar']").inner_text()
        shoot(page, "narrative-on-workstream-page")
        page.goto(base + "/narrative")
        page.get_by_text("Not available").wait_for(timeout=30_000)

        page.goto(base + "/export")
        wait_rendered(page)
        with page.expect_download(timeout=60_000) as caught:
            page.get_by_role("button", name=re.compile("Board pack, HTML")).click()
        pack = tmp_path / caught.value.suggested_filename
        caught.value.save_as(pack)
        html = pack.read_text(encoding="utf-8")
        assert "Home care hours <strong>up 11%</strong> since April 2019." in html
        assert "&lt;b&gt;not bold&lt;/b&gt;" in html
        page.goto(pack.as_uri())
        page.locator("#progress").scroll_into_view_if_needed()
        shoot(page, "board-pack-with-narrative")
        context.close()


def test_the_risk_register_for_a_director_and_an_officer(browser, tmp_path):
    env = {"KPIS_ACCESS_CONFIG": _proxy_config(tmp_path)}
    with running_app(f"sqlite:///{tmp_path / 'kpis.sqlite'}", env=env) as base:
        context, page = signed_in(browser, DIRECTOR)
        page.goto(base + "/risks")
        wait_rendered(page)
        assert_no_exception(page)
        main = page.locator("[data-testid='stMain']")
        # judged at the as-at month's end, as the pack does: the sample's review of 20 Nov 2020 is past
        main.get_by_text("1 open risk was past its review date on 30 Nov 2020.").wait_for(timeout=30_000)
        assert "Add or edit risks" not in main.inner_text()
        shoot(page, "risks-director")
        page.goto(base + "/edit-risks")
        page.get_by_text("Not available").wait_for(timeout=30_000)
        context.close()

        context, page = signed_in(browser, OFFICER)
        page.goto(base + "/edit-risks?risk=2")
        wait_rendered(page)
        assert_no_exception(page)
        assert page.get_by_label("Description of risk/issue").input_value().startswith("There is a risk that")
        shoot(page, "risks-edit-officer")
        context.close()
