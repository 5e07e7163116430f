"""The extract template for a month: what :mod:`kpis.ingest.read` reads, to fill in.

Two layouts, as CSV or a workbook: **long**, the header and one row per indicator due;
**wide**, one row per indicator due with the months of the financial year so far as
columns (a ratio indicator on two rows, its numerator and denominator). The wide layout's
``name`` column, and a workbook's notes sheet, are ignored when the file is read back.
"""

from __future__ import annotations

import csv
import io
from enum import StrEnum

from kpis import periods
from kpis.catalogue import Catalogue, Indicator
from kpis.ingest.read import COLUMNS
from kpis.report import status


class Layout(StrEnum):
    LONG = "long"
    WIDE = "wide"


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def months_so_far(month: int) -> list[int]:
    """The months of ``month``'s financial year up to it (April first)."""
    first = month - periods.fy_month(month) + 1
    return list(range(first, month + 1))


def header_label(month: int) -> str:
    """``Apr-20``: a wide template's column, as Excel shows a month."""
    return f"{periods.month_name(month)[:3]}-{month // 12 % 100:02d}"


def rows(catalogue: Catalogue, month: int, layout: Layout) -> list[list[str]]:
    """The template's cells, header first."""
    due = status.due(catalogue, month)
    if layout is Layout.LONG:
        return [COLUMNS, *([i.id, periods.to_text(month), "", "", "", ""] for i in due)]
    months = months_so_far(month)
    table = [["indicator", "name", "measure", *(header_label(m) for m in months)]]
    blanks = [""] * len(months)
    for indicator in due:
        table += [[indicator.id, indicator.name, measure, *blanks] for measure in _measures(indicator)]
    return table


def _measures(indicator: Indicator) -> list[str]:
    return ["numerator", "denominator"] if indicator.aggregation.uses_ratio else ["value"]


def template(catalogue: Catalogue, month: int, layout: Layout = Layout.LONG, fmt: Format = Format.CSV) -> bytes:
    """The template's bytes: CSV as Excel writes it, or a workbook whose first sheet is the
    template and whose second holds notes (not read back)."""
    table = rows(catalogue, month, Layout(layout))
    if Format(fmt) is Format.CSV:
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(table)
        return out.getvalue().encode("utf-8")
    return _workbook(table, catalogue, month, Layout(layout))


def _workbook(table: list[list[str]], catalogue: Catalogue, month: int, layout: Layout) -> bytes:
    import xlsxwriter  # only for workbooks

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    text = book.add_format({"num_format": "@"})  # periods stay text: Excel would make 2020-10 a date
    sheet = book.add_worksheet("Template")
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value, header if r == 0 else text)
    sheet.freeze_panes(1, 1)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, len(table[0]) - 1, 14 if layout is Layout.LONG else 12)
    if layout is Layout.WIDE:
        sheet.set_column(1, 1, 40)
    notes = book.add_worksheet("Notes")
    lines = [
        f"{catalogue.title}: extract template for {periods.month_name(month)} ({layout.value} layout).",
        "Fill in the first sheet; this sheet is not read.",
        "Values: a plain number in the indicator's unit (52 for 52%); a ratio indicator takes its numerator and"
        " denominator (whole counts) instead.",
        "Leave a cell blank where there is no figure yet. Load the file on the 'Load an extract' page, or with"
        " python -m kpis ingest FILE.",
    ]
    for r, line in enumerate(lines):
        notes.write_string(r, 0, line)
    notes.set_column(0, 0, 120)
    book.close()
    return buffer.getvalue()


def template_name(month: int, layout: Layout = Layout.LONG, fmt: Format = Format.CSV) -> str:
    wide = "-wide" if Layout(layout) is Layout.WIDE else ""
    return f"extract-template-{periods.to_text(month)}{wide}.{Format(fmt).value}"
