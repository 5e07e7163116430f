"""Numbers as the report prints them: half-up rounding, thousands separators, units."""

from __future__ import annotations

import math

UNIT_SUFFIX = {"percent": "%", "days": " days", "hours": " hrs"}
CURRENCY = "currency"
THOUSAND = 1000.0


def half_up(value: float, decimals: int = 0) -> float:
    """Round half away from zero, as Excel does (Python's round() rounds half to even)."""
    if value is None or not math.isfinite(value):
        return value
    factor = 10.0**decimals
    return math.copysign(math.floor(abs(value) * factor + 0.5 + 1e-9) / factor, value)


def number(value: float | None, decimals: int = 0) -> str:
    """``10,318``, ``5.9``; ``-`` for no value."""
    if value is None or not math.isfinite(value):
        return "-"
    rounded = half_up(float(value), decimals) or 0.0  # no "-0"
    return f"{rounded:,.{decimals}f}"


def with_unit(value: float | None, unit: str, decimals: int = 0) -> str:
    """``16%``, ``10,318``, ``5 days``, ``£1,234k``."""
    if unit == CURRENCY:
        return currency(value, decimals)
    text = number(value, decimals)
    return text if text == "-" else text + UNIT_SUFFIX.get(unit, "")


def in_thousands(value: float, decimals: int = 0) -> bool:
    """Whether money is shown in thousands: when it comes to £1,000 or more either way
    once rounded to ``decimals`` places in pounds (so £999.60 is ``£1k``, not ``£1,000``)."""
    return abs(half_up(float(value), decimals)) >= THOUSAND


def currency(value: float | None, decimals: int = 0) -> str:
    """Pounds as a board report shows them: ``£1,234k`` and ``-£56k`` from £1,000 either
    way, whole pounds below (``£640``, ``-£85``); ``decimals`` places of the number shown
    (``£56.4k``, ``£12.50``), rounded half away from zero; ``-`` for no value."""
    if value is None or not math.isfinite(value):
        return "-"
    if in_thousands(value, decimals):
        text, suffix = number(value / THOUSAND, decimals), "k"
    else:
        text, suffix = number(value, decimals), ""
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{sign}£{digits}{suffix}"


def figure(value: float | None, unit: str, decimals: int = 0) -> str:
    """A figure in a table whose columns leave the unit to the indicator (the board's KPI
    table): the plain number, except money, always in pounds (``£1,234k``)."""
    return currency(value, decimals) if unit == CURRENCY else number(value, decimals)


def signed(value: float | None, decimals: int = 0) -> str:
    """A variance: ``-2,949``, ``13``."""
    return number(value, decimals)


def percent(value: float | None) -> str:
    """A variance as a % of its comparator: ``-22%``; ``-`` where undefined."""
    text = number(value, 0)
    return text if text == "-" else text + "%"


def exact(value: float | None) -> str:
    """A value as given, without rounding to the report's precision: ``7,039``, ``5.25``
    (at most six decimals); ``-`` for no value. For officers checking what a file holds."""
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:,.6f}".rstrip("0").rstrip(".")
