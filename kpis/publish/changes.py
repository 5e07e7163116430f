"""What changed since last month's report, for the pack's cover and its "Changed since
last month" page: the ratings that moved, the new Reds, the biggest movers, and the one
sentence that sums the month up. Made from two KPI tables (as at the month and as at the
month before), so it says what a board member would see comparing two editions.
"""

from __future__ import annotations

import pandas as pd

from kpis import periods
from kpis.catalogue import Catalogue, Direction
from kpis.report import formatting
from kpis.report.performance import RAG_WORDS
from kpis.report.presentation import rag_changes

MOVERS = 5  # the biggest movers listed


def has_previous(previous: pd.DataFrame) -> bool:
    """Whether the month before has any figure to compare with."""
    return not previous.empty and bool(previous["actual"].notna().any())


def rating_moves(table: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Every rating that moved since the month before (:func:`rag_changes`), against target
    first, in report order within each."""
    if not has_previous(previous):
        return pd.DataFrame(columns=["indicator", "name", "workstream", "comparison", "from", "to"])
    return rag_changes(table, previous)


def new_reds(moves: pd.DataFrame) -> pd.DataFrame:
    """The moves into Red against target."""
    return moves[(moves["comparison"] == "target") & (moves["to"] == "Red")]


def movers(table: pd.DataFrame, previous: pd.DataFrame, catalogue: Catalogue, count: int = MOVERS) -> pd.DataFrame:
    """The indicators whose figure moved most since the last report (a new period, a
    figure both times), by the size of the change against the earlier figure: ``indicator,
    name, workstream, before, now, change`` (as the report shows them), ``relative`` and
    ``reading`` (``better``, ``worse`` or ``changed`` for an indicator with no better
    direction)."""
    columns = ["indicator", "name", "workstream", "before", "now", "change", "relative", "reading"]
    if not has_previous(previous):
        return pd.DataFrame(columns=columns)
    merged = table.merge(
        previous[["indicator", "period", "period_label", "actual"]],
        on="indicator",
        suffixes=("", "_before"),
        how="inner",
    )
    merged = merged[
        merged["actual"].notna() & merged["actual_before"].notna() & (merged["period"] != merged["period_before"])
    ]
    merged = merged[merged["actual_before"] != 0]
    if merged.empty:
        return pd.DataFrame(columns=columns)
    change = merged["actual"] - merged["actual_before"]
    merged = merged.assign(change_value=change, relative=change / merged["actual_before"].abs())
    merged = merged[merged["change_value"] != 0]
    merged = merged.reindex(merged["relative"].abs().sort_values(ascending=False, kind="stable").index).head(count)
    rows = []
    for record in merged.to_dict("records"):
        ind = catalogue.indicator(record["indicator"])
        unit, d = ind.unit.value, ind.decimals
        up = record["change_value"] > 0
        if ind.direction is Direction.NONE:
            reading = "changed"
        else:
            reading = "better" if up == (ind.direction is Direction.HIGHER) else "worse"
        before_label, now_label = record["period_label_before"], record["period_label"]
        points = " points" if unit == "percent" else ""  # a change of a percentage is in points
        change_text = (
            formatting.with_unit(record["change_value"], unit, d)
            if not points
            else (formatting.number(record["change_value"], d) + points)
        )
        rows.append(
            {
                "indicator": ind.id,
                "name": ind.name,
                "workstream": ind.workstream,
                "before": f"{formatting.with_unit(record['actual_before'], unit, d)} ({before_label})",
                "now": f"{formatting.with_unit(record['actual'], unit, d)} ({now_label})",
                "change": ("+" if up else "")
                + change_text
                + f" ({record['relative']:+.{0 if abs(record['relative']) >= 0.1 else 1}%})",
                "relative": float(record["relative"]),
                "reading": reading,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def summary_sentence(table: pd.DataFrame, moves: pd.DataFrame, previous: pd.DataFrame, as_at: int) -> str:
    """The cover's one sentence: how many indicators met their target, how many are Red,
    how many are better than last year, and what moved since the month before."""
    counts = table["rag_target"].value_counts().reindex(RAG_WORDS, fill_value=0)
    rated = int(counts[["Green", "Amber", "Red"]].sum())
    better = int((table["trend"] == "better").sum())
    compared = int(table["trend"].isin(["better", "same", "worse"]).sum())
    text = (
        f"Of {len(table)} indicators, {rated} have a target and a figure: {counts['Green']} met it, "
        f"{counts['Amber']} missed it within tolerance and {counts['Red']} are Red. "
        f"{better} of the {compared} with a figure a year before are better than last year."
    )
    if not has_previous(previous):
        return text + " No earlier month to compare with."
    before = periods.month_name(as_at - 1)
    on_target = moves[moves["comparison"] == "target"]
    reds = len(new_reds(moves))
    if on_target.empty:
        return text + f" No rating against target moved since {before}."
    return (
        text + f" Since {before}, {len(on_target)} rating{'s' if len(on_target) != 1 else ''} against target "
        f"moved{f', {reds} of them into Red' if reds else ', none into Red'}."
    )


def moved_rows(moves: pd.DataFrame, catalogue: Catalogue) -> list[dict]:
    """The moves for the page: workstream name, indicator, against what, from, to, and
    whether it is a step up (towards Green) or down."""
    names = {w.id: w.name for w in catalogue.workstreams}
    order = {w: k for k, w in enumerate(["Red", "Amber", "Green"])}
    rows = []
    for record in moves.to_dict("records"):
        a, b = order.get(str(record["from"])), order.get(str(record["to"]))
        direction = (
            "up" if a is not None and b is not None and b > a else ("down" if a is not None and b is not None else "")
        )
        rows.append({**record, "workstream_name": names.get(record["workstream"], ""), "step": direction})
    return rows
