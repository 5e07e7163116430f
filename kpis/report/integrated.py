"""SPC beside every RAG rating, as the board reads it in an integrated performance report:
the XmR chart of each catalogue indicator as at a month (:func:`spc_charts`), its latest
limits and the two Making Data Count icons joined to the KPI table (:func:`report_table`),
the matrix of indicators by variation × assurance and the exceptions.

One computation, read by the screens, the command line and every export, so a chart and
its table never disagree. SPC runs on each period's own value (never a year-to-date or
rolling figure), on the revision in force in the observations given (the store now, or as
published), for the periods up to the as-at month.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Aggregation, Catalogue, derived
from kpis.report.performance import KPI_COLUMNS, build_kpi_table, target_values
from kpis.report.reasons import REASON_COLUMNS, reasons
from kpis.report.spc import ASSURANCES, POINT_COLUMNS, VARIATIONS, rebase_problems, spc_points, spc_summary

SPC_COLUMNS = ["spc_mean", "spc_lower", "spc_upper", "variation", "assurance", "spc_trial"]
REPORT_COLUMNS = [*KPI_COLUMNS, *SPC_COLUMNS, *REASON_COLUMNS]
# `python -m kpis spc`: one row per indicator and period, the chart's columns of the SPC points.
_NOT_CHARTED = {"lower_1sigma", "upper_1sigma", "variation", "segment_points", "min_points", "direction", "target"}
CHART_COLUMNS = [c for c in POINT_COLUMNS if c not in _NOT_CHARTED]
# A sum's target is for the accumulation (13,140 admissions in the year), not for a month's
# value: SPC of such an indicator has no target line and no assurance icon.
ACCUMULATED = (Aggregation.YTD_SUM, Aggregation.ROLLING_12M_SUM)

VARIATION_TEXT = {
    "common_cause": "Common cause",
    "improvement_high": "Improvement (high)",
    "improvement_low": "Improvement (low)",
    "concern_high": "Concern (high)",
    "concern_low": "Concern (low)",
    "neutral_high": "Neutral (high)",
    "neutral_low": "Neutral (low)",
    "n/a": "n/a",
}
ASSURANCE_TEXT = {"pass": "Pass", "fail": "Fail", "hit_and_miss": "Hit and miss", "n/a": "n/a"}
assert set(VARIATION_TEXT) == set(VARIATIONS) and set(ASSURANCE_TEXT) == set(ASSURANCES)

# The matrix: variation in four groups (plus indicators without limits), by assurance.
MATRIX_ROWS = {
    "improvement": "Special cause improvement",
    "common_cause": "Common cause",
    "concern": "Special cause concern",
    "neutral": "Special cause neutral",
    "n/a": "No limits yet",
}
MATRIX_COLUMNS = {"pass": "Pass", "hit_and_miss": "Hit and miss", "fail": "Fail", "n/a": "No target"}
EXCEPTION_COLUMNS = [
    "workstream",
    "indicator",
    "name",
    "period_label",
    "actual",
    "rag_target",
    "owner",
    "variation",
    "assurance",
    "why",
]


def variation_group(variation: pd.Series) -> pd.Series:
    """``improvement``, ``common_cause``, ``concern``, ``neutral`` or ``n/a`` of each icon."""
    return variation.astype(str).str.replace(r"_(high|low)$", "", regex=True)


def spc_targets(catalogue: Catalogue):
    """The target in force at each (indicator, month), as :func:`spc_points` takes it:
    :func:`kpis.report.performance.target_values`, except for sums (:data:`ACCUMULATED`)."""
    summed = derived(catalogue, "spc.summed", lambda c: {i.id for i in c.indicators if i.aggregation in ACCUMULATED})

    def targets(indicators: pd.Series, months: pd.Series) -> pd.Series:
        values = target_values(catalogue, indicators, months)
        return values.where(~indicators.isin(summed).to_numpy())

    return targets


def in_month(observations: pd.DataFrame, catalogue: Catalogue, as_at: int) -> pd.DataFrame:
    """The value of each period up to ``as_at`` of the catalogue's indicators:
    ``indicator`` (categorical in catalogue order), ``period``, ``value``."""
    ids = catalogue.indicator_ids
    own = observations[(observations["period"] <= as_at) & observations["indicator"].astype(str).isin(ids)]
    return pd.DataFrame(
        {
            "indicator": pd.Categorical(own["indicator"].astype(str), categories=ids),
            "period": own["period"].to_numpy(dtype=np.int64),
            "value": own["value"].to_numpy(dtype=float),
        }
    )


def spc_charts(observations: pd.DataFrame, catalogue: Catalogue, as_at: int) -> pd.DataFrame:
    """The XmR chart of every catalogue indicator up to ``as_at`` (:func:`spc_points`'
    frame, indicators in catalogue order), with each indicator's ``spc`` settings, its
    direction and the target in force each month (:func:`spc_targets`).

    ``observations``: the value in force for each (indicator, period) as
    ``store.current_observations`` gives it (the store now, or as of an extract)."""
    directions = derived(catalogue, "spc.directions", lambda c: {i.id: i.direction.value for i in c.indicators})
    return spc_points(
        in_month(observations, catalogue, as_at),
        catalogue.spc_settings,
        directions,
        spc_targets(catalogue),
        default=catalogue.spc,
    )


def spc_table(points: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """One row per catalogue indicator, in report order: :func:`spc_summary` of ``points``
    (from :func:`spc_charts`), the latest limits, the two icons, and why limits are trial
    or missing (``spc_reason``)."""
    return spc_summary(points, catalogue.indicator_ids)


def report_table(
    observations: pd.DataFrame, catalogue: Catalogue, as_at: int, points: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The KPI table (:func:`kpis.report.performance.build_kpi_table`) with the SPC of each
    indicator beside its RAG (:data:`REPORT_COLUMNS`): ``spc_mean, spc_lower, spc_upper``
    (the latest segment's), ``variation``, ``assurance`` and ``spc_trial``, then why a
    figure is missing (:data:`kpis.report.reasons.REASON_COLUMNS`, ``""`` where it is
    there). ``points``:
    :func:`spc_charts` of the same observations and month, if already made."""
    table = build_kpi_table(observations, catalogue, as_at)
    points = spc_charts(observations, catalogue, as_at) if points is None else points
    spc = spc_table(points, catalogue)
    table = table.join(reasons(table, observations, catalogue, as_at))
    return table.assign(**{column: spc[column].to_numpy() for column in SPC_COLUMNS})[REPORT_COLUMNS].assign(
        variation=lambda t: pd.Categorical(t["variation"], categories=list(VARIATIONS)),
        assurance=lambda t: pd.Categorical(t["assurance"], categories=list(ASSURANCES)),
    )


