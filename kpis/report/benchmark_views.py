"""What the benchmarking and inequality screens show, as plain frames, sentences and
plotly figures (the pages only render them): bars per group with their intervals, the
SII as a sentence and over time, a trend per group, the "tartan rug" of areas, a chart
of areas with intervals, and the workstream table's "vs England" and "Inequality" words.

Comparisons are coloured in a colour-blind-safe palette in the manner of Fingertips
(blue for better, pale yellow for similar, orange for worse; shades of purple for higher
and lower where no direction is better), and always carry a symbol and the word too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from kpis import periods
from kpis.catalogue import Breakdown, Catalogue, Indicator, Unit
from kpis.report.benchmarking import NARROWING, NO_CHANGE, WIDENING
from kpis.report.comparison import BETTER, HIGHER, LOWER, NOT_COMPARED, SIMILAR, WORSE
from kpis.report.suppression import SUPPRESSED_MARK

# fill, text colour, symbol of each comparison word
COMPARISON_STYLE = {
    BETTER: ("#3D6FB6", "#FFFFFF", "▲"),
    SIMILAR: ("#FFE38A", "#3B3000", "●"),
    WORSE: ("#E66100", "#1A1A1A", "▼"),  # dark text: white on this orange is 3.4:1, under WCAG AA's 4.5
    HIGHER: ("#5E3C99", "#FFFFFF", "↑"),
    LOWER: ("#B2ABD2", "#1F1440", "↓"),
    NOT_COMPARED: ("#E8E8E8", "#333333", "–"),
}
CHANGE_SYMBOL = {WIDENING: "↗", NARROWING: "↘", NO_CHANGE: "→", NOT_COMPARED: "–"}
UNIT_WORDS = {
    Unit.PERCENT: "percentage points",
    Unit.DAYS: "days",
    Unit.HOURS: "hours",
    Unit.COUNT: "",
    Unit.RATE: "",
    Unit.RATIO: "",
    Unit.CURRENCY: "pounds",
    Unit.NUMBER: "",
}


def _date(month: int) -> pd.Timestamp:
    return pd.Timestamp(periods.to_text(int(month)) + "-01")


def comparison_label(word: str) -> str:
    """``▲ better``: a symbol and the word, never colour alone."""
    return f"{COMPARISON_STYLE.get(word, COMPARISON_STYLE[NOT_COMPARED])[2]} {word.replace('_', ' ')}"


def change_label(word: str) -> str:
    return f"{CHANGE_SYMBOL.get(word, '–')} {word.replace('_', ' ')}"


def _number(value: float, decimals: int = 1) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:,.{decimals}f}"


def sii_sentence(row: pd.Series | None, indicator: Indicator, breakdown: Breakdown, area_name: str) -> str:
    """The SII in words a director reads without the method: "In Southampton, a gap of
    18.1 percentage points between the most and least deprived (95% interval 13.0 to
    23.1): higher at the least deprived end." — or why there is none."""
    if row is None:
        return f"No {breakdown.name.lower()} figures for {area_name}."
    if pd.isna(row["sii"]):
        reason = row.get("note") or "too few groups"
        return f"In {area_name}, no slope index of inequality for {periods.label(int(row['period']))}: {reason}."
    unit = UNIT_WORDS.get(indicator.unit, "")
    size = abs(float(row["sii"]))
    end = "least" if row["sii"] > 0 else "most"
    interval = f"95% interval {_number(row['sii_lower'])} to {_number(row['sii_upper'])}"
    gap = f"{_number(size)} {unit}".strip()
    return (
        f"In {area_name}, {periods.label(int(row['period']))}: a gap of {gap} between the most and least deprived "
        f"({interval}), higher at the {end} deprived end."
    )


def group_bars(
    compared: pd.DataFrame, catalogue: Catalogue, indicator: Indicator, breakdown: Breakdown, area: str, period: int
) -> go.Figure:
    """The groups of one breakdown in one area and period: a bar each with its 95%
    interval, coloured by its comparison with the area's whole population (a solid
    line), England's whole population a dashed line; suppressed groups shown as *."""
    rows = compared[
        (compared["indicator"] == indicator.id)
        & (compared["area"] == area)
        & (compared["period"] == period)
        & (compared["breakdown"] == breakdown.id)
    ]
    rows = rows.set_index("group").reindex(breakdown.group_ids)
    names = [breakdown.group_name(g) for g in breakdown.group_ids]
    hidden = rows["suppressed"].fillna(False).astype(bool).to_numpy()
    values = rows["value"].where(~hidden)
    words = rows["vs_area_total"].astype(object).fillna(NOT_COMPARED).astype(str)
    fig = go.Figure()
    fig.add_bar(
        x=names,
        y=values,
        marker_color=[COMPARISON_STYLE[w][0] for w in words],
        marker_line_color="#333333",
        marker_line_width=0.5,
        error_y={
            "type": "data",
            "symmetric": False,
            "array": (rows["upper_95"] - rows["value"]).where(~hidden),
            "arrayminus": (rows["value"] - rows["lower_95"]).where(~hidden),
            "color": "#222222",
            "thickness": 1.5,
        },
        text=[SUPPRESSED_MARK if h else comparison_label(w) for h, w in zip(hidden, words, strict=True)],
        textposition="inside",
        insidetextanchor="start",
        hovertemplate="%{x}: %{y:.1f}<extra></extra>",
        name="group",
        showlegend=False,
    )
    whole = compared[
        (compared["indicator"] == indicator.id) & (compared["period"] == period) & (compared["breakdown"] == "")
    ]
    for code, dash, label in ((area, "solid", catalogue.area_names.get(area, area)), ("E92000001", "dash", "England")):
        own = whole[whole["area"] == code]
        if len(own) and code in catalogue.area_names:
            fig.add_hline(
                y=float(own["value"].iloc[0]),
                line_dash=dash,
                line_color="#111111",
                annotation_text=f"{label} {_number(float(own['value'].iloc[0]))}",
                annotation_position="top left" if dash == "solid" else "bottom right",
            )
    fig.update_layout(
        height=380,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis_title=indicator.unit.value,
        xaxis={"type": "category"},  # group ids such as 2, 3 are names, not numbers
        plot_bgcolor="#FFFFFF",
    )
    fig.update_yaxes(gridcolor="#E5E5E5", rangemode="tozero")
    return fig


