"""kpis.ingest.read and its rules on the layouts officers keep: Excel workbooks (made here
by xlsxwriter, an Excel-compatible writer) and wide sheets (one row per indicator, a
column per month), each read into the same long frame and loaded to exact values, or
refused with located problems and nothing written."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
import pytest
import xlsxwriter

from kpis import ingest, periods
from kpis.errors import ExtractError
from tests import coded
from tests.test_ingest import TODAY, assert_rejected, load, stored


def workbook(*sheets: tuple[str, list[list]], date_columns: bool = True) -> bytes:
    """An .xlsx with the given sheets; datetime cells get a month format, as Excel shows them."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    month = book.add_format({"num_format": "mmm-yy"})
    for name, rows in sheets:
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(r, c, value, month)
                elif isinstance(value, tuple):  # (formula, cached result)
                    sheet.write_formula(r, c, value[0], None, value[1])
                elif value is not None:
                    sheet.write(r, c, value)
    book.close()
    return buffer.getvalue()


LONG_ROWS = [
    ["indicator", "period", "value"],
    ["nel_admissions", "2020-10", 7039],
    ["mofd_bed_occupancy", dt.datetime(2020, 10, 1), 5.2],
]


def test_a_long_workbook_loads_the_first_sheet_by_default_with_excel_dates_as_months(engine, catalogue):
    content = workbook(("Returns", LONG_ROWS), ("Notes", [["ignored"]]))
    result = load(engine, catalogue, content, "october.xlsx")
    assert (result.rows, result.new) == (2, 2)
    assert [(i, p, v) for i, p, v, *_ in stored(engine)] == [
        ("mofd_bed_occupancy", "2020-10", 5.2),
        ("nel_admissions", "2020-10", 7039.0),
    ]


def test_a_named_sheet_is_read_and_an_unknown_one_is_refused(engine, catalogue):
    content = workbook(("Notes", [["read me"]]), ("Returns", LONG_ROWS))
    rows = ingest.check_extract(content, "october.xlsx", catalogue, TODAY, sheet="Returns")
    assert rows["value"].tolist() == [7039.0, 5.2]
    with pytest.raises(ExtractError) as caught:
        ingest.check_extract(content, "october.xlsx", catalogue, TODAY, sheet="Data")
    problem = caught.value.problems.iloc[0]
    assert (problem.code, problem.row) == ("workbook.no_sheet", 0)
    assert problem.problem == "the workbook has no sheet named 'Data'"
    assert problem.hint == "name one of its sheets: 'Notes', 'Returns'"


def test_a_formula_is_read_as_its_value_and_an_error_value_is_a_located_problem(engine, catalogue):
    content = workbook(
        (
            "Returns",
            [
                ["indicator", "period", "value"],
                ["nel_admissions", "2020-10", ("=7000+39", 7039)],
                ["mofd_bed_occupancy", "2020-10", ("=1/0", "#DIV/0!")],
            ],
        )
    )
    problems = assert_rejected(
        engine, catalogue, content, [(3, "value", "#DIV/0!", "is not a number")], file_name="october.xlsx"
    )
    assert (problems.loc[0, "code"], problems.loc[0, "sheet"]) == ("value.not_available", "Returns")
    rows = ingest.check_extract(workbook(("Returns", [*LONG_ROWS[:1], LONG_ROWS[1]])), "x.xlsx", catalogue, TODAY)
    assert rows["value"].tolist() == [7039.0]


@pytest.mark.parametrize(
    ("content", "code", "problem"),
    [
        pytest.param(
            b"PK\x03\x04 not really a zip", "workbook.unreadable", "the workbook cannot be read", id="corrupt"
        ),
        pytest.param(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,
            "workbook.encrypted",
            "the workbook is password-protected",
            id="password-protected",
        ),
    ],
)
def test_a_corrupt_or_protected_workbook_is_refused(engine, catalogue, content, code, problem):
    with pytest.raises(ExtractError) as caught:
        load(engine, catalogue, content, "returns.xlsx")
    found = caught.value.problems.iloc[0]
    assert (found.code, found.row) == (code, 0)
    assert found.problem.startswith(problem)


