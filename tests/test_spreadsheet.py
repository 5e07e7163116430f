"""kpis.spreadsheet: text Excel would run as a formula is neutralised, numbers stay
numbers, and file names carry no path or odd characters."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from kpis.spreadsheet import neutralise, neutralised, safe_csv, safe_file_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+2", "'=1+2"),
        ('=HYPERLINK("http://x.example","click")', '\'=HYPERLINK("http://x.example","click")'),
        ("+44 20", "'+44 20"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("\nLF", "'\nLF"),
        ("7,039", "7,039"),
        ("a = b", "a = b"),
        ("", ""),
    ],
)
def test_text_that_excel_would_run_gets_a_leading_apostrophe(text, expected):
    assert neutralise(text) == expected


@pytest.mark.parametrize("value", [-5, -2.5, 0, 7039, None])
def test_numbers_and_missing_values_are_left_alone(value):
    assert neutralise(value) == value


def test_a_frame_keeps_its_numbers_and_neutralises_its_text():
    frame = pd.DataFrame({"row": [2, 3], "value": ["=1+2", "7039"], "delta": [-1.5, 2.0], "=bad": ["x", "-y"]})
    out = neutralised(frame)
    assert list(out.columns) == ["row", "value", "delta", "'=bad"]
    assert out["row"].tolist() == [2, 3] and out["delta"].tolist() == [-1.5, 2.0]
    assert out["value"].tolist() == ["'=1+2", "7039"]
    assert out["'=bad"].tolist() == ["x", "'-y"]
    assert frame["value"].tolist() == ["=1+2", "7039"]  # the input is not changed


def test_safe_csv_is_utf8_with_a_bom_for_excel():
    content = safe_csv(pd.DataFrame({"note": ["£5 – =cmd"], "n": [-3]}))
    assert content.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")
    assert back.to_dict("records") == [{"note": "£5 – =cmd", "n": -3}]


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Nov 2020 – ICU extract.csv", "Nov-2020-ICU-extract.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\October.csv", "October.csv"),
        (".hidden.csv", "hidden.csv"),
        ("=cmd|' /C calc'!A0.csv", "C-calc-A0.csv"),
        ("", "file"),
        ("///", "file"),
    ],
)
def test_file_names_are_made_safe(name, safe):
    assert safe_file_name(name) == safe
