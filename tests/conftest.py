"""Shared fixtures: the shipped catalogue, a real SQLite file per test, a real PostgreSQL
database per test (``KPIS_TEST_POSTGRES_URL``), and the rule that in CI a test may not
skip for want of a component."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator

import pandas as pd
import pytest
import yaml
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url

from kpis import store
from kpis.catalogue import DEFAULT_PATH, Catalogue, load_catalogue
from tests.browser import VIEWPORT, chromium, chromium_path

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_ENV = "KPIS_TEST_POSTGRES_URL"
REFERENCE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference")


def require(component: str, available: object, reason: str) -> None:
    """Skip when a component is missing on a laptop; fail in CI, where it must be there."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{component} is required in CI but missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return load_catalogue()


# Text a spreadsheet would run as a formula: the exports must neutralise every one.
HOSTILE = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tTab", "\rReturn", "=1+2"]


@pytest.fixture(scope="session")
def hostile_catalogue(tmp_path_factory) -> Catalogue:
    """The shipped catalogue with its title and first names replaced by :data:`HOSTILE`."""
    raw = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    raw["title"] = HOSTILE[0]
    for ws, name in zip(raw["workstreams"], HOSTILE, strict=False):
        ws["name"] = name
    for ind, name in zip(raw["indicators"], HOSTILE, strict=False):
        ind["name"] = name
    path = tmp_path_factory.mktemp("hostile") / "kpis.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_catalogue(path)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'kpis.sqlite'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    require("PostgreSQL", base, f"set {POSTGRES_ENV} to a PostgreSQL server URL to run the PostgreSQL tests")
    name = f"kpis_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """The store's URL, once on a SQLite file and once on a PostgreSQL database."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    engine = store.connect(database_url)
    yield engine
    engine.dispose()


def store_snapshot(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Everything stored, to assert that a rejected operation changed nothing."""
    with engine.connect() as conn:
        extracts = pd.DataFrame(conn.execute(select(store.extracts).order_by(store.extracts.c.id)).fetchall())
        observations = pd.DataFrame(
            conn.execute(select(store.observations).order_by(store.observations.c.id)).fetchall()
        )
    return extracts, observations


def reference_path(name: str = "icu-report-2020-21-nov.csv") -> str:
    return os.path.normpath(os.path.join(REFERENCE_DIR, name))


@pytest.fixture
def app_env(tmp_path, monkeypatch) -> str:
    """The environment of an app under test: its own SQLite file (the sample loads at first
    start), the shipped catalogue and access configuration, the local user as officer."""
    url = f"sqlite:///{tmp_path / 'kpis.sqlite'}"
    monkeypatch.setenv(store.DATABASE_ENV, url)
    for name in ("KPIS_CONFIG", "KPIS_LOAD_SAMPLE", "KPIS_ACCESS_CONFIG", "KPIS_LOCAL_ROLE"):
        monkeypatch.delenv(name, raising=False)
    return url


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's) through Playwright, one per test module."""
    require(
        "Chromium", chromium_path(), "install Debian's chromium (apt-get install chromium) to run the browser tests"
    )
    require("Playwright", importlib.util.find_spec("playwright"), "pip install playwright (requirements-dev.txt)")
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    """A fresh browser tab (its own cookies) at the screenshots' size."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    yield page
    context.close()
