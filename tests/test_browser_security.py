"""The security promises a user sees, end to end in headless Chromium (docs/security.md):
a file name written as Markdown stays text for every user; two officers editing one
commentary lose nothing; a forged or repeated sign-in header is refused. Screenshots go
to ``artifacts/screenshots/``."""

from __future__ import annotations

import re
import socket
import threading
from contextlib import contextmanager, suppress

import pytest

from kpis import periods, sample, store
from kpis.governance import narrative
from tests.browser import VIEWPORT, running_app, wait_rendered
from tests.test_browser import assert_no_exception, shoot
from tests.test_browser_upload import REVISION, _outward_address, _proxy_config, drop

pytestmark = pytest.mark.browser
NOV = periods.parse_period("2020-11")
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


def _officer(browser, email: str):
    context = browser.new_context(viewport=VIEWPORT, extra_http_headers={"X-Forwarded-Email": email})
    return context, context.new_page()


def _write(page, text: str) -> None:
    editor = page.get_by_label("Commentary (Markdown)")
    editor.fill(text)
    editor.press("Tab")  # leaves the box: Streamlit takes the value
    wait_rendered(page)


def test_two_officers_edit_one_commentary_and_neither_text_is_lost(browser, tmp_path):
    url = f"sqlite:///{tmp_path / 'kpis.sqlite'}"
    ann, bob = "ann@perf.example.org", "bob@perf.example.org"
    with running_app(url, env={"KPIS_ACCESS_CONFIG": _proxy_config(tmp_path)}) as base:
        ann_context, ann_page = _officer(browser, ann)
        bob_context, bob_page = _officer(browser, bob)
        for page in (ann_page, bob_page):  # both start from the sample's version 1
            page.goto(base + "/narrative?ws=market")
            wait_rendered(page)
            assert_no_exception(page)

        _write(ann_page, "Ann's text: hours up 11%.")
        ann_page.get_by_role("button", name="Save commentary").click()
        ann_page.get_by_text("Saved version 2 of the Managing and Developing the Market commentary").wait_for(
            timeout=30_000
        )

        _write(bob_page, "Bob's text: provider failure protocol reviewed.")
        bob_page.get_by_role("button", name="Save commentary").click()
        main = bob_page.locator("[data-testid='stMain']")
        refusal = main.get_by_text(
            re.compile(rf"{re.escape(ann)} saved version 2 on \d\d \w{{3}} \d{{4}} \d\d:\d\d UTC after you started")
        )
        refusal.wait_for(timeout=30_000)
        wait_rendered(bob_page)
        assert_no_exception(bob_page)
        assert "nothing was written" in refusal.inner_text()
        # Bob's text is still his to keep, and Ann's is beside it to merge from.
        assert bob_page.get_by_label("Commentary (Markdown)").input_value() == (
            "Bob's text: provider failure protocol reviewed."
        )
        compare = main.locator("[class*='st-key-narrative-conflict']")
        assert "Bob's text: provider failure protocol reviewed." in compare.inner_text()
        assert "Ann's text: hours up 11%." in compare.inner_text()
        shoot(bob_page, "narrative-stale-edit")
        engine = store.connect(url)
        assert list(narrative.history(engine, "market", NOV)["saved_by"]) == [ann, sample.SAMPLE_USER]

        _write(bob_page, "Ann's text: hours up 11%.\n\nBob's text: provider failure protocol reviewed.")
        bob_page.get_by_role("button", name="Save my text as version 3").click()
        bob_page.get_by_text("Saved version 3 of the Managing and Developing the Market commentary").wait_for(
            timeout=30_000
        )
        history = narrative.history(engine, "market", NOV)
        assert list(history["saved_by"]) == [bob, ann, sample.SAMPLE_USER]
        assert history["text"].iloc[0] == "Ann's text: hours up 11%.\n\nBob's text: provider failure protocol reviewed."
        ann_context.close()
        bob_context.close()


