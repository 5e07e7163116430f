"""Step 2 of a load: the long frame of cells becomes typed rows, or every problem at once.

:func:`kpis.ingest.parse.parse` reads each cell once (per distinct cell: an extract repeats its
indicators, periods and many numbers), then :data:`RULES`, a table of named rules, each a vectorised
test over the parsed frame that returns the rows it rejects, with the problem and the
hint. :data:`FILE_RULES` run once over the typed rows of the whole file (a key repeated
across chunks of a large file). Every rule's code is listed in the README.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Catalogue, Unit, derived
from kpis.errors import PROBLEM_COLUMNS, Problems
from kpis.ingest.parse import (
    BREAKDOWN_ROW_COLUMNS,
    INTERVAL_FIELDS,
    KEY_COLUMNS,
    MAX_MAGNITUDE,
    MAX_NOTE,
    NUMBER_FIELDS,
)

# The rules --------------------------------------------------------------------------------

Text = str | Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class Rule:
    """A named check: ``rejects(parsed)`` is the mask of rows it refuses; the problem is
    reported in ``column`` with ``problem`` and ``hint`` (text, or made from the rows)."""

    code: Text
    column: str
    rejects: Callable[[pd.DataFrame], pd.Series | np.ndarray]
    problem: Text
    hint: Text


# What a rule made for each field reads: one column of the parsed rows.
def _column(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda rows: rows[name]


def _prefixed(prefix: str, name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda rows: prefix + rows[name].astype(str)


def _beyond_magnitude(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda rows: rows[name].abs() > MAX_MAGNITUDE


def _not_whole(name: str) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda rows: rows[name].notna() & (np.floor(rows[name]) != rows[name])


def _close_match(catalogue: Catalogue) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda rows: rows["indicator"].map(catalogue.unknown_code_hint)


def _months_of_quarter(rows: pd.DataFrame) -> pd.Series:
    def one(quarter_end: float) -> str:
        first, second, last = (periods.to_text(int(quarter_end) - k) for k in (2, 1, 0))
        return (
            f"give the month, e.g. {last}: a monthly indicator takes one row per month ({first}, {second} and {last})"
        )

    return rows["month"].map(one)


def rules(catalogue: Catalogue, today: pd.Timestamp | None) -> list[Rule]:
    """The rules for a catalogue and a current month."""
    month = periods.current_month(today)
    counts = ("numerator", "denominator")
    return [
        Rule(
            "indicator.missing",
            "indicator",
            lambda f: ~f["known"] & (f["indicator"] == ""),
            "the indicator id is missing",
            "write the indicator's id from the catalogue (see the template)",
        ),
        Rule(
            "indicator.unknown",
            "indicator",
            lambda f: ~f["known"] & (f["indicator"] != ""),
            "is not an indicator id in the catalogue",
            _close_match(catalogue),
        ),
        Rule(
            "period.missing",
            "period",
            lambda f: f["period"] == "",
            "the period is missing",
            f"write {periods.PERIOD_FORMS}",
        ),
        Rule(
            "period.format",
            "period",
            lambda f: (f["period_error"] != "") & (f["period"] != ""),
            "is not a period",
            lambda rows: (
                rows["period_error"].astype(str) + "; if Excel turned it into a date, format the column as text"
            ),
        ),
        *(
            Rule(
                _prefixed(field + ".", f"{field}_code"),
                field,
                _column(f"{field}_bad"),
                _prefixed("", f"{field}_problem"),
                _prefixed("", f"{field}_hint"),
            )
            for field in NUMBER_FIELDS
        ),
        *(
            Rule(
                f"{field}.too_large",
                field,
                _beyond_magnitude(f"{field}_number"),
                f"is beyond ±{MAX_MAGNITUDE:,.0f}, more than any figure a report holds",
                "check the figure and its units (pounds, not pence)",
            )
            for field in NUMBER_FIELDS
        ),
        Rule(
            "value.missing",
            "value",
            lambda f: f["known"] & f["value_blank"] & f["figure"].isna(),
            "the value is missing",
            "write the figure, or give numerator and denominator",
        ),
        Rule(
            "ratio.missing",
            "numerator",
            lambda f: f["known"] & f["ratio"] & ~f["has_ratio"] & f["numerator_blank"] & f["denominator_blank"],
            "this indicator is a ratio: numerator and denominator are required",
            "add the numerator and denominator columns with whole counts",
        ),
        Rule(
            "ratio.half",
            "denominator",
            lambda f: (
                f["known"]
                & f["ratio"]
                & (f["numerator_number"].isna() != f["denominator_number"].isna())
                & (~f["numerator_blank"] | ~f["denominator_blank"])
            ),
            "numerator and denominator must be given together",
            "give both, or neither",
        ),
        Rule(
            "denominator.not_positive",
            "denominator",
            lambda f: f["denominator_number"] <= 0,
            "the denominator must be above zero",
            "check the count; a period with nothing to measure has no row",
        ),
        Rule(
            "numerator.above_denominator",
            "numerator",
            lambda f: f["percent"] & f["has_ratio"] & (f["numerator_number"] > f["denominator_number"]),
            "the numerator is larger than the denominator, so the percentage is over 100%",
            "check that numerator and denominator are not swapped",
        ),
        Rule(
            "numerator.negative",
            "numerator",
            lambda f: f["numerator_number"] < 0,
            "the numerator is negative",
            "counts cannot be negative",
        ),
        *(
            Rule(
                f"{field}.not_whole",
                field,
                _not_whole(f"{field}_number"),
                f"the {field} must be a whole count",
                f"write the {field} as a whole number of cases, such as 52 of 131;"
                " a percentage or rate goes in the value column",
            )
            for field in counts
        ),
        Rule(
            "value.percent_range",
            "value",
            lambda f: f["known"] & f["percent"] & f["value_number"].notna() & ((f["figure"] < 0) | (f["figure"] > 100)),
            "a percentage must be between 0 and 100",
            "write 52 for 52%; check the sign",
        ),
        Rule(
            "value.negative",
            "value",
            lambda f: f["known"] & ~f["percent"] & ~f["negative_ok"] & (f["figure"] < 0),
            "a "
            + "/".join(u.value for u in Unit if u is not Unit.PERCENT and not u.allows_negative)
            + " figure cannot be negative",
            "check the sign; only currency and number indicators take negative figures",
        ),
        Rule(
            "period.future",
            "period",
            lambda f: f["month"] > month,
            "is in the future",
            f"periods run up to the current month, {periods.to_text(month)}; check the year",
        ),
        Rule(
            "period.not_quarter_end",
            "period",
            lambda f: (
                f["month"].notna() & f["quarterly"] & (periods.fy_months(f["month"].fillna(3).astype(int)) % 3 != 0)
            ),
            "this indicator is quarterly and the period is not a quarter's last month",
            "give quarters as 2020/21 Q2 or on their last month (June, September, December, March)",
        ),
        Rule(
            "period.quarter_for_monthly",
            "period",
            lambda f: f["month"].notna() & f["quarter_written"] & f["known"] & ~f["quarterly"],
            "this indicator is monthly and the period is a quarter",
            _months_of_quarter,
        ),
        *breakdown_rules(catalogue),
        Rule(
            "note.too_long",
            "note",
            lambda f: f["note"].str.len() > MAX_NOTE,
            f"the note is longer than {MAX_NOTE} characters",
            "shorten it; longer commentary belongs in the narrative",
        ),
    ]


def _one_of(names: list[str]) -> str:
    return ", ".join(names) if names else "(none declared)"


def breakdown_rules(catalogue: Catalogue) -> list[Rule]:
    """The rules of the area, breakdown and group columns, and of given intervals."""
    home = f"blank or {catalogue.home_code}" if catalogue.home_code else "blank"
    areas = _one_of([a.code for a in catalogue.areas])
    breakdowns = _one_of([b.id for b in catalogue.breakdowns])

    def groups_of(rows: pd.DataFrame) -> pd.Series:
        return rows["breakdown_id"].map(
            lambda b: f"use one of {_one_of(catalogue.breakdown(b).group_ids)} (the groups of {b} in the catalogue)"
        )

    def limits(lower: str, upper: str) -> list[Rule]:
        return [
            Rule(
                "interval.one_limit",
                upper,
                lambda f: f[f"{lower}_number"].notna() & f[f"{upper}_number"].isna() & ~f[f"{upper}_bad"],
                f"{lower} is given without {upper}",
                "give both limits of the interval, or neither",
            ),
            Rule(
                "interval.one_limit",
                lower,
                lambda f: f[f"{upper}_number"].notna() & f[f"{lower}_number"].isna() & ~f[f"{lower}_bad"],
                f"{upper} is given without {lower}",
                "give both limits of the interval, or neither",
            ),
            Rule(
                f"{lower}.above_value",
                lower,
                lambda f: f[f"{lower}_number"] > f["figure"],
                "the lower limit is above the value",
                f"check that {lower} and {upper} are not swapped, and that they belong to this row",
            ),
            Rule(
                f"{upper}.below_value",
                upper,
                lambda f: f[f"{upper}_number"] < f["figure"],
                "the upper limit is below the value",
                f"check that {lower} and {upper} are not swapped, and that they belong to this row",
            ),
        ]

    given = [f"{field}_number" for field in INTERVAL_FIELDS]
    return [
        Rule(
            "area.unknown",
            "area",
            lambda f: f["area_id"].isna(),
            "is not an area code in the catalogue",
            f"leave it blank for the home area ({home}), or use one of {areas}; add a new area under 'areas'",
        ),
        Rule(
            "breakdown.unknown",
            "breakdown",
            lambda f: f["breakdown_id"].isna(),
            "is not a breakdown in the catalogue",
            f"leave it blank for the whole population, or use one of {breakdowns}",
        ),
        Rule(
            "breakdown.not_for_indicator",
            "breakdown",
            lambda f: f["known"] & f["breakdown_id"].notna() & ~f["breakdown_allowed"].astype(bool),
            "this indicator is not declared with this breakdown",
            lambda rows: (
                "its breakdowns are: "
                + rows["breakdowns"].astype(str).replace("", "(none)")
                + "; add it to the indicator's 'breakdowns' in the catalogue"
            ),
        ),
        Rule(
            "group.missing",
            "group",
            lambda f: f["breakdown_id"].notna() & (f["breakdown_id"] != "") & (f["group"] == ""),
            "a row with a breakdown needs its group",
            "write the group (such as 1 for the most deprived quintile); a whole-population row has no breakdown",
        ),
        Rule(
            "group.without_breakdown",
            "group",
            lambda f: (f["breakdown"] == "") & (f["group"] != ""),
            "a group is given without its breakdown",
            f"write the breakdown too (one of {breakdowns})",
        ),
        Rule(
            "group.unknown",
            "group",
            lambda f: f["breakdown_id"].notna() & (f["breakdown_id"] != "") & (f["group"] != "") & f["group_id"].isna(),
            "is not a group of this breakdown in the catalogue",
            groups_of,
        ),
        *limits("lower_ci", "upper_ci"),
        *limits("lower_ci_998", "upper_ci_998"),
        Rule(
            "interval.not_given",
            "lower_ci",
            lambda f: f["known"] & ~f["ci_given"] & f[given].notna().any(axis=1),
            "intervals are given but this indicator's ci_method is not 'given'",
            "leave the interval columns blank (the intervals are computed from numerator and denominator),"
            " or set 'ci_method: given' for the indicator in the catalogue",
        ),
        Rule(
            "population.not_positive",
            "population",
            lambda f: f["population_number"] <= 0,
            "the population must be above zero",
            "write the group's population (the weight of the slope index of inequality)",
        ),
    ]


def _text(text: Text, rows: pd.DataFrame) -> str | pd.Series:
    return text if isinstance(text, str) else text(rows)


_FIELD_ROW = {"numerator": "numerator_row", "denominator": "denominator_row"}


def located(rows: pd.DataFrame, column: str, problems: Problems, code: Text, problem: Text, hint: Text) -> pd.DataFrame:
    """Problems for ``rows`` in the field ``column``: each at its row and at the column the
    cell came from (a wide sheet's period column)."""
    from_header = column in ("period", "value", "numerator", "denominator")
    written_in = rows["column"].astype(object).where(rows["column"] != "", column) if from_header else column
    return pd.DataFrame(
        {
            "code": _text(code, rows),
            "file": problems.file,
            "sheet": problems.sheet,
            "row": rows[_FIELD_ROW.get(column, "row")].astype(np.int64),
            "column": written_in,
            "value": rows[column],
            "problem": _text(problem, rows),
            "hint": _text(hint, rows),
        }
    )[PROBLEM_COLUMNS]


def check(parsed: pd.DataFrame, catalogue: Catalogue, problems: Problems, today: pd.Timestamp | None) -> pd.DataFrame:
    """Every problem the rules find in a parsed chunk, as a problems frame."""
    found = []
    for rule in derived(catalogue, f"ingest.rules.{today}", lambda c: rules(c, today)):
        mask = np.asarray(rule.rejects(parsed), dtype=bool)
        if mask.any():
            found.append(located(parsed[mask], rule.column, problems, rule.code, rule.problem, rule.hint))
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=PROBLEM_COLUMNS)


