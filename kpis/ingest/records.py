"""Step 1a of a load: a file's bytes become records, chunks of text cells as written.

A CSV file is decoded (UTF-8 with or without a BOM, or Windows-1252; a file mixing the two
is refused) and parsed by pandas' C reader in chunks, so a file of millions of rows is read
in bounded memory; a workbook's sheet is read by calamine (``python-calamine``), its
formulas' cached values as written and an error cell (``#DIV/0!``) located. Each chunk is
a frame of text cells (columns 0..n-1) with ``line`` and ``record``, one row per non-blank
record. :mod:`kpis.ingest.read` finds the header and the layout in them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import numpy as np
import pandas as pd
import python_calamine

from kpis.errors import Problems, reject

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
CHUNK_ROWS = 250_000
HEADER_SEARCH = 20  # records read below a first row that is not the header, to find the header
# Each record's numbers: ``line``, the line of the file it ends on (an extract's row), and
# ``record``, its row as a spreadsheet counts them (a cell over several lines is one row).
ROW_NUMBERS = ["line", "record"]

REQUIRED_COLUMNS = ["indicator", "period", "value"]
OPTIONAL_COLUMNS = ["numerator", "denominator", "note"]
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
SAVE_AS = "in Excel use File > Save As > 'CSV UTF-8 (Comma delimited)'"
EXPORT_AGAIN = "export the extract again; it needs a header row 'indicator,period,value' and one row per value"


@dataclass(frozen=True)
class Source:
    """What is being read: the file's bytes, its name, and the sheet of a workbook."""

    content: bytes
    file_name: str
    sheet: str | None = None

    @property
    def is_workbook(self) -> bool:
        return self.file_name.lower().endswith(EXCEL_SUFFIXES)


def sheet_names(source: Source) -> list[str]:
    """The sheets of a workbook, in order ([] for a CSV file, or a workbook that cannot be read)."""
    if not source.is_workbook:
        return []
    try:
        return list(python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source.content)).sheet_names)
    except (python_calamine.CalamineError, zipfile.BadZipFile, ValueError):
        return []


# Records: a frame of text cells (columns 0..n-1) and ``line``, one per non-blank record.


def decode(content: bytes, problems: Problems, header_hint: str = EXPORT_AGAIN) -> str:
    """Text of a CSV file: UTF-8 (with or without BOM), else Windows-1252 (Excel's "CSV"
    on Windows). Binary files, and files that mix the two encodings, are refused."""
    if not content.strip():
        raise reject(problems.whole_file("file.empty", "the file is empty", header_hint))
    if content.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise reject(
            problems.whole_file(
                "file.workbook_as_csv",
                "this is an Excel workbook, not a CSV file",
                f"{SAVE_AS}, or load the workbook itself (named .xlsx)",
            )
        )
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content[:4096]:
        raise reject(
            problems.whole_file("file.binary", "this is not a text file (it holds binary or UTF-16 data)", SAVE_AS)
        )
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise reject(
                problems.whole_file(
                    "file.encoding",
                    "the file is marked as UTF-8 but holds characters that are not UTF-8"
                    " (it was probably saved again in another encoding)",
                    SAVE_AS,
                )
            ) from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        first_bad = error.start
    if _UTF8_SEQUENCE.search(content):
        line = content.count(b"\n", 0, first_bad) + 1
        raise reject(
            problems.whole_file(
                "file.mixed_encoding",
                f"the file mixes UTF-8 and Windows-1252 text: line {line} is the first that is not UTF-8",
                f"{SAVE_AS}, so that every line is saved in one encoding",
            )
        )
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise reject(
            problems.whole_file("file.encoding", "this is not a text file in UTF-8 or Windows-1252", SAVE_AS)
        ) from None


# A well-formed UTF-8 sequence of two to four bytes: in a file that is not UTF-8 as a whole,
# one of these means some lines were saved as UTF-8 and others not.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def csv_records(source: Source, problems: Problems, header_hint: str = EXPORT_AGAIN) -> Iterator[pd.DataFrame]:
    text = decode(source.content, problems, header_hint)
    text = text.removeprefix("\ufeff")
    if "\r" in text:  # one kind of line break, so that a line break inside a cell counts as one line
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    header_cells = _first_record_cells(text)
    if len(header_cells) == 1 and any(sep in header_cells[0] for sep in ";\t|"):
        sep = next(s for s in ";\t|" if s in header_cells[0])
        shown = {"\t": "tabs", ";": "semicolons", "|": "'|'"}[sep]
        line = _first_nonblank_line(text)
        raise reject(
            problems.at(
                "header.separator",
                line,
                "",
                header_cells[0],
                f"the columns are separated by {shown}, not commas",
                "save the file as CSV (comma delimited)",
            )
        )
    # The parser reads UTF-8 bytes: the file itself when it is plain UTF-8 (no copy), else
    # the text encoded once; never a StringIO, which holds four bytes a character.
    plain = len(text) == len(source.content) and b"\r" not in source.content and text.isascii()  # no BOM either
    data = source.content if plain else text.encode("utf-8")
    del text
    yield from _parsed(data, problems)


