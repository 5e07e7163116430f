"""Reading and validating ``config/kpis.yaml``: every problem collected, each with its
location, value and a hint, then one :class:`~kpis.errors.CatalogueError`."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from kpis import periods
from kpis.catalogue.model import (
    Area,
    Breakdown,
    Catalogue,
    Direction,
    Frequency,
    Group,
    HomeArea,
    Indicator,
    Workstream,
    normalise_code,
)
from kpis.catalogue.spc import SpcSettings
from kpis.errors import MISSING, CatalogueError, CatalogueProblem
from kpis.yamlfile import load_yaml

# The project's root is three levels up: kpis/catalogue/load.py.
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "kpis.yaml"

# Loading and validation: collect every problem, then fail once.

_HINTS = {
    "missing": "add this key",
    "bool_parsing": "write true or false",
    "bool_type": "write true or false",
    "float_parsing": "write a plain number such as 0.1",
    "float_type": "write a plain number such as 0.1",
    "int_parsing": "write a whole number such as 1",
    "int_type": "write a whole number such as 1",
    "string_type": "write text (quote it if it looks like a number or a date)",
    "string_pattern_mismatch": "see the catalogue reference in the README for the form of this key",
    "string_too_long": "shorten it",
    "string_too_short": "this cannot be empty",
    "greater_than_equal": "use a value within the allowed range",
    "less_than_equal": "use a value within the allowed range",
    "greater_than": "use a value within the allowed range",
    "dict_type": "write a mapping of key: value lines",
    "tuple_type": "write a list, one '- ' item per line",
    "model_type": "write a mapping of key: value lines",
}


def _location(prefix: str, loc: tuple) -> str:
    text = prefix
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel]:
    """The model a location is in: the catalogue's nested areas and breakdowns have their own."""
    nested: dict[str, type[BaseModel]] = {
        "home_area": HomeArea,
        "areas": Area,
        "breakdowns": Breakdown,
        "groups": Group,
    }
    for part in loc[:-1]:
        if isinstance(part, str) and part in nested and part in model.model_fields:
            model = nested[part]
    return model


def _hint(error: ErrorDetails, model: type[BaseModel]) -> str:
    model = _model_at(model, tuple(error["loc"]))
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if "hint" in ctx:
        return ctx["hint"]
    if "spc" in error["loc"][:-1]:  # a key inside an `spc:` block: hints from its own model
        model = SpcSettings
    field = next((p for p in reversed(error["loc"]) if isinstance(p, str)), None)
    extra = model.model_fields[field].json_schema_extra if field in model.model_fields else None
    if kind in ("string_pattern_mismatch", "string_too_long") and isinstance(extra, dict) and "hint" in extra:
        return str(extra["hint"])
    if kind == "enum":
        return f"use one of {ctx.get('expected', '')}"
    if kind == "extra_forbidden":
        known = list(model.model_fields)
        close = difflib.get_close_matches(str(field), known, n=1)
        suggestion = f"did you mean {close[0]!r}? " if close else ""
        return f"{suggestion}remove it or correct its spelling; known keys: {', '.join(known)}"
    if kind == "missing" and field in model.model_fields:
        return f"add '{field}': {model.model_fields[field].description}"
    return _HINTS.get(kind, "see the catalogue reference in the README")


def _message(error: ErrorDetails) -> str:
    message = error["msg"]
    return message.removeprefix("Value error, ")


def _problems(error: ValidationError, prefix: str, model: type[BaseModel]) -> list[CatalogueProblem]:
    return [
        CatalogueProblem(
            location=_location(prefix, tuple(e["loc"])),
            value=MISSING if e["type"] == "missing" else e.get("input"),
            problem=_message(e),
            hint=_hint(e, model),
            code=f"catalogue.{e['type']}",
        )
        for e in error.errors()
    ]