def _key_categories(catalogue: Catalogue) -> dict[str, list[str]]:
    """Every value the area, breakdown and group keys may take ('' first)."""
    groups = sorted({g.id for b in catalogue.breakdowns for g in b.groups})
    return {
        "area": ["", *(a.code for a in catalogue.areas)],
        "breakdown": ["", *(b.id for b in catalogue.breakdowns)],
        "group": ["", *groups],
    }


def typed(parsed: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """A parsed chunk as the store takes it (:data:`ROW_COLUMNS`, the indicator by its
    canonical id, NaN if unknown; period -1 if unreadable), and the column each value
    came from. Compact: a file of millions of rows is held as these until it is loaded
    (text as categoricals over the catalogue's values, so that chunks concatenate as such)."""
    keys = derived(catalogue, "ingest.key_categories", _key_categories)
    return pd.DataFrame(
        {
            "row": parsed["row"].astype(np.int64),
            "indicator": pd.Categorical(parsed["id"], categories=catalogue.indicator_ids),
            "period": parsed["month"].fillna(-1).astype(np.int64),
            "value": parsed["figure"].astype(float),
            "numerator": parsed["numerator_number"].astype(float),
            "denominator": parsed["denominator_number"].astype(float),
            "note": parsed["note"].where(parsed["note"] != ""),
            "column": parsed["column"].astype("category"),
            "area": pd.Categorical(parsed["area_id"].fillna(""), categories=keys["area"]),
            "breakdown": pd.Categorical(parsed["breakdown_id"].fillna(""), categories=keys["breakdown"]),
            "group": pd.Categorical(parsed["group_id"].fillna(""), categories=keys["group"]),
            **{field: parsed[f"{field}_number"].astype(float) for field in (*INTERVAL_FIELDS, "population")},
        }
    )


def _number_text(values: pd.Series) -> pd.Series:
    """A stored number as an officer wrote it: 7039, 5.2."""
    return values.map(lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else repr(float(v))))


