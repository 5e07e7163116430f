"""kpis.ingest against the malformed extracts officers really produce: each file in
``tests/fixtures/malformed/`` is refused whole by ``kpis.ingest.ingest`` with its own
located problems (row, column, value, problem, and a hint), and the store is as it was.

The files are made by ``tests/fixtures/malformed/make_fixtures.py`` (its docstrings say
which tool writes each one and how); a test checks that it still makes the committed
bytes. The 10 MB case is not committed: the generator writes it to the test's temporary
directory when the test runs (``write_ten_megabytes``).

Every case runs against a real store that already holds a valid extract: a SQLite file,
and a PostgreSQL database when ``KPIS_TEST_POSTGRES_URL`` is set. A case whose message the
engine gets wrong or misses is marked ``xfail(strict=True)`` (``Refusal.engine_bug``) with
the message it should give, and passes the day ``kpis/ingest.py`` gives it; none is today.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pytest

from kpis import ingest
from kpis.errors import ExtractError
from tests.conftest import store_snapshot
from tests.test_ingest import BASE, assert_rejected, assert_store_unchanged, load

MALFORMED = Path(__file__).parent / "fixtures" / "malformed"
GENERATOR = MALFORMED / "make_fixtures.py"


def _generator():
    spec = importlib.util.spec_from_file_location("make_fixtures", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_fixtures = _generator()
TEN_MEGABYTES = make_fixtures.TEN_MEGABYTES

# Hints the engine shares between problems.
SAVE_AS = "File > Save As > 'CSV UTF-8 (Comma delimited)'"
NUMBER_HINT = "write a plain number such as 7039 or 52.5"
NOT_A_DATE = "if Excel turned it into a date, format the column as text"
WIDER_ROW = "this row has 4 cells, the header has 3"
LONG_NOTE = (
    "Non-elective admissions rose in October as the second wave of COVID-19 reached the city's hospitals. " * 6
    + "See the narrative."
)


@dataclass(frozen=True)
class Refusal:
    """What the engine must say about a file: every problem as (row, column, value,
    problem), in its order, and a fragment of the first problem's hint."""

    problems: list[tuple[int, str, str, str]]
    hint: str
    engine_bug: str = ""  # set: the engine says something else today (xfail, strict)


