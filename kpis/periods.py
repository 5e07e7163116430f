"""Financial-year periods as the board reads them.

Internally a period is a *month index* (``year * 12 + month - 1``): an int that sorts,
subtracts and vectorises. At the edges it is ``YYYY-MM`` text (the store, the CLI) or a
board label (``M7 2020/21``, ``Q2 2020/21``). The financial year runs April to March and a
quarterly value sits on the quarter's last month (June, September, December, March).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

APRIL = 3  # month index offset of April within a calendar year (0-based)

_YYYY_MM = re.compile(r"^(\d{4})-(\d{1,2})$")
_FY = r"(\d{4})\s*/\s*(\d{2}|\d{4})"
_FY_QUARTER = re.compile(rf"^{_FY}\s+Q([1-4])$|^Q([1-4])\s+{_FY}$", re.IGNORECASE)
_FY_MONTH = re.compile(rf"^M(\d{{1,2}})\s+{_FY}$|^{_FY}\s+M(\d{{1,2}})$", re.IGNORECASE)

PERIOD_FORMS = "2020-10, M7 2020/21 or 2020/21 Q2"
HEADER_FORMS = "2020-04, Apr-20, Apr 2020, M1 2020/21 or 2020/21 Q1"
FIRST_YEAR = 1990  # no figure the store takes is older; an earlier year is a typing slip
_MONTH_NAME = re.compile(r"^([A-Za-z]{3,9})[\s\-]+(\d{2}|\d{4})$")
_MONTHS = {
    name: k
    for k, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}


class PeriodError(ValueError):
    """A period that cannot be read; the message says what forms are accepted."""


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def to_text(index: int) -> str:
    """``YYYY-MM`` for a month index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def from_text(text: str) -> int:
    """Month index of a stored ``YYYY-MM`` period."""
    match = _YYYY_MM.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError(f"{text!r} is not a month in the form YYYY-MM")
    return month_index(int(match.group(1)), int(match.group(2)))


def fy_start_year(index: int) -> int:
    return (index - APRIL) // 12


def fy_month(index: int) -> int:
    """1 for April ... 12 for March."""
    return (index - APRIL) % 12 + 1


def fy_label(start_year: int) -> str:
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def financial_year(index: int) -> str:
    return fy_label(fy_start_year(index))


def quarter(index: int) -> int:
    return (fy_month(index) - 1) // 3 + 1


def is_quarter_end(index: int) -> bool:
    return fy_month(index) % 3 == 0


def short_label(index: int, frequency: str = "monthly") -> str:
    """``M7`` or ``Q2``: the report's Period column."""
    return f"Q{quarter(index)}" if frequency == "quarterly" else f"M{fy_month(index)}"


def label(index: int, frequency: str = "monthly") -> str:
    """``M7 2020/21`` or ``Q2 2020/21``."""
    return f"{short_label(index, frequency)} {financial_year(index)}"