# File rules: over the typed rows of the whole file ------------------------------------------


def repeated_keys(rows: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """A later row with the same indicator and period as an earlier one: a repeat when it
    gives the same value, a conflict when it gives another."""
    keyed = rows[(rows["period"] >= 0) & rows["indicator"].notna()]
    if keyed.empty:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    key = ["indicator", "period", *(k for k in KEY_COLUMNS if k in keyed and (keyed[k] != "").any())]
    duplicated = keyed.duplicated(key, keep=False).to_numpy()
    if not duplicated.any():
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    dup = keyed[duplicated].sort_values("row", kind="stable")
    firsts = dup.drop_duplicates(key)[[*key, "row", "value"]]
    first = dup[key].merge(firsts, on=key, how="left").set_axis(dup.index)
    later = dup["row"] != first["row"]
    same_value = (dup["value"] == first["value"]) | (dup["value"].isna() & first["value"].isna())
    out = []
    repeat = dup[later & same_value].assign(first_row=first["row"][later & same_value])
    if len(repeat):
        out.append(
            located(
                repeat.assign(period=periods.texts(repeat["period"]), column=repeat["column"].astype(object)),
                "period",
                problems,
                "key.repeated",
                lambda r: "repeats row " + r["first_row"].astype(str) + " (same indicator and period)",
                "delete the repeated row",
            )
        )
    conflict = dup[later & ~same_value].assign(first_row=first["row"][later & ~same_value])
    if len(conflict):
        out.append(
            located(
                conflict.assign(value=_number_text(conflict["value"]), column=conflict["column"].astype(object)),
                "value",
                problems,
                "key.conflict",
                lambda r: (
                    "conflicts with row "
                    + r["first_row"].astype(str)
                    + ", which gives another value for the same indicator and period"
                ),
                "keep one row per indicator and period",
            )
        )
    return pd.concat(out, ignore_index=True)


def sorted_problems(found: pd.DataFrame) -> pd.DataFrame:
    """Problems in file order: by row, then in the order of the extract's columns."""
    order = {c: i for i, c in enumerate(["", "indicator", "period", "value", "numerator", "denominator", "note"])}
    order.update({c: 7 + i for i, c in enumerate(BREAKDOWN_ROW_COLUMNS)})
    return found.sort_values(
        ["row", "column"], key=lambda s: s.map(lambda c: order.get(c, 2.5)) if s.name == "column" else s, kind="stable"
    ).reset_index(drop=True)