def chart_rows(points: pd.DataFrame) -> pd.DataFrame:
    """``python -m kpis spc``'s rows (:data:`CHART_COLUMNS`): periods as ``YYYY-MM``."""
    rows = points[CHART_COLUMNS]
    return rows.assign(
        indicator=rows["indicator"].astype(str),
        period=periods.texts(rows["period"]).to_numpy(),
        point_type=rows["point_type"].astype(str),
        rule=rows["rule"].astype(str),
    ).reset_index(drop=True)


def check_rebases(catalogue: Catalogue, observations: pd.DataFrame) -> list:
    """Every rebase month that is not a period with a value of its indicator
    (:func:`kpis.report.spc.rebase_problems`), located ``indicators[i].spc.rebase[k]``, or
    ``spc.rebase[k] (for indicators[i])`` where the indicator takes the top level's."""
    chosen = {i.id: catalogue.spc_settings[i.id] for i in catalogue.indicators if catalogue.spc_settings[i.id].rebase}
    if not chosen:
        return []
    own_block = {i.id for i in catalogue.indicators if i.spc is not None and "rebase" in i.spc.model_fields_set}
    where = {i.id: f"indicators[{k}]" for k, i in enumerate(catalogue.indicators)}
    own = observations[["indicator", "period", "value"]].assign(indicator=observations["indicator"].astype(str))
    problems = []
    for indicator_id, settings in chosen.items():
        for problem in rebase_problems({indicator_id: settings}, own, where):
            if indicator_id not in own_block:
                top = problem.location.removeprefix(where[indicator_id] + ".")
                problem = replace(problem, location=f"{top} (for {where[indicator_id]})")
            problems.append(problem)
    return problems


def matrix(table: pd.DataFrame) -> pd.DataFrame:
    """The integrated performance summary: for each variation group (:data:`MATRIX_ROWS`)
    and assurance (:data:`MATRIX_COLUMNS`), the indicators in it, in report order:
    ``variation_group, assurance, indicators`` (a list of ids), every cell present."""
    groups = variation_group(table["variation"])
    cells = [
        {
            "variation_group": group,
            "assurance": assurance,
            "indicators": table.loc[(groups == group) & (table["assurance"].astype(str) == assurance), "indicator"]
            .astype(str)
            .tolist(),
        }
        for group in MATRIX_ROWS
        for assurance in MATRIX_COLUMNS
    ]
    return pd.DataFrame(cells, columns=["variation_group", "assurance", "indicators"])


def exceptions(table: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """The board's agenda: the indicators with special cause concern or failing assurance,
    in report order (:data:`EXCEPTION_COLUMNS`), with their latest value and period, RAG,
    owner (the role, as the report's key names it) and ``why``."""
    concern = variation_group(table["variation"]).eq("concern").to_numpy()
    failing = table["assurance"].astype(str).eq("fail").to_numpy()
    rows = table[concern | failing]
    why = np.select(
        [concern[concern | failing] & failing[concern | failing], concern[concern | failing]],
        ["special cause concern; failing the target", "special cause concern"],
        "failing the target",
    )
    owners = [catalogue.indicator(i).owner or "" for i in rows["indicator"]]
    return rows.assign(
        owner=[catalogue.owners.get(o, o) for o in owners],
        why=why,
    )[EXCEPTION_COLUMNS].reset_index(drop=True)
