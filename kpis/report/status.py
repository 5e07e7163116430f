"""Which values are due, which are in, which are late: the officers' data status and the
extract template.

A monthly indicator is due every month, a quarterly one on each quarter's last month.
For the months up to the report month (the as-at month), each indicator's value is
``loaded`` (``revised`` when corrected since), ``late`` (due in the report month and not
in), ``missing`` (due in an earlier month and never loaded), ``not due``, or ``not
started`` (before the indicator's first value: a measure new this year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Catalogue, Frequency, Indicator

LOADED, REVISED, LATE, MISSING, NOT_DUE, NOT_STARTED = "loaded", "revised", "late", "missing", "not due", "not started"
STATES = [LOADED, REVISED, LATE, MISSING, NOT_DUE, NOT_STARTED]
SYMBOL = {LOADED: "✓", REVISED: "✓ rev.", LATE: "LATE", MISSING: "missing", NOT_DUE: "·", NOT_STARTED: ""}
COVERAGE_COLUMNS = ["owner", "owner_title", "workstream", "indicator", "name", "month", "state", "revision"]


def is_due(indicator: Indicator, month: int) -> bool:
    return indicator.frequency is Frequency.MONTHLY or periods.is_quarter_end(month)


def due(catalogue: Catalogue, month: int) -> list[Indicator]:
    """The indicators whose value for ``month`` is due, in catalogue order."""
    return [i for i in catalogue.indicators if is_due(i, month)]


def coverage(observations: pd.DataFrame, catalogue: Catalogue, as_at: int, months: int = 12) -> pd.DataFrame:
    """One row per indicator and month for the ``months`` months up to ``as_at``
    (:data:`COVERAGE_COLUMNS`), ordered by owner, then catalogue order."""
    window = np.arange(as_at - months + 1, as_at + 1)
    in_window = observations[observations["period"].between(window[0], as_at)]
    stored = in_window.set_index([in_window["indicator"].astype(str), "period"])["revision"]
    first = observations.groupby(observations["indicator"].astype(str), observed=True)["period"].min()
    rows = []
    for indicator in catalogue.indicators:
        started = first.get(indicator.id)
        for month in window:
            revision = stored.get((indicator.id, int(month)))
            if revision is not None:
                state = REVISED if revision > 1 else LOADED
            elif not is_due(indicator, int(month)):
                state = NOT_DUE
            elif started is None or month < started:
                state = LATE if month == as_at else NOT_STARTED
            else:
                state = LATE if month == as_at else MISSING
            rows.append(
                (
                    indicator.owner or "",
                    catalogue.owners.get(indicator.owner or "", "no owner set"),
                    indicator.workstream,
                    indicator.id,
                    indicator.name,
                    int(month),
                    state,
                    0 if revision is None else int(revision),
                )
            )
    frame = pd.DataFrame(rows, columns=COVERAGE_COLUMNS)
    order = {i.id: k for k, i in enumerate(catalogue.indicators)}
    frame["state"] = pd.Categorical(frame["state"], categories=STATES)
    return frame.sort_values(
        ["owner", "indicator", "month"], key=lambda s: s.map(order) if s.name == "indicator" else s, kind="stable"
    ).reset_index(drop=True)


def grid(cover: pd.DataFrame) -> pd.DataFrame:
    """The coverage as the officers' grid: one row per indicator (its owner's initials
    first), one column per month (``Oct 20``...), each cell a symbol from :data:`SYMBOL`."""
    if cover.empty:
        return pd.DataFrame(columns=["Owner", "Indicator"])
    labels = {m: pd.Timestamp(year=m // 12, month=m % 12 + 1, day=1).strftime("%b %y") for m in cover["month"].unique()}
    wide = cover.assign(cell=cover["state"].map(SYMBOL).astype(str)).pivot(
        index=["owner", "owner_title", "indicator", "name"], columns="month", values="cell"
    )
    order = cover.drop_duplicates("indicator").set_index("indicator").index
    wide = wide.reset_index().set_index("indicator").loc[order].reset_index()
    out = pd.DataFrame(
        {
            "Owner": wide["owner"],
            "Indicator": wide["name"],
            "id": wide["indicator"],
        }
    )
    for month in sorted(labels):
        out[labels[month]] = wide[month].to_numpy()
    return out


def late_by_owner(cover: pd.DataFrame) -> pd.DataFrame:
    """Per owner: how many values are late for the report month and missing before it,
    and which indicators are late."""
    counted = cover[cover["state"].isin([LATE, MISSING])]
    if counted.empty:
        return pd.DataFrame(columns=["owner", "owner_title", "late", "missing", "late_indicators"])
    late = counted[counted["state"] == LATE]
    summary = (
        counted.groupby(["owner", "owner_title"], observed=True)["state"]
        .value_counts()
        .unstack(fill_value=0)
        .reindex(columns=[LATE, MISSING], fill_value=0)
        .reset_index()
    )
    names = late.groupby("owner")["name"].agg(", ".join)
    summary["late_indicators"] = summary["owner"].map(names).fillna("")
    summary.columns.name = None
    return summary.sort_values([LATE, MISSING], ascending=False, kind="stable").reset_index(drop=True)
