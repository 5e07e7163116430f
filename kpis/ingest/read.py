"""Step 1 of a load: any input becomes one long frame of cells as written.

Every layout (a long CSV or sheet: one row per indicator and period; a wide one: one row
per indicator with a column per period) in every format (CSV, or an Excel workbook)
comes out as chunks of the same frame: ``row`` (the line or sheet row a cell came from;
the header is normally row 1), ``column`` (the header of the column that held the period
and value: ``period`` in a long file, ``Apr-20`` in a wide one), the text cells
``indicator, period, value, numerator, denominator, note``, and ``numerator_row`` and
``denominator_row`` (a wide sheet gives a ratio's counts on rows of their own). Problems
with the file as a whole, its header or the shape of its rows are raised here; problems
in cells are the rules' job (:mod:`kpis.ingest.rules`).

CSV is parsed by pandas' C reader in chunks, so a file of millions of rows is read in
bounded memory; workbooks by calamine (``python-calamine``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Catalogue
from kpis.errors import Problems, reject
from kpis.ingest.records import (
    COLUMNS,
    EXPORT_AGAIN,
    HEADER_SEARCH,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ROW_NUMBERS,
    Source,
    csv_records,
    without_trailing_blanks,
    workbook_records,
)

# Optional columns of a long file for breakdowns and benchmarking: where (blank: the
# catalogue's home area), which part of the population (blank: all of it), the source's
# own confidence limits, and the population an inequality index weighs a group by.
BREAKDOWN_COLUMNS = ["area", "breakdown", "group", "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998", "population"]
CELL_COLUMNS = ["row", "column", *COLUMNS, "numerator_row", "denominator_row", *BREAKDOWN_COLUMNS]
INDICATOR_HEADERS = ("indicator", "id", "code")  # what the first column of a wide sheet may be called
# Columns a template carries for the officer's reference, ignored when a file is read back.
REFERENCE_COLUMNS = ("name", "unit", "figure", "enter", "last month")
WIDE_EXTRA_COLUMNS = ("measure", "note", *REFERENCE_COLUMNS)  # ignored but measure and note
MEASURES = ("value", "numerator", "denominator")


@dataclass(frozen=True)
class Table:
    """A file's header (its first non-blank row) and, chunk by chunk, the records below it:
    frames of text cells (columns 0, 1, ...) and ``line``, the row each came from."""

    header: list[str]
    header_line: int
    first: pd.DataFrame  # the first chunk of records, the header's row included
    body: Iterator[pd.DataFrame]


def read_table(source: Source, problems: Problems, header_hint: str = EXPORT_AGAIN) -> Table:
    """Any table the product reads, CSV or a workbook's sheet: the one reader of extracts
    and of the risk register. Whole-file problems are raised here."""
    records = workbook_records(source, problems) if source.is_workbook else csv_records(source, problems, header_hint)
    first = next(records, None)
    if first is None or first.empty:
        raise reject(problems.whole_file("file.empty", "the file is empty", header_hint))
    header = without_trailing_blanks(_cells_of(first, 0))
    return Table(header, int(first["line"].iloc[0]), first, _chain(first.iloc[1:], records))


def records_of(chunk: pd.DataFrame) -> Iterator[tuple[int, list[str]]]:
    """Each record of a chunk as its row as a spreadsheet counts them (``record``: a cell
    over several lines is still one row) and its cells (for files of a few thousand rows)."""
    cells = chunk.drop(columns=ROW_NUMBERS).astype(object)
    for record, row in zip(chunk["record"].tolist(), cells.itertuples(index=False, name=None), strict=True):
        yield int(record), [str(c) for c in row]


def read_cells(source: Source, catalogue: Catalogue | None = None) -> Iterator[pd.DataFrame]:
    """Chunks of the long frame of cells (:data:`CELL_COLUMNS`), in file order."""
    problems = Problems(source.file_name, source.sheet or "")
    table = read_table(source, problems)
    layout = _layout(table.header, table.header_line, table.first, catalogue, problems)
    empty = True
    for chunk in table.body:
        cells = _body_cells(chunk, table.header, layout, problems)
        if len(cells):
            empty = False
            yield cells
    if empty:
        raise reject(problems.whole_file("file.no_rows", "the file has a header but no rows", EXPORT_AGAIN))


def refuse_oversized(content: bytes, file_name: str, max_bytes: int) -> None:
    """Refuse a file over a size limit (the browser's: the command line has none)."""
    if len(content) > max_bytes:
        raise reject(
            Problems(file_name).whole_file(
                "file.too_large",
                f"the file is larger than the upload limit of {max_bytes / (1024 * 1024):g} MB",
                "load it from the command line, which takes files of any size: python -m kpis ingest FILE",
                value=f"{len(content):,} bytes",
            )
        )


# The header --------------------------------------------------------------------------


def _cells_of(records: pd.DataFrame, position: int) -> list[str]:
    return [str(c) for c in records.drop(columns=ROW_NUMBERS).iloc[position].tolist()]


@dataclass(frozen=True)
class Layout:
    """Where each field is in a row: ``long`` names a column per field; ``wide`` has the
    indicator, an optional measure and note, and a period per other column."""

    wide: bool
    positions: dict[str, int]  # field → column position
    header_line: int = 1
    period_columns: tuple[tuple[int, str, int], ...] = ()  # wide: (position, header as written, month)


def _layout(
    header: list[str], line: int, records: pd.DataFrame, catalogue: Catalogue | None, problems: Problems
) -> Layout:
    names = [h.strip().lower() for h in header]
    if catalogue is not None and catalogue.lookup(header[0]) is not None:
        raise reject(
            problems.at(
                "header.missing",
                line,
                "",
                ",".join(header),
                "the first row is data, not the header",
                "insert a first row 'indicator,period,value' (and numerator,denominator,note if used)",
            )
        )
    if names[0] in INDICATOR_HEADERS and "period" not in names and _any_period(header[1:]):
        return _wide_layout(header, names, line, problems)
    found = _long_header_problems(header, names, line, problems)
    if found is not None:
        above = _rows_above_the_header(records, problems)
        raise reject(above if above is not None else found)
    names = ["indicator" if k == 0 and n in INDICATOR_HEADERS else n for k, n in enumerate(names)]
    return Layout(wide=False, positions={name: k for k, name in enumerate(names)})


def _long_header_problems(header: list[str], names: list[str], line: int, problems: Problems) -> pd.DataFrame | None:
    found = []
    names = ["indicator" if k == 0 and n in ("id", "code") else n for k, n in enumerate(names)]
    for position, name in enumerate(names, start=1):
        written = header[position - 1]
        if name in REFERENCE_COLUMNS:
            continue
        if name not in COLUMNS and name not in BREAKDOWN_COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1) or difflib.get_close_matches(
                name, BREAKDOWN_COLUMNS, n=1
            )
            hint = f"did you mean '{close[0]}'? " if close else ""
            found.append(
                problems.row(
                    "header.unknown_column",
                    line,
                    written,
                    written,
                    f"column {position} is not an extract column",
                    f"{hint}the columns are {', '.join(COLUMNS)} (the last three optional)",
                )
            )
        elif names.index(name) != position - 1:
            found.append(
                problems.row(
                    "header.repeated_column",
                    line,
                    written,
                    written,
                    "this column appears twice",
                    "keep one column of each name",
                )
            )
    for name in REQUIRED_COLUMNS:
        if name not in names:
            found.append(
                problems.row(
                    "header.missing_column",
                    line,
                    name,
                    "",
                    f"the required column '{name}' is missing",
                    "the header row must hold indicator, period and value",
                )
            )
    return problems.frame(found) if found else None