WIDE_CSV = (
    b"indicator,name,Apr-20,May-20,Jun 2020,2020-07\n"
    b"nel_admissions,Non-elective admissions,6100,6200,,6400\n"
    b"MOFD_BED_OCCUPANCY ,Medically optimised,5.1,5.2,5.3,\n"
)


def test_a_wide_csv_loads_one_value_per_indicator_and_month_with_codes_in_any_case(engine, catalogue):
    result = load(engine, catalogue, WIDE_CSV, "wide.csv")
    assert (result.rows, result.new) == (6, 6)
    assert [(i, p, v) for i, p, v, *_ in stored(engine)] == [
        ("mofd_bed_occupancy", "2020-04", 5.1),
        ("mofd_bed_occupancy", "2020-05", 5.2),
        ("mofd_bed_occupancy", "2020-06", 5.3),
        ("nel_admissions", "2020-04", 6100.0),
        ("nel_admissions", "2020-05", 6200.0),
        ("nel_admissions", "2020-07", 6400.0),
    ]


def test_a_wide_workbook_with_date_headers_and_a_ratio_on_measure_rows_loads(engine, catalogue):
    ratio = next(i for i in catalogue.indicators if i.aggregation.uses_ratio and i.frequency.value == "monthly")
    content = workbook(
        (
            "Returns",
            [
                ["code", "measure", dt.datetime(2020, 9, 1), dt.datetime(2020, 10, 1)],
                ["nel_admissions", "", 7000, 7039],
                [ratio.id, "numerator", 52, 60],
                [ratio.id, "denominator", 131, 120],
            ],
        )
    )
    rows = ingest.check_extract(content, "wide.xlsx", catalogue, TODAY)
    got = rows.assign(period=periods.texts(rows["period"]))[["indicator", "period", "numerator", "denominator"]]
    assert got[got["indicator"] == ratio.id].values.tolist() == [
        [ratio.id, "2020-09", 52.0, 131.0],
        [ratio.id, "2020-10", 60.0, 120.0],
    ]
    assert rows[rows["indicator"] == ratio.id]["value"].round(6).tolist() == [
        round(52 / 131 * ratio.ratio_scale, 6),
        round(60 / 120 * ratio.ratio_scale, 6),
    ]


def test_a_wide_cell_error_names_its_row_and_period_column(engine, catalogue):
    assert_rejected(
        engine,
        catalogue,
        b"indicator,Apr-20,May-20\nnel_admissions,6100,61 approx\n",
        [(2, "May-20", "61 approx", "is not a number")],
        file_name="wide.csv",
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            "indicator,Apr-20,2020-04",
            [(1, "2020-04", "2020-04", "this column is the same month as column 'Apr-20'")],
            id="two-columns-one-month",
        ),
        pytest.param(
            "indicator,Apr-20,,Jun-20",
            [(1, "column 3", "", "this header cell is blank (or part of a merged cell) and the column holds figures")],
            id="blank-header-cell",
        ),
        pytest.param(
            "indicator,Apr-20,Total",
            [(1, "Total", "Total", "this column of a wide sheet is not a period")],
            id="not-a-period",
        ),
    ],
)
def test_wide_header_problems_are_located(engine, catalogue, header, expected):
    width = header.count(",")
    line = "nel_admissions" + ",6100" * width
    assert_rejected(engine, catalogue, f"{header}\n{line}\n".encode(), expected, file_name="wide.csv")


def test_a_merged_header_cell_in_a_workbook_is_refused_as_blank(engine, catalogue):
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Returns")
    sheet.write_row(0, 0, ["indicator"])
    sheet.merge_range(0, 1, 0, 2, "Apr-20")
    sheet.write_row(1, 0, ["nel_admissions", 6100, 6200])
    book.close()
    problems = assert_rejected(
        engine,
        catalogue,
        buffer.getvalue(),
        [(1, "column 3", "", "this header cell is blank (or part of a merged cell) and the column holds figures")],
        file_name="wide.xlsx",
    )
    assert problems.loc[0, "sheet"] == "Returns"


