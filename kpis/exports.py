"""Exports, built from the engine's frames: the KPI table as CSV, as an Excel workbook (a
summary sheet, a sheet per workstream, a key), and the board pack as HTML and PDF
(:mod:`kpis.boardpack`). :data:`WRITERS` has one entry per format.

Safe to open in Excel: every text cell is neutralised against formula injection
(:mod:`kpis.spreadsheet`), numbers stay numbers (formatted, never written as text), the
workbook converts no string to a formula or a link, and file names are made only from the
as-at month and a workstream id.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pandas as pd
import xlsxwriter
from sqlalchemy import Engine, func, select

from kpis import boardpack, formatting, narrative, periods, risks, store
from kpis.catalogue import Catalogue, Unit, Workstream
from kpis.palette import rag_palette, trend_label
from kpis.performance import RAG_WORDS, rag_summary
from kpis.presentation import BOARD_COLUMNS, board_table, summary_wide
from kpis.report import benchmarking, integrated
from kpis.report.integrated import ASSURANCE_TEXT, REPORT_COLUMNS, VARIATION_TEXT
from kpis.report.spc import trial_text
from kpis.spreadsheet import neutralise, safe_csv

FORMATS = ("csv", "xlsx", "html", "pdf")
FILE_PREFIX = "icu-kpis"
DECIMALS_KEPT = 6  # as `python -m kpis summary` writes figures, so the exports agree with it
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


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


def _utc(value: object) -> datetime | None:
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
    reviewed_on = cutoff.date() if cutoff else datetime.now(UTC).date()
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
    )


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


def comparison_csv(data: ExportData, workstream: str | None = None, catalogue: Catalogue | None = None) -> bytes:
    """The comparisons (the columns of ``python -m kpis compare``) as CSV for Excel, a
    suppressed cell ``*``; all indicators, or a workstream's."""
    frame = data.comparisons
    if frame.empty:
        return safe_csv(pd.DataFrame(columns=benchmarking.COMPARE_COLUMNS))
    if workstream is not None and catalogue is not None:
        frame = frame[frame["indicator"].isin([i.id for i in catalogue.in_workstream(workstream)])]
    return safe_csv(benchmarking.shown(frame))


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


# Names ------------------------------------------------------------------------------------


def file_name(as_at: int, fmt: str, workstream: str | None = None) -> str:
    """``icu-kpis-2020-11.xlsx``, ``icu-kpis-2020-11-market.csv``: from the month and a
    catalogue workstream id (lower case letters, digits and _) only."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    parts = [FILE_PREFIX, periods.to_text(as_at), *([workstream] if workstream else [])]
    return "-".join(parts) + "." + fmt


_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_SHEET_LENGTH = 31
RESERVED_SHEETS = (
    "Summary",
    "Key",
    "History",
    "Comparisons",
    "Inequality",
)  # ours, and the one name Excel keeps for itself


def sheet_name(name: str, taken: set[str], fallback: str) -> str:
    """An Excel sheet name for a workstream name: without ``[]:*?/\\``, not starting with a
    formula sign or an apostrophe, at most 31 characters (cut at a word, marked ``…``), and
    unique in ``taken`` (compared case-insensitively, as Excel does); ``fallback`` (the
    workstream id) if nothing is left."""
    text = " ".join(_SHEET_UNSAFE.sub(" ", name).split()).lstrip("=+-@' ").rstrip("' ")
    if len(text) > _SHEET_LENGTH:
        cut = text[: _SHEET_LENGTH - 1]
        at_word = cut.rsplit(" ", 1)[0].rstrip(" &,-–")
        text = (at_word if len(at_word) >= _SHEET_LENGTH // 2 else cut) + "…"
    text = text or fallback[:_SHEET_LENGTH]
    folded = {t.casefold() for t in taken}
    candidate, n = text, 1
    while candidate.casefold() in folded:
        n += 1
        suffix = f" ({n})"
        candidate = text[: _SHEET_LENGTH - len(suffix)] + suffix
    return candidate


# CSV --------------------------------------------------------------------------------------


def kept_decimals(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers to :data:`DECIMALS_KEPT` places (float noise from sums and ratios away)."""
    numeric = frame.select_dtypes("number").columns
    return frame.assign(**{c: frame[c].round(DECIMALS_KEPT) for c in numeric})


