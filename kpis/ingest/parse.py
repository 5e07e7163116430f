"""Step 2a of a load: each cell of the long frame read once, into one column per fact a
rule needs (per distinct cell: an extract repeats its indicators, periods and many
numbers). :mod:`kpis.ingest.rules` then judges the parsed frame.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from kpis import periods
from kpis.catalogue import Catalogue, CiMethod, Frequency, Unit, derived

MAX_NOTE = 500
MAX_MAGNITUDE = 1e15  # beyond any figure a board reports; a sum of such figures stays finite
ROW_COLUMNS = ["row", "indicator", "period", "value", "numerator", "denominator", "note"]
KEY_COLUMNS = ["area", "breakdown", "group"]  # '' : the home area, the whole population
INTERVAL_FIELDS = ["lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998"]
BREAKDOWN_ROW_COLUMNS = [*KEY_COLUMNS, *INTERVAL_FIELDS, "population"]
ROW_COLUMNS += BREAKDOWN_ROW_COLUMNS
NUMBER_FIELDS = ("value", "numerator", "denominator", *INTERVAL_FIELDS, "population")

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?%?$")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?$")
_NOT_AVAILABLE = {
    "n/a",
    "na",
    "-",
    "--",
    "tbc",
    "null",
    "none",
    "#n/a",
    "#div/0!",
    "#value!",
    "#ref!",
    "#name?",
    "#num!",
    "#null!",
}


# Parsing: one column per fact a rule needs ---------------------------------------------


def _indicator_facts(catalogue: Catalogue) -> pd.DataFrame:
    """What validation looks up per indicator, by canonical id, made once per catalogue."""
    return pd.DataFrame(
        {
            "percent": [i.unit is Unit.PERCENT for i in catalogue.indicators],
            "ratio": [i.aggregation.uses_ratio for i in catalogue.indicators],
            "scale": [i.ratio_scale for i in catalogue.indicators],
            "quarterly": [i.frequency is Frequency.QUARTERLY for i in catalogue.indicators],
            "negative_ok": [i.unit.allows_negative for i in catalogue.indicators],
            "ci_given": [i.interval_method is CiMethod.GIVEN for i in catalogue.indicators],
            "breakdowns": [", ".join(i.breakdowns) for i in catalogue.indicators],
        },
        index=pd.Index(catalogue.indicator_ids, dtype=object),
    )


def _distinct(cells: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Each row's code and the distinct cells (as Python text): checks run once per
    distinct cell, then are spread to the rows by their codes."""
    codes, uniques = pd.factorize(cells)
    return codes, pd.Series(np.asarray(uniques, dtype=object), dtype=object)


def _spread(made: pd.DataFrame, codes: np.ndarray, prefix: str = "") -> dict[str, object]:
    """Columns made per distinct cell, laid out over the rows: numbers and flags as
    arrays, text as categoricals (no Python object per row)."""
    out: dict[str, object] = {}
    for name in made.columns:
        column = made[name]
        if column.dtype == object or isinstance(column.dtype, pd.StringDtype):
            distinct = pd.Categorical(column.astype(object))
            out[prefix + name] = pd.Categorical.from_codes(distinct.codes[codes], categories=distinct.categories)
        else:
            out[prefix + name] = column.to_numpy()[codes]
    return out


def _parse_periods(cells: pd.Series) -> pd.DataFrame:
    months: list[float] = []  # a month index, or NaN
    errors: list[str] = []
    quarters: list[bool] = []
    for text in cells:
        try:
            months.append(periods.parse_period(text))
            errors.append("")
        except periods.PeriodError as error:
            months.append(np.nan)
            errors.append(str(error))
        quarters.append(periods.is_quarter(text))
    return pd.DataFrame({"month": months, "period_error": errors, "quarter_written": quarters}, index=cells.index)