EXPECTED: dict[str, Refusal] = {
    # Whole-file problems (row 0): refused before any cell is read.
    "empty.csv": Refusal([(0, "", "", "the file is empty")], "export the extract again"),
    "header-only.csv": Refusal([(0, "", "", "the file has a header but no rows")], "one row per value"),
    "xlsx-saved-as-csv.csv": Refusal([(0, "", "", "this is an Excel workbook, not a CSV file")], SAVE_AS),
    "utf16-unicode-text.csv": Refusal(
        [(0, "", "", "this is not a text file (it holds binary or UTF-16 data)")], SAVE_AS
    ),
    "bom-then-cp1252.csv": Refusal(
        [
            (
                0,
                "",
                "",
                "the file is marked as UTF-8 but holds characters that are not UTF-8"
                " (it was probably saved again in another encoding)",
            )
        ],
        SAVE_AS,
    ),
    "unclosed-quote.csv": Refusal(
        # Once accepted: the csv module (strict=False) read the open quote to the end of the file, so rows 3
        # and 4 were loaded as part of row 2's note and silently lost.
        [(2, "note", "Provisional - awaiting SUS refresh", 'a quote (") opens in this cell and is never closed')],
        "close the quote at the end of the cell, or delete it",
    ),
    "unclosed-quote-in-value.csv": Refusal(
        [(2, "value", "7,039", 'a quote (") opens in this cell and is never closed')],
        "close the quote at the end of the cell, or delete it",
    ),
    # The header row (row 1).
    "semicolon-delimiter.csv": Refusal(
        [(1, "", "indicator;period;value", "the columns are separated by semicolons, not commas")],
        "save the file as CSV (comma delimited)",
    ),
    "bom-semicolon.csv": Refusal(
        [(1, "", "indicator;period;value", "the columns are separated by semicolons, not commas")],
        "save the file as CSV (comma delimited)",
    ),
    "tab-separated.csv": Refusal(
        [(1, "", "indicator\tperiod\tvalue", "the columns are separated by tabs, not commas")],
        "save the file as CSV (comma delimited)",
    ),
    "no-header.csv": Refusal(
        [(1, "", "nel_admissions,2020-10,7039", "the first row is data, not the header")],
        "insert a first row 'indicator,period,value'",
    ),
    "title-row-above-header.csv": Refusal(
        [
            (
                1,
                "",
                "ICU extract November 2020",
                "this row is not the header; the header 'indicator,period,value' is on row 2",
            )
        ],
        "delete the rows above the header",
    ),
    "header-misspelt.csv": Refusal(
        [
            (1, "Peroid", "Peroid", "column 2 is not an extract column"),
            (1, "Vaule", "Vaule", "column 3 is not an extract column"),
            (1, "period", "", "the required column 'period' is missing"),
            (1, "value", "", "the required column 'value' is missing"),
        ],
        "did you mean 'period'?",
    ),
    "missing-value-column.csv": Refusal(
        [(1, "value", "", "the required column 'value' is missing")],
        "the header row must hold indicator, period and value",
    ),
    # Rows whose cells do not line up with the header.
    "extra-unnamed-column.csv": Refusal(
        # The header ends 'value,': its column 4 is there with no name. The quoting hint is for numbers.
        [(2, "", "nel_admissions,2020-10,7039,checked by JB", WIDER_ROW)],
        "give column 4 a name in the header row (numerator, denominator or note), or delete it",
    ),
    "thousands-unquoted.csv": Refusal(
        [(2, "", "nel_admissions,2020-10,7,039", WIDER_ROW)], 'quote values that contain commas ("7,039")'
    ),
    "header-repeated.csv": Refusal(
        [
            (3, "indicator", "indicator", "is not an indicator id in the catalogue"),
            (3, "period", "period", "is not a period"),
            (3, "value", "value", "is not a number"),
        ],
        "use an id from config/kpis.yaml",
    ),
    # Values.
    "cp1252-pound-value.csv": Refusal([(2, "value", "£1,200", "has a currency sign")], "without £, $ or €"),
    "currency-sign.csv": Refusal(
        [(2, "value", "£1200", "has a currency sign"), (3, "value", "€35", "has a currency sign")],
        "without £, $ or €",
    ),
    "formula-cells.csv": Refusal(
        [
            (2, "value", "=1+2", "looks like a spreadsheet formula"),
            (3, "value", "=SUM(C2:C3)", "looks like a spreadsheet formula"),
            (4, "value", "@SUM(C2)", "looks like a spreadsheet formula"),
        ],
        "Paste Special > Values",
    ),
    "div0-error.csv": Refusal(
        [(2, "value", "#DIV/0!", "is not a number"), (3, "value", "#VALUE!", "is not a number")],
        "leave the row out until the figure is known",
    ),
    "not-available-values.csv": Refusal(
        [
            (2, "value", "n/a", "is not a number"),
            (3, "value", "N/A", "is not a number"),
            (4, "value", "#N/A", "is not a number"),
            (5, "value", "tbc", "is not a number"),
        ],
        "leave the row out until the figure is known",
    ),
    "text-values.csv": Refusal(
        [(2, "value", "see note", "is not a number"), (3, "value", "five", "is not a number")], NUMBER_HINT
    ),
    "blank-values.csv": Refusal(
        [(2, "value", "", "the value is missing"), (4, "value", "", "the value is missing")],
        "write the figure, or give numerator and denominator",
    ),
    "decimal-comma.csv": Refusal([(2, "value", "5,2", "is not a number")], NUMBER_HINT),
    "negative-percentage.csv": Refusal(
        [(2, "value", "-1.3", "a percentage must be between 0 and 100")], "check the sign"
    ),
    "percentage-over-100.csv": Refusal(
        [(2, "value", "104.2", "a percentage must be between 0 and 100")], "write 52 for 52%"
    ),
    "percent-sign-on-count.csv": Refusal(
        [(2, "value", "703900%", "has a % sign but the indicator is not a percentage")], "write the plain number"
    ),
    "negative-count.csv": Refusal(
        [(2, "value", "-1", "a count/days/hours/rate/ratio figure cannot be negative")], "check the sign"
    ),
    # Ratios.
    "numerator-above-denominator.csv": Refusal(
        [(2, "numerator", "131", "the numerator is larger than the denominator, so the percentage is over 100%")],
        "not swapped",
    ),
    "zero-denominator.csv": Refusal(
        [(2, "value", "", "the value is missing"), (2, "denominator", "0", "the denominator must be above zero")],
        "write the figure, or give numerator and denominator",
    ),
    "ratio-missing-numerator-denominator.csv": Refusal(
        [(2, "numerator", "", "this indicator is a ratio: numerator and denominator are required")],
        "add the numerator and denominator columns",
    ),
    "percentage-in-numerator.csv": Refusal(
        # Once accepted: 39.7 of 131 loaded as 30.3% with nothing said.
        [(2, "numerator", "39.7", "the numerator must be a whole count")],
        "write the numerator as a whole number of cases",
    ),
    # Periods.
    "excel-date-period.csv": Refusal([(2, "period", "01/10/2020", "is not a period")], NOT_A_DATE),
    "hashes-period.csv": Refusal([(2, "period", "########", "is not a period")], NOT_A_DATE),
    "excel-month-year-period.csv": Refusal([(2, "period", "Oct-20", "is not a period")], NOT_A_DATE),
    "month-13-period.csv": Refusal([(2, "period", "2020-13", "is not a period")], "month 13 does not exist"),
    "future-period.csv": Refusal(
        [(2, "period", "2021-10", "is in the future")], "periods run up to the current month, 2020-11"
    ),
    "month-for-quarterly.csv": Refusal(
        [(2, "period", "2020-08", "this indicator is quarterly and the period is not a quarter's last month")],
        "give quarters as 2020/21 Q2",
    ),
    "quarter-for-monthly.csv": Refusal(
        # Once accepted: stored as September 2020, so a quarter's total (20514) became one month's admissions.
        [(2, "period", "2020/21 Q2", "this indicator is monthly and the period is a quarter")],
        "give the month, e.g. 2020-09: a monthly indicator takes one row per month (2020-07, 2020-08 and 2020-09)",
    ),
    # Indicators, repeated keys and notes.
    "unknown-indicator.csv": Refusal(
        [
            (2, "indicator", "nel_admisions", "is not an indicator id in the catalogue"),
            (3, "indicator", "bed_days_lost", "is not an indicator id in the catalogue"),
        ],
        "did you mean 'nel_admissions'?",
    ),
    "total-row.csv": Refusal(
        [
            (4, "indicator", "Total", "is not an indicator id in the catalogue"),
            (4, "period", "", "the period is missing"),
        ],
        "use an id from config/kpis.yaml",
    ),
    "duplicate-rows.csv": Refusal(
        [
            (4, "period", "2020-10", "repeats row 2 (same indicator and period)"),
            (5, "period", "2020-10", "repeats row 3 (same indicator and period)"),
        ],
        "delete the repeated row",
    ),
    "conflicting-duplicate-keys.csv": Refusal(
        [(3, "value", "7048", "conflicts with row 2, which gives another value for the same indicator and period")],
        "keep one row per indicator and period",
    ),
    "note-too-long.csv": Refusal(
        [(2, "note", LONG_NOTE, "the note is longer than 500 characters")], "belongs in the narrative"
    ),
}


