"""The exports, opened as an analyst opens them: the CSV read back with pandas, the
workbook with openpyxl. Figures come from the illustrative sample loaded into a real
SQLite file and are compared with the engine's own KPI table as at November 2020; the
RAG summaries of workstreams b and c are the 2020/21 edition's published ones."""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpis import cli, ingest, periods, sample, store
from kpis.publish import contents, formats
from kpis.publish import workbook as xlsx
from kpis.report.integrated import REPORT_COLUMNS, report_table
from kpis.report.palette import rag_palette
from kpis.report.performance import RAG_WORDS, build_kpi_table, rag_summary
from kpis.report.reasons import REASON_COLUMNS
from kpis.spreadsheet import FORMULA_START
from tests.coded import AS_AT as CODED_AS_AT
from tests.coded import coded_catalogue, store_values
from tests.conftest import HOSTILE

AS_AT = periods.parse_period("2020-11")
SHEETS = [
    "Summary",
    "Integrated Care (Better Care)",
    "Prevention & Early Intervention",
    "Comm. Safe & High Quality Serv.",
    "Managing & Developing Market",
    "Key",
]
FIRST_ROW = 6  # the first indicator's row on a workstream sheet (1-based, as Excel and openpyxl count)
COLUMNS = {  # workstream sheet column → KPI table column
    "C": "actual",
    "D": "last_year",
    "E": "variance_last_year",
    "F": "variance_last_year_pct",
    "G": "target",
    "H": "variance_target",
    "I": "variance_target_pct",
}


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory, catalogue):
    url = f"sqlite:///{tmp_path_factory.mktemp('exports') / 'kpis.sqlite'}"
    engine = store.connect(url)
    sample.load_sample(engine, catalogue)
    yield engine, url
    engine.dispose()


@pytest.fixture(scope="module")
def engine_table(sample_store, catalogue) -> pd.DataFrame:
    return build_kpi_table(store.current_observations(sample_store[0]), catalogue, AS_AT)


@pytest.fixture(scope="module")
def data(sample_store, catalogue) -> contents.ExportData:
    return contents.export_data(sample_store[0], catalogue, AS_AT)


@pytest.fixture(scope="module")
def workbook(data, catalogue) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(xlsx.kpi_workbook(data, catalogue)))


def read_csv(source: bytes | Path) -> pd.DataFrame:
    """A CSV file as pandas reads it, but only an empty cell is missing ("n/a" is a rating)."""
    source = io.BytesIO(source) if isinstance(source, bytes) else source
    return pd.read_csv(source, encoding="utf-8-sig", keep_default_na=False, na_values=[""])


def same_figure(cell_value: object, engine_value: float) -> bool:
    if math.isnan(engine_value):
        return cell_value is None
    return isinstance(cell_value, int | float) and cell_value == pytest.approx(engine_value, abs=1e-6)


def all_cells(book: openpyxl.Workbook):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


# Names ---------------------------------------------------------------------------------------


def test_file_names_come_from_the_month_and_the_workstream_id_only():
    assert formats.file_name(AS_AT, "xlsx") == "icu-kpis-2020-11.xlsx"
    assert formats.file_name(AS_AT, "csv", "market") == "icu-kpis-2020-11-market.csv"
    assert formats.file_name(periods.parse_period("2021-03"), "csv", "safe_quality") == (
        "icu-kpis-2021-03-safe_quality.csv"
    )
    with pytest.raises(ValueError, match="unknown export format 'exe'"):
        formats.file_name(AS_AT, "exe")