def _number_problem(text: str, allow_percent: bool) -> tuple[str, str, str]:
    """The code, what is wrong with a cell that is not a number, and how to fix it."""
    lowered = text.lower()
    if text.endswith("%") and not allow_percent and _PLAIN.match(text):
        return "percent_sign", "has a % sign but the indicator is not a percentage", "write the plain number"
    if lowered.lstrip("+-") in {"nan", "inf", "infinity"} or _PLAIN.match(text):
        return "not_finite", "is not a finite number", "write the figure, or leave the row out if there is none"
    if lowered in _NOT_AVAILABLE:
        return "not_available", "is not a number", "leave the row out until the figure is known"
    if text.startswith(("=", "@", "+", "-")):
        return (
            "formula",
            "looks like a spreadsheet formula",
            "paste the values only (Paste Special > Values), not formulas",
        )
    if any(c in text for c in "£$€"):
        return "currency_sign", "has a currency sign", "write the plain number without £, $ or €"
    return (
        "format",
        "is not a number",
        "write a plain number such as 7039 or 52.5 (thousands commas and a trailing % are accepted)",
    )


def _parse_number_texts(texts: pd.Series, allow_percent: pd.Series) -> pd.DataFrame:
    """Numbers from distinct cells such as ``7039``, ``"7,039"``, ``5.2%``; blank → NaN;
    for a cell that is not a finite number, its code, problem and hint."""
    filled = texts != ""
    numbers = pd.to_numeric(texts.where(filled), errors="coerce")  # plain numbers at C speed
    hard = filled & ~np.isfinite(numbers)  # NaN is not finite either
    if hard.any():  # thousands commas, a percent sign, or not a number at all
        text = texts[hard]
        cleaned = text.where(~text.str.match(_THOUSANDS.pattern), text.str.replace(",", "", regex=False))
        percent = cleaned.str.endswith("%") & allow_percent[hard]
        cleaned = cleaned.where(~percent, cleaned.str.slice(0, -1))
        plain = cleaned.str.match(_PLAIN.pattern) & ~cleaned.str.endswith("%")
        numbers.loc[hard] = pd.to_numeric(cleaned.where(plain), errors="coerce")
    bad = filled & ~np.isfinite(numbers)
    made = pd.DataFrame(
        {"number": numbers.where(~bad), "bad": bad, "code": "", "problem": "", "hint": ""}, index=texts.index
    )
    if bad.any():  # described one by one: only the cells that are not numbers
        described = [_number_problem(t, bool(a)) for t, a in zip(texts[bad], allow_percent[bad], strict=True)]
        made.loc[bad, ["code", "problem", "hint"]] = described
    return made


def _plain_numbers(cells: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """The numbers and the blanks of a column whose every cell is a plain finite number or
    blank, read at C speed by Arrow's cast of text to float (it takes a subset of what
    :func:`_parse_number_texts` takes, giving the same values); ``None`` when some cell
    needs that careful reading (thousands commas, a % sign, or not a number at all)."""
    try:
        text = pa.array(cells.array)
        blank = pc.equal(text, "")
        numbers = pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), text), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    if not pc.all(pc.or_(blank, pc.fill_null(pc.is_finite(numbers), False))).as_py():
        return None  # "inf" or "nan": not a finite number, told by the careful reading
    return numbers.to_numpy(zero_copy_only=False), blank.to_numpy(zero_copy_only=False)


