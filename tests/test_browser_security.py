"""The security promises a user sees, end to end in headless Chromium (docs/security.md):
a file name written as Markdown stays text for every user; two officers editing one
commentary lose nothing; a forged or repeated sign-in header is refused. Screenshots go
to ``artifacts/screenshots/``."""

from __future__ import annotations

import re

import pytest

from tests.browser import VIEWPORT, running_app, wait_rendered
from tests.test_browser import assert_no_exception, shoot
from tests.test_browser_upload import REVISION, drop

pytestmark = pytest.mark.browser
PHISHING_NAME = "[Session expired - sign in again](https://evil.example/login).csv"


def as_shown(text: str) -> re.Pattern:
    """A pattern for ``text`` as the page shows it (see :func:`shown_text`)."""
    return re.compile(re.escape(text).replace("://", ":\u2060?//"))


def shown_text(locator) -> str:
    """The text as a reader sees it: without the invisible word joiners that keep a web
    address in plain text from becoming a link (app.ui.plain)."""
    return locator.inner_text().replace("\u2060", "")


def test_a_file_name_written_as_markdown_stays_text_everywhere(browser, tmp_path):
    url = f"sqlite:///{tmp_path / 'kpis.sqlite'}"
    with running_app(url, env={"KPIS_LOCAL_ROLE": "officer"}) as base:
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(base + "/upload")
        wait_rendered(page)
        main = page.locator("[data-testid='stMain']")
        drop(page, PHISHING_NAME, REVISION)
        main.get_by_text(as_shown(f"What {PHISHING_NAME} would change")).wait_for(timeout=30_000)
        wait_rendered(page)
        page.get_by_role("button", name="Load 1 change").click()
        main.get_by_text(as_shown(f"{PHISHING_NAME}: loaded as extract 4")).wait_for(timeout=30_000)
        wait_rendered(page)
        assert_no_exception(page)
        found = main.locator("a[href*='evil.example'], img")
        assert found.count() == 0, found.first.evaluate(
            "e => e.closest('[data-testid=stElementContainer]').outerHTML.slice(0, 1500)"
        )

        for path in ("/", "/market"):  # every page's sidebar, for every user
            page.goto(base + path)
            wait_rendered(page)
            sidebar = page.locator("[data-testid='stSidebar']")
            assert f"({PHISHING_NAME})" in shown_text(sidebar)
            assert (
                sidebar.locator(
                    "[data-testid='stSidebarUserContent'] a, [data-testid='stSidebarUserContent'] img"
                ).count()
                == 0
            )
            assert page.locator("a[href*='evil.example']").count() == 0
        shoot(page, "markdown-file-name-as-text")
        page.context.close()