def committed_files() -> set[str]:
    return {p.name for p in MALFORMED.iterdir() if p.is_file() and p.name != GENERATOR.name}


def content_of(name: str, tmp_path: Path) -> bytes:
    """A case's bytes: the committed file, or the 10 MB file written now."""
    if name == TEN_MEGABYTES:
        return make_fixtures.write_ten_megabytes(tmp_path / name).read_bytes()
    return (MALFORMED / name).read_bytes()


def case(name: str):
    refusal = EXPECTED[name]
    marks = [pytest.mark.xfail(strict=True, reason=refusal.engine_bug)] if refusal.engine_bug else []
    return pytest.param(name, marks=marks, id=name)


@pytest.fixture
def loaded(engine, catalogue):
    """A store that already holds one valid extract, so that "unchanged" means something."""
    assert load(engine, catalogue, BASE, "base.csv", "alice").extract_id == 1
    return engine


# The table and the files agree, and the files are what the generator makes.


def test_every_file_has_an_expectation_and_every_expectation_a_file():
    assert committed_files() == set(EXPECTED) - {TEN_MEGABYTES}
    assert len(EXPECTED) >= 30


def test_the_generator_makes_the_committed_files_byte_for_byte():
    assert set(make_fixtures.CASES) == committed_files()
    for name, make in make_fixtures.CASES.items():
        assert make() == (MALFORMED / name).read_bytes(), (
            f"{name}: run python tests/fixtures/malformed/make_fixtures.py"
        )