def _parse_numbers(cells: pd.Series, allow_percent: np.ndarray, prefix: str) -> dict[str, object]:
    """:func:`_parse_number_texts` of every row, worked out once per distinct (cell,
    percent allowed) pair; and which cells are blank. A column of plain numbers (the
    usual file) is read whole by :func:`_plain_numbers` instead."""
    plain = _plain_numbers(cells)
    if plain is not None:
        numbers, blank = plain
        nothing = pd.Categorical.from_codes(np.zeros(len(cells), dtype=np.int8), categories=pd.Index([""]))
        described = {prefix + name: nothing for name in ("code", "problem", "hint")}
        return {prefix + "number": numbers, prefix + "bad": np.zeros(len(cells), dtype=bool), **described,
                prefix + "blank": blank}  # fmt: skip
    text_codes, texts = _distinct(cells)
    pair_codes, pairs = pd.factorize(text_codes.astype(np.int64) * 2 + allow_percent)
    made = _parse_number_texts(pd.Series(texts.to_numpy()[pairs // 2], dtype=object), pd.Series(pairs % 2 == 1))
    out = _spread(made, pair_codes, prefix)
    out[prefix + "blank"] = (texts == "").to_numpy()[text_codes]
    return out


def parse(cells: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The cells and, beside them, what each one means: ``id`` (the canonical indicator
    id, NaN if unknown), the indicator's facts, ``month``, and ``<field>_number``,
    ``_bad``, ``_blank`` for the three number columns, and the computed ``figure`` (the
    value, or numerator / denominator × scale)."""
    facts = derived(catalogue, "ingest.indicator_facts", _indicator_facts)
    columns: dict[str, object] = {name: cells[name].array for name in cells.columns}
    codes, indicators = _distinct(cells["indicator"])
    ids = indicators.str.strip().str.casefold().map(catalogue.code_map)
    id_codes = pd.Index(catalogue.indicator_ids).get_indexer(pd.Index(ids.where(ids.notna(), None)))
    columns["id"] = pd.Categorical.from_codes(id_codes[codes], categories=pd.Index(catalogue.indicator_ids))
    looked_up = facts.reindex(ids.where(ids.notna(), None)).reset_index(drop=True)
    for name in ("ratio", "quarterly", "negative_ok", "percent", "ci_given"):
        looked_up[name] = looked_up[name].fillna(False).astype(bool)
    columns.update(_spread(looked_up, codes))
    columns["known"] = id_codes[codes] >= 0
    period_codes, period_texts = _distinct(cells["period"])
    columns.update(_spread(_parse_periods(period_texts), period_codes))
    for field in ("value", "numerator", "denominator", *INTERVAL_FIELDS, "population"):
        percent_allowed = field == "value" or field in INTERVAL_FIELDS
        allow = columns["percent"] if percent_allowed else np.zeros(len(cells), dtype=bool)
        columns.update(_parse_numbers(cells[field], np.asarray(allow, dtype=bool), f"{field}_"))
    out = pd.DataFrame(columns)
    num, den = out["numerator_number"], out["denominator_number"]
    has_ratio = num.notna() & den.notna() & (den > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["figure"] = out["value_number"].fillna((num / den * out["scale"].astype(float)).where(has_ratio))
    out["has_ratio"] = num.notna() & den.notna()
    return out.join(_parse_keys(out, catalogue))


def _key_maps(catalogue: Catalogue) -> dict:
    """Area codes, breakdown ids and (breakdown, group) ids as extracts may write them
    (any case) → as the catalogue spells them; the home area's code → ''."""
    areas = {a.code.casefold(): a.code for a in catalogue.areas}
    if catalogue.home_area is not None:
        areas[catalogue.home_code.casefold()] = ""
    return {
        "area": {"": "", **areas},
        "breakdown": {b.id.casefold(): b.id for b in catalogue.breakdowns},
        "group": {(b.id, g.id.casefold()): g.id for b in catalogue.breakdowns for g in b.groups},
        "allowed": {(i.id, b) for i in catalogue.indicators for b in i.breakdowns},
    }


def _parse_keys(out: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """``area_id``, ``breakdown_id``, ``group_id`` (as the catalogue spells them; '' for
    the home area and the whole population; NaN if unknown) and ``breakdown_allowed``."""
    maps = derived(catalogue, "ingest.key_maps", _key_maps)
    if not ((out["area"] != "") | (out["breakdown"] != "") | (out["group"] != "")).any():
        return pd.DataFrame(  # the common case: a file without breakdowns
            {"area_id": "", "breakdown_id": "", "group_id": "", "breakdown_allowed": True}, index=out.index
        )
    area = out["area"].str.casefold().map(maps["area"])
    breakdown = out["breakdown"].str.casefold().map(maps["breakdown"]).where(out["breakdown"] != "", "")
    pairs = pd.Series(list(zip(breakdown.fillna(""), out["group"].str.casefold(), strict=True)), index=out.index)
    group = pairs.map(maps["group"]).where(out["group"] != "", "")
    allowed = pd.Series(list(zip(out["id"], breakdown, strict=True)), index=out.index).isin(maps["allowed"])
    return pd.DataFrame(
        {
            "area_id": area,
            "breakdown_id": breakdown,
            "group_id": group,
            "breakdown_allowed": allowed | (breakdown == ""),
        }
    )
