"""The extract template for a month: what :mod:`kpis.ingest.read` reads, to fill in.

Two layouts, as CSV or a workbook: **long**, the header and one row per indicator due;
**wide**, one row per indicator due with the months of the financial year so far as
columns (a ratio indicator on two rows, its numerator and denominator). Beside the cells
to fill, each row says what the officer needs without the catalogue
(:data:`kpis.ingest.read.REFERENCE_COLUMNS`): the indicator's ``name``, its ``unit``,
whether the ``figure`` is the month's own or as reported, what to ``enter`` (a value, or
a numerator and denominator) and ``last month``'s figure in the store. Those columns, and
a workbook's notes sheet, are ignored when the file is read back.
"""

from __future__ import annotations

import csv
import io
from enum import StrEnum

import pandas as pd

from kpis import periods
from kpis.catalogue import Aggregation, Catalogue, Indicator
from kpis.ingest.read import COLUMNS, REFERENCE_COLUMNS
from kpis.report import formatting, status

REFERENCE = list(REFERENCE_COLUMNS)  # for the officer, ignored when read back


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


def figure_kind(indicator: Indicator) -> str:
    """What figure an officer enters: the month's own (the report adds up the year or
    twelve months) or the figure as reported for the period."""
    if indicator.aggregation is Aggregation.AS_REPORTED:
        return "as reported for the month"
    window = "the year to date" if indicator.aggregation.is_ytd else "12 months"
    return f"the month's own (the report adds up {window})"


def to_enter(indicator: Indicator) -> str:
    return "numerator and denominator" if indicator.aggregation.uses_ratio else "value"


def _last_month_rows(month: int, observations: pd.DataFrame | None) -> dict[str, dict]:
    """Each indicator's row in the store for the month before ``month`` (its first), by
    indicator: one selection for the whole template, not one per indicator."""
    if observations is None or observations.empty:
        return {}
    before = observations[observations["period"] == month - 1].drop_duplicates("indicator")
    return dict(zip(before["indicator"].astype(str), before.to_dict("records"), strict=True))


def _last_month(indicator: Indicator, before: dict[str, dict]) -> str:
    """The figure in the store for the month before, as loaded (``40 / 80`` for a ratio)."""
    row = before.get(indicator.id)
    if row is None:
        return ""
    if indicator.aggregation.uses_ratio and pd.notna(row["numerator"]) and pd.notna(row["denominator"]):
        return f"{formatting.exact(row['numerator'])} / {formatting.exact(row['denominator'])}"
    return formatting.exact(row["value"])


def _reference(indicator: Indicator, before: dict[str, dict]) -> list[str]:
    return [
        indicator.name,
        indicator.unit.value,
        figure_kind(indicator),
        to_enter(indicator),
        _last_month(indicator, before),
    ]


def rows(catalogue: Catalogue, month: int, layout: Layout, observations: pd.DataFrame | None = None) -> list[list[str]]:
    """The template's cells, header first; ``observations`` (the values in force) give
    each row its ``last month`` figure."""
    due = status.due(catalogue, month)
    before = _last_month_rows(month, observations)
    if layout is Layout.LONG:
        return [
            ["indicator", *REFERENCE, *COLUMNS[1:]],
            *([i.id, *_reference(i, before), periods.to_text(month), "", "", "", ""] for i in due),
        ]
    months = months_so_far(month)
    table = [["indicator", *REFERENCE, "measure", *(header_label(m) for m in months)]]
    blanks = [""] * len(months)
    for indicator in due:
        reference = _reference(indicator, before)
        table += [[indicator.id, *reference, measure, *blanks] for measure in _measures(indicator)]
    return table


def _measures(indicator: Indicator) -> list[str]:
    return ["numerator", "denominator"] if indicator.aggregation.uses_ratio else ["value"]


def template(
    catalogue: Catalogue,
    month: int,
    layout: Layout = Layout.LONG,
    fmt: Format = Format.CSV,
    observations: pd.DataFrame | None = None,
) -> bytes:
    """The template's bytes: CSV as Excel writes it, or a workbook whose first sheet is the
    template and whose second holds notes (not read back)."""
    table = rows(catalogue, month, Layout(layout), observations)
    if Format(fmt) is Format.CSV:
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(table)
        return out.getvalue().encode("utf-8")
    return _workbook(table, catalogue, month, Layout(layout))


def _workbook(table: list[list[str]], catalogue: Catalogue, month: int, layout: Layout) -> bytes:
    import xlsxwriter  # only for workbooks

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    text = book.add_format({"num_format": "@"})  # periods stay text: Excel would make 2020-10 a date
    fill = book.add_format({"num_format": "@", "border": 1, "bg_color": "#FFFFFF"})
    reference = book.add_format({"num_format": "@", "italic": True, "font_color": "#4A4A4A", "bg_color": "#F2F2F2"})
    sheet = book.add_worksheet("Template")
    names = table[0]
    widths = {"indicator": 28, "name": 44, "unit": 9, "figure": 30, "enter": 24, "last month": 12}
    for c, name in enumerate(names):
        sheet.set_column(c, c, widths.get(name, 12))
    for r, row in enumerate(table):
        for c, value in enumerate(row):
            if r == 0:
                cell = header
            elif names[c] in REFERENCE:
                cell = reference
            elif names[c] in ("indicator", "period", "measure"):
                cell = text
            else:
                cell = fill  # to fill in
            sheet.write_string(r, c, value, cell)
    sheet.freeze_panes(1, 2)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    notes = book.add_worksheet("Notes")
    lines = [
        f"{catalogue.title}: extract template for {periods.month_name(month)} ({layout.value} layout).",
        "Fill in the first sheet; this sheet is not read.",
        "The grey columns (name, unit, figure, enter, last month) are there for reference: they say what to enter"
        " and last month's figure in the store; they are ignored when the file is read back.",
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
