"""The Excel workbook: a summary sheet (the RAG summary counts per workstream), a sheet per
workstream (its KPI table with the SPC columns), a key, and the benchmarking sheets.

Safe to open in Excel: every text cell is neutralised against formula injection
(:mod:`kpis.spreadsheet`), numbers stay numbers (formatted, never written as text), and the
workbook converts no string to a formula or a link.
"""

from __future__ import annotations

import io
import re

import pandas as pd
import xlsxwriter

from kpis import periods
from kpis.catalogue import Catalogue, Unit, Workstream
from kpis.publish.contents import ExportData, header_lines, kept_decimals, key_sections, of_workstream, spc_points
from kpis.report import benchmarking, formatting, integrated
from kpis.report.integrated import ASSURANCE_TEXT, VARIATION_TEXT
from kpis.report.palette import rag_palette
from kpis.report.performance import RAG_WORDS, rag_summary
from kpis.report.presentation import BOARD_COLUMNS, board_table, summary_wide
from kpis.spreadsheet import neutralise

WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}

_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_SHEET_LENGTH = 31
RESERVED_SHEETS = (
    "Summary",
    "Key",
    "History",
    "Comparisons",
    "Inequality",
)  # ours, and the one name Excel keeps for itself


_SHORTER = ((" and ", " & "),)  # the report's own shorthand
_DROPPED = ("the", "of", "for", "to", "in", "a")  # words a name reads without


def abbreviate(text: str, length: int = _SHEET_LENGTH) -> str:
    """A name in at most ``length`` characters, shortened as a reader would shorten it:
    ``and`` as ``&``, then small words left out, then the longest words cut to four letters
    and a full stop (``Commissioning`` → ``Comm.``), longest first; cut only if nothing else
    is left. Never marked with ``…``: the full name is in the sheet's title row."""
    for long, short in _SHORTER:
        if len(text) > length:
            text = text.replace(long, short)
    words = text.split()
    if len(" ".join(words)) > length:
        kept = [w for k, w in enumerate(words) if k == 0 or w.casefold() not in _DROPPED]
        words = kept if kept else words
    while len(words) > 1 and len(" ".join(words)) > length:
        longest = max(range(len(words)), key=lambda k: (len(words[k]) if not words[k].endswith(".") else 0, -k))
        if words[longest].endswith(".") or len(words[longest]) <= 5:
            break
        words[longest] = words[longest][:4] + "."
    return " ".join(words)[:length].rstrip()


def sheet_name(name: str, taken: set[str], fallback: str) -> str:
    """An Excel sheet name for a workstream name: without ``[]:*?/\\``, not starting with a
    formula sign or an apostrophe, at most 31 characters (:func:`abbreviate`), and unique in
    ``taken`` (compared case-insensitively, as Excel does); ``fallback`` (the workstream id)
    if nothing is left."""
    text = " ".join(_SHEET_UNSAFE.sub(" ", name).split()).lstrip("=+-@' ").rstrip("' ")
    text = abbreviate(text).rstrip("' ") if len(text) > _SHEET_LENGTH else text
    text = text or fallback[:_SHEET_LENGTH]
    folded = {t.casefold() for t in taken}
    candidate, n = text, 1
    while candidate.casefold() in folded:
        n += 1
        suffix = f" ({n})"
        candidate = abbreviate(text, _SHEET_LENGTH - len(suffix)) + suffix
    return candidate


# Excel ------------------------------------------------------------------------------------

UNIT_SUFFIX = {"percent": "%", "days": '" days"', "hours": '" hrs"'}  # as formatting.UNIT_SUFFIX
PERCENT_OF_COMPARATOR = "0%"  # variance %: stored as a fraction (0.52 for 52%), shown without decimals
PERCENT = 100  # a percentage figure is stored in the workbook as a fraction, so Excel computes with it
SPC_SHEET_COLUMNS = ["SPC mean", "Lower process limit", "Upper process limit", "Variation", "Assurance", "SPC limits"]
SHEET_COLUMNS = [*BOARD_COLUMNS, "Last year RAG", *SPC_SHEET_COLUMNS]
HEADER_ROWS = 3  # title, as at, data version
FIRST_TABLE_ROW = HEADER_ROWS + 1  # a blank row, then the table's column headers
HEADER_FILL = "#F2F2F2"
TREND_WORDS = {
    "better": "Better than last year",
    "same": "Same as last year",
    "worse": "Worse than last year",
    "n/a": "No comparison",
}  # the Trend column in words, for filters and screen readers (the pack keeps the arrows)