@pytest.mark.parametrize(
    ("name", "taken", "expected"),
    [
        ("Integrated Care (Better Care)", set(), "Integrated Care (Better Care)"),
        ("Commissioning Safe & High Quality Services", set(), "Comm. Safe & High Quality Serv."),
        ("Prevention and Early Intervention", set(), "Prevention & Early Intervention"),
        ("Managing and Developing the Market", set(), "Managing & Developing Market"),
        ("Managing and Developing the Market", {"managing & developing market"}, "Managing & Deve. Market (2)"),
        ("Care: [North/South] *now*? \\ yes", set(), "Care North South now yes"),
        ('=HYPERLINK("http://x","y")', set(), 'HYPERLINK("http x","y")'),
        ("'quoted'", set(), "quoted"),
        ("+-@", set(), "market"),  # nothing left: the workstream id
        ("summary", {"Summary", "Key"}, "summary (2)"),
        ("Care", {"Summary", "care", "Care (2)"}, "Care (3)"),
        ("A" * 40, {"A" * 31}, "A" * 27 + " (2)"),
    ],
)
def test_sheet_names_are_safe_short_and_unique(name, taken, expected):
    got = xlsx.sheet_name(name, taken, "market")
    assert got == expected
    assert len(got) <= 31 and "…" not in got
    assert not set(got) & set("[]:*?/\\")


# CSV -----------------------------------------------------------------------------------------


def test_csv_round_trips_to_the_summary_command_table(sample_store, data, tmp_path):
    _, url = sample_store
    summary_file = tmp_path / "summary.csv"
    assert cli.main(["summary", "--as-at", "2020-11", "--database", url, "--output", str(summary_file)]) == 0
    summary = read_csv(summary_file)
    content = formats.kpi_csv(data.table)
    assert content.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the text as UTF-8
    assert content.count(b"\r\n") == len(summary) + 1
    exported = read_csv(content)
    assert list(exported.columns) == REPORT_COLUMNS
    pd.testing.assert_frame_equal(exported, summary)


def test_csv_of_one_workstream_is_its_rows_of_the_summary_table(sample_store, data, catalogue, tmp_path):
    _, url = sample_store
    summary_file = tmp_path / "summary.csv"
    assert cli.main(["summary", "--as-at", "2020-11", "--database", url, "--output", str(summary_file)]) == 0
    summary = read_csv(summary_file)
    exported = read_csv(formats.export_bytes(data, catalogue, "csv", "market"))
    assert list(exported["indicator"]) == [i.id for i in catalogue.in_workstream("market")]
    market = summary[summary["workstream"] == "market"].reset_index(drop=True)
    # A column of reasons with none in these rows reads back as blank floats: compare as text.
    as_text = {c: lambda f, c=c: f[c].astype("string").fillna("") for c in REASON_COLUMNS}
    pd.testing.assert_frame_equal(exported.assign(**as_text), market.assign(**as_text))


def test_csv_numbers_stay_numbers(data):
    exported = read_csv(formats.kpi_csv(data.table))
    for column in ("actual", "target", "variance_target", "variance_target_pct", "last_year"):
        assert pd.api.types.is_float_dtype(exported[column]), column
    assert (exported["variance_target"] < 0).any()  # negative figures are numbers, not neutralised text


def test_an_unknown_workstream_lists_the_valid_ids(data, catalogue):
    with pytest.raises(contents.UnknownWorkstreamError) as raised:
        formats.export_bytes(data, catalogue, "xlsx", "Market")
    assert str(raised.value) == (
        "'Market' is not a workstream id; use one of: integrated_care, prevention, safe_quality, market"
    )


# The workbook --------------------------------------------------------------------------------


def test_workbook_has_a_summary_a_sheet_per_workstream_and_a_key(workbook):
    # the sample's breakdown rows add the comparison and inequality sheets after the key
    assert workbook.sheetnames == [*SHEETS, "Comparisons", "Inequality"]
    assert all(len(name) <= 31 for name in workbook.sheetnames)


