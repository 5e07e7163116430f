"""Step 3 of a load: what the typed rows change in the store, row by row.

Each row is new (nothing in force for its indicator and period), revised (another value
in force) or unchanged; :func:`applied` shows the observations as they would be after
the load, which is what a preview computes its KPI table from.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import pandas as pd


class PlanStatus(StrEnum):
    """What a row of a file does to what is stored: an extract's cell, a register's risk."""

    NEW = "new"
    REVISED = "revised"
    UNCHANGED = "unchanged"


NEW, REVISED, UNCHANGED = PlanStatus


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    both_missing = a.isna() & b.isna()
    if a.dtype == object or b.dtype == object:
        return both_missing | (a == b)
    return both_missing | (np.abs(a.astype(float) - b.astype(float)) <= 1e-9 * np.maximum(1.0, np.abs(b.astype(float))))


def _codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Each value's code among its categories, and the categories (as they are, when the
    values are categorical: nothing is hashed per row)."""
    values = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    return values.cat.codes.to_numpy(np.int64), values.cat.categories


def _in_force_at(rows: pd.DataFrame, current: pd.DataFrame) -> np.ndarray | None:
    """Each row's position in ``current`` (same indicator and period), -1 where there is
    none; ``None`` when a key repeats on either side (the merge then says so)."""
    stored_codes, names = _codes(current["indicator"])
    row_codes, row_names = _codes(rows["indicator"])
    # The rows' indicators as codes of the stored ones, matched once per indicator; an
    # indicator with nothing stored gets a code of its own.
    matched = pd.Index(names).get_indexer(row_names)
    matched = np.where(matched >= 0, matched, len(names) + np.arange(len(row_names)))
    row_codes = matched[row_codes]
    months, _ = pd.factorize(np.concatenate([current["period"].to_numpy(np.int64), rows["period"].to_numpy(np.int64)]))
    span = int(months.max()) + 1 if len(months) else 1
    stored_keys = pd.Index(stored_codes * span + months[: len(current)])
    row_keys = pd.Index(row_codes * span + months[len(current) :])
    if not (stored_keys.is_unique and row_keys.is_unique):
        return None
    return stored_keys.get_indexer(row_keys)


KEY_COLUMNS = ["area", "breakdown", "group"]  # '' : the home area, the whole population
BREAKDOWN_VALUES = ["lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998", "population"]


def has_breakdowns(rows: pd.DataFrame) -> bool:
    """Whether any row is another area's or a group's, or carries given limits or a
    population: such rows are planned against :func:`kpis.store.current_breakdowns`,
    the rest (the common case) against the home area's whole population only."""
    keyed = any(c in rows and (rows[c] != "").any() for c in KEY_COLUMNS)
    return keyed or any(c in rows and rows[c].notna().any() for c in BREAKDOWN_VALUES)


def plan_extract(rows: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Each row with ``status`` (new / revised / unchanged), the value in force
    (``previous_value``, ``previous_revision``) and the ``revision`` it would get. A value
    where the stored one was withdrawn (a rollback) is new, with the next revision."""
    if has_breakdowns(rows):
        return _plan_keyed(rows, current)
    # the stored given limits too, where ``current`` has them: a cell reloaded without
    # (or with other) limits is revised, not unchanged
    given = [c for c in BREAKDOWN_VALUES if c in current and c in rows]
    compared = ["value", "numerator", "denominator", "note", *given, "revision"]
    previous = current[["indicator", "period", *compared]].rename(columns={c: f"previous_{c}" for c in compared})
    at = _in_force_at(rows, current)
    if at is None:
        plan = rows.merge(previous, on=["indicator", "period"], how="left", validate="one_to_one")
    else:  # the same frame as the merge, by position
        plan = rows.reset_index(drop=True)
        for column in previous.columns[2:]:
            plan[column] = previous[column].array.take(at, allow_fill=True)
    exists = plan["previous_revision"].notna() & plan["previous_value"].notna()
    unchanged = (
        exists
        & _same(plan["value"], plan["previous_value"])
        & _same(plan["numerator"], plan["previous_numerator"])
        & _same(plan["denominator"], plan["previous_denominator"])
        & _same(plan["note"].astype(object), plan["previous_note"].astype(object))
    )
    for column in given:
        unchanged &= _same(plan[column], plan[f"previous_{column}"])
    plan["status"] = np.select([~exists, unchanged], [NEW, UNCHANGED], REVISED)
    plan["revision"] = plan["previous_revision"].fillna(0).astype(int) + (plan["status"] != UNCHANGED)
    return plan


def _plan_keyed(rows: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """:func:`plan_extract` keyed by indicator, period, area, breakdown and group, the
    given limits and population compared too (``current``: every key's value in force)."""
    values = ["value", "numerator", "denominator", "note", *BREAKDOWN_VALUES]
    key = ["indicator", "period", *KEY_COLUMNS]
    stored = current.reindex(columns=[*key, *values, "revision"])
    for column in KEY_COLUMNS:
        stored[column] = stored[column].fillna("").astype(object)
    stored["indicator"] = stored["indicator"].astype(object)
    previous = stored.rename(columns={c: f"previous_{c}" for c in [*values, "revision"]})
    plan = (
        rows.assign(indicator=rows["indicator"].astype(object))
        .merge(previous, on=key, how="left", validate="one_to_one")
        .assign(indicator=lambda p: pd.Categorical(p["indicator"], categories=rows["indicator"].cat.categories))
    )
    exists = plan["previous_revision"].notna() & plan["previous_value"].notna()
    unchanged = exists
    for column in values:
        mine = plan[column].astype(object) if column == "note" else plan[column]
        theirs = plan[f"previous_{column}"].astype(object) if column == "note" else plan[f"previous_{column}"]
        unchanged = unchanged & _same(mine, theirs)
    plan["status"] = np.select([~exists, unchanged], [NEW, UNCHANGED], REVISED)
    plan["revision"] = plan["previous_revision"].fillna(0).astype(int) + (plan["status"] != UNCHANGED)
    return plan


def applied(observations: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """The observations as they would be after loading the plan's new and revised values
    (``extract_id`` 0: not loaded yet): what a preview computes the KPI table from."""
    changed = plan[plan["status"] != UNCHANGED]
    if "area" in changed:  # the KPI table's observations: the home area's whole population
        changed = changed[(changed["area"] == "") & (changed["breakdown"] == "") & (changed["group"] == "")]
    if changed.empty:
        return observations
    keys = pd.MultiIndex.from_arrays([changed["indicator"].astype(str), changed["period"]])
    stored = pd.MultiIndex.from_arrays([observations["indicator"].astype(str), observations["period"]])
    kept = observations[~stored.isin(keys)]
    added = changed[["indicator", "period", "value", "numerator", "denominator", "note", "revision"]].assign(
        extract_id=0
    )
    out = pd.concat([kept.assign(indicator=kept["indicator"].astype(str)), added], ignore_index=True)
    out["indicator"] = out["indicator"].astype("category")
    return out.sort_values(["indicator", "period"], kind="stable").reset_index(drop=True)