def _parsed(data: bytes, problems: Problems) -> Iterator[pd.DataFrame]:
    """The records of a CSV file's UTF-8 bytes (one kind of line break), chunk by chunk,
    each with the line it ends on."""
    width = _widest_line(data)
    records_done = lines_done = 0
    quoted = b'"' in data
    while True:
        try:
            reader = pd.read_csv(
                io.BytesIO(data),
                encoding="utf-8",
                header=None,
                names=range(width),
                dtype=str,
                na_filter=False,
                skip_blank_lines=False,
                chunksize=CHUNK_ROWS,
                engine="c",
            )
            for k, chunk in enumerate(reader):
                if k * CHUNK_ROWS < records_done:  # read before a wider record made us start again
                    continue
                # A record ends on its first line plus the line breaks inside its quoted cells.
                breaks = (
                    sum(chunk[c].str.count("\n").to_numpy() for c in chunk.columns)
                    if quoted
                    else np.zeros(len(chunk), dtype=np.int64)
                )
                ends = lines_done + np.arange(1, len(chunk) + 1) + np.cumsum(breaks)
                records_done += len(chunk)
                lines_done = int(ends[-1]) if len(ends) else lines_done
                numbers = np.arange(records_done - len(chunk) + 1, records_done + 1)
                yield _non_blank(chunk.assign(line=ends, record=numbers))
            return
        except pd.errors.ParserError as error:
            wider = re.search(r"Expected \d+ fields in line \d+, saw (\d+)", str(error))
            if wider:  # a record over several lines holds more cells than any one line
                width = int(wider.group(1))
                continue
            if "EOF inside string" in str(error):
                raise reject(open_quote_problem(data.decode("utf-8"), problems)) from None
            raise reject(
                problems.whole_file(
                    "file.unreadable", f"the CSV cannot be read ({error})", 'check for an unclosed quote (")'
                )
            ) from None


def _widest_line(content: bytes) -> int:
    """The most cells on one line (commas + 1), counted over the bytes at C speed."""
    data = np.frombuffer(content, dtype=np.uint8)
    commas = np.flatnonzero(data == ord(","))
    line_starts = np.concatenate([[0], np.flatnonzero(data == ord("\n")) + 1, [len(data)]])
    per_line = np.diff(np.searchsorted(commas, line_starts))
    return int(per_line.max()) + 1 if len(per_line) else 1


def _non_blank(records: pd.DataFrame) -> pd.DataFrame:
    """The records with anything but whitespace in a cell."""
    cells = records.drop(columns=ROW_NUMBERS)
    filled = np.zeros(len(records), dtype=bool)
    for column in cells.columns:
        values = cells[column]
        filled |= (values != "").to_numpy() & (values.str.strip() != "").to_numpy()
    return records[filled]


def _first_record_cells(text: str) -> list[str]:
    for cells in csv.reader(io.StringIO(text)):
        if "".join(cells).strip():
            return without_trailing_blanks(cells)
    return []


def _first_nonblank_line(text: str) -> int:
    for number, line in enumerate(text.split("\n", HEADER_SEARCH * 10), start=1):
        if line.replace(",", "").strip():
            return number
    return 1