def test_workstream_sheets_hold_the_engine_figures_as_numbers(workbook, engine_table, catalogue):
    for ws, name in zip(catalogue.workstreams, SHEETS[1:-1], strict=True):
        sheet = workbook[name]
        rows = engine_table[engine_table["workstream"] == ws.id].reset_index(drop=True)
        assert [c.value for c in sheet[FIRST_ROW - 1]] == [
            "Period", "Indicator", "Actual", "Last year", "Last year +/-", "Last year %",
            "Target", "Target +/-", "Target %", "RAG", "Trend", "Last year RAG",
            "SPC mean", "Lower process limit", "Upper process limit", "Variation", "Assurance", "SPC limits",
        ]  # fmt: skip
        assert sheet.max_row == FIRST_ROW - 1 + len(rows)
        for k, row in rows.iterrows():
            excel_row = FIRST_ROW + k
            label = row["period_label"].split()[0] if isinstance(row["period_label"], str) else "no data"
            assert sheet[f"A{excel_row}"].value == label
            assert sheet[f"B{excel_row}"].value == row["name"]
            for letter, column in COLUMNS.items():
                cell = sheet[f"{letter}{excel_row}"]
                # a percentage, and every % column, is stored as a fraction: 0.52 for 52%
                scale = 100 if column.endswith("_pct") or row["unit"] == "percent" else 1
                assert same_figure(cell.value, row[column] / scale), (ws.id, row["indicator"], column, cell.value)
                assert cell.data_type == "n"
            assert sheet[f"J{excel_row}"].value == row["rag_target"]
            assert sheet[f"K{excel_row}"].value == xlsx.TREND_WORDS[row["trend"]]
            assert sheet[f"L{excel_row}"].value == row["rag_last_year"]


def test_the_published_reference_figures_come_through(workbook):
    """Two rows pinned in tests/test_sample.py to the 2020/21 edition: falls admissions
    (1,251 against 1,692 last year) and IAPT access (5.9% against a target of 5.9%)."""
    sheet = workbook["Prevention & Early Intervention"]
    falls = next(r for r in sheet.iter_rows(min_row=FIRST_ROW) if r[1].value == "Falls and frailty admissions (65+)")
    assert (falls[0].value, falls[2].value, falls[3].value, falls[9].value) == ("M5", 1251, 1692, "n/a")
    iapt = next(r for r in sheet.iter_rows(min_row=FIRST_ROW) if r[1].value.startswith("IAPT - % with common"))
    assert (iapt[0].value, iapt[2].value, iapt[6].value, iapt[9].value) == ("Q2", 0.059, 0.059, "Green")


def test_summary_sheet_holds_the_rag_summary_counts(workbook, engine_table, catalogue):
    sheet = workbook["Summary"]
    assert [c.value for c in sheet[6]][2:] == [*RAG_WORDS, *RAG_WORDS]
    assert (sheet["C5"].value, sheet["G5"].value) == ("Against target", "Against last year")
    summary = rag_summary(engine_table, catalogue).set_index(["workstream", "comparison"])
    counts = {}
    for ws, row in zip(catalogue.workstreams, sheet.iter_rows(min_row=7, max_row=10), strict=True):
        values = [c.value for c in row]
        assert values[0] == ws.name
        assert values[1] == len(catalogue.in_workstream(ws.id))
        assert values[2:6] == summary.loc[(ws.id, "target")].tolist()
        assert values[6:10] == summary.loc[(ws.id, "last_year")].tolist()
        counts[ws.id] = values[2:]
    # the 2020/21 edition's published RAG summaries (tests/test_sample.py)
    assert counts["prevention"] == [4, 0, 0, 5, 7, 2, 0, 0]
    assert counts["safe_quality"] == [2, 0, 2, 1, 3, 0, 2, 0]
    total = [c.value for c in sheet[11]]
    assert total[0] == "All workstreams"
    assert total[1] == len(catalogue.indicators)
    assert total[2:] == [sum(column) for column in zip(*counts.values(), strict=True)]