def test_a_value_of_1e308_is_refused_and_an_early_year_too(engine, catalogue):
    problems = assert_rejected(
        engine,
        catalogue,
        b"indicator,period,value\nnel_admissions,2020-10,1e308\nnel_admissions,1900-10,5\n",
        [
            (2, "value", "1e308", "is beyond ±1,000,000,000,000,000, more than any figure a report holds"),
            (3, "period", "1900-10", "is not a period"),
        ],
    )
    assert problems["code"].tolist() == ["value.too_large", "period.format"]
    assert problems.loc[1, "hint"].startswith("the year 1900 is before 1990")


def test_a_file_mixing_utf8_and_windows_1252_is_refused_naming_the_first_bad_line(engine, catalogue):
    content = "indicator,period,value,note\nnel_admissions,2020-09,7000,café\n".encode() + (
        "nel_admissions,2020-10,7039,café\n".encode("cp1252")
    )
    problems = assert_rejected(
        engine,
        catalogue,
        content,
        [(0, "", "", "the file mixes UTF-8 and Windows-1252 text: line 3 is the first that is not UTF-8")],
    )
    assert problems.loc[0, "code"] == "file.mixed_encoding"


def test_every_problem_has_a_stable_code_and_names_its_file(engine, catalogue):
    with pytest.raises(ExtractError) as caught:
        load(engine, catalogue, b"indicator,period,value\nnel_admisions,2020-13,x\n", "bad.csv")
    problems = caught.value.problems
    assert problems["code"].tolist() == ["indicator.unknown", "period.format", "value.format"]
    assert set(problems["file"]) == {"bad.csv"}


def test_the_long_frame_of_a_wide_sheet_keeps_the_period_column_it_came_from(catalogue):
    cells = ingest.read_extract(WIDE_CSV, "wide.csv", catalogue)
    first = cells.iloc[0]
    assert (first.row, first.column, first.indicator, first.period, first.value) == (
        2,
        "Apr-20",
        "nel_admissions",
        "2020-04",
        "6100",
    )
    assert len(cells) == 6
    assert isinstance(cells, pd.DataFrame)


def test_codes_as_officers_write_them_load_under_the_catalogues_ids(engine, tmp_path):
    """``iapt-recovery`` by its alias, ``PHOF-2.22iii`` in another case with spaces,
    ``ASCOF 2A(1)`` by its alias, and negative money: stored under the ids as spelled."""
    catalogue = coded.coded_catalogue(tmp_path)
    coded.store_values(engine, catalogue)
    got = {(i, p): v for i, p, v, *_ in stored(engine)}
    assert got == {(i, p): v for i, p, v in coded.VALUES}
    assert got[("ASCOF 2A(1)", "2020-11")] == -56_000.0


def test_an_unknown_alias_is_refused_with_the_closest_code(engine, tmp_path):
    catalogue = coded.coded_catalogue(tmp_path)
    problems = assert_rejected(
        engine,
        catalogue,
        b"indicator,period,value\nuhs-iapt-1,2020-11,50\n",
        [(2, "indicator", "uhs-iapt-1", "is not an indicator id in the catalogue")],
    )
    assert problems.loc[0, "hint"] == "did you mean 'UHS-IAPT-01'?"


def test_a_negative_count_is_still_refused_but_money_is_not(engine, tmp_path):
    catalogue = coded.coded_catalogue(tmp_path)
    assert_rejected(
        engine,
        catalogue,
        b"indicator,period,value\nC.19,2020-11,-1\nASCOF 2A(1),2020-11,-5\n",
        [(2, "value", "-1", "a count/days/hours/rate/ratio figure cannot be negative")],
    )


# Every rule of the table, by its code: one bad row each, refused at its cell --------------------

RATIO = "alcohol_treatment_success"  # a percentage made of numerator / denominator
QUARTERLY = "iapt_access"  # quarterly