def of_workstream(table: pd.DataFrame, workstream: str | None) -> pd.DataFrame:
    """The rows of one workstream (all of them for None), numbered from 0."""
    rows = table if workstream is None else table[table["workstream"] == workstream]
    return rows.reset_index(drop=True)


def kpi_csv(table: pd.DataFrame, workstream: str | None = None) -> bytes:
    """The KPI table with its SPC (:data:`kpis.report.integrated.REPORT_COLUMNS`, the same
    columns and values as ``python -m kpis summary --format csv``: the icons as their
    words, ``spc_trial`` as ``true``/``false``) as CSV for Excel: UTF-8 with a BOM, text
    cells neutralised."""
    rows = kept_decimals(of_workstream(table, workstream)[REPORT_COLUMNS])
    return safe_csv(rows.assign(spc_trial=rows["spc_trial"].map({True: "true", False: "false"})))


# Excel ------------------------------------------------------------------------------------

UNIT_SUFFIX = {"percent": '"%"', "days": '" days"', "hours": '" hrs"'}  # as formatting.UNIT_SUFFIX
PERCENT_OF_COMPARATOR = '#,##0"%"'  # variance %: 52 means 52%, shown without decimals
SPC_SHEET_COLUMNS = ["SPC mean", "Lower process limit", "Upper process limit", "Variation", "Assurance", "SPC limits"]
SHEET_COLUMNS = [*BOARD_COLUMNS, "Last year RAG", *SPC_SHEET_COLUMNS]
HEADER_ROWS = 3  # title, as at, data version
FIRST_TABLE_ROW = HEADER_ROWS + 1  # a blank row, then the table's column headers
HEADER_FILL = "#F2F2F2"


def number_format(decimals: int, unit: str | None = None) -> str:
    """Excel's format for a figure: ``#,##0``, ``#,##0.0"%"``, ``#,##0" days"``; with no
    unit for a variance (``+/-`` is in the unit, or percentage points)."""
    base = "#,##0" + ("." + "0" * decimals if decimals else "")
    return base + UNIT_SUFFIX.get(unit or "", "")


def currency_format(value: float, decimals: int) -> str:
    """Excel's format for money as :func:`kpis.formatting.currency` shows ``value``:
    ``"£"#,##0,"k"`` from £1,000 either way (the comma after the digits divides by a
    thousand; the cell keeps the pounds), ``"£"#,##0`` below; Excel writes the minus sign
    before the £. Chosen per cell, as the screens choose per value."""
    digits = "#,##0" + ("." + "0" * decimals if decimals else "")
    if not pd.isna(value) and formatting.in_thousands(value, decimals):
        return f'"£"{digits},"k"'
    return f'"£"{digits}'


class _Formats:
    """The workbook's cell formats, made once per set of properties."""

    def __init__(self, book: xlsxwriter.Workbook):
        self.book = book
        self.made: dict[tuple, object] = {}

    def __call__(self, **properties):
        key = tuple(sorted(properties.items()))
        if key not in self.made:
            self.made[key] = self.book.add_format({"valign": "top", **properties})
        return self.made[key]

    def rag(self, word: str, **properties):
        swatch = rag_palette()[word]
        return self(bg_color=swatch.background, font_color=swatch.text, border=1, border_color="#BFBFBF", **properties)


def _text(sheet, row: int, col: int, value: object, fmt=None) -> None:
    """Every text cell goes through here: neutralised, and written as a string."""
    sheet.write_string(row, col, str(neutralise(str(value))), fmt)


def _number(sheet, row: int, col: int, value: float, fmt) -> None:
    """A figure as a number (blank where there is none), -0 shown as 0."""
    if pd.isna(value):
        sheet.write_blank(row, col, None, fmt)
    else:
        sheet.write_number(row, col, float(value) + 0.0, fmt)


def _width(texts: list[str], least: int = 8, most: int = 60) -> int:
    return max(least, min(most, max((len(t) for t in texts), default=0) + 2))


def header_lines(data: ExportData, title: str) -> list[str]:
    """A sheet's header rows: what it is, the as-at month, the data version."""
    if data.data_version:
        when = data.loaded_at
        loaded = f", loaded {when.day} {when:%b %Y %H:%M} UTC" if when else ""
        version = f"Data version {data.data_version}: the latest extract used{loaded}"
    else:
        version = "Data version 0: no extract loaded"
    return [title, f"As at {periods.month_name(data.as_at)} ({periods.label(data.as_at)})", version]