def test_rag_cells_are_filled_with_the_palette_and_keep_their_word(workbook, engine_table):
    palette = rag_palette()
    seen = set()
    for name in SHEETS[1:-1]:
        for row in workbook[name].iter_rows(min_row=FIRST_ROW):
            for cell in (row[9], row[11]):
                swatch = palette[cell.value]
                assert cell.fill.fill_type == "solid"
                assert cell.fill.fgColor.rgb == "FF" + swatch.background.lstrip("#").upper()
                assert cell.font.color.rgb == "FF" + swatch.text.lstrip("#").upper()
                seen.add(cell.value)
            assert row[10].fill.fill_type is None  # only RAG cells are coloured
    assert seen == set(RAG_WORDS)
    for cell in workbook["Summary"][6][2:]:
        assert cell.fill.fgColor.rgb == "FF" + palette[cell.value].background.lstrip("#").upper()


def test_number_formats_carry_thousands_separators_units_and_decimals(workbook):
    def cells(sheet_name: str, starts: str) -> tuple:
        return next(r for r in workbook[sheet_name].iter_rows(min_row=FIRST_ROW) if r[1].value.startswith(starts))

    mofd = cells("Integrated Care (Better Care)", "% acute beds occupied")  # percent, 0 decimals
    assert [mofd[i].number_format for i in (2, 6, 7, 8)] == ["#,##0%", "#,##0%", "#,##0%", "0%"]
    # Excel computes with them: actual minus target is the +/- (in points), +/- over target the %
    assert mofd[2].value - mofd[6].value == pytest.approx(mofd[7].value)
    assert mofd[7].value / mofd[6].value == pytest.approx(mofd[8].value)
    iapt = cells("Prevention & Early Intervention", "IAPT - % with common")  # percent, 1 decimal
    assert [iapt[i].number_format for i in (2, 3, 4, 5)] == ["#,##0.0%", "#,##0.0%", "#,##0.0%", "0%"]
    falls = cells("Prevention & Early Intervention", "Falls and frailty")  # count
    assert [falls[i].number_format for i in (2, 3, 4)] == ["#,##0", "#,##0", "#,##0"]
    assert cells("Managing & Developing Market", "Average days from referral")[2].number_format == '#,##0" days"'
    hours = next(
        r for r in workbook["Managing & Developing Market"].iter_rows(min_row=FIRST_ROW) if "hours" in r[1].value
    )
    assert hours[2].number_format == '#,##0" hrs"'


def test_header_rows_give_the_month_and_the_data_version(workbook, sample_store):
    version = store.data_version(sample_store[0])
    assert version == len(sample.sample_files())
    for sheet in workbook.worksheets:
        assert sheet["A2"].value == "As at Nov 2020 (M8 2020/21)", sheet.title
        assert sheet["A3"].value.startswith(f"Data version {version}: the latest extract used, loaded "), sheet.title
    assert workbook["Prevention & Early Intervention"]["A1"].value == "Prevention and Early Intervention"
    assert workbook["Comm. Safe & High Quality Serv."]["A1"].value == "Commissioning Safe & High Quality Services"
    assert workbook["Summary"]["A1"].value == "ICU Summary Performance Report: RAG summary"


def test_header_rows_are_frozen_and_columns_sized(workbook):
    assert workbook["Summary"].freeze_panes == "A7"
    for name in SHEETS[1:-1]:
        sheet = workbook[name]
        assert sheet.freeze_panes == "A6", name
        assert sheet.auto_filter.ref.startswith("A5:R"), name
        widths = {letter: sheet.column_dimensions[letter].width for letter in "ABCDEFGHIJKL"}
        assert widths["B"] >= 30 and widths["B"] == max(widths.values()), name
        assert all(8 <= w <= 61 for w in widths.values()), (name, widths)
        assert sheet["B6"].alignment.wrap_text


def test_every_sheet_prints_a4_landscape_one_page_wide(workbook):
    for sheet in workbook.worksheets:
        setup = sheet.page_setup
        # one page wide (1 is Excel's default, left out of the file), as many pages long as it needs
        assert (setup.orientation, setup.paperSize, setup.fitToWidth or 1, setup.fitToHeight) == (
            "landscape",
            9,
            1,
            0,
        ), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
    assert (
        workbook["Prevention & Early Intervention"].print_title_rows == "$5:$5"
    )  # the column headers on every printed page


