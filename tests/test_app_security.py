"""The dashboard's side of the security promises (docs/security.md), through AppTest on
the real app and its own SQLite file: a hostile configuration file is a message at
start-up, fast."""

from __future__ import annotations

import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from app import ui
from app.shell import AS_AT_KEY
from kpis import periods
from tests.test_app import ROOT, TIMEOUT, open_page
from tests.test_yamlfile import billion_laughs, with_repeated_direction


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("billion laughs", "line 1, column 7: (missing): defines the YAML anchor &lol0."),
        ("repeated key", "repeats the key 'direction' of line"),
    ],
)
def test_a_hostile_catalogue_is_a_located_message_at_start_up(app_env, tmp_path, monkeypatch, content, message):
    path = tmp_path / "kpis.yaml"
    path.write_text(billion_laughs() if content == "billion laughs" else with_repeated_direction(), encoding="utf-8")
    monkeypatch.setenv("KPIS_CONFIG", str(path))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    started = time.monotonic()
    at.run()
    assert time.monotonic() - started < 5  # a whole first run of the app; the refusal itself is in test_yamlfile
    assert not at.exception
    assert (
        at.error[0].value
        == "The catalogue of indicators is not valid, so the dashboard cannot open. An administrator can fix it:"
    )
    assert message in at.code[0].value
    assert len(at.code[0].value) < 400


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("bad.csv", "bad.csv"),
        ("ann@council.example.gov.uk", "ann@council.example.gov.uk"),
        (
            "[Session expired - sign in again](https://evil.example/login).csv",
            "\\[Session expired - sign in again\\](https:\u2060//evil.example/login).csv",
        ),
        ("![x](http://10.0.0.1/t.png)", "\\!\\[x\\](http:\u2060//10.0.0.1/t.png)"),
        ("<img src=x onerror=alert(1)>", "\\<img src=x onerror=alert(1)\\>"),
        (
            "**bold** _it_ `code` $x$ ~s~ &amp; #h |t|",
            "\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\$x\\$ \\~s\\~ \\&amp; \\#h \\|t\\|",
        ),
        ("www.evil.example", "www\u2060.evil.example"),
        ("1. first\nline", "1\\. first line"),
        ("- bullet", "\\- bullet"),
    ],
)
def test_plain_makes_a_value_text_in_any_markdown(value, shown):
    assert ui.plain(value) == shown


@pytest.mark.parametrize(
    ("page", "param", "value"),
    [
        ("", "as_at", "<script>alert(1)</script>"),
        ("", "as_at", "1999-01"),  # a month with no data
        ("narrative", "ws", "../../etc/passwd"),
        ("edit-risks", "risk", "1 OR 1=1"),
        ("indicator", "id", "[x](https://evil.example)"),
    ],
)
def test_a_query_parameter_outside_the_offered_values_is_ignored(app_env, monkeypatch, page, param, value):
    monkeypatch.setenv("KPIS_LOCAL_ROLE", "officer")
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params[param] = value
    at.run()
    if page:
        open_page(at, page)
    assert not at.exception
    assert at.sidebar.selectbox(key=AS_AT_KEY).value == periods.parse_period("2020-11")  # the latest month
    shown = " ".join(e.value for kind in ("markdown", "caption", "error", "title") for e in at.get(kind))
    assert value not in shown and "evil.example" not in shown


def test_every_test_named_in_docs_security_exists():
    """docs/security.md names the test behind each promise: each must be a real test."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    named = re.findall(r"`(tests/\w+\.py)::(\w+)`", text)
    assert len(named) >= 30
    for path, name in named:
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.M), f"{path}::{name}"