def _cross_checks(
    raw: dict, workstreams: list[tuple[int, Workstream]], items: list[tuple[int, Indicator]]
) -> list[CatalogueProblem]:
    problems = []
    owners = raw.get("owners") if isinstance(raw.get("owners"), dict) else {}
    workstream_ids = {w.id for _, w in workstreams}
    first_workstream: dict[str, int] = {}
    for j, workstream in workstreams:
        problems += _repeated(
            first_workstream, workstream.id, j, "workstreams[{}].id", "give every workstream its own id"
        )
    problems += _code_checks(items)
    problems += _area_checks(raw, items)
    for i, ind in items:
        where = f"indicators[{i}]"
        if workstream_ids and ind.workstream not in workstream_ids:
            problems.append(
                CatalogueProblem(
                    f"{where}.workstream",
                    ind.workstream,
                    "is not a workstream id",
                    f"use one of {', '.join(sorted(workstream_ids))}, or add it under 'workstreams'",
                )
            )
        if ind.owner is not None and owners and ind.owner not in owners:
            problems.append(
                CatalogueProblem(
                    f"{where}.owner",
                    ind.owner,
                    "is not in 'owners'",
                    f"use one of {', '.join(owners)}, or add the initials under 'owners'",
                )
            )
        if ind.target is not None and ind.direction is Direction.NONE:
            problems.append(
                CatalogueProblem(
                    f"{where}.target",
                    ind.target.describe(),
                    "a target needs a direction",
                    "set 'direction' to higher or lower, or remove the target",
                )
            )
        if ind.target is not None and ind.frequency is Frequency.QUARTERLY:
            for month, _ in ind.target.by_month:
                if not periods.is_quarter_end(month):
                    problems.append(
                        CatalogueProblem(
                            f"{where}.target",
                            periods.to_text(month),
                            "is not a quarter's last month, and this indicator is quarterly",
                            "key quarterly trajectories by June, September, December or March",
                        )
                    )
    return problems


def _valid_list(raw: dict, key: str, model: type[BaseModel]) -> list[tuple[int, Any]]:
    """The items of a top-level list that validate on their own (their problems are
    reported by the top-level validation)."""
    items = raw.get(key)
    if not isinstance(items, list):
        return []
    valid = []
    for i, item in enumerate(items):
        try:
            valid.append((i, model.model_validate(item)))
        except ValidationError:
            continue
    return valid


def _repeated(first: dict[str, int], value: str, position: int, where: str, hint: str) -> list[CatalogueProblem]:
    """The problem of an id met before (``first``: each id's first position, kept up to
    date here), located by ``where`` with the position in its ``{}``; none for an id met first."""
    if value in first:
        return [CatalogueProblem(where.format(position), value, f"duplicates {where.format(first[value])}", hint)]
    first[value] = position
    return []


def _area_checks(raw: dict, items: list[tuple[int, Indicator]]) -> list[CatalogueProblem]:
    """Areas and breakdowns: unique, and every indicator's breakdowns and benchmark declared."""
    problems = []
    home = raw.get("home_area")
    home_code = home.get("code") if isinstance(home, dict) else None
    areas = _valid_list(raw, "areas", Area)
    seen: dict[str, str] = {} if home_code is None else {str(home_code): "home_area.code"}
    for j, area in areas:
        if area.code in seen:
            problems.append(
                CatalogueProblem(
                    f"areas[{j}].code", area.code, f"duplicates {seen[area.code]}", "declare each area once"
                )
            )
        seen.setdefault(area.code, f"areas[{j}].code")
    breakdowns = _valid_list(raw, "breakdowns", Breakdown)
    declared: dict[str, int] = {}
    for j, breakdown in breakdowns:
        problems += _repeated(declared, breakdown.id, j, "breakdowns[{}].id", "give every breakdown its own id")
        first_group: dict[str, int] = {}
        for k, group in enumerate(breakdown.groups):
            problems += _repeated(
                first_group,
                group.id,
                k,
                f"breakdowns[{j}].groups[{{}}].id",
                "give every group of a breakdown its own id",
            )
        if breakdown.ordered and len(breakdown.groups) < 2:
            problems.append(
                CatalogueProblem(
                    f"breakdowns[{j}].groups",
                    [g.id for g in breakdown.groups],
                    "an ordered breakdown needs at least two groups",
                    "list its groups in order, most deprived first",
                )
            )
    area_codes = [c for c in seen if c != home_code]
    for i, ind in items:
        for k, breakdown_id in enumerate(ind.breakdowns):
            if breakdown_id not in declared:
                problems.append(
                    CatalogueProblem(
                        f"indicators[{i}].breakdowns[{k}]",
                        breakdown_id,
                        "is not a breakdown id",
                        f"use one of {', '.join(declared) or '(none declared)'}, or add it under 'breakdowns'",
                    )
                )
        if ind.benchmark is not None and ind.benchmark not in area_codes:
            problems.append(
                CatalogueProblem(
                    f"indicators[{i}].benchmark",
                    ind.benchmark,
                    "is not an area code in 'areas'",
                    f"use one of {', '.join(area_codes) or '(none declared)'}, or add it under 'areas'",
                )
            )
    return problems