def test_the_key_explains_rag_tolerance_and_the_arrows(workbook):
    key = {row[0].value: row[1].value for row in workbook["Key"].iter_rows(min_row=5) if row[0].value}
    texts = [(row[0], row[1].value) for row in workbook["Key"].iter_rows(min_row=5) if row[0].value in RAG_WORDS]
    assert len(texts) == 8  # against target, against last year
    for cell, _meaning in texts:
        assert cell.fill.fgColor.rgb == "FF" + rag_palette()[cell.value].background.lstrip("#").upper()
    assert "Against target (the RAG column)" in key
    assert any(title.startswith("Against last year") for title in key)
    for arrow in ("↑ better", "→ same", "↓ worse", "– n/a"):
        assert arrow in key, arrow
    assert key["Default"] == "10% of the comparator (the target, or last year's figure)."
    meanings = [m for _, m in texts]
    assert meanings[1] == "Target missed by no more than the tolerance (see Tolerance below)."
    assert "zero target" in meanings[6] and "same as last year is Red" in meanings[6]


def test_no_cell_holds_a_formula(data, catalogue, workbook):
    for cell in all_cells(workbook):
        assert cell.data_type != "f", cell.coordinate
        if isinstance(cell.value, str):
            assert not cell.value.startswith(FORMULA_START), (cell.coordinate, cell.value)
    with zipfile.ZipFile(io.BytesIO(xlsx.kpi_workbook(data, catalogue))) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/"):
                text = package.read(name).decode("utf-8")
                assert "<f>" not in text and "<f " not in text, name


def test_one_workstream_workbook(data, catalogue):
    book = openpyxl.load_workbook(io.BytesIO(formats.export_bytes(data, catalogue, "xlsx", "market")))
    assert book.sheetnames == ["Summary", "Managing & Developing Market", "Key"]
    summary = book["Summary"]
    assert summary["A7"].value == "Managing and Developing the Market"
    assert summary["A8"].value is None  # no total for one workstream
    market = book["Managing & Developing Market"]
    assert market.max_row == FIRST_ROW - 1 + len(catalogue.in_workstream("market"))


def test_the_same_data_gives_the_same_bytes(sample_store, catalogue):
    again = contents.export_data(sample_store[0], catalogue, AS_AT)
    first = contents.export_data(sample_store[0], catalogue, AS_AT)
    assert xlsx.kpi_workbook(first, catalogue) == xlsx.kpi_workbook(again, catalogue)


# Formula-like text in the catalogue ------------------------------------------------------------


def test_formula_like_catalogue_text_is_neutralised_in_csv(sample_store, hostile_catalogue):
    table = report_table(store.current_observations(sample_store[0]), hostile_catalogue, AS_AT)
    exported = read_csv(formats.kpi_csv(table))
    assert list(exported["name"].iloc[: len(HOSTILE)]) == ["'" + name for name in HOSTILE]
    assert exported["actual"].iloc[0] == 16.0  # numbers untouched


def test_formula_like_catalogue_text_is_neutralised_in_xlsx(sample_store, hostile_catalogue):
    data = contents.export_data(sample_store[0], hostile_catalogue, AS_AT)
    book = openpyxl.load_workbook(io.BytesIO(xlsx.kpi_workbook(data, hostile_catalogue)))
    strings = [c for c in all_cells(book) if isinstance(c.value, str)]
    for cell in all_cells(book):
        assert cell.data_type != "f", cell.coordinate
    for cell in strings:
        assert not cell.value.startswith(FORMULA_START), (cell.parent.title, cell.coordinate, cell.value)
    first = book.worksheets[1]
    assert first.title == 'HYPERLINK("http x","y")'
    assert first["A1"].value == "'" + HOSTILE[0]  # the workstream's name in the header
    names = [first[f"B{FIRST_ROW + k}"].value for k in range(len(HOSTILE))]
    # a CR is stored as Excel escapes it (_x000D_), which openpyxl leaves as it is
    assert [n.replace("_x000D_", "\r") for n in names] == ["'" + n for n in HOSTILE]
    assert book["Summary"]["A1"].value == "'" + HOSTILE[0] + ": RAG summary"
    assert [book["Summary"][f"A{7 + k}"].value for k in range(4)] == ["'" + n for n in HOSTILE[:4]]
    for title in book.sheetnames:
        assert not title.startswith(("=", "+", "-", "@", "'")) and len(title) <= 31, title
    assert first["C6"].value == 0.16 and first["C6"].data_type == "n"


