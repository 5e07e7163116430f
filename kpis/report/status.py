"""Which values are due, which are in, which are late: the officers' data status and the
extract template.

A monthly indicator is due every month, a quarterly one on each quarter's last month,
and each arrives its catalogue ``lag`` months behind the report month (the Nov report
shows a lag-2 indicator's September). The **report month** (:func:`report_month`) is the
latest month for which every indicator due has arrived, allowing for its lag: the default
as-at month everywhere, so that a month partly in never makes the report worse.

For the months up to the report month (the as-at month), each indicator's value is
``loaded`` (``revised`` when corrected since), ``late`` (the month it is expected for in
the report month, allowing for its lag, and not in), ``expected later`` (a month after
that: within its normal lag), ``missing`` (due in an earlier month and never loaded),
``not due``, or ``not started`` (before the indicator's first value: a measure new this
year).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Catalogue, Frequency, Indicator

LOADED, REVISED, LATE, MISSING, NOT_DUE, NOT_STARTED = "loaded", "revised", "late", "missing", "not due", "not started"
EXPECTED_LATER = "expected later"
STATES = [LOADED, REVISED, LATE, EXPECTED_LATER, MISSING, NOT_DUE, NOT_STARTED]
SYMBOL = {
    LOADED: "✓",
    REVISED: "✓ rev.",
    LATE: "LATE",
    EXPECTED_LATER: "…",
    MISSING: "missing",
    NOT_DUE: "·",
    NOT_STARTED: "",
}
SEARCHED_MONTHS = 12  # an indicator whose next figure is overdue by more than this has stopped
COVERAGE_COLUMNS = ["owner", "owner_title", "workstream", "indicator", "name", "month", "state", "revision"]


def is_due(indicator: Indicator, month: int) -> bool:
    return indicator.frequency is Frequency.MONTHLY or periods.is_quarter_end(month)


def due(catalogue: Catalogue, month: int) -> list[Indicator]:
    """The indicators whose value for ``month`` is due, in catalogue order."""
    return [i for i in catalogue.indicators if is_due(i, month)]


def _arrived(observations: pd.DataFrame) -> tuple[set[tuple[str, int]], dict[str, int]]:
    """The (indicator, month) pairs with a value, and each indicator's first month."""
    known = observations[observations["value"].notna()] if "value" in observations else observations
    names = known["indicator"].astype(str)
    pairs = set(zip(names, known["period"].astype(int), strict=True))
    first = known.groupby(names, observed=True)["period"].min()
    return pairs, {str(name): int(month) for name, month in first.items()}


def _expected(catalogue: Catalogue, first: dict[str, int], month: int) -> list[tuple[str, int]]:
    """What report month ``month`` expects: each started indicator due, with the month of
    its figure (``month`` less its lag)."""
    wanted = []
    for indicator in catalogue.indicators:
        figure = month - catalogue.lag_for(indicator)
        started = first.get(indicator.id)
        if started is not None and started <= figure and is_due(indicator, figure):
            wanted.append((indicator.id, figure))
    return wanted


def arrivals(observations: pd.DataFrame, catalogue: Catalogue, month: int) -> tuple[int, int]:
    """``(arrived, expected)``: of the figures report month ``month`` expects (each started
    indicator due, allowing for its lag), how many are in."""
    pairs, first = _arrived(observations)
    wanted = _expected(catalogue, first, month)
    return sum(pair in pairs for pair in wanted), len(wanted)


def _next_due(indicator: Indicator, after: int) -> int:
    """The first month after ``after`` that ``indicator`` has a figure due for."""
    month = after + 1
    while not is_due(indicator, month):
        month += 1
    return month


def report_month(observations: pd.DataFrame, catalogue: Catalogue) -> int | None:
    """The latest month, up to the latest with any figure, whose report has every figure
    due in, allowing for each indicator's lag (None for no data).

    An indicator whose latest figure is for month L holds the report back from the month
    its next figure is due in (the next month due after L, plus its lag): a gap further
    back (a month never loaded) is *missing* in the data status, but does not hold every
    later report back. Not counted: indicators with no figure yet, and indicators whose
    next figure was due more than :data:`SEARCHED_MONTHS` months before the latest month
    with data (stopped)."""
    if observations.empty:
        return None
    known = observations[observations["value"].notna()] if "value" in observations else observations
    last = known.groupby(known["indicator"].astype(str), observed=True)["period"].max().astype(int).to_dict()
    latest = int(observations["period"].max())
    month = latest
    for indicator in catalogue.indicators:
        if indicator.id not in last:
            continue
        held_from = _next_due(indicator, last[indicator.id]) + catalogue.lag_for(indicator)
        if held_from > latest - SEARCHED_MONTHS:
            month = min(month, held_from - 1)
    return month


def report_heading(observations: pd.DataFrame, catalogue: Catalogue, as_at: int) -> str:
    """``Report for Nov 2020 · Dec 2020 data partly in (8 of 33)``: the report month and
    how much of the month after it has arrived (nothing said when none has)."""
    heading = f"Report for {periods.month_name(as_at)}"
    following = as_at + 1
    if observations.empty or following > int(observations["period"].max()):
        return heading
    arrived, expected = arrivals(observations, catalogue, following)
    if arrived == 0:
        return heading
    state = "in" if arrived == expected else "partly in"
    return f"{heading} · {periods.month_name(following)} data {state} ({arrived} of {expected})"


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
        expected = as_at - catalogue.lag_for(indicator)  # the month its figure is due for in this report
        for month in window:
            revision = stored.get((indicator.id, int(month)))
            if revision is not None:
                state = REVISED if revision > 1 else LOADED
            elif not is_due(indicator, int(month)):
                state = NOT_DUE
            elif month > expected:
                state = EXPECTED_LATER
            elif started is None or month < started:
                state = LATE if month == expected else NOT_STARTED
            else:
                state = LATE if month == expected else MISSING
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


def to_chase(cover: pd.DataFrame) -> pd.DataFrame:
    """The coverage of the indicators with a value late or missing in any of its months
    (what an officer chases); the rest are complete: every value due is in, or expected later."""
    chased = cover.loc[cover["state"].isin([LATE, MISSING]), "indicator"].unique()
    return cover[cover["indicator"].isin(chased)]


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