def sii_over_time(inequality_rows: pd.DataFrame, indicator: Indicator, area_names: dict[str, str]) -> go.Figure:
    """The SII of each area over time with its 95% interval: widening or narrowing."""
    fig = go.Figure()
    for k, (area, rows) in enumerate(inequality_rows.groupby("area", sort=False)):
        rows = rows.sort_values("period")
        x = [_date(p) for p in rows["period"]]
        colour = ["#3D6FB6", "#5E3C99", "#E66100", "#1B7837"][k % 4]
        fig.add_scatter(
            x=x + x[::-1],
            y=list(rows["sii_upper"]) + list(rows["sii_lower"])[::-1],
            fill="toself",
            fillcolor="rgba(61,111,182,0.12)" if k == 0 else "rgba(120,120,120,0.10)",
            line={"width": 0},
            hoverinfo="skip",
            showlegend=False,
        )
        fig.add_scatter(
            x=x, y=rows["sii"], mode="lines+markers", name=area_names.get(str(area), str(area)), line={"color": colour}
        )
    fig.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis_title=f"SII ({UNIT_WORDS.get(indicator.unit) or indicator.unit.value})",
        plot_bgcolor="#FFFFFF",
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_yaxes(gridcolor="#E5E5E5", zeroline=True, zerolinecolor="#999999")
    return fig


def group_trends(compared: pd.DataFrame, indicator: Indicator, breakdown: Breakdown, area: str) -> go.Figure:
    """A line per group over time (suppressed points left out)."""
    rows = compared[
        (compared["indicator"] == indicator.id) & (compared["area"] == area) & (compared["breakdown"] == breakdown.id)
    ]
    fig = go.Figure()
    colours = ["#08306B", "#2171B5", "#6BAED6", "#E6550D", "#A63603", "#5E3C99", "#1B7837"]
    for k, group in enumerate(breakdown.group_ids):
        own = rows[(rows["group"] == group) & ~rows["suppressed"].astype(bool)].sort_values("period")
        if own.empty:
            continue
        fig.add_scatter(
            x=[_date(p) for p in own["period"]],
            y=own["value"],
            mode="lines",
            name=breakdown.group_name(group),
            line={"color": colours[k % len(colours)]},
        )
    fig.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        yaxis_title=indicator.unit.value,
        plot_bgcolor="#FFFFFF",
        legend={"orientation": "h", "y": -0.2},
    )
    fig.update_yaxes(gridcolor="#E5E5E5")
    return fig


def area_order(catalogue: Catalogue) -> list[str]:
    """The home area, then England, the region(s), the neighbours and the others."""
    rank = {"home": 0, "england": 1, "region": 2, "neighbour": 3, "other": 4}
    return sorted(catalogue.area_names, key=lambda code: rank[catalogue.area_kind(code)])


