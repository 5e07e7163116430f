"""Officers' monthly extracts: read, validate, preview and load in one transaction.

The pipeline is ``read_extract`` (bytes → a frame of cells as written, with file line
numbers) → ``validate_extract`` (→ typed rows, or every problem at once) →
``plan_extract`` (→ each row new, revised or unchanged against the store) →
``ingest`` (writes the extract and its new and revised values, or nothing).
"""

from __future__ import annotations

import csv
import difflib
import gc
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import compress, islice
from operator import itemgetter, methodcaller

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from kpis import errors, periods, store
from kpis.catalogue import Catalogue, Frequency, Unit, derived
from kpis.errors import PROBLEM_COLUMNS, ExtractError

REQUIRED_COLUMNS = ["indicator", "period", "value"]
OPTIONAL_COLUMNS = ["numerator", "denominator", "note"]
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_BYTES = 8 * 1024 * 1024
MAX_ROWS = 200_000
MAX_NOTE = 500

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?%?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")


@dataclass(frozen=True)
class IngestResult:
    file_name: str
    sha256: str
    extract_id: int | None  # None: nothing changed, nothing written
    rows: int
    new: int
    revised: int
    unchanged: int
    same_file_as: int | None  # an earlier extract with the same content

    @property
    def message(self) -> str:
        if self.extract_id is None:
            again = f" (the same file was loaded as extract {self.same_file_as})" if self.same_file_as else ""
            return f"{self.file_name}: no changes: all {self.rows} rows match the stored values{again}; nothing written"
        return (
            f"{self.file_name}: loaded as extract {self.extract_id}: {self.rows} rows, "
            f"{self.new} new, {self.revised} revised, {self.unchanged} unchanged"
        )


_problem = errors.problem


def _reject(file_name: str, problems: list[dict]) -> ExtractError:
    return ExtractError(file_name, pd.DataFrame(problems, columns=PROBLEM_COLUMNS))


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


# Step 1: bytes → cells ---------------------------------------------------------------


