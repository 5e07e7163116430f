"""What every page shares: the store, the catalogue, the access policy, the data version,
the as-at month and the user, with the engine's results cached per data version.

A page never recomputes from raw rows on a widget change: the observations and each
month's KPI table are cached under the data version (the latest extract id), so a new
extract invalidates them and nothing else does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from kpis import access, periods, sample, store
from kpis.access import AccessPolicy, Right, Role
from kpis.catalogue import DEFAULT_PATH, Catalogue, load_catalogue
from kpis.report import integrated, presentation, status
from kpis.report.performance import rag_summary

CONFIG_ENV = "KPIS_CONFIG"
LOAD_SAMPLE_ENV = "KPIS_LOAD_SAMPLE"
AS_AT_PARAM = "as_at"


def file_key(path: Path) -> tuple[str, float | None]:
    """A configuration file and its modification time (None: no such file): the cache key
    of what is read from it, so an edited file is picked up without a restart."""
    return str(path), path.stat().st_mtime if path.exists() else None


def config_key() -> tuple[str, float | None]:
    """The catalogue's :func:`file_key`: the cache key of everything derived from it."""
    return file_key(config_path())


def config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_PATH)


@st.cache_resource(show_spinner=False)
def _catalogue(path: str, modified: float | None) -> Catalogue:
    return load_catalogue(path)


def catalogue() -> Catalogue:
    """The catalogue, reloaded when its file changes."""
    return _catalogue(*config_key())


@st.cache_resource(show_spinner="Opening the database…")
def engine(url: str) -> Engine:
    """One engine per database URL. The embedded SQLite store gets the illustrative
    sample data at its first start (unless KPIS_LOAD_SAMPLE=0)."""
    db = store.connect(url)
    if url.startswith("sqlite") and os.environ.get(LOAD_SAMPLE_ENV, "1") != "0":
        sample.ensure_sample_loaded(db, catalogue())
    return db


def database_url() -> str:
    return store.database_url()


def data_version() -> int:
    return store.data_version(engine(database_url()))


@st.cache_data(show_spinner=False, max_entries=4)
def observations(url: str, version: int) -> pd.DataFrame:
    return store.current_observations(engine(url))


@st.cache_data(show_spinner=False, max_entries=64)
def kpi_table(url: str, version: int, config: str, modified: float | None, as_at: int) -> pd.DataFrame:
    """The KPI table with the SPC of each indicator (``integrated.report_table``)."""
    points = spc_points(url, version, config, modified, as_at)
    return integrated.report_table(observations(url, version), _catalogue(config, modified), as_at, points)


@st.cache_data(show_spinner=False, max_entries=16)
def spc_points(url: str, version: int, config: str, modified: float | None, as_at: int) -> pd.DataFrame:
    """Every indicator's SPC chart as at a month (``integrated.spc_charts``): the one
    computation behind the table's icons and the charts."""
    return integrated.spc_charts(observations(url, version), _catalogue(config, modified), as_at)


@st.cache_data(show_spinner=False, max_entries=8)
def report_month(url: str, version: int, config: str, modified: float) -> int | None:
    """The report month of the data (:func:`kpis.report.status.report_month`)."""
    return status.report_month(observations(url, version), _catalogue(config, modified))


@st.cache_data(show_spinner=False, max_entries=16)
def report_heading(url: str, version: int, config: str, modified: float | None, as_at: int) -> str:
    """The overview's heading (:func:`kpis.report.status.report_heading`): it reads every observation."""
    return status.report_heading(observations(url, version), _catalogue(config, modified), as_at)


@st.cache_data(show_spinner=False, max_entries=64)
def summary(url: str, version: int, config: str, modified: float | None, as_at: int) -> pd.DataFrame:
    return rag_summary(kpi_table(url, version, config, modified, as_at), _catalogue(config, modified))


@st.cache_data(show_spinner=False, max_entries=16)
def spc_table(url: str, version: int, config: str, modified: float | None, as_at: int) -> pd.DataFrame:
    return integrated.spc_table(spc_points(url, version, config, modified, as_at), _catalogue(config, modified))


@st.cache_data(show_spinner=False, max_entries=16)
def rag_changes(url: str, version: int, config: str, modified: float | None, as_at: int) -> pd.DataFrame:
    """The ratings that moved since the month before ``as_at`` (:func:`presentation.rag_changes`)."""
    return presentation.rag_changes(
        kpi_table(url, version, config, modified, as_at), kpi_table(url, version, config, modified, as_at - 1)
    )


@st.cache_data(show_spinner=False, max_entries=16)
def coverage(url: str, version: int, config: str, modified: float | None, as_at: int) -> pd.DataFrame:
    """Each indicator's values for the 12 months to ``as_at`` (:func:`kpis.report.status.coverage`)."""
    return status.coverage(observations(url, version), _catalogue(config, modified), as_at)


@st.cache_data(show_spinner=False, max_entries=4)
def sample_values(url: str, version: int) -> tuple[int, frozenset[tuple[str, int]]]:
    """How many values in force are sample data, and their (indicator, month) keys: read
    from every observation, so once per data version."""
    obs, extracts = observations(url, version), extract_log(url, version)
    return sample.sample_values_in_force(obs, extracts), sample.sample_keys(obs, extracts)


@st.cache_data(show_spinner=False, max_entries=8)
def extract_log(url: str, version: int) -> pd.DataFrame:
    return store.extract_log(engine(url))