def month_name(index: int) -> str:
    """``Oct 2020``."""
    return pd.Timestamp(year=index // 12, month=index % 12 + 1, day=1).strftime("%b %Y")


def _fy_start(first: str, second: str) -> int:
    start = int(first)
    end = int(second) % 100
    if (start + 1) % 100 != end:
        raise PeriodError(
            f"{first}/{second} is not a financial year: the second year must follow the first"
            f" (for example {fy_label(start)})"
        )
    return start


def parse_period(text: str) -> int:
    """Month index of an extract's period: ``2020-10``, ``M7 2020/21`` or ``2020/21 Q2``.

    A quarter is placed on its last month, so ``2020/21 Q2`` is September 2020. A year
    before :data:`FIRST_YEAR` is refused.
    """
    index = _parse_period(text)
    if index // 12 < FIRST_YEAR:
        raise PeriodError(
            f"the year {index // 12} is before {FIRST_YEAR}, the earliest the store takes; check the year"
        )
    return index


def parse_header(text: str) -> int:
    """Month index of a wide sheet's column header: any period :func:`parse_period` reads,
    or a month as Excel shows one (``Apr-20``, ``Apr 2020``, ``April 2020``)."""
    match = _MONTH_NAME.match(_squeezed(text))
    if match and match.group(1)[:3].lower() in _MONTHS:
        year = int(match.group(2))
        return parse_period(f"{year + 2000 if year < 100 else year:04d}-{_MONTHS[match.group(1)[:3].lower()]:02d}")
    try:
        return parse_period(text)
    except PeriodError as error:
        if "earliest" in str(error):
            raise
        raise PeriodError(f"{text!r} is not a period; write {HEADER_FORMS}") from None


def _parse_period(text: str) -> int:
    value = _squeezed(text)
    if match := _YYYY_MM.match(value):
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise PeriodError(f"month {month} does not exist; use 01 to 12")
        return month_index(year, month)
    if match := _FY_QUARTER.match(value):
        groups = match.groups()
        if groups[0] is not None:
            start, q = _fy_start(groups[0], groups[1]), int(groups[2])
        else:
            q, start = int(groups[3]), _fy_start(groups[4], groups[5])
        return month_index(start, 4) + q * 3 - 1
    if match := _FY_MONTH.match(value):
        groups = match.groups()
        if groups[0] is not None:
            m, start = int(groups[0]), _fy_start(groups[1], groups[2])
        else:
            start, m = _fy_start(groups[3], groups[4]), int(groups[5])
        if not 1 <= m <= 12:
            raise PeriodError(f"M{m} does not exist; financial months run M1 (April) to M12 (March)")
        return month_index(start, 4) + m - 1
    raise PeriodError(f"{text!r} is not a period; write {PERIOD_FORMS}")


def is_quarter(text: str) -> bool:
    """Whether an extract's period is written as a quarter (``2020/21 Q2``, ``Q2 2020/21``),
    not as a month; :func:`parse_period` places both on a month."""
    return _FY_QUARTER.match(_squeezed(text)) is not None


def _squeezed(text: str) -> str:
    """A period as written, with its runs of whitespace made single spaces, as the forms expect."""
    return " ".join(str(text).split())


def current_month(today: pd.Timestamp | None = None) -> int:
    today = pd.Timestamp.today() if today is None else pd.Timestamp(today)
    return month_index(today.year, today.month)


# Vectorised forms, for frames of month indices.


def fy_start_years(indices: pd.Series | np.ndarray) -> np.ndarray:
    return (np.asarray(indices) - APRIL) // 12


def fy_months(indices: pd.Series | np.ndarray) -> np.ndarray:
    return (np.asarray(indices) - APRIL) % 12 + 1


def _per_unique(indices: pd.Series, make) -> pd.Series:
    """Apply ``make`` once per distinct month (a table holds few) and spread the result."""
    codes, uniques = pd.factorize(np.asarray(indices, dtype=np.int64))
    made = np.array([make(int(u)) for u in uniques], dtype=object)
    return pd.Series(made[codes] if len(codes) else [], index=indices.index, dtype=object)


def texts(indices: pd.Series) -> pd.Series:
    """``YYYY-MM`` for a series of month indices."""
    return _per_unique(indices, to_text)


def from_texts(values: pd.Series) -> pd.Series:
    """Month indices for a series of stored ``YYYY-MM`` periods."""
    codes, uniques = pd.factorize(values)
    lookup = np.array([from_text(u) for u in uniques], dtype=int)
    return pd.Series(lookup[codes], index=values.index)


def labels(indices: pd.Series, quarterly: pd.Series) -> pd.Series:
    """Board labels (``M7 2020/21``/``Q2 2020/21``) for month indices and a quarterly flag."""
    monthly = _per_unique(indices, label)
    quarters = _per_unique(indices, lambda m: label(m, "quarterly"))
    return monthly.where(~np.asarray(quarterly, dtype=bool), quarters)