def _print_setup(sheet, header_row: int | None = None) -> None:
    """A4 landscape, fitted to one page wide (as long as it needs), the column headers
    repeated on every printed page."""
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if header_row is not None:
        sheet.repeat_rows(header_row)


def number_format(decimals: int, unit: str | None = None) -> str:
    """Excel's format for a figure: ``#,##0``, ``#,##0.0%`` (of a fraction: 0.059 shows
    5.9%), ``#,##0" days"``; with no unit for a variance (``+/-`` is in the unit)."""
    base = "#,##0" + ("." + "0" * decimals if decimals else "")
    return base + UNIT_SUFFIX.get(unit or "", "")


def currency_format(value: float, decimals: int) -> str:
    """Excel's format for money as :func:`kpis.report.formatting.currency` shows ``value``:
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
    _print_setup(sheet, words)
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
        # a percentage's +/- is the difference of two fractions: shown as a percentage too
        plain = in_unit if ind.unit is Unit.PERCENT else formats(num_format=number_format(ind.decimals))
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
            if fmt is percent or ind.unit is Unit.PERCENT:
                value = value / PERCENT
            if ind.unit is Unit.CURRENCY and fmt is not percent:  # money stays money, variances too
                fmt = formats(num_format=currency_format(value, ind.decimals))
            _number(sheet, row, col, value, fmt)
        _text(sheet, row, 9, rows["rag_target"].iloc[k], formats.rag(rows["rag_target"].iloc[k], align="center"))
        _text(sheet, row, 10, TREND_WORDS.get(str(rows["trend"].iloc[k]), str(rows["trend"].iloc[k])))
        word = rows["rag_last_year"].iloc[k]
        _text(sheet, row, 11, word, formats.rag(word, align="center"))
        _spc_cells(sheet, formats, row, 12, figures.iloc[k], ind, spc_notes.iloc[k])
    last = FIRST_TABLE_ROW + len(rows)
    sheet.freeze_panes(FIRST_TABLE_ROW + 1, 0)
    sheet.autofilter(FIRST_TABLE_ROW, 0, last, len(SHEET_COLUMNS) - 1)
    _print_setup(sheet, FIRST_TABLE_ROW)
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
        _width([TREND_WORDS.get(str(t), str(t)) for t in rows["trend"]], least=10),
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


def _spc_notes(data: ExportData, catalogue: Catalogue, rows: pd.DataFrame) -> pd.Series:
    """Each row's limits as ``final``, or why they are trial limits or missing."""
    reasons = integrated.spc_table(spc_points(data, catalogue), catalogue).set_index("indicator")["spc_reason"]
    return rows["indicator"].map(reasons).replace("", "final")


def _spc_cells(sheet, formats: _Formats, row: int, first: int, figures: pd.Series, ind, note: str) -> None:
    """The SPC columns of a row: the latest limits as numbers in the indicator's unit, and
    the two icons as their words."""
    fmt = formats(num_format=number_format(min(ind.decimals + 1, 3), ind.unit.value))
    scale = PERCENT if ind.unit is Unit.PERCENT else 1
    for col, column in enumerate(("spc_mean", "spc_lower", "spc_upper"), start=first):
        _number(sheet, row, col, figures[column] / scale, fmt)
    _text(sheet, row, first + 3, VARIATION_TEXT[str(figures["variation"])])
    _text(sheet, row, first + 4, ASSURANCE_TEXT[str(figures["assurance"])])
    _text(sheet, row, first + 5, note)


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
    _print_setup(sheet)


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
        _print_setup(sheet, FIRST_TABLE_ROW)
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