def workbook_records(source: Source, problems: Problems) -> Iterator[pd.DataFrame]:
    """The sheet's rows (row 1 is the sheet's first), cells as text: numbers as written,
    dates as their month (``2020-04``), error values such as ``#DIV/0!`` as themselves."""
    content = source.content
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise reject(
            problems.whole_file(
                "workbook.encrypted",
                "the workbook is password-protected (or an old .xls file)",
                "remove the password (File > Info > Protect Workbook) and save it as .xlsx",
            )
        )
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        names = workbook.sheet_names
        sheet_name = source.sheet or names[0]
        if sheet_name not in names:
            raise reject(
                problems.whole_file(
                    "workbook.no_sheet",
                    f"the workbook has no sheet named {sheet_name!r}",
                    f"name one of its sheets: {', '.join(repr(n) for n in names)}",
                )
            )
        rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except (python_calamine.CalamineError, zipfile.BadZipFile, ValueError, KeyError) as error:
        raise reject(
            problems.whole_file(
                "workbook.unreadable",
                f"the workbook cannot be read ({type(error).__name__})",
                "open it in Excel and save it again as .xlsx; a password-protected workbook must be saved without"
                " its password",
            )
        ) from None
    problems.sheet = sheet_name
    errors = _error_cells(content, names.index(sheet_name))
    width = max(map(len, rows), default=0)
    text = [[_cell_text(value) for value in row] + [""] * (width - len(row)) for row in rows]
    for (r, c), value in errors.items():
        if r < len(text) and c < width:
            text[r][c] = value
    frame = pd.DataFrame(text, columns=range(width), dtype=object) if text else pd.DataFrame(columns=range(1))
    frame["line"] = frame["record"] = np.arange(1, len(frame) + 1)
    yield _non_blank(frame)


def _cell_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):  # a date (or date and time) in a cell is its month
        return f"{value.year:04d}-{value.month:02d}"
    return str(value)


_ERROR_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?\bt="e"[^>]*>(?:<f[^>]*>[^<]*</f>|<f[^>]*/>)?<v>([^<]*)</v>')


def _error_cells(content: bytes, sheet_index: int) -> dict[tuple[int, int], str]:
    """Cells holding an error value (``#DIV/0!``, ``#N/A``) by (row, column), 0-based.
    calamine reads them as blank; the sheet's XML marks them ``t="e"``."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            sheets = sorted(
                (n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
                key=lambda n: int(re.sub(r"\D", "", n)),
            )
            xml = archive.read(sheets[sheet_index]) if sheet_index < len(sheets) else b""
    except (zipfile.BadZipFile, KeyError):
        return {}
    found = {}
    for letters, row, value in _ERROR_CELL.findall(xml):
        column = 0
        for letter in letters.decode():
            column = column * 26 + ord(letter) - ord("A") + 1
        found[(int(row) - 1, column - 1)] = value.decode()
    return found


# A quote never closed ------------------------------------------------------------------

# One cell of a record as the csv module reads it: a quote opens a quoted part only as a
# cell's first character; "" inside it is a quote. Group 2 is empty only when the quote is
# never closed.
_CELL = re.compile(r'"([^"]*(?:""[^"]*)*)("?)[^,\n]*|[^,\n]*')


def open_quote_problem(text: str, problems: Problems) -> pd.DataFrame:
    """The cell of the last record whose quote (") is never closed: every row below it
    would be read into that cell."""
    reader = csv.reader(io.StringIO(text))
    start, header, header_line = 1, None, 0
    try:
        while True:
            begins = reader.line_num + 1
            try:
                cells = next(reader)
            except csv.Error:  # a cell past the csv module's size limit: this record holds the quote
                start = begins
                raise
            start = begins
            if header is None and "".join(cells).strip():
                header, header_line = cells, reader.line_num
    except (StopIteration, csv.Error):
        pass
    record = "".join(islice(io.StringIO(text, newline=""), start - 1, None))
    position, field = 0, 0
    while True:
        cell = _CELL.match(record, position)
        if cell is None or (cell.group(1) is not None and not cell.group(2)):
            break
        position = cell.end()
        if record[position : position + 1] != ",":
            break
        position, field = position + 1, field + 1
    offset = cell.start() if cell is not None else 0
    names = header or []
    name = names[field].strip() if start > header_line and field < len(names) else ""
    return problems.frame(
        [
            problems.row(
                "row.open_quote",
                start + record.count("\n", 0, offset),
                name.lower() if name.lower() in COLUMNS else name,
                record[offset + 1 :].split("\n", 1)[0].strip(),
                'a quote (") opens in this cell and is never closed',
                "close the quote at the end of the cell, or delete it: until it is closed, every row below it"
                " is read as part of this cell",
            )
        ]
    )


def without_trailing_blanks(cells: list[str]) -> list[str]:
    """Cells without the empty ones after the last filled one (Excel writes them after a
    header's last column), keeping at least one."""
    end = len(cells)
    while end > 1 and not cells[end - 1].strip():
        end -= 1
    return cells[:end]