def tartan_rug(compare: pd.DataFrame, catalogue: Catalogue, workstream: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole-population value of every indicator of a workstream in every area, and
    beside it the comparison word of each cell (for the colours): rows are indicators
    with data in more than one area, columns the areas (home first); a cell reads
    ``40.8 ▼`` (value and symbol), ``*`` where suppressed."""
    ids = [i.id for i in catalogue.in_workstream(workstream)]
    whole = compare[(compare["breakdown"] == "") & compare["indicator"].isin(ids)]
    areas = whole.groupby("indicator", observed=True)["area"].nunique()
    whole = whole[whole["indicator"].isin(areas.index[areas > 1])]  # a rug row needs two areas
    codes = area_order(catalogue)
    names = catalogue.area_names
    values, words = [], []
    by_indicator = {str(i): rows for i, rows in whole.groupby("indicator", sort=False, observed=True)}
    for indicator_id in ids:
        if indicator_id not in by_indicator:
            continue
        rows = by_indicator[indicator_id].set_index("area")
        if rows.index.nunique() < 2:
            continue
        by_area = {str(code): row for code, row in rows.iterrows()}
        indicator = catalogue.indicator(indicator_id)
        value_row = {"Indicator": indicator.display_name, "Period": periods.label(int(rows["period"].iloc[0]))}
        word_row = {"Indicator": "", "Period": ""}
        for code in codes:
            if code not in by_area:
                value_row[names[code]], word_row[names[code]] = "", NOT_COMPARED
                continue
            row = by_area[code]
            word = str(row["vs_benchmark"])
            if bool(row["suppressed"]):
                value_row[names[code]] = SUPPRESSED_MARK
            else:
                symbol = COMPARISON_STYLE[word][2] if code != row["benchmark_area"] else ""
                value_row[names[code]] = f"{_number(float(row['value']), max(indicator.decimals, 1))} {symbol}".strip()
            word_row[names[code]] = word if code != row["benchmark_area"] else "benchmark"
        values.append(value_row)
        words.append(word_row)
    columns = ["Indicator", "Period", *(names[c] for c in codes)]
    return pd.DataFrame(values, columns=columns), pd.DataFrame(words, columns=columns)


def cell_style(word: str) -> str:
    """CSS for a tartan-rug cell of a comparison word."""
    if word == "benchmark":
        return "background-color: #FFFFFF; color: #111111; font-weight: 600"
    if word not in COMPARISON_STYLE:
        return ""
    fill, text, _ = COMPARISON_STYLE[word]
    return f"background-color: {fill}; color: {text}"


def areas_chart(compare: pd.DataFrame, catalogue: Catalogue, indicator: Indicator) -> go.Figure:
    """Every area's whole-population value of one indicator with its 95% interval,
    coloured by its comparison with the benchmark (a dashed line)."""
    rows = compare[(compare["indicator"] == indicator.id) & (compare["breakdown"] == "")]
    rows = rows.set_index("area").reindex([c for c in area_order(catalogue) if c in set(rows["area"])])
    names = [catalogue.area_names.get(c, c) for c in rows.index]
    hidden = rows["suppressed"].astype(bool).to_numpy()
    words = [
        "benchmark" if code == rows.loc[code, "benchmark_area"] else str(rows.loc[code, "vs_benchmark"])
        for code in rows.index
    ]
    fig = go.Figure()
    fig.add_bar(
        y=names,
        x=rows["value"].where(~hidden),
        orientation="h",
        marker_color=[COMPARISON_STYLE.get(w, ("#FFFFFF",))[0] for w in words],
        marker_line_color="#333333",
        marker_line_width=0.8,
        error_x={
            "type": "data",
            "symmetric": False,
            "array": (rows["upper_95"] - rows["value"]).where(~hidden),
            "arrayminus": (rows["value"] - rows["lower_95"]).where(~hidden),
            "color": "#222222",
        },
        text=[
            SUPPRESSED_MARK if h else ("benchmark" if w == "benchmark" else comparison_label(w))
            for h, w in zip(hidden, words, strict=True)
        ],
        textposition="inside",
        insidetextanchor="start",
        showlegend=False,
        hovertemplate="%{y}: %{x:.1f}<extra></extra>",
    )
    benchmark = rows[[w == "benchmark" for w in words]]
    if len(benchmark):
        fig.add_vline(x=float(benchmark["value"].iloc[0]), line_dash="dash", line_color="#111111")
    fig.update_layout(
        height=60 + 44 * len(rows),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title=indicator.unit.value,
        plot_bgcolor="#FFFFFF",
        yaxis={"autorange": "reversed"},
    )
    fig.update_xaxes(gridcolor="#E5E5E5", rangemode="tozero")
    return fig


def workstream_columns(compare: pd.DataFrame, change: pd.DataFrame, catalogue: Catalogue) -> pd.DataFrame:
    """Per indicator: ``vs England`` (the home area's whole population against its
    benchmark, a symbol and the word) and ``Inequality`` (the home area's SII now against a
    year ago, for its first ordered breakdown: widening / narrowing / no significant change)."""
    home = catalogue.home_code
    whole = compare[(compare["area"] == home) & (compare["breakdown"] == "") & compare["benchmark_value"].notna()]
    whole = whole.drop_duplicates("indicator")  # only where the benchmark has a figure to compare with
    vs = dict(zip(whole["indicator"], whole["vs_benchmark"].astype(str), strict=True))
    own = change[change["area"] == home] if len(change) else change
    inequality: dict[str, str] = {}
    for breakdown in catalogue.breakdowns:
        if not breakdown.ordered or own.empty:
            continue
        rows = own[own["breakdown"] == breakdown.id]
        for indicator_id, word in zip(rows["indicator"], rows["change"], strict=True):
            inequality.setdefault(indicator_id, word)
    ids = catalogue.indicator_ids
    return pd.DataFrame(
        {
            "indicator": ids,
            "vs England": [comparison_label(vs[i]) if i in vs else "" for i in ids],
            "Inequality": [change_label(inequality[i]) if i in inequality else "" for i in ids],
        }
    )


def has_breakdowns(compare: pd.DataFrame) -> bool:
    return bool(len(compare)) and bool(np.any(compare["breakdown"] != ""))