def decode(content: bytes, file_name: str) -> str:
    """Text of an extract: UTF-8 (with or without BOM), else Windows-1252 (Excel's
    "CSV" on Windows). Binary files are refused with a hint."""
    save_as = "in Excel use File > Save As > 'CSV UTF-8 (Comma delimited)'"
    if len(content) > MAX_BYTES:
        raise _reject(
            file_name,
            [
                _problem(
                    0,
                    "",
                    f"{len(content):,} bytes",
                    f"the file is larger than the limit of {MAX_BYTES // (1024 * 1024)} MB",
                    "split it into smaller extracts, for example one per month or per workstream",
                )
            ],
        )
    if not content.strip():
        raise _reject(
            file_name,
            [
                _problem(
                    0,
                    "",
                    "",
                    "the file is empty",
                    "export the extract again; it needs a header row 'indicator,period,value' and one row per value",
                )
            ],
        )
    if content.startswith(b"PK\x03\x04") or content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _reject(file_name, [_problem(0, "", "", "this is an Excel workbook, not a CSV file", save_as)])
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content[:4096]:
        raise _reject(
            file_name, [_problem(0, "", "", "this is not a text file (it holds binary or UTF-16 data)", save_as)]
        )
    if content.startswith(b"\xef\xbb\xbf"):
        try:
            return content[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise _reject(
                file_name,
                [
                    _problem(
                        0,
                        "",
                        "",
                        "the file is marked as UTF-8 but holds characters that are not UTF-8 (it was probably saved again in another encoding)",
                        save_as,
                    )
                ],
            ) from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise _reject(
            file_name, [_problem(0, "", "", "this is not a text file in UTF-8 or Windows-1252", save_as)]
        ) from None


def _header_problems(header: list[str], line: int) -> list[dict]:
    problems = []
    names = [h.strip().lower() for h in header]
    if len(names) == 1 and any(sep in header[0] for sep in ";\t|"):
        sep = next(s for s in ";\t|" if s in header[0])
        shown = {"\t": "tabs", ";": "semicolons", "|": "'|'"}[sep]
        return [
            _problem(
                line,
                "",
                header[0],
                f"the columns are separated by {shown}, not commas",
                "save the file as CSV (comma delimited)",
            )
        ]
    for position, name in enumerate(names, start=1):
        if name not in COLUMNS:
            close = difflib.get_close_matches(name, COLUMNS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(
                _problem(
                    line,
                    header[position - 1],
                    header[position - 1],
                    f"column {position} is not an extract column",
                    f"{hint}the columns are {', '.join(COLUMNS)} (the last three optional)",
                )
            )
        elif names.index(name) != position - 1:
            problems.append(
                _problem(
                    line,
                    header[position - 1],
                    header[position - 1],
                    "this column appears twice",
                    "keep one column of each name",
                )
            )
    for name in REQUIRED_COLUMNS:
        if name not in names:
            problems.append(
                _problem(
                    line,
                    name,
                    "",
                    f"the required column '{name}' is missing",
                    "the header row must hold indicator, period and value",
                )
            )
    return problems


def _file_problem(file_name: str, problem: str, hint: str, row: int = 0) -> ExtractError:
    return _reject(file_name, [_problem(row, "", "", problem, hint)])


_EXPORT_AGAIN = "export the extract again; it needs a header row 'indicator,period,value' and one row per value"


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector while building many small lists and
    tuples (one per row). Each batch of new objects triggers a collection that walks
    every object still alive, so for 100,000 rows the collector took as long as the
    work itself. These objects hold no cycles; the collector resumes afterwards (unless
    it was off already)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_plain(text: str) -> tuple[int, list[str], list[int], list[list[str]]] | None:
    """The header's line and cells, the line numbers of the other non-blank lines and
    their cells column by column (short rows padded with blanks, cells not stripped),
    read by pandas' C parser. Only for files with one record per line and nothing the
    ``csv`` module would treat differently: no quote, NUL, BOM or lone carriage return,
    no cell over its field size limit, at most ``MAX_ROWS`` rows and none wider than the
    header. ``None`` otherwise: then :func:`_records` reads the file, and reports what is
    wrong with it, as it always has."""
    if '"' in text or "\x00" in text or "\ufeff" in text or text.count("\r") != text.count("\r\n"):
        return None
    lines = text.split("\n")  # with no lone "\r", the csv module's lines too
    if max(map(len, lines)) > csv.field_size_limit():
        return None
    content = list(map(str.strip, map(methodcaller("replace", ",", ""), lines)))  # "": a blank line
    numbers = list(compress(range(1, len(lines) + 1), content))
    if not numbers or len(numbers) > MAX_ROWS + 1:
        return None
    body = list(compress(lines, content))
    header = _without_trailing_blanks(body[0].removesuffix("\r").split(","))
    width = len(header)
    body = body[1:]
    if not body:
        return numbers[0], header, [], [[] for _ in range(width)]
    cells = pd.read_csv(
        io.StringIO("\n".join(body)),
        header=None,
        names=range(max(width, max(map(methodcaller("count", ","), body)) + 1)),
        dtype=object,
        na_filter=False,  # a missing cell of a short row is "" too
        quoting=csv.QUOTE_NONE,
        skip_blank_lines=False,
        low_memory=False,
    )
    if len(cells) != len(body):
        return None
    columns = [cells[k].tolist() for k in range(cells.shape[1])]
    if any(any(map(str.strip, column)) for column in columns[width:]):  # a row wider than the header
        return None
    return numbers[0], header, numbers[1:], columns[:width]


def _may_need_strip(text: str) -> bool:
    """False only when no cell of a file without quotes can start or end with whitespace:
    the file is ASCII, its only whitespace besides line breaks is the space, and no space
    touches a comma or a line's ends."""
    if not text.isascii() or any(c in text for c in "\t\x0b\x0c\x1c\x1d\x1e\x1f"):
        return True
    return text.startswith(" ") or text.endswith(" ") or any(s in text for s in (" ,", ", ", " \r", " \n", "\n "))


_CHUNK = 65_536


def _records(text: str, file_name: str) -> tuple[int, list[str], list[int], list[list[str]]]:
    """The header's line and cells, and every non-blank row's line number and cells."""
    found = _records_in_chunks(text)
    one_line_records = found is not None
    if found is None:
        found = _records_row_by_row(text, file_name)
    header_line, header, lines, rows, last_start = found
    header = _without_trailing_blanks(header)
    if '"' in text:
        last_record = _last_line(text) if one_line_records else _from_line(text, last_start)
        _refuse_an_open_quote(last_record, last_start, header_line, header, file_name)
    return header_line, header, lines, rows


def _records_in_chunks(text: str) -> tuple[int, list[str], list[int], list[list[str]], int] | None:
    """:func:`_records_row_by_row` without a Python step per row, for files where every
    record is one line (no quoted line breaks), so that the n-th record is on line n.
    ``None`` when that does not hold or the file has a problem: the row-by-row reader
    then finds the line numbers, or reports the problem as it always has."""
    reader = csv.reader(io.StringIO(text, newline=""))
    lines: list[int] = []
    rows: list[list[str]] = []
    while True:
        start = reader.line_num
        try:
            chunk = list(islice(reader, _CHUNK))
        except csv.Error:
            return None
        if not chunk:
            break
        if reader.line_num - start != len(chunk):  # a record spans lines
            return None
        blank = list(map(str.strip, map("".join, chunk)))  # "" where no cell holds anything but whitespace
        rows.extend(compress(chunk, blank))
        lines.extend(compress(range(start + 1, reader.line_num + 1), blank))
        if len(rows) > MAX_ROWS + 1:
            return None
    if not rows:
        return None
    return lines[0], rows[0], lines[1:], rows[1:], reader.line_num  # the last record is the last line


def _records_row_by_row(text: str, file_name: str) -> tuple[int, list[str], list[int], list[list[str]], int]:
    """As :func:`_records_in_chunks`, and the line the file's last record starts on."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header_line, header = 0, None
    lines: list[int] = []
    rows: list[list[str]] = []
    add_line, add_row = lines.append, rows.append
    before = end = 0  # the lines the record before the last one and the last one end on
    try:
        for cells in reader:
            before, end = end, reader.line_num
            if not "".join(cells).strip():  # no cell holds anything but whitespace
                continue
            if header is None:
                header_line, header = reader.line_num, cells
                continue
            add_line(reader.line_num)
            add_row(cells)
            if len(rows) > MAX_ROWS:
                raise _file_problem(
                    file_name,
                    f"the file has more than {MAX_ROWS:,} rows",
                    "split it into smaller extracts, for example one per financial year",
                )
    except csv.Error as error:
        # Most often a quote left open: the record then grows past the csv module's field size limit.
        _refuse_an_open_quote(
            _from_line(text, end + 1), end + 1, header_line, _without_trailing_blanks(header or []), file_name
        )
        raise _file_problem(
            file_name,
            f"the CSV cannot be read ({error})",
            'check for an unclosed quote (") in this row',
            reader.line_num,
        ) from None
    if header is None:
        raise _file_problem(file_name, "the file is empty", _EXPORT_AGAIN)
    return header_line, header, lines, rows, before + 1


def _without_trailing_blanks(cells: list[str]) -> list[str]:
    """Cells without the empty ones after the last filled one (Excel writes them after a
    header's last column), keeping at least one."""
    end = len(cells)
    while end > 1 and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


# One cell of a record as the csv module (strict=False) reads it: a quote opens a quoted
# part only as a cell's first character; "" inside it is a quote; after the closing quote
# the rest of the cell is plain text. Group 2 is empty only when the quote is never closed.
_CELL = re.compile(r'"([^"]*(?:""[^"]*)*)("?)[^,\r\n]*|[^,\r\n]*')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _open_quote(record: str) -> tuple[int, int] | None:
    """For the text of a file from the start of its last record: the position (0-based)
    of the cell whose quote is never closed and the quote's offset in ``record``, or
    ``None`` when every quote closes. Only the last record can hold such a quote: the csv
    module reads an open quote's cell to the end of the file."""
    position, field = 0, 0
    while True:
        cell = _CELL.match(record, position)
        if cell.group(1) is not None and not cell.group(2):
            return field, cell.start()
        position = cell.end()
        if record[position : position + 1] != ",":  # a line break or the end of the file ends the record
            return None
        position, field = position + 1, field + 1


def _from_line(text: str, line: int) -> str:
    """The text from the start of a line, counting lines as the csv module does."""
    return "".join(islice(io.StringIO(text, newline=""), line - 1, None))


def _last_line(text: str) -> str:
    """The file's last line (with its line break), without reading the lines before it."""
    body = text.removesuffix("\n").removesuffix("\r")  # without the last line's own line break
    return text[max(body.rfind("\n"), body.rfind("\r")) + 1 :]


def _refuse_an_open_quote(record: str, start: int, header_line: int, header: list[str], file_name: str) -> None:
    """Raise if ``record``, the file from the start of its last record (on line
    ``start``), holds a quote (") that is never closed, at the line and cell where the
    quote opens. The csv module would read every row below into that cell, and the file
    would load without them."""
    found = _open_quote(record)
    if found is None:
        return
    field, offset = found
    name = header[field].strip() if start > header_line and field < len(header) else ""  # "": in the header
    raise _reject(
        file_name,
        [
            _problem(
                start + len(_LINE_BREAK.findall(record, 0, offset)),
                name.lower() if name.lower() in COLUMNS else name,
                _LINE_BREAK.split(record[offset + 1 :], maxsplit=1)[0].strip(),
                'a quote (") opens in this cell and is never closed',
                "close the quote at the end of the cell, or delete it: until it is closed, every row below it"
                " is read as part of this cell",
            )
        ],
    )


_HEADER_SEARCH = 20  # records read below a first row that is not the header, to find the header


def _rows_above_the_header(text: str) -> list[dict]:
    """When the first row lacks a required column and a row a little further down names
    them all (a title or notes typed above the header): one problem for each non-blank
    row above that header. Empty otherwise."""
    above: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for cells in islice(reader, _HEADER_SEARCH):
            cells = _without_trailing_blanks(cells)
            if not "".join(cells).strip():
                continue
            if set(REQUIRED_COLUMNS) <= {cell.strip().lower() for cell in cells}:
                header, line = ",".join(cells), reader.line_num
                return [
                    _problem(
                        row,
                        "",
                        ",".join(written),
                        f"this row is not the header; the header '{header}' is on row {line}",
                        "delete the rows above the header, so that the header is the first row"
                        " (a title belongs in the file name)",
                    )
                    for row, written in above
                ]
            above.append((reader.line_num, cells))
    except csv.Error:
        pass
    return []


def read_extract(content: bytes, file_name: str, catalogue: Catalogue | None = None) -> pd.DataFrame:
    """Cells as written (stripped text), one row per non-blank line, with ``row``: the
    line number in the file (the header is normally row 1). Raises for file-level problems."""
    text = decode(content, file_name)
    with _gc_paused():
        plain = _read_plain(text)
        if plain is not None:
            header_line, header, lines, columns = plain
        else:
            header_line, header, lines, rows = _records(text, file_name)
        if catalogue is not None and header[0].strip().lower() in catalogue.indicator_ids:
            raise _reject(
                file_name,
                [
                    _problem(
                        header_line,
                        "",
                        ",".join(header),
                        "the first row is data, not the header",
                        "insert a first row 'indicator,period,value' (and numerator,denominator,note if used)",
                    )
                ],
            )
        problems = _header_problems(header, header_line)
        if problems:
            raise _reject(file_name, _rows_above_the_header(text) or problems)
        if not lines:
            raise _file_problem(file_name, "the file has a header but no rows", _EXPORT_AGAIN)
        names = [h.strip().lower() for h in header]
        if plain is None:
            columns = _columns(file_name, lines, rows, names)
        position = {name: k for k, name in enumerate(names)}
        strip = plain is None or _may_need_strip(text)
        frame = pd.DataFrame(
            {
                name: list(map(str.strip, columns[position[name]])) if strip else columns[position[name]]
                for name in COLUMNS
                if name in position
            },
            dtype=object,
        )
    frame.insert(0, "row", np.array(lines, dtype=np.int64))
    for k, name in enumerate(COLUMNS):
        if name not in position:
            frame.insert(k + 1, name, "")
    return frame


def _columns(file_name: str, lines: list[int], rows: list[list[str]], names: list[str]) -> list[list[str]]:
    """The cells of ``rows`` column by column; a row wider than the header is refused, a
    short row is padded with blanks (and its blank required cells are reported later)."""
    width = len(names)
    lengths = list(map(len, rows))
    too_wide = []
    if max(lengths) > width:
        too_wide = [k for k, cells in enumerate(rows) if len(cells) > width and "".join(cells[width:]).strip()]
    if too_wide:
        raise _reject(
            file_name,
            [
                _problem(
                    lines[k],
                    "",
                    ",".join(rows[k]),
                    f"this row has {len(rows[k])} cells, the header has {width}",
                    _wider_row_hint(rows[k], names),
                )
                for k in too_wide
            ],
        )
    if min(lengths) < width:
        rows = [cells if len(cells) >= width else cells + [""] * (width - len(cells)) for cells in rows]
    return [list(map(itemgetter(k), rows)) for k in range(width)]


_LEADING_DIGITS = re.compile(r"[+-]?\d{1,3}")
_DIGIT_GROUP = re.compile(r"\d{3}")
_LAST_DIGIT_GROUP = re.compile(r"\d{3}(\.\d*)?%?")


def _split_at_thousands_commas(cells: list[str], names: list[str]) -> bool:
    """Whether the row is a row of the header whose numbers were split into cells at
    their thousands commas: joining each cell that looks like the rest of a number ('039'
    after '7', from 7,039) to the cell before gives a row no wider than the header, with
    a number or nothing in each of its number columns."""
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
    joined = _without_trailing_blanks(joined)
    if not any(split) or len(joined) > len(names):
        return False
    return all(
        not cell or _PLAIN.match(cell) or _THOUSANDS.match(cell)
        for cell, name in zip(joined, names, strict=False)  # a short row leaves the last columns blank
        if name in ("value", "numerator", "denominator")
    )


def _wider_row_hint(cells: list[str], names: list[str]) -> str:
    """How to fix a row with cells beyond the header's last column: quote a number split
    at its thousands commas, quote a note with commas, or name or delete the column."""
    width, used = len(names), len(_without_trailing_blanks(cells))
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


# Step 2: cells → typed rows, or every problem ------------------------------------------


def _number_problem(text: str, allow_percent: bool) -> tuple[str, str]:
    """What is wrong with a cell that is not a number, and how to fix it."""
    lowered = text.lower()
    if text.endswith("%") and not allow_percent and _PLAIN.match(text):
        return "has a % sign but the indicator is not a percentage", "write the plain number"
    if lowered.lstrip("+-") in {"nan", "inf", "infinity"} or _PLAIN.match(text):
        return "is not a finite number", "write the figure, or leave the row out if there is none"
    if lowered in {"n/a", "na", "-", "--", "tbc", "null", "none", "#n/a", "#div/0!", "#value!", "#ref!"}:
        return "is not a number", "leave the row out until the figure is known"
    if text.startswith(("=", "@", "+", "-")):
        return "looks like a spreadsheet formula", "paste the values only (Paste Special > Values), not formulas"
    if any(c in text for c in "£$€"):
        return "has a currency sign", "write the plain number without £, $ or €"
    return (
        "is not a number",
        "write a plain number such as 7039 or 52.5 (thousands commas and a trailing % are accepted)",
    )


def parse_numbers(cells: pd.Series, allow_percent: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers from cells such as ``7039``, ``"7,039"``, ``5.2%``; blank → NaN.
    Returns the numbers and a mask of cells that are not numbers."""
    text = cells.fillna("").astype(str)
    has_thousands = text.str.match(_THOUSANDS.pattern)
    cleaned = text.where(~has_thousands, text.str.replace(",", "", regex=False))
    percent = cleaned.str.endswith("%") & allow_percent
    cleaned = cleaned.where(~percent, cleaned.str.slice(0, -1))
    plain = cleaned.str.match(_PLAIN.pattern) & ~cleaned.str.endswith("%")
    numbers = pd.to_numeric(cleaned.where(plain), errors="coerce")
    bad = (text != "") & (~plain | ~np.isfinite(numbers.fillna(0.0)))
    return numbers.where(~bad), bad


def _frame_problems(
    frame: pd.DataFrame, mask: np.ndarray, column: str, problem: str | Callable, hint: str | Callable
) -> pd.DataFrame:
    rows = frame[mask]
    return pd.DataFrame(
        {
            "row": rows["row"],
            "column": column,
            "value": rows[column],
            "problem": _for_rows(problem, mask),
            "hint": _for_rows(hint, mask),
        }
    )


def _for_rows(text: str | pd.Series | Callable, mask: np.ndarray) -> str | pd.Series:
    """A problem's or hint's text for the rows in ``mask``: the same for all, a series over
    every row, or made by a function of the mask (so it is only worked out for problem rows)."""
    if isinstance(text, str):
        return text
    if callable(text):
        return text(mask)
    return text[mask]


def _distinct(cells: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Each row's code and the distinct cells of a column. Checks run once per distinct
    cell, then are spread to the rows: an extract repeats its indicators, periods and
    many of its numbers, and per-cell Python work costs seconds per million rows."""
    codes, uniques = pd.factorize(cells)
    if len(codes) and codes.min() < 0:  # missing cells (read_extract gives none): one more distinct value
        codes, uniques = pd.factorize(cells, use_na_sentinel=False)
    return codes, pd.Series(uniques)


def _spread(distinct: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Per-distinct-cell values laid out over the rows."""
    return distinct.take(codes).set_axis(index)


def _numbers(cells: pd.Series, allow_percent: np.ndarray) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """:func:`parse_numbers` of every row, worked out once per distinct (cell, percent
    allowed) pair; and which cells are blank."""
    codes, distinct = _distinct(cells)
    pair_codes, pairs = pd.factorize(codes.astype(np.int64) * 2 + allow_percent)
    numbers, bad = parse_numbers(distinct.take(pairs // 2).reset_index(drop=True), pd.Series(pairs % 2 == 1))
    blank = (distinct == "").to_numpy()[codes]
    return _spread(numbers, pair_codes, cells.index), bad.to_numpy()[pair_codes], blank


def _repeats(rows: np.ndarray, indicator: np.ndarray, period: np.ndarray, value: np.ndarray):
    """For rows keyed by (indicator code, period): the first row of each key (the lowest
    row number), and which later rows repeat its value or give another."""
    period_keys, _ = pd.factorize(period)
    key, _ = pd.factorize(indicator.astype(np.int64) * (int(period_keys.max()) + 1) + period_keys)
    order = np.lexsort((rows, key))
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    first = order[starts][key]  # keys are 0..n-1, so the n-th start is key n's first row
    first_row, first_value = rows[first], value[first]
    repeat = rows != first_row
    same = repeat & ((value == first_value) | (pd.isna(value) & pd.isna(first_value)))
    return first_row, same, repeat & ~same


def _indicator_facts(catalogue: Catalogue) -> dict:
    """What validation looks up per indicator, made once per catalogue."""
    return {
        "ids": catalogue.indicator_ids,
        "unit": {i.id: i.unit.value for i in catalogue.indicators},
        "ratio": {i.id for i in catalogue.indicators if i.aggregation.uses_ratio},
        "scale": {i.id: i.ratio_scale for i in catalogue.indicators},
        "quarterly": {i.id for i in catalogue.indicators if i.frequency is Frequency.QUARTERLY},
        "monthly": {i.id for i in catalogue.indicators if i.frequency is Frequency.MONTHLY},
    }


def _months_of_quarter(quarter_end: int) -> str:
    """The hint for a quarter given for a monthly indicator: the quarter's months."""
    first, second, last = (periods.to_text(quarter_end - k) for k in (2, 1, 0))
    return f"give the month, e.g. {last}: a monthly indicator takes one row per month ({first}, {second} and {last})"


def validate_extract(
    raw: pd.DataFrame, catalogue: Catalogue, file_name: str, today: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Typed rows ``row, indicator, period`` (month index) ``, value, numerator,
    denominator, note``; raises :class:`ExtractError` listing every problem.

    Nothing here loops over rows in Python unless they have a problem: per-cell work is
    done once per distinct cell (see :func:`_distinct`) and the rest is vectorised."""
    found: list[pd.DataFrame] = []
    index = raw.index

    def check(mask, column: str, problem: str | pd.Series | Callable, hint: str | pd.Series | Callable) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            found.append(_frame_problems(raw, mask, column, problem, hint))

    facts = derived(catalogue, "ingest.indicator_facts", _indicator_facts)
    ids = facts["ids"]
    indicator_codes, indicator_cells = _distinct(raw["indicator"])
    lowered = indicator_cells.str.lower()
    indicator = _spread(lowered, indicator_codes, index)

    def per_indicator(values: pd.Series) -> np.ndarray:
        return values.to_numpy()[indicator_codes]

    unknown_distinct = ~lowered.isin(ids)
    unknown = per_indicator(unknown_distinct)
    suggestions = {i: difflib.get_close_matches(i, ids, n=1) for i in lowered[unknown_distinct].unique()}
    blank_indicator = per_indicator(lowered == "")
    check(
        unknown & blank_indicator,
        "indicator",
        "the indicator id is missing",
        "write the indicator's id from the catalogue (see the template)",
    )
    check(
        unknown & ~blank_indicator,
        "indicator",
        "is not an indicator id in the catalogue",
        lambda mask: indicator[mask].map(
            lambda i: (
                f"did you mean '{suggestions[i][0]}'?"
                if suggestions.get(i)
                else "use an id from config/kpis.yaml (python -m kpis template lists them)"
            )
        ),
    )

    period_codes, period_cells = _distinct(raw["period"])
    period_errors: dict[str, str] = {}
    period_values: dict[str, int] = {}
    for text in period_cells:
        try:
            period_values[text] = periods.parse_period(text)
        except periods.PeriodError as error:
            period_errors[text] = str(error)
    period = _spread(period_cells.map(period_values), period_codes, index)
    quarter_written = np.array([periods.is_quarter(text) for text in period_cells], dtype=bool)[period_codes]
    bad_period = period_cells.isin(list(period_errors)).to_numpy()[period_codes]
    blank_period = (period_cells == "").to_numpy()[period_codes]
    check(bad_period & blank_period, "period", "the period is missing", f"write {periods.PERIOD_FORMS}")
    check(
        bad_period & ~blank_period,
        "period",
        "is not a period",
        lambda mask: raw["period"][mask].map(
            lambda t: f"{period_errors.get(t, '')}; if Excel turned it into a date, format the column as text"
        ),
    )

    percent_unit = per_indicator(lowered.map(facts["unit"]) == Unit.PERCENT.value)
    values: dict[str, pd.Series] = {}
    blank: dict[str, np.ndarray] = {}
    for column in ("value", "numerator", "denominator"):
        allow = percent_unit if column == "value" else np.zeros(len(raw), dtype=bool)
        values[column], bad, blank[column] = _numbers(raw[column], allow)
        if bad.any():
            cells = raw[column][bad]
            described = pd.Series(
                [_number_problem(t, bool(a)) for t, a in zip(cells, allow[bad], strict=True)],
                index=cells.index,
                dtype=object,
            )
            check(bad, column, described.str[0].reindex(index), described.str[1].reindex(index))

    known = ~unknown
    needs_ratio = per_indicator(lowered.isin(facts["ratio"]))
    num, den = values["numerator"], values["denominator"]
    has_ratio = num.notna() & den.notna()
    scale = _spread(lowered.map(facts["scale"]), indicator_codes, index)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = values["value"].fillna((num / den * scale).where(has_ratio & (den > 0)))
    blank_value = blank["value"] & ~(has_ratio & (den > 0))
    check(known & blank_value, "value", "the value is missing", "write the figure, or give numerator and denominator")
    check(
        known & needs_ratio & ~has_ratio & blank["numerator"] & blank["denominator"],
        "numerator",
        "this indicator is a ratio: numerator and denominator are required",
        "add the numerator and denominator columns with whole counts",
    )
    check(
        known & needs_ratio & (num.isna() != den.isna()) & (~blank["numerator"] | ~blank["denominator"]),
        "denominator",
        "numerator and denominator must be given together",
        "give both, or neither",
    )
    check(
        den.notna() & (den <= 0),
        "denominator",
        "the denominator must be above zero",
        "check the count; a period with nothing to measure has no row",
    )
    check(
        percent_unit & has_ratio & (num > den),
        "numerator",
        "the numerator is larger than the denominator, so the percentage is over 100%",
        "check that numerator and denominator are not swapped",
    )
    check(num.notna() & (num < 0), "numerator", "the numerator is negative", "counts cannot be negative")
    for column in ("numerator", "denominator"):
        count = values[column]
        check(
            count.notna() & (np.floor(count) != count),
            column,
            f"the {column} must be a whole count",
            f"write the {column} as a whole number of cases, such as 52 of 131;"
            " a percentage or rate goes in the value column",
        )
    check(
        known & percent_unit & value.notna() & ((value < 0) | (value > 100)) & ~values["value"].isna(),
        "value",
        "a percentage must be between 0 and 100",
        "write 52 for 52%; check the sign",
    )
    check(
        known & ~percent_unit & value.notna() & (value < 0),
        "value",
        f"a {'/'.join(u.value for u in Unit if u is not Unit.PERCENT)} figure cannot be negative",
        "check the sign",
    )

    month = periods.current_month(today)
    check(
        period.notna() & (period > month),
        "period",
        "is in the future",
        f"periods run up to the current month, {periods.to_text(month)}; check the year",
    )
    not_quarter_end = (
        period.notna()
        & per_indicator(lowered.isin(facts["quarterly"]))
        & (periods.fy_months(period.fillna(3).astype(int)) % 3 != 0)
    )
    check(
        not_quarter_end,
        "period",
        "this indicator is quarterly and the period is not a quarter's last month",
        "give quarters as 2020/21 Q2 or on their last month (June, September, December, March)",
    )
    check(
        period.notna() & quarter_written & per_indicator(lowered.isin(facts["monthly"])),
        "period",
        "this indicator is monthly and the period is a quarter",
        lambda mask: period[mask].astype(int).map(_months_of_quarter),
    )
    check(
        raw["note"].str.len() > MAX_NOTE,
        "note",
        f"the note is longer than {MAX_NOTE} characters",
        "shorten it; longer commentary belongs in the narrative",
    )

    # Repeated (indicator, period) keys: a later row repeats the first one's value, or conflicts with it.
    keyed = np.flatnonzero(period.notna().to_numpy())
    same = np.zeros(len(raw), dtype=bool)
    conflict = np.zeros(len(raw), dtype=bool)
    repeat_of = np.zeros(len(raw), dtype=np.int64)
    if len(keyed):
        indicator_keys, _ = pd.factorize(lowered, use_na_sentinel=False)
        repeat_of[keyed], same[keyed], conflict[keyed] = _repeats(
            raw["row"].to_numpy()[keyed],
            indicator_keys[indicator_codes[keyed]],
            period.to_numpy()[keyed].astype(np.int64),
            value.to_numpy()[keyed],
        )

    def repeated_row(mask: np.ndarray) -> pd.Series:
        return pd.Series(repeat_of[mask], index=index[mask]).astype(str)

    check(
        same,
        "period",
        lambda mask: "repeats row " + repeated_row(mask) + " (same indicator and period)",
        "delete the repeated row",
    )
    check(
        conflict,
        "value",
        lambda mask: (
            "conflicts with row " + repeated_row(mask) + ", which gives another value for the same indicator and period"
        ),
        "keep one row per indicator and period",
    )

    if found:
        problems = pd.concat(found, ignore_index=True)
        column_order = {c: i for i, c in enumerate(["", *COLUMNS])}
        problems = problems.sort_values(
            ["row", "column"], key=lambda s: s.map(column_order) if s.name == "column" else s, kind="stable"
        )
        raise ExtractError(file_name, problems)
    return pd.DataFrame(
        {
            "row": raw["row"],
            "indicator": indicator,
            "period": period.astype(int),
            "value": value.astype(float),
            "numerator": num.astype(float),
            "denominator": den.astype(float),
            "note": raw["note"].where(raw["note"] != ""),
        }
    ).reset_index(drop=True)


# Step 3: what the extract changes ------------------------------------------------------

NEW, REVISED, UNCHANGED = "new", "revised", "unchanged"


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    both_missing = a.isna() & b.isna()
    if a.dtype == object or b.dtype == object:
        return both_missing | (a == b)
    return both_missing | (np.abs(a.astype(float) - b.astype(float)) <= 1e-9 * np.maximum(1.0, np.abs(b.astype(float))))


def _in_force_at(rows: pd.DataFrame, current: pd.DataFrame) -> np.ndarray | None:
    """Each row's position in ``current`` (same indicator and period), -1 where there is
    none; ``None`` when a key repeats on either side (the merge then says so)."""
    stored = current["indicator"]
    if isinstance(stored.dtype, pd.CategoricalDtype):
        stored_codes, names = stored.cat.codes.to_numpy(np.int64), stored.cat.categories
    else:
        stored_codes, names = pd.factorize(stored)
    indicators = rows["indicator"].to_numpy(object)
    row_codes = pd.Index(names.to_numpy(object)).get_indexer(indicators)
    unstored = np.flatnonzero(row_codes < 0)
    if len(unstored):  # indicators with nothing stored get codes of their own
        row_codes[unstored] = len(names) + pd.factorize(indicators[unstored])[0]
    months, _ = pd.factorize(np.concatenate([current["period"].to_numpy(np.int64), rows["period"].to_numpy(np.int64)]))
    span = int(months.max()) + 1 if len(months) else 1
    stored_keys = pd.Index(stored_codes * span + months[: len(current)])
    row_keys = pd.Index(row_codes * span + months[len(current) :])
    if not (stored_keys.is_unique and row_keys.is_unique):
        return None
    return stored_keys.get_indexer(row_keys)


def plan_extract(rows: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Each row with ``status`` (new / revised / unchanged), the value in force
    (``previous_value``, ``previous_revision``) and the ``revision`` it would get. A value
    where the stored one was withdrawn (a rollback) is new, with the next revision."""
    previous = current[["indicator", "period", "value", "numerator", "denominator", "note", "revision"]].rename(
        columns={c: f"previous_{c}" for c in ("value", "numerator", "denominator", "note", "revision")}
    )
    at = _in_force_at(rows, current)
    if at is None:
        plan = rows.merge(previous, on=["indicator", "period"], how="left", validate="one_to_one")
    else:  # the same frame as the merge, by position
        plan = rows.reset_index(drop=True)
        for column in previous.columns[2:]:
            plan[column] = previous[column].array.take(at, allow_fill=True)
    exists = plan["previous_revision"].notna() & plan["previous_value"].notna()
    unchanged = (
        exists
        & _same(plan["value"], plan["previous_value"])
        & _same(plan["numerator"], plan["previous_numerator"])
        & _same(plan["denominator"], plan["previous_denominator"])
        & _same(plan["note"].astype(object), plan["previous_note"].astype(object))
    )
    plan["status"] = np.select([~exists, unchanged], [NEW, UNCHANGED], REVISED)
    plan["revision"] = plan["previous_revision"].fillna(0).astype(int) + (plan["status"] != UNCHANGED)
    return plan


def applied(observations: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """The observations as they would be after loading the plan's new and revised values
    (``extract_id`` 0: not loaded yet): what a preview computes the KPI table from."""
    changed = plan[plan["status"] != UNCHANGED]
    if changed.empty:
        return observations
    keys = pd.MultiIndex.from_arrays([changed["indicator"].astype(str), changed["period"]])
    stored = pd.MultiIndex.from_arrays([observations["indicator"].astype(str), observations["period"]])
    kept = observations[~stored.isin(keys)]
    added = changed[["indicator", "period", "value", "numerator", "denominator", "note", "revision"]].assign(
        extract_id=0
    )
    out = pd.concat([kept.assign(indicator=kept["indicator"].astype(str)), added], ignore_index=True)
    out["indicator"] = out["indicator"].astype("category")
    return out.sort_values(["indicator", "period"], kind="stable").reset_index(drop=True)


def _current_for(conn: Connection, rows: pd.DataFrame) -> pd.DataFrame:
    # Only the cells the extract touches: planning a month's file must not read years of history.
    return store.current_cells(
        conn,
        indicators=sorted(rows["indicator"].unique()),
        periods_in=sorted(periods.texts(pd.Series(rows["period"].unique()))),
    )


def check_extract(
    content: bytes, file_name: str, catalogue: Catalogue, today: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Read and validate an extract without touching the store."""
    return validate_extract(read_extract(content, file_name, catalogue), catalogue, file_name, today)


def preview(
    engine: Engine, content: bytes, file_name: str, catalogue: Catalogue, today: pd.Timestamp | None = None
) -> pd.DataFrame:
    """What loading the extract would change, without writing anything."""
    rows = check_extract(content, file_name, catalogue, today)
    with engine.connect() as conn:
        return plan_extract(rows, _current_for(conn, rows))


# Step 4: write ------------------------------------------------------------------------


OBSERVATION_COLUMNS = ["indicator", "period", "revision", "value", "numerator", "denominator", "note", "extract_id"]


def _nullable(values: pd.Series) -> list:
    """Plain Python values, ``None`` where missing."""
    return values.astype(object).where(values.notna(), None).tolist()


def observation_rows(changed: pd.DataFrame, extract_id: int) -> list[tuple]:
    """Parameter tuples (:data:`OBSERVATION_COLUMNS`) for the rows of ``changed``
    (indicator, period as a month index, revision, value, numerator, denominator, note; a
    plan's new and revised rows, say), in their order, made column by column (not a dict
    per row)."""
    with _gc_paused():
        return list(
            zip(
                changed["indicator"].astype(object).tolist(),
                periods.texts(changed["period"]).tolist(),
                changed["revision"].astype(int).tolist(),
                _nullable(changed["value"]),
                _nullable(changed["numerator"]),
                _nullable(changed["denominator"]),
                _nullable(changed["note"]),
                [extract_id] * len(changed),
                strict=True,
            )
        )


def ingest(
    engine: Engine,
    content: bytes,
    file_name: str,
    catalogue: Catalogue,
    loaded_by: str,
    today: pd.Timestamp | None = None,
) -> IngestResult:
    """Validate and load one extract in one transaction: all of its changes, or none.

    An extract that changes nothing writes nothing. The plan is made inside the write
    lock, so an extract loaded meanwhile by someone else is taken into account."""
    rows = check_extract(content, file_name, catalogue, today)
    digest = sha256(content)
    with store.write_transaction(engine) as conn:
        with _gc_paused():  # the read makes a tuple per row
            current = _current_for(conn, rows)
        plan = plan_extract(rows, current)
        counts = plan["status"].value_counts()
        same_file = conn.execute(
            select(store.extracts.c.id).where(store.extracts.c.sha256 == digest).order_by(store.extracts.c.id.desc())
        ).scalar()
        result = dict(
            file_name=file_name,
            sha256=digest,
            rows=len(plan),
            new=int(counts.get(NEW, 0)),
            revised=int(counts.get(REVISED, 0)),
            unchanged=int(counts.get(UNCHANGED, 0)),
            same_file_as=same_file,
        )
        if result["new"] + result["revised"] == 0:
            return IngestResult(extract_id=None, **result)
        extract_id = store.add_extract(
            conn,
            content=content,
            sha256=digest,
            file_name=file_name,
            loaded_by=loaded_by,
            rows_total=len(plan),
            rows_new=result["new"],
            rows_revised=result["revised"],
            rows_unchanged=result["unchanged"],
        )
        changed = plan[plan["status"] != UNCHANGED]
        store.insert_rows(conn, store.observations, OBSERVATION_COLUMNS, observation_rows(changed, extract_id))
    return IngestResult(extract_id=extract_id, **result)