def _write_header(sheet, formats: _Formats, lines: list[str]) -> None:
    _text(sheet, 0, 0, lines[0], formats(bold=True, font_size=14, valign="vcenter"))
    sheet.set_row(0, 22)
    for row, line in enumerate(lines[1:], start=1):
        _text(sheet, row, 0, line, formats(italic=True, font_color="#4A4A4A"))


def _write_column_headers(sheet, formats: _Formats, row: int, names: list[str]) -> None:
    for col, name in enumerate(names):
        _text(sheet, row, col, name, formats(bold=True, text_wrap=True, bg_color=HEADER_FILL, bottom=1))


def _summary_sheet(book, formats: _Formats, data: ExportData, catalogue: Catalogue, workstream: str | None) -> None:
    sheet = book.add_worksheet("Summary")
    _write_header(sheet, formats, header_lines(data, f"{catalogue.title}: RAG summary"))
    wide = summary_wide(rag_summary(data.table, catalogue), catalogue)
    wide = wide if workstream is None else wide[wide["workstream"] == workstream]
    sizes = data.table.groupby("workstream", sort=False).size()
    group, words = FIRST_TABLE_ROW, FIRST_TABLE_ROW + 1
    heading = formats(bold=True, text_wrap=True, bg_color=HEADER_FILL, bottom=1, align="center")
    for col, label in ((0, "Workstream"), (1, "Indicators")):
        sheet.merge_range(group, col, words, col, "", heading)
        _text(sheet, group, col, label, heading)
    for first, label in ((2, "Against target"), (2 + len(RAG_WORDS), "Against last year")):
        sheet.merge_range(group, first, group, first + len(RAG_WORDS) - 1, "", heading)
        _text(sheet, group, first, label, heading)
        for k, word in enumerate(RAG_WORDS):
            _text(sheet, words, first + k, word, formats.rag(word, bold=True, align="center"))
    counts = [f"{label}: {word}" for label in ("Target", "Last year") for word in RAG_WORDS]
    whole = formats(num_format="#,##0")
    row = words
    for row, (_, record) in enumerate(wide.iterrows(), start=words + 1):
        _text(sheet, row, 0, record["Workstream"], formats(text_wrap=True))
        _number(sheet, row, 1, sizes.get(record["workstream"], 0), whole)
        for k, column in enumerate(counts):
            _number(sheet, row, 2 + k, record[column], whole)
    if workstream is None and len(wide) > 1:
        row += 1
        bold = formats(bold=True, top=1, num_format="#,##0")
        _text(sheet, row, 0, "All workstreams", formats(bold=True, top=1))
        _number(sheet, row, 1, len(data.table), bold)
        for k, column in enumerate(counts):
            _number(sheet, row, 2 + k, wide[column].sum(), bold)
    sheet.freeze_panes(words + 1, 0)
    sheet.set_column(0, 0, _width([*wide["Workstream"], "All workstreams"], most=45))
    sheet.set_column(1, 1 + 2 * len(RAG_WORDS), 10)