@contextmanager
def header_adding_proxy(upstream_port: int, header: str):
    """A minimal reverse proxy on 127.0.0.1 (a random port) that passes every connection
    to the app and adds ``header`` (``Name: value``) to the first request of each, as a
    sign-in proxy configured to add rather than replace would."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    listener.settimeout(0.2)
    stop = threading.Event()

    def pipe(source, target):
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, target):
                with suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def serve(client):
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(65536)
            if not chunk:
                client.close()
                return
            head += chunk
        first, _, rest = head.partition(b"\r\n")
        upstream = socket.create_connection(("127.0.0.1", upstream_port))
        upstream.sendall(first + b"\r\n" + header.encode() + b"\r\n" + rest)
        threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        pipe(client, upstream)

    def accept():
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(client,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


def _trusting(tmp_path, proxies: str) -> str:
    path = tmp_path / "access.yaml"
    path.write_text(
        f"authentication: proxy\nproxy_header: X-Forwarded-Email\ntrusted_proxies: {proxies}\n"
        "roles:\n  admin: [lead@perf.example.org]\n  officer: ['@perf.example.org']\n"
    )
    return str(path)


def _main_heading(page, base: str, headers: dict | None = None):
    """Open ``base`` in a new context sending ``headers``: the main heading, the page's
    text, the tab and its context."""
    context = page.context.browser.new_context(viewport=VIEWPORT, extra_http_headers=headers or {})
    tab = context.new_page()
    tab.goto(base + "/")
    wait_rendered(tab)
    tab.locator("[data-testid='stMain'] [data-testid='stAlert'], [data-testid='stSidebarNav']").first.wait_for(
        timeout=30_000
    )
    main = tab.locator("[data-testid='stMain']")
    heading, text = main.locator("h1").first.inner_text().strip(), main.inner_text()
    sidebar = tab.locator("[data-testid='stSidebar']")
    text += "\n" + (sidebar.inner_text() if sidebar.count() else "")
    return heading, text, tab, context


def test_a_forged_or_repeated_sign_in_header_is_refused(browser, tmp_path):
    outward = _outward_address()
    if outward is None:
        pytest.skip("this machine has no address besides the loopback to connect from")
    env = {"KPIS_ACCESS_CONFIG": _trusting(tmp_path, "[127.0.0.1]")}
    forged = {"X-Forwarded-Email": "lead@perf.example.org"}
    with running_app(f"sqlite:///{tmp_path / 'kpis.sqlite'}", env=env, address="0.0.0.0") as base:
        page = browser.new_context(viewport=VIEWPORT).new_page()
        port = int(base.rsplit(":", 1)[1])
        # Straight to the app from another address, claiming to be the admin.
        heading, text, tab, context = _main_heading(page, base.replace("127.0.0.1", outward), forged)
        assert heading == "Sign-in refused"
        assert f"but it came from {outward}, which is not the organisation's sign-in proxy" in text
        assert tab.locator("[data-testid='stSidebarNav']").count() == 0
        shoot(tab, "proxy-forged-header-refused")
        context.close()
        with header_adding_proxy(port, "X-Forwarded-Email: sam@perf.example.org") as proxied:
            # Through the proxy, which signs in sam: believed.
            heading, text, tab, context = _main_heading(page, proxied)
            assert "Signed in: sam@perf.example.org (officer, signed in at the proxy)" in shown_text(
                tab.locator("[data-testid='stSidebar']")
            )
            context.close()
            # Through the proxy, with the client's own copy as well: neither is believed.
            heading, text, tab, context = _main_heading(page, proxied, forged)
            assert heading == "Sign-in refused"
            assert "names the signed-in user more than once (X-Forwarded-Email)" in text
            assert "lead@perf.example.org" not in text and "sam@perf.example.org" not in text
            context.close()
        page.context.close()


def test_proxy_sign_in_served_beyond_this_machine_without_trusted_proxies_will_not_start(browser, tmp_path):
    path = tmp_path / "access.yaml"
    path.write_text("authentication: proxy\nroles:\n  officer: ['@perf.example.org']\n")
    with running_app(
        f"sqlite:///{tmp_path / 'kpis.sqlite'}", env={"KPIS_ACCESS_CONFIG": str(path)}, address="0.0.0.0"
    ) as base:
        page = browser.new_context(viewport=VIEWPORT).new_page()
        heading, text, tab, context = _main_heading(page, base, {"X-Forwarded-Email": "sam@perf.example.org"})
        assert heading == "The dashboard will not start"
        assert (
            "The dashboard is served on 0.0.0.0 with sign-in at a proxy, but config/access.yaml names no "
            "trusted_proxies, so anyone who can reach it could send the sign-in header and be anyone." in text
        )
        assert tab.locator("[data-testid='stSidebarNav']").count() == 0
        context.close()
        page.context.close()
