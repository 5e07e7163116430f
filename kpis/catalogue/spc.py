"""The catalogue's ``spc:`` block: how an indicator's SPC chart is drawn (Making Data Count's
defaults), at the top level and per indicator, and how an indicator's block is laid over
the top-level one (:func:`merge_settings`). Read by :mod:`kpis.report.spc`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from kpis import periods

_WHY_TWO = {
    "fix_after": "limits need at least two points (one moving range)",
    "shift": "a run needs at least two points",
    "trend": "a run needs at least two points",
    "min_points": "limits need at least two points",
}
_DEFAULTS = {"fix_after": "leave it out to use every point", "shift": 7, "trend": 7, "min_points": 12}


_EARLIEST = periods.month_index(1900, 1)


def _month_index(item: Any) -> int | None:
    """A month index given in code (``periods.month_index``); a bare year or any other
    number is not one."""
    if isinstance(item, int | np.integer) and not isinstance(item, bool) and item >= _EARLIEST:
        return int(item)
    return None


class SpcSettings(BaseModel):
    """How an indicator's SPC chart is drawn: the catalogue's ``spc:`` block, top level
    (the default of every indicator) and per indicator (overriding it key by key; see
    :func:`merge_settings`). The defaults are MDC's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rebase: tuple[str, ...] = Field(
        default=(),
        description="Months (`YYYY-MM`; in code also month indices) where the process changed: each "
        "starts a new segment with its own limits; moving ranges and runs never cross one.",
    )
    fix_after: int | None = Field(
        default=None,
        description="Compute each segment's mean and limits from its first N points (at least 2) and "
        "extend them; absent = from every point.",
    )
    screen_outliers: bool = Field(
        default=True,
        description="Leave moving ranges of 3.267 × the average moving range or more out of the "
        "limits (recomputed once); `false` keeps them all, as the NHS England Excel tool does.",
    )
    shift: int = Field(default=7, description="Points in a row on one side of the mean that make a shift (at least 2).")
    trend: int = Field(
        default=7, description="Points in a row, each above (or below) the one before, that make a trend (at least 2)."
    )
    min_points: int = Field(
        default=12,
        description="Points a segment needs for its limits to be final; with fewer they are trial limits (at least 2).",
    )

    @field_validator("rebase", mode="before")
    @classmethod
    def _months(cls, raw: Any) -> tuple[str, ...]:
        if raw is None:
            return ()
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list | tuple):
            raise PydanticCustomError(
                "spc_rebase", f"rebase {raw!r} is not a list of months", {"hint": 'write months as ["2020-10"]'}
            )
        months: list[int] = []
        for item in items:
            try:
                month = periods.from_text(item) if isinstance(item, str) else _month_index(item)
            except periods.PeriodError:
                month = None
            if month is None:
                raise PydanticCustomError(
                    "spc_rebase",
                    f"rebase month {item!r} is not a month in the form YYYY-MM",
                    {"hint": 'write months as text, e.g. ["2020-10"]'},
                )
            months.append(month)
        return tuple(periods.to_text(m) for m in sorted(set(months)))

    @field_validator("fix_after", "shift", "trend", "min_points")
    @classmethod
    def _at_least_two(cls, value: int | None, info: ValidationInfo) -> int | None:
        name = str(info.field_name)
        if value is not None and value < 2:
            raise PydanticCustomError(
                "spc_at_least_two",
                f"{name} {value} is below 2: {_WHY_TWO[name]}",
                {"hint": f"write 2 or more (MDC's default: {_DEFAULTS[name]})"},
            )
        return value

    @property
    def rebase_months(self) -> tuple[int, ...]:
        """The rebase months as month indices, in order."""
        return tuple(periods.from_text(m) for m in self.rebase)


def merge_settings(default: SpcSettings, block: SpcSettings | Mapping[str, Any] | None) -> SpcSettings:
    """An indicator's settings: ``default`` with the keys its own ``block`` sets replaced
    (a mapping as written in the catalogue, or settings whose explicitly set fields count).
    A bad key or value raises pydantic's ``ValidationError``, located by key."""
    if block is None:
        return default
    given = block.model_dump(include=set(block.model_fields_set)) if isinstance(block, SpcSettings) else dict(block)
    return SpcSettings.model_validate({**default.model_dump(), **given})