# As published --------------------------------------------------------------------------------

OCT_NOV = (
    "indicator,period,value\n"
    "mofd_bed_occupancy,2019-10,20\nmofd_bed_occupancy,2020-10,16\n"
    "discharged_home_with_support,2019-11,80\ndischarged_home_with_support,2020-11,80\n"
)
# December's extract: December's figures, and a correction to October.
DECEMBER = "indicator,period,value\nmofd_bed_occupancy,2020-10,3.5\ndischarged_home_with_support,2020-12,90\n"
# A correction loaded before any later month arrived: part of November's report.
CORRECTION = "indicator,period,value\ndischarged_home_with_support,2020-11,82\n"


def load(engine, catalogue, text: str, name: str) -> int:
    return ingest.ingest(engine, text.encode(), name, catalogue, "tester").extract_id


def both_formats(engine, catalogue, as_published: bool = False) -> tuple[bytes, bytes, int]:
    data = contents.export_data(engine, catalogue, AS_AT, as_published=as_published)
    return xlsx.kpi_workbook(data, catalogue), formats.kpi_csv(data.table), data.data_version


def test_as_published_leaves_out_revisions_loaded_with_later_months(engine, catalogue):
    load(engine, catalogue, OCT_NOV, "oct-nov.csv")
    first_xlsx, first_csv, version = both_formats(engine, catalogue)
    assert version == 1
    assert load(engine, catalogue, DECEMBER, "december.csv") == 2

    now_xlsx, now_csv, now_version = both_formats(engine, catalogue)
    assert now_version == 2
    assert read_csv(now_csv).set_index("indicator").loc["mofd_bed_occupancy", "actual"] == 3.5

    published_xlsx, published_csv, published_version = both_formats(engine, catalogue, as_published=True)
    assert published_version == contents.published_extract(engine, AS_AT) == 1
    assert published_xlsx == first_xlsx
    assert published_csv == first_csv
    assert now_xlsx != first_xlsx
    assert read_csv(published_csv).set_index("indicator").loc["mofd_bed_occupancy", "actual"] == 16.0
    # December's own report is the data as it stands
    assert contents.published_extract(engine, periods.parse_period("2020-12")) == 2


def test_as_published_keeps_a_correction_loaded_before_the_next_month(engine, catalogue):
    load(engine, catalogue, OCT_NOV, "oct-nov.csv")
    load(engine, catalogue, CORRECTION, "correction.csv")
    load(engine, catalogue, DECEMBER, "december.csv")
    assert contents.published_extract(engine, AS_AT) == 2
    published = contents.export_data(engine, catalogue, AS_AT, as_published=True).table.set_index("indicator")
    assert published.loc["discharged_home_with_support", "actual"] == 82.0
    assert published.loc["mofd_bed_occupancy", "actual"] == 16.0


def test_as_published_for_a_month_whose_report_was_never_produced(engine, catalogue):
    load(engine, catalogue, OCT_NOV, "oct-nov.csv")
    with pytest.raises(contents.ExportError) as raised:
        contents.export_data(engine, catalogue, periods.parse_period("2020-10"), as_published=True)
    assert str(raised.value) == (
        "No report for Oct 2020 was produced from this store: extract 1 (oct-nov.csv), the first loaded, "
        "already held later months. Export without --as-published for the figures as they stand now."
    )