@pytest.mark.parametrize(
    ("line", "code", "column"),
    [
        (",2020-10,5", "indicator.missing", "indicator"),
        ("nel_admision,2020-10,5", "indicator.unknown", "indicator"),
        ("nel_admissions,,5", "period.missing", "period"),
        ("nel_admissions,Oct-20,5", "period.format", "period"),
        ("nel_admissions,2020-12,5", "period.future", "period"),
        (f"{QUARTERLY},2020-08,5", "period.not_quarter_end", "period"),
        ("nel_admissions,2020/21 Q2,5", "period.quarter_for_monthly", "period"),
        ("nel_admissions,2020-10,abc", "value.format", "value"),
        ("nel_admissions,2020-10,=A1", "value.formula", "value"),
        ("nel_admissions,2020-10,£5", "value.currency_sign", "value"),
        ("nel_admissions,2020-10,5%", "value.percent_sign", "value"),
        ("nel_admissions,2020-10,n/a", "value.not_available", "value"),
        ("nel_admissions,2020-10,inf", "value.not_finite", "value"),
        ("nel_admissions,2020-10,2e15", "value.too_large", "value"),
        ("nel_admissions,2020-10,", "value.missing", "value"),
        ("mofd_bed_occupancy,2020-10,101", "value.percent_range", "value"),
        ("nel_admissions,2020-10,-5", "value.negative", "value"),
        (f"{RATIO},2020-10,,,", "ratio.missing", "numerator"),
        (f"{RATIO},2020-10,,52,", "ratio.half", "denominator"),
        (f"{RATIO},2020-10,,0,0", "denominator.not_positive", "denominator"),
        (f"{RATIO},2020-10,,60,52", "numerator.above_denominator", "numerator"),
        (f"{RATIO},2020-10,,-1,52", "numerator.negative", "numerator"),
        (f"{RATIO},2020-10,,5.5,52", "numerator.not_whole", "numerator"),
        (f"{RATIO},2020-10,,5,52.5", "denominator.not_whole", "denominator"),
        (f"{RATIO},2020-10,,x,52", "numerator.format", "numerator"),
        ("nel_admissions,2020-10,5,,," + "n" * 501, "note.too_long", "note"),
    ],
)
def test_each_rule_refuses_its_row_with_its_code(catalogue, line, code, column):
    content = f"indicator,period,value,numerator,denominator,note\n{line}\n".encode()
    with pytest.raises(ExtractError) as caught:
        ingest.check_extract(content, "rule.csv", catalogue, TODAY)
    found = caught.value.problems
    assert code in found["code"].tolist(), found[["code", "problem"]]
    hit = found[found["code"] == code].iloc[0]
    assert (hit.row, hit.column, hit.file) == (2, column, "rule.csv")
    assert hit.hint


def test_the_file_rules_find_repeats_across_chunks(catalogue, monkeypatch):
    from kpis.ingest import records

    monkeypatch.setattr(records, "CHUNK_ROWS", 2)  # the repeat is in another chunk than its first row
    content = b"indicator,period,value\nnel_admissions,2020-09,1\nnel_admissions,2020-08,2\nnel_admissions,2020-07,3\nnel_admissions,2020-09,1\nnel_admissions,2020-08,9\n"
    with pytest.raises(ExtractError) as caught:
        ingest.check_extract(content, "chunks.csv", catalogue, TODAY)
    assert caught.value.problems[["code", "row", "problem"]].values.tolist() == [
        ["key.repeated", 5, "repeats row 2 (same indicator and period)"],
        ["key.conflict", 6, "conflicts with row 3, which gives another value for the same indicator and period"],
    ]


def test_the_progress_line_tells_rows_read_and_rows_per_second():
    written = []
    progress = ingest.ProgressLine("big.csv", written.append)
    progress.shown -= 1  # as if a second had passed since the last line
    progress(250_000)
    progress(500_000)  # within a quarter of a second of the last: not shown
    assert len(written) == 1
    assert written[0].startswith("\rbig.csv: 250,000 rows read, ") and written[0].endswith(" rows/s")