def test_the_files_hold_the_bytes_their_tools_write():
    def read(name: str) -> bytes:
        return (MALFORMED / name).read_bytes()

    assert read("empty.csv") == b""
    assert read("header-only.csv") == b"indicator,period,value,numerator,denominator,note\r\n"
    assert read("xlsx-saved-as-csv.csv").startswith(b"PK\x03\x04")
    assert read("utf16-unicode-text.csv").startswith(b"\xff\xfei\x00n\x00")
    assert read("utf16-unicode-text.csv").count("\t".encode("utf-16-le")) == 6
    assert read("bom-then-cp1252.csv").startswith(b"\xef\xbb\xbfindicator,")
    assert b",\xa31.2m " in read("bom-then-cp1252.csv")  # '£' as Windows-1252, not UTF-8
    assert b'"\xa31,200"' in read("cp1252-pound-value.csv")
    assert "£1200".encode() in read("currency-sign.csv")
    assert read("currency-sign.csv").startswith(b"\xef\xbb\xbf")
    assert read("bom-semicolon.csv").startswith(b"\xef\xbb\xbfindicator;period;value\r\n")
    assert read("semicolon-delimiter.csv").endswith(b"mofd_bed_occupancy;2020-10;5,2\r\n")
    assert read("decimal-comma.csv").endswith(b'mofd_bed_occupancy,2020-10,"5,2"\r\n')
    assert read("extra-unnamed-column.csv").startswith(b"indicator,period,value,\r\n")
    assert read("thousands-unquoted.csv") == (
        b"indicator,period,value\nnel_admissions,2020-10,7,039\nmofd_bed_occupancy,2020-10,5.2\n"
    )
    assert read("unclosed-quote.csv").count(b'"') == 1
    for name in committed_files() - {"empty.csv", "xlsx-saved-as-csv.csv"}:
        content = read(name).decode("utf-16") if name.startswith("utf16") else read(name).decode("cp1252")
        assert content.count("\r\n") in (0, content.count("\n")), f"{name}: one kind of line end"
        assert content.endswith("\n"), f"{name}: a line end after the last row"


def test_the_ten_megabyte_file_is_refused_by_an_eight_megabyte_upload_limit_before_it_is_read(tmp_path):
    content = make_fixtures.write_ten_megabytes(tmp_path / TEN_MEGABYTES).read_bytes()
    assert len(content) >= 10 * 1024 * 1024
    with pytest.raises(ExtractError) as caught:
        ingest.refuse_oversized(content, TEN_MEGABYTES, 8 * 1024 * 1024)
    (problem,) = caught.value.problems.itertuples(index=False)
    assert (problem.code, problem.row, problem.value) == ("file.too_large", 0, "10,485,890 bytes")
    assert problem.problem == "the file is larger than the upload limit of 8 MB"
    assert "python -m kpis ingest" in problem.hint


def test_the_ten_megabyte_file_read_without_a_limit_is_refused_for_its_cells(loaded, catalogue, tmp_path):
    """The command line has no size limit: the same file is read, and its first row holds
    a formula (and its ten-year cycle repeats keys)."""
    content = make_fixtures.write_ten_megabytes(tmp_path / TEN_MEGABYTES).read_bytes()
    before = store_snapshot(loaded)
    with pytest.raises(ExtractError) as caught:
        load(loaded, catalogue, content, TEN_MEGABYTES)
    assert_store_unchanged(loaded, before)
    first = caught.value.problems.iloc[0]
    assert (first.row, first.column, first.value, first.problem) == (
        2,
        "value",
        "=1+2",
        "looks like a spreadsheet formula",
    )
    assert set(caught.value.problems["code"]) >= {"value.formula", "key.repeated"}


# Each file is refused with its own located problems, and the store is unchanged.


@pytest.mark.parametrize("name", [case(name) for name in EXPECTED])
def test_a_malformed_file_is_refused_with_its_own_located_problems(loaded, catalogue, tmp_path, name):
    refusal = EXPECTED[name]
    problems = assert_rejected(loaded, catalogue, content_of(name, tmp_path), refusal.problems, file_name=name)
    assert refusal.hint in problems.loc[0, "hint"], problems.loc[0, "hint"]
