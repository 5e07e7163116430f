"""Files that officers and analysts open in Excel: text that Excel would run as a formula
is neutralised, numbers stay numbers, and file names never come from user input."""

from __future__ import annotations

import re

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def neutralise(text: object) -> object:
    """A text cell Excel could read as a formula (``=1+2``, ``@SUM(A1)``, ``-2+3``, or one
    starting with a tab or line break) gets a leading apostrophe, which Excel shows as
    text; anything else, numbers included, is returned as it is."""
    if isinstance(text, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell neutralised (column names too); numeric columns untouched."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def safe_csv(frame: pd.DataFrame) -> bytes:
    """The frame as CSV for Excel: UTF-8 with a BOM (so Excel reads £ and – correctly),
    text cells neutralised."""
    return neutralised(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def safe_file_name(text: str, fallback: str = "file") -> str:
    """A file name made only of letters, digits, ``.``, ``_`` and ``-`` (no path, no
    leading dot), for names that carry something a user typed."""
    name = _SAFE_NAME.sub("-", text.replace("\\", "/").rsplit("/", 1)[-1]).strip(".-")
    return name[:120] or fallback
