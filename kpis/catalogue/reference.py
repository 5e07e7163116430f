"""The catalogue reference of the README, generated from the models' declarations
(``python -m kpis reference``)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from kpis.catalogue.model import Area, Breakdown, Catalogue, Group, HomeArea, Indicator, Workstream
from kpis.catalogue.spc import SpcSettings


def reference_markdown() -> str:
    """The catalogue reference table of the README, generated from the models."""
    lines = []
    for title, model in (
        ("Top level", Catalogue),
        ("Workstream (`workstreams: [...]`)", Workstream),
        ("Indicator (`indicators: [...]`)", Indicator),
        ("Home area (`home_area: {...}`)", HomeArea),
        ("Area (`areas: [...]`)", Area),
        ("Breakdown (`breakdowns: [...]`)", Breakdown),
        ("Group (`breakdowns: [{groups: [...]}]`)", Group),
        ("SPC (`spc:` at the top level, and per indicator)", SpcSettings),
    ):
        lines += [f"**{title}**", "", "| key | required | default | meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            required = field.is_required()
            default = "" if required else _default_text(field)
            lines.append(f"| `{name}` | {'yes' if required else 'no'} | {default} | {field.description} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _default_text(field: Any) -> str:
    if field.default_factory is not None:
        return "`{}`"
    value = field.default
    if value == ():
        return "`[]`"
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        return "MDC's"
    if isinstance(value, StrEnum):
        return f"`{value.value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"