def _rows_above_the_header(records: pd.DataFrame, problems: Problems) -> pd.DataFrame | None:
    """When a row a little below the first names every required column (a title or notes
    typed above the header): one problem for each non-blank row above it."""
    above: list[tuple[int, str]] = []
    for k in range(min(len(records), HEADER_SEARCH + 1)):
        cells = without_trailing_blanks(_cells_of(records, k))
        if set(REQUIRED_COLUMNS) <= {cell.strip().lower() for cell in cells}:
            if not above:
                return None
            header, line = ",".join(cells), int(records["line"].iloc[k])
            return problems.frame(
                [
                    problems.row(
                        "header.below_title",
                        row,
                        "",
                        written,
                        f"this row is not the header; the header '{header}' is on row {line}",
                        "delete the rows above the header, so that the header is the first row"
                        " (a title belongs in the file name)",
                    )
                    for row, written in above
                ]
            )
        above.append((int(records["line"].iloc[k]), ",".join(cells)))
    return None


def _any_period(cells: list[str]) -> bool:
    for cell in cells:
        try:
            periods.parse_header(cell)
            return True
        except periods.PeriodError:
            continue
    return False


def _wide_layout(header: list[str], names: list[str], line: int, problems: Problems) -> Layout:
    positions = {"indicator": 0}
    period_columns = []
    found = []
    seen: dict[int, str] = {}
    for position, (written, name) in enumerate(zip(header, names, strict=True)):
        if position == 0:
            continue
        if name in WIDE_EXTRA_COLUMNS:
            if name in ("measure", "note"):
                positions[name] = position
            continue
        if not name:
            found.append(
                problems.row(
                    "header.blank",
                    line,
                    f"column {position + 1}",
                    "",
                    "this header cell is blank (or part of a merged cell) and the column holds figures",
                    "write the period (such as Apr-20 or 2020-04) in each column's own header cell; unmerge merged cells",
                )
            )
            continue
        try:
            month = periods.parse_header(written)
        except periods.PeriodError as error:
            found.append(
                problems.row(
                    "header.not_a_period",
                    line,
                    written,
                    written,
                    "this column of a wide sheet is not a period",
                    f"{error}; or name it one of: {', '.join(WIDE_EXTRA_COLUMNS)}",
                )
            )
            continue
        if month in seen:
            found.append(
                problems.row(
                    "header.repeated_period",
                    line,
                    written,
                    written,
                    f"this column is the same month as column '{seen[month]}'",
                    "keep one column per month",
                )
            )
            continue
        seen[month] = written
        period_columns.append((position, written.strip(), month))
    if not period_columns and not found:
        found.append(
            problems.row(
                "header.no_periods",
                line,
                header[0],
                ",".join(header),
                "the header has an indicator column but neither a period column nor a column per period",
                "write a header 'indicator,period,value', or one column per month such as Apr-20, May-20",
            )
        )
    if found:
        raise reject(problems.frame(found))
    return Layout(wide=True, positions=positions, period_columns=tuple(period_columns), header_line=line)