def _code_checks(items: list[tuple[int, Indicator]]) -> list[CatalogueProblem]:
    """Every id and alias names one indicator, ignoring case: ids first (so a clash of two
    ids is reported on the second id), then the aliases in order."""
    problems = []
    first: dict[str, tuple[str, int, str]] = {}  # normalised code → (location, indicator, spelling)
    for i, ind in items:
        where = f"indicators[{i}].id"
        if normalise_code(ind.id) in first:
            other, _, spelled = first[normalise_code(ind.id)]
            problems.append(
                CatalogueProblem(
                    where,
                    ind.id,
                    f"duplicates {other} {spelled!r} (ids are compared ignoring case)",
                    "give every indicator its own id",
                )
            )
        first.setdefault(normalise_code(ind.id), (where, i, ind.id))
    for i, ind in items:
        for k, alias in enumerate(ind.aliases):
            where = f"indicators[{i}].aliases[{k}]"
            code = normalise_code(alias)
            if code not in first:
                first[code] = (where, i, alias)
                continue
            other, owner, spelled = first[code]
            if other == f"indicators[{i}].id":
                problem, hint = "is this indicator's own id", "remove it: the id is always accepted"
            elif owner == i:
                problem, hint = f"repeats {other} {spelled!r}", "remove the repeat"
            else:
                problem = f"is also {other} {spelled!r} (ids and aliases are compared ignoring case)"
                hint = "an alias must name one indicator only: remove it from one of them"
            problems.append(CatalogueProblem(where, alias, problem, hint))
    return problems


def _validate_items(raw: dict, key: str, model: type[BaseModel], hint: str) -> tuple[list, list[CatalogueProblem]]:
    """Validate each item of a list separately, so one bad item hides no other problem."""
    if key not in raw:
        return [], [CatalogueProblem(key, MISSING, "Field required", f"add '{key}:' with {hint}")]
    items = raw[key]
    if not isinstance(items, list):
        return [], [CatalogueProblem(key, items, "must be a list", f"write {hint}")]
    valid, problems = [], []
    for i, item in enumerate(items):
        try:
            valid.append((i, model.model_validate(item)))
        except ValidationError as error:
            problems += _problems(error, f"{key}[{i}]", model)
    return valid, problems


def parse_catalogue(raw: Any, source: str = "catalogue") -> Catalogue:
    """Validate a parsed YAML document; raise :class:`CatalogueError` with every problem."""
    if not isinstance(raw, dict):
        raise CatalogueError(
            [
                CatalogueProblem(
                    "(top level)",
                    raw,
                    "the catalogue must be a mapping",
                    "start the file with keys such as 'tolerance:', 'workstreams:' and 'indicators:'",
                )
            ],
            source,
        )
    problems: list[CatalogueProblem] = []
    try:
        Catalogue.model_validate({**raw, "workstreams": (), "indicators": ()})
    except ValidationError as error:
        problems += _problems(error, "", Catalogue)
    workstreams, workstream_problems = _validate_items(
        raw, "workstreams", Workstream, "one '- id: ...' item per workstream"
    )
    indicators, indicator_problems = _validate_items(raw, "indicators", Indicator, "one '- id: ...' item per indicator")
    problems += workstream_problems + indicator_problems + _cross_checks(raw, workstreams, indicators)
    if problems:
        raise CatalogueError(problems, source)
    # The items are valid models already: the catalogue takes them as they are (pydantic does
    # not validate a model instance again), so 8,000 indicators are validated once, not twice.
    return Catalogue.model_validate(
        {**raw, "workstreams": [w for _, w in workstreams], "indicators": [i for _, i in indicators]}
    )


def load_catalogue(path: str | Path = DEFAULT_PATH) -> Catalogue:
    """Read and validate a catalogue file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogueError(
            [CatalogueProblem(str(path), MISSING, f"cannot be read ({error})", "check the path given to --config")],
            str(path),
        ) from None
    raw = load_yaml(text, str(path))
    return parse_catalogue(raw, str(path))