def test_an_empty_store_exports_an_empty_table(tmp_path, catalogue):
    engine = store.connect(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    try:
        data = contents.export_data(engine, catalogue, AS_AT, as_published=True)
    finally:
        engine.dispose()
    assert (data.data_version, data.loaded_at) == (0, None)
    book = openpyxl.load_workbook(io.BytesIO(xlsx.kpi_workbook(data, catalogue)))
    assert book["Summary"]["A3"].value == "Data version 0: no extract loaded"
    assert (read_csv(formats.kpi_csv(data.table))["rag_target"] == "n/a").all()


# Ids that are codes, and money -----------------------------------------------------------


@pytest.fixture(scope="module")
def coded(tmp_path_factory):
    """The coded catalogue, its values in a real SQLite file exported as at November, and
    the folder of both."""
    folder = tmp_path_factory.mktemp("coded")
    catalogue = coded_catalogue(folder)
    engine = store.connect(f"sqlite:///{folder / 'kpis.sqlite'}")
    store_values(engine, catalogue)
    yield catalogue, contents.export_data(engine, catalogue, CODED_AS_AT), folder
    engine.dispose()


def test_exports_carry_coded_ids_as_the_catalogue_spells_them(coded, tmp_path):
    catalogue, data, folder = coded
    table = read_csv(formats.kpi_csv(data.table))
    assert table["indicator"].tolist() == catalogue.indicator_ids
    assert table.set_index("indicator").loc["ASCOF 2A(1)", ["unit", "actual", "variance_last_year"]].tolist() == [
        "currency",
        -56000.0,
        -206000.0,
    ]
    # a file name is the month and a workstream id, whatever the indicator ids hold
    for fmt in formats.FORMATS:
        assert formats.file_name(CODED_AS_AT, fmt, "finance") == f"icu-kpis-2020-11-finance.{fmt}"
    for fmt in ("csv", "xlsx", "html"):
        args = ["--config", str(folder / "coded.yaml"), "--database", f"sqlite:///{folder / 'kpis.sqlite'}"]
        export = ["export", "--as-at", "2020-11", "--format", fmt, "--output", str(tmp_path)]
        assert cli.main([*export, *args]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"icu-kpis-2020-11.{fmt}" for fmt in ("csv", "html", "xlsx")]
    assert read_csv(tmp_path / "icu-kpis-2020-11.csv")["indicator"].tolist() == catalogue.indicator_ids


def test_money_and_numbers_in_the_workbook(coded):
    catalogue, data, _ = coded
    book = openpyxl.load_workbook(io.BytesIO(xlsx.kpi_workbook(data, catalogue)))
    sheet = book["Finance and outcomes"]
    rows = {r[1].value: r for r in sheet.iter_rows(min_row=FIRST_ROW)}
    budget = rows["Budget variance"]  # currency, 0 decimals: -£56k against £0, last year £150k
    assert [(budget[i].value, budget[i].number_format) for i in (2, 3, 4, 6, 7)] == [
        (-56000, '"£"#,##0,"k"'),
        (150000, '"£"#,##0,"k"'),
        (-206000, '"£"#,##0,"k"'),
        (0, '"£"#,##0'),
        (-56000, '"£"#,##0,"k"'),
    ]
    assert (budget[5].value, budget[5].number_format) == (pytest.approx(-1.37333333), "0%")
    surplus = rows["Surplus or deficit"]  # currency, 1 decimal: £640.0 now, £1,234.0k last year
    assert [(surplus[i].value, surplus[i].number_format) for i in (2, 3, 4)] == [
        (640, '"£"#,##0.0'),
        (1234000, '"£"#,##0.0,"k"'),
        (-1233360, '"£"#,##0.0,"k"'),
    ]
    net = rows["Health checks net change"]  # number: negative, plain
    assert (net[2].value, net[2].number_format) == (-1234, "#,##0")