# Rows ----------------------------------------------------------------------------------


def _chain(first: pd.DataFrame, rest: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    yield first
    yield from rest


def _body_cells(records: pd.DataFrame, header: list[str], layout: Layout, problems: Problems) -> pd.DataFrame:
    if records.empty:
        return pd.DataFrame(columns=CELL_COLUMNS)
    _refuse_wider_rows(records, header, layout, problems)
    if layout.wide:
        return _wide_cells(records, layout, problems)
    line = records["line"].to_numpy(np.int64)
    blank = pd.Categorical.from_codes(np.zeros(len(line), dtype=np.int8), categories=pd.Index([""]))
    frame = {"row": line, "column": blank}
    for name in (*COLUMNS, *BREAKDOWN_COLUMNS):
        position = layout.positions.get(name)
        # The text cells stay pandas strings (Arrow-backed): no Python object per cell.
        frame[name] = records[position].str.strip().array if position is not None else blank
    frame["numerator_row"] = line
    frame["denominator_row"] = line
    return pd.DataFrame(frame)[CELL_COLUMNS]


def _refuse_wider_rows(records: pd.DataFrame, header: list[str], layout: Layout, problems: Problems) -> None:
    width = len(header)
    # The cells' columns are numbered from 0, beside the named row numbers.
    extra = [int(c) for c in records.columns if c not in ROW_NUMBERS and int(c) >= width]
    if not extra:
        return
    wide = np.zeros(len(records), dtype=bool)
    for column in extra:
        wide |= (records[column].str.strip() != "").to_numpy()
    if not wide.any():
        return
    if layout.wide:  # figures under a blank header cell (a merged one, say)
        used = [c for c in extra if (records[c].str.strip() != "").any()]
        raise reject(
            problems.frame(
                [
                    problems.row(
                        "header.blank",
                        layout.header_line,
                        f"column {c + 1}",
                        "",
                        "this header cell is blank (or part of a merged cell) and the column holds figures",
                        "write the period (such as Apr-20 or 2020-04) in each column's own header cell;"
                        " unmerge merged cells",
                    )
                    for c in used
                ]
            )
        )
    names = [h.strip().lower() for h in header]
    found = []
    for _, record in records[wide].iterrows():
        cells = without_trailing_blanks([str(record[c]) for c in records.columns if c not in ROW_NUMBERS])
        found.append(
            problems.row(
                "row.too_wide",
                int(record["line"]),
                "",
                ",".join(cells),
                f"this row has {len(cells)} cells, the header has {width}",
                _wider_row_hint(cells, names),
            )
        )
    raise reject(problems.frame(found))


def _wide_cells(records: pd.DataFrame, layout: Layout, problems: Problems) -> pd.DataFrame:
    """One long row per indicator and period column; a ``measure`` column puts a ratio's
    numerator and denominator on rows of their own, under the same indicator."""
    indicator = records[layout.positions["indicator"]].str.strip()
    measure_at = layout.positions.get("measure")
    measure = records[measure_at].str.strip().str.lower().replace("", "value") if measure_at is not None else None
    note_at = layout.positions.get("note")
    note = records[note_at].str.strip() if note_at is not None else pd.Series("", index=records.index)
    if measure is not None:
        bad = ~measure.isin(MEASURES)
        if bad.any():
            raise reject(
                problems.frame(
                    [
                        problems.row(
                            "row.measure",
                            int(line),
                            "measure",
                            written,
                            "is not a measure",
                            "write value, numerator or denominator (blank: value)",
                        )
                        for line, written in zip(records["line"][bad], records[measure_at][bad], strict=True)
                    ]
                )
            )
    parts = []
    for position, written, month in layout.period_columns:
        parts.append(
            pd.DataFrame(
                {
                    "row": records["line"].to_numpy(np.int64),
                    "position": position,
                    "column": written,
                    "indicator": indicator.to_numpy(object),
                    "period": periods.to_text(month),
                    "measure": measure.to_numpy(object) if measure is not None else "value",
                    "cell": records[position].str.strip().to_numpy(object),
                    "note": note.to_numpy(object),
                }
            )
        )
    long = pd.concat(parts, ignore_index=True)
    long = long[long["cell"] != ""]
    if long.empty:
        return pd.DataFrame(columns=CELL_COLUMNS)
    key = ["indicator", "period", "column", "position"]
    by_measure = {m: long[long["measure"] == m].drop_duplicates(key).set_index(key) for m in MEASURES}
    keys = pd.concat([by_measure[m].index.to_frame(index=False) for m in MEASURES]).drop_duplicates()
    out = keys.set_index(key)
    for m in MEASURES:
        out[m] = by_measure[m]["cell"].reindex(out.index).fillna("")
        out[f"{m}_row"] = by_measure[m]["row"].reindex(out.index)
    out["note"] = by_measure["value"]["note"].reindex(out.index).fillna("")
    out = out.reset_index()
    for name in BREAKDOWN_COLUMNS:  # a wide sheet is the home area's whole population
        out[name] = ""
    first_row = out[["value_row", "numerator_row", "denominator_row"]].min(axis=1)
    out["row"] = out["value_row"].fillna(first_row).astype(np.int64)
    for m in ("numerator", "denominator"):
        out[f"{m}_row"] = out[f"{m}_row"].fillna(out["row"]).astype(np.int64)
    return out.sort_values(["row", "position"], kind="stable")[CELL_COLUMNS].reset_index(drop=True)


# How to fix a row wider than the header -------------------------------------------------

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?%?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")
_LEADING_DIGITS = re.compile(r"[+-]?\d{1,3}")
_DIGIT_GROUP = re.compile(r"\d{3}")
_LAST_DIGIT_GROUP = re.compile(r"\d{3}(\.\d*)?%?")


def _split_at_thousands_commas(cells: list[str], names: list[str]) -> bool:
    """Whether joining each cell that looks like the rest of a number ('039' after '7',
    from 7,039) to the cell before gives a row no wider than the header, with a number or
    nothing in each of its number columns."""
    joined: list[str] = []
    split: list[bool] = []
    in_number = False
    for cell in map(str.strip, cells):
        if in_number and _LAST_DIGIT_GROUP.fullmatch(cell):
            joined[-1], split[-1] = f"{joined[-1]},{cell}", True
            in_number = _DIGIT_GROUP.fullmatch(cell) is not None  # a decimal part or % ends the number
        else:
            joined.append(cell)
            split.append(False)
            in_number = _LEADING_DIGITS.fullmatch(cell) is not None
    joined = without_trailing_blanks(joined)
    if not any(split) or len(joined) > len(names):
        return False
    return all(
        not cell or _PLAIN.match(cell) or _THOUSANDS.match(cell)
        for cell, name in zip(joined, names, strict=False)
        if name in ("value", "numerator", "denominator")
    )


def _wider_row_hint(cells: list[str], names: list[str]) -> str:
    width, used = len(names), len(without_trailing_blanks(cells))
    if _split_at_thousands_commas(cells, names):
        return 'quote values that contain commas ("7,039"), or write them without the comma'
    if names[-1] == "note":
        return f'quote a note that contains commas ("checked, revised"), or delete the cells after column {width}'
    extra = [str(k + 1) for k in range(width, used) if cells[k].strip()]
    which = f"column {extra[0]}" if len(extra) == 1 else f"columns {', '.join(extra[:-1])} and {extra[-1]}"
    unused = [name for name in OPTIONAL_COLUMNS if name not in names]
    if not unused:
        return f"delete {which}: the header already names every extract column"
    one_of = unused[0] if len(unused) == 1 else f"{', '.join(unused[:-1])} or {unused[-1]}"
    name, it = ("a name", "it") if len(extra) == 1 else ("names", "them")
    return f"give {which} {name} in the header row ({one_of}), or delete {it}"