def _workstream_sheet(
    book, formats: _Formats, name: str, workstream: Workstream, data: ExportData, catalogue: Catalogue
) -> None:
    """One workstream's KPI table as the board reads it, figures as numbers."""
    sheet = book.add_worksheet(name)
    rows = of_workstream(data.table, workstream.id)
    _write_header(sheet, formats, header_lines(data, workstream.name))
    _write_column_headers(sheet, formats, FIRST_TABLE_ROW, SHEET_COLUMNS)
    board = board_table(rows, catalogue)
    figures = kept_decimals(rows)
    spc_notes = _spc_notes(data, catalogue, rows)
    indicators = [catalogue.indicator(i) for i in rows["indicator"]]
    wrap = formats(text_wrap=True)
    for k, ind in enumerate(indicators):
        row = FIRST_TABLE_ROW + 1 + k
        in_unit = formats(num_format=number_format(ind.decimals, ind.unit.value))
        plain = formats(num_format=number_format(ind.decimals))
        percent = formats(num_format=PERCENT_OF_COMPARATOR)
        _text(sheet, row, 0, board["Period"].iloc[k])
        _text(sheet, row, 1, board["Indicator"].iloc[k], wrap)
        for col, (column, fmt) in enumerate(
            (
                ("actual", in_unit),
                ("last_year", in_unit),
                ("variance_last_year", plain),
                ("variance_last_year_pct", percent),
                ("target", in_unit),
                ("variance_target", plain),
                ("variance_target_pct", percent),
            ),
            start=2,
        ):
            value = figures[column].iloc[k]
            if ind.unit is Unit.CURRENCY and fmt is not percent:  # money stays money, variances too
                fmt = formats(num_format=currency_format(value, ind.decimals))
            _number(sheet, row, col, value, fmt)
        _text(sheet, row, 9, rows["rag_target"].iloc[k], formats.rag(rows["rag_target"].iloc[k], align="center"))
        _text(sheet, row, 10, board["Trend"].iloc[k])
        word = rows["rag_last_year"].iloc[k]
        _text(sheet, row, 11, word, formats.rag(word, align="center"))
        _spc_cells(sheet, formats, row, 12, figures.iloc[k], ind, spc_notes.iloc[k])
    last = FIRST_TABLE_ROW + len(rows)
    sheet.freeze_panes(FIRST_TABLE_ROW + 1, 0)
    sheet.autofilter(FIRST_TABLE_ROW, 0, last, len(SHEET_COLUMNS) - 1)
    shown = {
        column: [
            formatting.with_unit(v, ind.unit.value, ind.decimals)
            for v, ind in zip(rows[column], indicators, strict=True)
        ]
        for column in ("actual", "last_year", "target")
    }
    widths = [
        _width(["Period", *board["Period"]]),
        _width(list(board["Indicator"]), least=30),
        _width(["Actual", *shown["actual"]]),
        _width(["Last year", *shown["last_year"]]),
        _width(["Last year +/-"], least=10),
        _width(["Last year %"], least=10),
        _width(["Target", *shown["target"]]),
        _width(["Target +/-"], least=10),
        _width(["Target %"], least=10),
        10,
        _width(list(board["Trend"]), least=10),
        _width(["Last year RAG"]),
        12,
        12,
        12,
        _width([VARIATION_TEXT[v] for v in rows["variation"].astype(str)], least=12),
        _width([ASSURANCE_TEXT[a] for a in rows["assurance"].astype(str)], least=12),
        _width(list(spc_notes), least=12),
    ]
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)


def spc_points(data: ExportData, catalogue: Catalogue) -> pd.DataFrame:
    """The SPC the table was made with (``data.spc``; made by :func:`export_data`), else the
    same computation from ``data.observations`` now."""
    return data.spc if len(data.spc) else integrated.spc_charts(data.observations, catalogue, data.as_at)


def _spc_notes(data: ExportData, catalogue: Catalogue, rows: pd.DataFrame) -> pd.Series:
    """Each row's limits as ``final``, or why they are trial limits or missing."""
    reasons = integrated.spc_table(spc_points(data, catalogue), catalogue).set_index("indicator")["spc_reason"]
    return rows["indicator"].map(reasons).replace("", "final")


def _spc_cells(sheet, formats: _Formats, row: int, first: int, figures: pd.Series, ind, note: str) -> None:
    """The SPC columns of a row: the latest limits as numbers in the indicator's unit, and
    the two icons as their words."""
    fmt = formats(num_format=number_format(min(ind.decimals + 1, 3), ind.unit.value))
    for col, column in enumerate(("spc_mean", "spc_lower", "spc_upper"), start=first):
        _number(sheet, row, col, figures[column], fmt)
    _text(sheet, row, first + 3, VARIATION_TEXT[str(figures["variation"])])
    _text(sheet, row, first + 4, ASSURANCE_TEXT[str(figures["assurance"])])
    _text(sheet, row, first + 5, note)


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
    "Cells hold the figures (to 6 decimal places), shown rounded as the report rounds them; a "
    "percentage is stored as 52 for 52%, and its +/- is in percentage points; money is stored in "
    "pounds and shown as £1,234k from £1,000 either way, in whole pounds below.",
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


