"""Financial-year periods: parsing the forms officers write, and the board's labels."""

from __future__ import annotations

import pandas as pd
import pytest

from kpis import periods


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-10", "2020-10"),
        ("2020-1", "2020-01"),
        ("M7 2020/21", "2020-10"),
        ("m1 2020/21", "2020-04"),
        ("M12 2020/21", "2021-03"),
        ("2020/21 M7", "2020-10"),
        ("2020/21 Q2", "2020-09"),
        ("Q2 2020/21", "2020-09"),
        ("2020/21 Q4", "2021-03"),
        ("2020/2021 Q1", "2020-06"),
        ("  M7   2020/21 ", "2020-10"),
    ],
)
def test_parse_period(text, expected):
    assert periods.to_text(periods.parse_period(text)) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2020-13", "month 13 does not exist"),
        ("M13 2020/21", "M13 does not exist"),
        ("2020/22 Q2", "is not a financial year"),
        ("Q5 2020/21", "is not a period"),
        ("Oct-20", "is not a period"),
        ("", "is not a period"),
    ],
)
def test_parse_period_rejects_with_the_forms_accepted(text, message):
    with pytest.raises(periods.PeriodError, match=message):
        periods.parse_period(text)


@pytest.mark.parametrize(
    ("month", "frequency", "label", "fy", "fm"),
    [
        ("2020-04", "monthly", "M1 2020/21", "2020/21", 1),
        ("2020-10", "monthly", "M7 2020/21", "2020/21", 7),
        ("2021-03", "monthly", "M12 2020/21", "2020/21", 12),
        ("2020-09", "quarterly", "Q2 2020/21", "2020/21", 6),
        ("2021-03", "quarterly", "Q4 2020/21", "2020/21", 12),
        ("2000-01", "monthly", "M10 1999/00", "1999/00", 10),
    ],
)
def test_labels(month, frequency, label, fy, fm):
    index = periods.from_text(month)
    assert periods.label(index, frequency) == label
    assert periods.financial_year(index) == fy
    assert periods.fy_month(index) == fm


def test_vectorised_forms_agree_with_the_scalar_ones():
    months = pd.Series([periods.from_text(m) for m in ("2020-04", "2020-09", "2021-03")])
    assert periods.texts(months).tolist() == ["2020-04", "2020-09", "2021-03"]
    assert periods.from_texts(periods.texts(months)).tolist() == months.tolist()
    assert periods.labels(months, pd.Series([False, True, True])).tolist() == ["M1 2020/21", "Q2 2020/21", "Q4 2020/21"]
    assert periods.is_quarter_end(months[1]) and not periods.is_quarter_end(months[0])