@st.cache_data(show_spinner=False, max_entries=8)
def extract_content(url: str, extract_id: int) -> bytes:
    """A loaded file, exactly as loaded (it never changes, so the extract id is its key)."""
    return store.extract_content(engine(url), extract_id)


@st.cache_data(show_spinner=False, max_entries=256)
def history(url: str, version: int, indicator: str) -> pd.DataFrame:
    return store.observation_history(engine(url), indicator)


@st.cache_data(show_spinner="Comparing areas and groups…", max_entries=4)
def benchmarks(url: str, version: int, config: str, modified: float | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every area's and group's observations compared (:func:`kpis.report.benchmarking.compared`),
    and the inequality indices of every period, per data version."""
    from kpis.report import benchmarking

    observations = store.current_breakdowns(engine(url))
    known = catalogue()
    return benchmarking.compared(observations, known), benchmarking.inequality_table(
        observations, known, every_period=True
    )


@st.cache_data(show_spinner=False, max_entries=16)
def benchmark_columns(url: str, version: int, config: str, modified: float | None, as_at: int) -> pd.DataFrame:
    """The "vs England" and "Inequality" columns of every indicator as at a month
    (:func:`kpis.report.benchmark_views.workstream_columns`)."""
    from kpis.report import benchmark_views, benchmarking

    compared, every = benchmarks(url, version, config, modified)
    latest = benchmarking.latest_periods(compared, as_at)
    change = benchmarking.sii_change(every, as_at)
    return benchmark_views.workstream_columns(latest, change, _catalogue(config, modified))


@dataclass(frozen=True)
class View:
    """What the pages render from: the data and the month chosen in the sidebar."""

    url: str
    version: int
    catalogue: Catalogue
    as_at: int
    months: tuple[int, ...]  # the months that can be chosen, oldest first

    def table(self, as_at: int | None = None) -> pd.DataFrame:
        return kpi_table(self.url, self.version, *config_key(), self.as_at if as_at is None else as_at)

    def spc(self) -> pd.DataFrame:
        """The SPC points behind :meth:`table` (the as-at month's)."""
        return spc_points(self.url, self.version, *config_key(), self.as_at)

    def spc_table(self) -> pd.DataFrame:
        """Each indicator's latest limits, icons and ``spc_reason``, in report order."""
        return spc_table(self.url, self.version, *config_key(), self.as_at)

    def summary(self, as_at: int | None = None) -> pd.DataFrame:
        """:func:`kpis.report.performance.rag_summary` of :meth:`table`."""
        return summary(self.url, self.version, *config_key(), self.as_at if as_at is None else as_at)

    def heading(self) -> str:
        """``Report for Nov 2020 · Dec 2020 data partly in (8 of 33)``."""
        return report_heading(self.url, self.version, *config_key(), self.as_at)

    def rag_changes(self) -> pd.DataFrame:
        """The ratings that moved since the month before."""
        return rag_changes(self.url, self.version, *config_key(), self.as_at)

    def coverage(self) -> pd.DataFrame:
        """Each indicator's values for the 12 months to the month (loaded, late, missing...)."""
        return coverage(self.url, self.version, *config_key(), self.as_at)

    def sample_values_in_force(self) -> int:
        return sample_values(self.url, self.version)[0]

    def sample_keys(self) -> frozenset[tuple[str, int]]:
        """The (indicator, month) of every sample value in force (:func:`kpis.sample.sample_keys`)."""
        return sample_values(self.url, self.version)[1]

    def observations(self) -> pd.DataFrame:
        return observations(self.url, self.version)

    def history(self, indicator: str) -> pd.DataFrame:
        return history(self.url, self.version, indicator)

    def extracts(self) -> pd.DataFrame:
        return extract_log(self.url, self.version)

    def benchmarks(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(every observation compared, the inequality indices of every period)."""
        return benchmarks(self.url, self.version, *config_key())

    def benchmark_columns(self) -> pd.DataFrame:
        """The "vs England" and "Inequality" columns of every indicator as at the month."""
        return benchmark_columns(self.url, self.version, *config_key(), self.as_at)

    @property
    def empty(self) -> bool:
        return self.version == 0


def available_months(obs: pd.DataFrame) -> tuple[int, ...]:
    if obs.empty:
        return ()
    return tuple(range(int(obs["period"].min()), int(obs["period"].max()) + 1))


@dataclass(frozen=True)
class User:
    name: str  # the email of a signed-in user, or the OS user
    role: Role | None  # None: signed in, but no access
    how: str  # "signed in", "signed in at the proxy" or "local"

    def can(self, right: Right) -> bool:
        return access.can(self.role, right)


@st.cache_resource(show_spinner=False)
def _policy(path: str, modified: float | None) -> AccessPolicy:
    return access.load_policy(path)


def access_policy() -> AccessPolicy:
    """The access configuration (``config/access.yaml``), reloaded when its file changes."""
    return _policy(*file_key(access.access_path()))


def month_option(month: int) -> str:
    return f"{periods.label(month)} ({periods.month_name(month)})"


Pages = dict[str, st.Page]
"""The app's pages by key (``pages["indicator"]``), for ``st.page_link`` and ``st.switch_page``."""
Render = Callable[[View, Pages, User], None]
"""What draws a page: every page's ``render(view, pages, user)``."""
