"""One registry of export formats: :data:`WRITERS` has one entry per format (CSV, the Excel
workbook, the board pack as HTML, PDF and PowerPoint), and :func:`export_bytes` is the one entry point.

File names are made only from the as-at month and a workstream id (:func:`kpis.publish.contents.file_name`).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from kpis import periods
from kpis.catalogue import Catalogue
from kpis.publish import EXPORT_FORMATS, boardpack, slides
from kpis.publish.contents import FILE_PREFIX, ExportData, check_workstream, kept_decimals, of_workstream
from kpis.publish.workbook import kpi_workbook
from kpis.report import benchmarking
from kpis.report.integrated import REPORT_COLUMNS
from kpis.spreadsheet import safe_csv

FORMATS = EXPORT_FORMATS


def comparison_csv(data: ExportData, workstream: str | None = None, catalogue: Catalogue | None = None) -> bytes:
    """The comparisons (the columns of ``python -m kpis compare``) as CSV for Excel, a
    suppressed cell ``*``; all indicators, or a workstream's."""
    frame = data.comparisons
    if frame.empty:
        return safe_csv(pd.DataFrame(columns=benchmarking.COMPARE_COLUMNS))
    if workstream is not None and catalogue is not None:
        frame = frame[frame["indicator"].isin([i.id for i in catalogue.in_workstream(workstream)])]
    return safe_csv(benchmarking.shown(frame))


def kpi_csv(table: pd.DataFrame, workstream: str | None = None) -> bytes:
    """The KPI table with its SPC (:data:`kpis.report.integrated.REPORT_COLUMNS`, the same
    columns and values as ``python -m kpis summary --format csv``: the icons as their
    words, ``spc_trial`` as ``true``/``false``) as CSV for Excel: UTF-8 with a BOM, text
    cells neutralised."""
    rows = kept_decimals(of_workstream(table, workstream)[REPORT_COLUMNS])
    return safe_csv(rows.assign(spc_trial=rows["spc_trial"].map({True: "true", False: "false"})))


# One entry point per format -----------------------------------------------------------

WRITERS: dict[str, Callable[[ExportData, Catalogue, str | None], bytes]] = {
    "csv": lambda data, _catalogue, workstream: kpi_csv(data.table, workstream),
    "xlsx": kpi_workbook,
    "html": lambda data, catalogue, workstream: boardpack.pack_html(data, catalogue, workstream).encode("utf-8"),
    "pdf": lambda data, catalogue, workstream: boardpack.pack_pdf(data, catalogue, workstream),
    "pptx": lambda data, catalogue, workstream: slides.pack_pptx(data, catalogue, workstream),
}


def export_bytes(data: ExportData, catalogue: Catalogue, fmt: str, workstream: str | None = None) -> bytes:
    """The export file's content in ``fmt`` (one of :data:`FORMATS`)."""
    return WRITERS[fmt](data, catalogue, check_workstream(catalogue, workstream))


# File names ------------------------------------------------------------------------------------


def file_name(as_at: int, fmt: str, workstream: str | None = None) -> str:
    """``icu-kpis-2020-11.xlsx``, ``icu-kpis-2020-11-market.csv``: from the month and a
    catalogue workstream id (lower case letters, digits and _) only."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    parts = [FILE_PREFIX, periods.to_text(as_at), *([workstream] if workstream else [])]
    return "-".join(parts) + "." + fmt
