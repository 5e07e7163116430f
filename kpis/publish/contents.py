"""What an export holds, whatever its format: the KPI table as at a month with its SPC,
the observations behind it, the month's narrative and open risks, benchmarking; now or as
published. Also the words every format shares: the header lines and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import Engine, func, select

from kpis import periods, store
from kpis.catalogue import Catalogue
from kpis.governance import narrative, risks
from kpis.report import benchmarking, integrated
from kpis.report.integrated import ASSURANCE_TEXT, VARIATION_TEXT
from kpis.report.palette import trend_label
from kpis.report.performance import build_kpi_table
from kpis.report.spc import trial_text

FILE_PREFIX = "icu-kpis"
DECIMALS_KEPT = 6  # as `python -m kpis summary` writes figures, so the exports agree with it


class ExportError(Exception):
    """An export that cannot be made; the message says why and what to do."""


class UnknownWorkstreamError(ExportError):
    """A workstream id that is not in the catalogue; the message lists the valid ids."""


@dataclass(frozen=True)
class ExportData:
    """What an export is made of: the KPI table as at a month, the data it comes from,
    and the words beside the figures (the month's narrative, the open risks)."""

    table: pd.DataFrame  # integrated.report_table: every indicator of the catalogue, with its SPC
    observations: pd.DataFrame  # what the table is built from (the board pack's charts)
    as_at: int  # month index
    data_version: int  # the latest extract id the figures use (0: no extract)
    loaded_at: datetime | None  # when that extract was loaded, UTC (naive)
    narrative: dict[str, str] = field(default_factory=dict)  # workstream id → the month's commentary
    risks: pd.DataFrame = field(default_factory=pd.DataFrame)  # the open risks (risks.register, with overdue)
    reviewed_on: date | None = None  # the day the risks' review dates were checked against
    # the KPI table as at the month before (performance.build_kpi_table): what changed since last month
    previous: pd.DataFrame = field(default_factory=pd.DataFrame)
    # benchmarking and inequalities (kpis.report.benchmarking): empty without breakdown data
    comparisons: pd.DataFrame = field(default_factory=pd.DataFrame)  # compare_table as at the month
    inequalities: pd.DataFrame = field(default_factory=pd.DataFrame)  # inequality_table, with the SII's change
    spc: pd.DataFrame = field(default_factory=pd.DataFrame)  # integrated.spc_charts: the table's SPC, point by point


# Which data: now, or as published ------------------------------------------------------


def check_workstream(catalogue: Catalogue, workstream: str | None) -> str | None:
    """``workstream`` if it is None or a workstream id of the catalogue."""
    ids = [w.id for w in catalogue.workstreams]
    if workstream is not None and workstream not in ids:
        raise UnknownWorkstreamError(f"{workstream!r} is not a workstream id; use one of: {', '.join(ids)}")
    return workstream


def published_at(engine: Engine, as_at: int, log: pd.DataFrame | None = None) -> datetime | None:
    """When the report for ``as_at`` went out: when the first extract bringing a later
    month was loaded (UTC); None while it is still the current report. The words as
    published are the versions saved before then."""
    log = store.extract_log(engine) if log is None else log
    first_later = _first_extract_after(engine, as_at)
    if first_later is None:
        return None
    return _utc(log.loc[log["id"] == first_later, "loaded_at"].iloc[0])


def _first_extract_after(engine: Engine, as_at: int) -> int | None:
    """The first extract that brought a value for a month after ``as_at``."""
    o = store.observations.c
    with engine.connect() as conn:
        return conn.execute(select(func.min(o.extract_id)).where(o.period > periods.to_text(as_at))).scalar()


def published_extract(engine: Engine, as_at: int, log: pd.DataFrame | None = None) -> int:
    """The data version the report for ``as_at`` was published from: the last extract
    loaded before the first extract that brought a value for a later month (the next
    month's data arriving is when a month's report has been sent out); if no extract has
    brought a later month yet, the latest extract (the report is still the current one).

    So revisions loaded with or after the next month's data are left out. A revision
    loaded before any later month arrived counts as published. A rolled-back extract still
    counts as having brought its months: the store cannot tell when a report went out.
    ``ExportError`` if the very first extract already held later months (no report for
    ``as_at`` was ever produced from this store)."""
    log = store.extract_log(engine) if log is None else log
    first_later = _first_extract_after(engine, as_at)
    if first_later is None:
        return int(log["id"].max()) if len(log) else 0
    earlier = log.loc[log["id"] < first_later, "id"]
    if earlier.empty:
        first = log.set_index("id").loc[first_later]
        raise ExportError(
            f"No report for {periods.month_name(as_at)} was produced from this store: extract {first_later} "
            f"({first['file_name']}), the first loaded, already held later months. "
            "Export without --as-published for the figures as they stand now."
        )
    return int(earlier.max())


def _utc(value: datetime | str | None) -> datetime | None:
    """A time read from the store (naive: UTC; or aware) as a naive UTC datetime."""
    if value is None or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.tz_localize(None).to_pydatetime()


def export_data(engine: Engine, catalogue: Catalogue, as_at: int, as_published: bool = False) -> ExportData:
    """The KPI table as at ``as_at`` from the data as it stands now, or, ``as_published``,
    as it stood when that month's report was produced (:func:`published_extract`). Both
    read the store as of one extract, so a load meanwhile cannot mix into the figures."""
    log = store.extract_log(engine)
    latest = int(log["id"].max()) if len(log) else 0
    version = published_extract(engine, as_at, log) if as_published else latest
    observations = store.current_observations(engine, as_of_extract=version)
    loaded = log.loc[log["id"] == version, "loaded_at"]
    cutoff = published_at(engine, as_at, log) if as_published else None
    reviewed_on = review_day(as_at, cutoff.date() if cutoff else datetime.now(UTC).date())
    comparisons, inequalities = benchmark_data(engine, catalogue, as_at, version)
    points = integrated.spc_charts(observations, catalogue, as_at)
    return ExportData(
        comparisons=comparisons,
        inequalities=inequalities,
        table=integrated.report_table(observations, catalogue, as_at, points),
        observations=observations,
        as_at=as_at,
        data_version=version,
        loaded_at=_utc(loaded.iloc[0]) if len(loaded) else None,
        narrative=month_narrative(engine, catalogue, as_at, cutoff),
        risks=open_risks(engine, reviewed_on, cutoff),
        reviewed_on=reviewed_on,
        spc=points,
        previous=build_kpi_table(observations, catalogue, as_at - 1),
    )


def review_day(as_at: int, made_on: date) -> date:
    """The day a pack for ``as_at`` judges risk reviews against: the last day of the as-at
    month, or the day the pack was made (or published) if that is earlier. A pack made
    today for Nov 2020 would otherwise call every risk of that report overdue, and one
    made on 3 December for December must not call a review due on the 20th overdue."""
    year, month = divmod(as_at, 12)
    month_end = (pd.Timestamp(year=year, month=month + 1, day=1) + pd.offsets.MonthEnd(0)).date()
    return min(month_end, made_on)


def benchmark_data(engine: Engine, catalogue: Catalogue, as_at: int, version: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The comparisons (:func:`~kpis.report.benchmarking.compare_table`) and the
    inequality indices, with ``change`` (the SII against a year before), as at ``as_at``
    from the store as of extract ``version``."""
    observations = store.current_breakdowns(engine, as_of_extract=version)
    if not (observations[store.KEY_COLUMNS] != "").any().any():
        return pd.DataFrame(), pd.DataFrame()
    # only the indicators with figures for another area or a group: the rest compare with nothing
    with_others = observations.loc[(observations[store.KEY_COLUMNS] != "").any(axis=1), "indicator"]
    comparisons = benchmarking.compare_table(observations, catalogue, as_at, sorted(set(with_others.astype(str))))
    every = benchmarking.inequality_table(observations, catalogue, as_at, every_period=True)
    change = benchmarking.sii_change(every, as_at)[["indicator", "area", "breakdown", "period", "change"]]
    latest = benchmarking.latest_periods(every, as_at)
    return comparisons, latest.merge(change, on=["indicator", "area", "breakdown", "period"], how="left")


def _saved_before(versions: pd.DataFrame, cutoff: datetime | None) -> pd.DataFrame:
    """The versions (newest first) saved before ``cutoff`` (UTC, naive), all if None."""
    if cutoff is None:
        return versions
    return versions[versions["saved_at"] < pd.Timestamp(cutoff, tz="UTC")]


def month_narrative(engine: Engine, catalogue: Catalogue, as_at: int, cutoff: datetime | None = None) -> dict[str, str]:
    """Each workstream's commentary for ``as_at`` as it stood at ``cutoff`` (now if None);
    workstreams without one are left out."""
    texts = {}
    for ws in catalogue.workstreams:
        versions = _saved_before(narrative.history(engine, ws.id, as_at), cutoff)
        if len(versions) and versions["text"].iloc[0]:
            texts[ws.id] = versions["text"].iloc[0]
    return texts


def open_risks(engine: Engine, reviewed_on: date, cutoff: datetime | None = None) -> pd.DataFrame:
    """The open risks as they stood at ``cutoff`` (now if None), most severe first, with
    ``overdue`` against ``reviewed_on``."""
    current = risks.current(engine)
    if cutoff is not None and len(current):
        versions = [_saved_before(risks.history(engine, int(i)), cutoff).head(1) for i in current["risk_id"]]
        current = pd.concat(versions, ignore_index=True) if versions else current
    return risks.register(current, reviewed_on, status="open")


def kept_decimals(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers to :data:`DECIMALS_KEPT` places (float noise from sums and ratios away)."""
    numeric = frame.select_dtypes("number").columns
    return frame.assign(**{c: frame[c].round(DECIMALS_KEPT) for c in numeric})


def of_workstream(table: pd.DataFrame, workstream: str | None) -> pd.DataFrame:
    """The rows of one workstream (all of them for None), numbered from 0."""
    rows = table if workstream is None else table[table["workstream"] == workstream]
    return rows.reset_index(drop=True)


def header_lines(data: ExportData, title: str) -> list[str]:
    """A sheet's header rows: what it is, the as-at month, the data version."""
    if data.data_version:
        when = data.loaded_at
        loaded = f", loaded {when.day} {when:%b %Y %H:%M} UTC" if when else ""
        version = f"Data version {data.data_version}: the latest extract used{loaded}"
    else:
        version = "Data version 0: no extract loaded"
    return [title, f"As at {periods.month_name(data.as_at)} ({periods.label(data.as_at)})", version]


def spc_points(data: ExportData, catalogue: Catalogue) -> pd.DataFrame:
    """The SPC the table was made with (``data.spc``; made by :func:`export_data`), else the
    same computation from ``data.observations`` now."""
    return data.spc if len(data.spc) else integrated.spc_charts(data.observations, catalogue, data.as_at)


KEY_SECTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Against target (the RAG column)",
        [
            ("Green", "Target achieved: at or above it where higher is better, at or below it where lower is better."),
            ("Amber", "Target missed by no more than the tolerance (see Tolerance below)."),
            ("Red", "Target missed by more than the tolerance; any miss of a zero target is Red."),
            ("n/a", "No target, no figure for the period, or an indicator shown for context only."),
        ],
    ),
    (
        "Against last year (the summary's last-year counts; the workbook's Last year RAG column, the colour "
        "of the board pack's Trend cell)",
        [
            ("Green", "The same as, or better than, the same period last year."),
            ("Amber", "Worse than the same period last year by no more than the tolerance."),
            (
                "Red",
                "Worse than last year by more than the tolerance. For a zero target (a never event such as "
                "MRSA), the same as last year is Red while the target is missed.",
            ),
            ("n/a", "No figure for this period or for the same period last year, or a context-only indicator."),
        ],
    ),
    (
        "Trend (the arrows): performance against the same period last year, not the number's direction",
        [
            (trend_label("better"), "Better than last year (lower where lower is better)."),
            (trend_label("same"), "The same as last year."),
            (trend_label("worse"), "Worse than last year."),
            (trend_label("n/a"), "No comparison: a figure is missing, or a context-only indicator."),
        ],
    ),
    (
        "SPC: variation (Making Data Count), the latest month's against the process's own limits",
        [
            (VARIATION_TEXT["common_cause"], "Only the usual ups and downs: nothing to react to month by month."),
            (
                f"{VARIATION_TEXT['improvement_high']} / {VARIATION_TEXT['improvement_low']}",
                "Special cause improvement: a real change for the better (a point beyond a process limit, a run "
                "of points on one side of the mean, a trend, or two of three close to a limit), high or low.",
            ),
            (
                f"{VARIATION_TEXT['concern_high']} / {VARIATION_TEXT['concern_low']}",
                "Special cause concern: a real change for the worse; ask why.",
            ),
            (
                f"{VARIATION_TEXT['neutral_high']} / {VARIATION_TEXT['neutral_low']}",
                "Special cause in an indicator with no better direction.",
            ),
        ],
    ),
    (
        "SPC: assurance, the target in force at the latest month against the process limits",
        [
            (
                ASSURANCE_TEXT["pass"],
                "The process will consistently meet the target (beyond the limits on the bad side).",
            ),
            (
                ASSURANCE_TEXT["hit_and_miss"],
                "The target lies between the limits: it will be met some months, missed others.",
            ),
            (ASSURANCE_TEXT["fail"], "The process will consistently miss the target unless something changes."),
            (
                f"{ASSURANCE_TEXT['n/a']} (assurance)",
                "No target (or one for a year-to-date or rolling sum, not for a month), or no limits yet.",
            ),
            (
                "Trial limits",
                f'Limits from fewer points than the indicator\'s minimum, marked e.g. "{trial_text(5, 12)}".',
            ),
        ],
    ),
    (
        "Columns",
        [
            (
                "Period",
                "The latest period with data up to the as-at month. The financial year runs April to March: "
                "M1 = April … M12 = March; Q1 = April–June … Q4 = January–March.",
            ),
            (
                "Actual",
                "The indicator's figure for the period: as reported, year to date or rolling 12 months; blank "
                "where a year-to-date or rolling figure has a gap.",
            ),
            ("+/-", "Actual minus the comparator (target or last year), in the indicator's unit."),
            ("%", "That difference as a percentage of the comparator; - or blank where the comparator is zero."),
            (
                "SPC mean, limits",
                "The mean and process limits (mean ± 2.66 × the average moving range) of the latest segment of "
                "the indicator's monthly (or quarterly) values, never of year-to-date or rolling figures.",
            ),
        ],
    ),
]
WORKBOOK_NUMBERS = (
    "Numbers",
    "Cells hold the figures (to 6 decimal places), shown rounded as the report rounds them. A "
    "percentage is stored as a fraction, 0.52 for 52%, so Excel computes with it; its +/- is the "
    "difference of the two fractions (0.13, shown 13%, is 13 percentage points), and each % column is a "
    "fraction of the comparator. Money is stored in pounds and shown as £1,234k from £1,000 either way, "
    "in whole pounds below. The Trend column is in words; the RAG columns keep their word.",
)


def key_sections(catalogue: Catalogue, workbook: bool = False) -> list[tuple[str, list[tuple[str, str]]]]:
    """The key to the tables: :data:`KEY_SECTIONS`, a note on the workbook's numbers (for
    the workbook), and the tolerance."""
    sections = [(title, [*lines]) for title, lines in KEY_SECTIONS]
    if workbook:
        sections[-1][1].append(WORKBOOK_NUMBERS)
    return [*sections, ("Tolerance (the Amber band)", tolerance_lines(catalogue))]


def tolerance_lines(catalogue: Catalogue) -> list[tuple[str, str]]:
    """The Amber band: the catalogue's default, then each indicator with its own."""
    lines = [("Default", f"{catalogue.tolerance:.0%} of the comparator (the target, or last year's figure).")]
    lines += [
        (ind.name, f"{ind.tolerance:.0%} of the comparator.")
        for ind in catalogue.indicators
        if ind.tolerance is not None
    ]
    return lines
