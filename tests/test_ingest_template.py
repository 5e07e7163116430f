"""kpis.publish.template: the template for a month, long or wide, CSV or a workbook, reads
back through the one reader: as downloaded it is refused (every figure missing), filled
in it loads."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from kpis import ingest, periods, store
from kpis.catalogue import Frequency
from kpis.errors import ExtractError
from kpis.publish import template

OCT = periods.parse_period("2020-10")
TODAY = pd.Timestamp("2020-11-20")


def test_the_template_lists_the_indicators_due_and_loads_once_filled_in(engine, catalogue):
    content = template.template(catalogue, OCT)
    lines = content.decode().split("\r\n")
    assert lines[0] == "indicator,name,unit,figure,enter,last month,period,value,numerator,denominator,note"
    due = [i for i in catalogue.indicators if i.frequency is Frequency.MONTHLY]
    cells = list(csv.reader(lines[1:-1]))
    assert [(c[0], c[6], *c[7:]) for c in cells] == [(i.id, "2020-10", "", "", "", "") for i in due]
    assert [c[1] for c in cells] == [i.name for i in due]  # an officer needs no catalogue
    assert template.template_name(OCT) == "extract-template-2020-10.csv"
    # As downloaded, every value is missing: refused, located.
    with pytest.raises(ExtractError) as caught:
        ingest.check_extract(content, "template.csv", catalogue, today=pd.Timestamp("2020-11-20"))
    assert set(caught.value.problems["row"]) == set(range(2, len(due) + 2))
    # Filled in (a count for each, numerator and denominator for ratios), it loads.
    filled = [lines[0]]
    for line, indicator in zip(lines[1:-1], due, strict=True):
        ratio = indicator.aggregation.uses_ratio
        filled.append(line.removesuffix(",,,,") + (",,40,80," if ratio else ",10,,,"))
    result = ingest.ingest(
        engine, ("\r\n".join(filled) + "\r\n").encode(), "october.csv", catalogue, "officer", pd.Timestamp("2020-11-20")
    )
    assert result.new == len(due)


def test_the_wide_template_has_the_months_of_the_year_so_far_and_a_ratios_counts_on_two_rows(catalogue):
    table = template.rows(catalogue, OCT, template.Layout.WIDE)
    assert table[0] == [
        "indicator",
        "name",
        "unit",
        "figure",
        "enter",
        "last month",
        "measure",
        "Apr-20",
        "May-20",
        "Jun-20",
        "Jul-20",
        "Aug-20",
        "Sep-20",
        "Oct-20",
    ]
    due = [i for i in catalogue.indicators if i.frequency is Frequency.MONTHLY]
    expected = []
    for i in due:
        expected += [
            [i.id, i.name, m] for m in (("numerator", "denominator") if i.aggregation.uses_ratio else ("value",))
        ]
    assert [[row[0], row[1], row[6]] for row in table[1:]] == expected
    assert template.template_name(OCT, "wide", "xlsx") == "extract-template-2020-10-wide.xlsx"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_filled_in_wide_template_loads_every_month(engine, catalogue, fmt):
    content = template.template(catalogue, OCT, "wide", fmt)
    if fmt == "csv":
        table = [line.split(",") for line in content.decode().split("\r\n")[:-1]]
    else:
        book = openpyxl.load_workbook(io.BytesIO(content))
        assert book.sheetnames == ["Template", "Notes"]
        table = [[c if c is not None else "" for c in row] for row in book["Template"].iter_rows(values_only=True)]
    assert all(len(row) == len(table[0]) for row in table)
    # Fill every month: numerator 5 of denominator 10 for ratios, 7 for the rest; the reference
    # columns stay as written (ignored on reading).
    first = table[0].index("measure") + 1
    filled = [table[0]]
    for row in table[1:]:
        figure = {"numerator": "5", "denominator": "10"}.get(row[first - 1], "7")
        filled.append([*row[:first], *[figure] * (len(row) - first)])
    out = io.StringIO()
    csv.writer(out).writerows(filled)
    result = ingest.ingest(engine, out.getvalue().encode(), f"filled.{fmt}.csv", catalogue, "officer", today=TODAY)
    months = len(table[0]) - first
    indicators = len({row[0] for row in table[1:]})
    assert (result.new, result.rows) == (indicators * months, indicators * months)
    current = store.current_observations(engine)
    assert set(periods.texts(current["period"])) == {f"2020-{m:02d}" for m in range(4, 11)}


def test_each_row_says_what_to_enter_and_last_months_figure(catalogue, engine):
    ingest.ingest(
        engine,
        b"indicator,period,value,numerator,denominator\nnel_admissions,2020-09,1611,,\n"
        b"alcohol_treatment_success,2020-09,,40,80\n",
        "september.csv",
        catalogue,
        "officer",
        today=TODAY,
    )
    table = template.rows(catalogue, OCT, template.Layout.LONG, store.current_observations(engine))
    by_id = {row[0]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    assert by_id["nel_admissions"] | {"name": ""} == {
        "indicator": "nel_admissions", "name": "", "unit": "count",
        "figure": "the month's own (the report adds up the year to date)", "enter": "value",
        "last month": "1,611", "period": "2020-10", "value": "", "numerator": "", "denominator": "", "note": "",
    }  # fmt: skip
    alcohol = by_id["alcohol_treatment_success"]
    assert (alcohol["figure"], alcohol["enter"], alcohol["last month"]) == (
        "the month's own (the report adds up 12 months)",
        "numerator and denominator",
        "40 / 80",
    )
    assert by_id["mofd_bed_occupancy"]["figure"] == "as reported for the month"