def _key_sheet(book, formats: _Formats, data: ExportData, catalogue: Catalogue) -> None:
    sheet = book.add_worksheet("Key")
    _write_header(sheet, formats, header_lines(data, f"{catalogue.title}: key"))
    row = FIRST_TABLE_ROW
    wrap = formats(text_wrap=True)
    for title, lines in key_sections(catalogue, workbook=True):
        _text(sheet, row, 0, title, formats(bold=True, bg_color=HEADER_FILL, bottom=1))
        for sign, meaning in lines:
            row += 1
            is_rag = sign in RAG_WORDS
            _text(
                sheet,
                row,
                0,
                sign,
                formats.rag(sign, bold=True, align="center") if is_rag else formats(bold=True, text_wrap=True),
            )
            _text(sheet, row, 1, meaning, wrap)
        row += 2
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 100)


def _benchmark_sheets(book, formats: _Formats, data: ExportData, catalogue: Catalogue, workstream: str | None) -> None:
    """The **Comparisons** and **Inequality** sheets (the columns of ``python -m kpis
    compare`` and ``inequality``, a suppressed cell ``*``), after the key; none without
    breakdown data."""
    ids = [i.id for i in catalogue.indicators if workstream is None or i.workstream == workstream]
    sheets = (
        ("Comparisons", data.comparisons, benchmarking.COMPARE_COLUMNS),
        ("Inequality", data.inequalities, [*benchmarking.INEQUALITY_TABLE_COLUMNS, "change", "note"]),
    )
    for title, frame, columns in sheets:
        if frame.empty or not frame["indicator"].isin(ids).any():
            continue
        shown = benchmarking.shown(frame[frame["indicator"].isin(ids)].reset_index(drop=True))
        sheet = book.add_worksheet(title)
        _write_header(sheet, formats, header_lines(data, f"{catalogue.title}: {title.lower()}"))
        _write_column_headers(sheet, formats, FIRST_TABLE_ROW, columns)
        plain = formats(num_format="0.0#####")
        for r, record in enumerate(shown[columns].itertuples(index=False), start=FIRST_TABLE_ROW + 1):
            for c, value in enumerate(record):
                if isinstance(value, int | float) and not isinstance(value, bool):
                    _number(sheet, r, c, value, plain)
                else:
                    _text(sheet, r, c, "" if value is None or value != value else value)
        sheet.freeze_panes(FIRST_TABLE_ROW + 1, 0)
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, len(columns) - 1, 13)


def kpi_workbook(data: ExportData, catalogue: Catalogue, workstream: str | None = None) -> bytes:
    """The workbook: a summary sheet (the RAG summary counts per workstream, against target
    and last year), a sheet per workstream (its KPI table; all, or just ``workstream``) and
    a key. The same data gives the same bytes (the file's creation time is when its data
    version was loaded)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {**WORKBOOK_OPTIONS, "in_memory": True})
    book.set_properties(
        {
            "title": str(neutralise(f"{catalogue.title}, {periods.month_name(data.as_at)}")),
            "comments": f"Data version {data.data_version}",
            **({"created": data.loaded_at} if data.loaded_at else {}),
        }
    )
    formats = _Formats(book)
    _summary_sheet(book, formats, data, catalogue, workstream)
    taken = set(RESERVED_SHEETS)
    for ws in catalogue.workstreams:
        if workstream is not None and ws.id != workstream:
            continue
        name = sheet_name(ws.name, taken, ws.id)
        taken.add(name)
        _workstream_sheet(book, formats, name, ws, data, catalogue)
    _key_sheet(book, formats, data, catalogue)
    _benchmark_sheets(book, formats, data, catalogue, workstream)
    book.close()
    return buffer.getvalue()


# One entry point per format -----------------------------------------------------------

WRITERS: dict[str, Callable[[ExportData, Catalogue, str | None], bytes]] = {
    "csv": lambda data, _catalogue, workstream: kpi_csv(data.table, workstream),
    "xlsx": kpi_workbook,
    "html": lambda data, catalogue, workstream: boardpack.pack_html(data, catalogue, workstream).encode("utf-8"),
    "pdf": lambda data, catalogue, workstream: boardpack.pack_pdf(data, catalogue, workstream),
}


def export_bytes(data: ExportData, catalogue: Catalogue, fmt: str, workstream: str | None = None) -> bytes:
    """The export file's content in ``fmt`` (one of :data:`FORMATS`)."""
    return WRITERS[fmt](data, catalogue, check_workstream(catalogue, workstream))
