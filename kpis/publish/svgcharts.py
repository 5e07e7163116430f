"""Static charts for the board pack: one small SVG line chart per indicator, drawn from
the same series and rating as the dashboard's Plotly charts (:mod:`kpis.report.charts`), so a
printed or PDF pack needs no script to show them.

Lines differ by dash as well as colour (actual solid, last year dashed, target dotted
steps), and the latest point carries its rating's symbol, never colour alone.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd

from kpis import periods
from kpis.catalogue import Frequency, Indicator
from kpis.report import formatting
from kpis.report.charts import ACTUAL_COLOUR, LAST_YEAR_COLOUR, TARGET_COLOUR, window
from kpis.report.palette import SYMBOL, rag_palette

WIDTH, HEIGHT = 300, 120
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 8, 18  # room for the axis labels
FAMILY = "font-family='DejaVu Sans, Liberation Sans, Arial, sans-serif'"
FONT = FAMILY + " font-size='9'"


def nice_ticks(low: float, high: float, count: int = 3) -> list[float]:
    """About ``count`` round values (steps of 1, 2 or 5 × 10ⁿ) covering ``low``–``high``."""
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low] if math.isfinite(low) else [0.0]
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    return [first + k * step for k in range(math.ceil((high - first) / step - 1e-9) + 1)]


class _Plot:
    """Maps months and values of one chart to SVG coordinates."""

    def __init__(self, first: int, last: int, ticks: list[float]):
        self.first, self.span = first, max(last - first, 1)
        self.low, self.high = ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1

    def x(self, month: float) -> float:
        return round(LEFT + (month - self.first) / self.span * (WIDTH - LEFT - RIGHT), 1)

    def y(self, value: float) -> float:
        return round(TOP + (self.high - value) / (self.high - self.low) * (HEIGHT - TOP - BOTTOM), 1)


def _runs(months: pd.Series, values: pd.Series) -> list[list[tuple[int, float]]]:
    """The points of a line, split where a value is missing (a gap, not a zero)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for month, value in zip(months, values, strict=True):
        if pd.isna(value):
            runs.append([])
        else:
            runs[-1].append((int(month), float(value)))
    return [run for run in runs if run]


def _line(plot: _Plot, months: pd.Series, values: pd.Series, style: str, steps: bool = False) -> list[str]:
    out = []
    for run in _runs(months, values):
        points = []
        for k, (month, value) in enumerate(run):
            if steps and k:
                points.append(f"{plot.x(month)},{plot.y(run[k - 1][1])}")
            points.append(f"{plot.x(month)},{plot.y(value)}")
        if steps:  # a target holds to the end of its last month
            points.append(f"{plot.x(run[-1][0] + 0.5)},{plot.y(run[-1][1])}")
        if len(points) == 1:
            x, y = points[0].split(",")
            out.append(f"<circle cx='{x}' cy='{y}' r='1.8' fill='none' {style}/>")
        else:
            out.append(f"<polyline fill='none' points='{' '.join(points)}' {style}/>")
    return out


def _markers(plot: _Plot, months: pd.Series, values: pd.Series, colour: str) -> list[str]:
    return [
        f"<circle cx='{plot.x(m)}' cy='{plot.y(v)}' r='1.8' fill='{colour}'/>"
        for m, v in zip(months, values, strict=True)
        if pd.notna(v)
    ]


def _latest(plot: _Plot, shown: pd.DataFrame, rating: tuple[str, str], indicator: Indicator) -> list[str]:
    latest = shown.dropna(subset=["actual"]).tail(1)
    if latest.empty:
        return []
    rag, basis = rating
    swatch = rag_palette()[rag]
    x, y = plot.x(latest["period"].iloc[0]), plot.y(latest["actual"].iloc[0])
    value = formatting.with_unit(latest["actual"].iloc[0], indicator.unit.value, indicator.decimals)
    title = escape(f"Latest: {value}, {rag} against {basis}")
    return [
        f"<g><title>{title}</title><circle cx='{x}' cy='{y}' r='5.5' fill='{swatch.strong}' stroke='#333' stroke-width='0.8'/>"
        f"<text x='{x}' y='{y + 2.6}' text-anchor='middle' font-size='7' fill='white' {FAMILY}>"
        f"{escape(SYMBOL[rag])}</text></g>"
    ]


def _tick_decimals(tick: float, unit: str, decimals: int) -> int:
    """Decimals for an axis value: none for a whole number; money in thousands with as
    many as the round value needs (``£1.5k``, not ``£2k``)."""
    if unit == formatting.CURRENCY and formatting.in_thousands(tick):
        shown = tick / formatting.THOUSAND
        return next(d for d in range(4) if abs(shown - round(shown, d)) < 1e-9 or d == 3)
    return decimals if tick != round(tick) else 0


def indicator_svg(
    series: pd.DataFrame, indicator: Indicator, rating: tuple[str, str], as_at: int, months: int = 24
) -> str:
    """One indicator's last ``months`` months up to ``as_at`` (from
    :func:`kpis.report.charts.indicator_series`) as an SVG element: actual, last year, target and
    the latest point marked by ``rating`` (its RAG word and what it is against)."""
    shown = window(series, as_at, months)
    first, last = as_at - months + 1, as_at
    label = escape(f"{indicator.name}: the last {months} months to {periods.month_name(as_at)}")
    head = f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {HEIGHT}' role='img' aria-label='{label}'>"
    values = shown[["actual", "last_year", "target"]].to_numpy(dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        text = f"<text x='{WIDTH / 2}' y='{HEIGHT / 2}' text-anchor='middle' fill='#555' {FONT}>No data in these months</text>"
        return head + text + "</svg>"
    ticks = nice_ticks(min(0.0, values.min()), values.max())
    plot = _Plot(first, last, ticks)
    unit, decimals = indicator.unit.value, max(0, min(indicator.decimals, 1))
    parts = [head]
    for tick in ticks:
        y = plot.y(tick)
        parts.append(f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y}' y2='{y}' stroke='#E5E5E5' stroke-width='0.6'/>")
        text = escape(formatting.with_unit(tick, unit, _tick_decimals(tick, unit, decimals)))
        parts.append(f"<text x='{LEFT - 4}' y='{y + 3}' text-anchor='end' fill='#444' {FONT}>{text}</text>")
    for month, anchor in ((first, "start"), (last, "end")):
        text = escape(periods.month_name(month))
        parts.append(
            f"<text x='{plot.x(month)}' y='{HEIGHT - 4}' text-anchor='{anchor}' fill='#444' {FONT}>{text}</text>"
        )
    m = shown["period"]
    parts += _line(
        plot, m, shown["target"], f"stroke='{TARGET_COLOUR}' stroke-width='1.2' stroke-dasharray='1.5 2'", steps=True
    )
    parts += _line(
        plot, m, shown["last_year"], f"stroke='{LAST_YEAR_COLOUR}' stroke-width='1.2' stroke-dasharray='4 2.5'"
    )
    parts += _line(plot, m, shown["actual"], f"stroke='{ACTUAL_COLOUR}' stroke-width='2'")
    if indicator.frequency is Frequency.QUARTERLY:
        parts += _markers(plot, m, shown["actual"], ACTUAL_COLOUR)
    parts += _latest(plot, shown, rating, indicator)
    return "".join(parts) + "</svg>"


LEGEND = (
    f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 330 14' role='img' aria-label='Key to the charts'>"
    f"<line x1='0' x2='18' y1='7' y2='7' stroke='{ACTUAL_COLOUR}' stroke-width='2'/>"
    f"<text x='22' y='10' fill='#333' {FONT}>Actual</text>"
    f"<line x1='62' x2='80' y1='7' y2='7' stroke='{LAST_YEAR_COLOUR}' stroke-width='1.2' stroke-dasharray='4 2.5'/>"
    f"<text x='84' y='10' fill='#333' {FONT}>Last year</text>"
    f"<line x1='134' x2='152' y1='7' y2='7' stroke='{TARGET_COLOUR}' stroke-width='1.2' stroke-dasharray='1.5 2'/>"
    f"<text x='156' y='10' fill='#333' {FONT}>Target</text>"
    f"<circle cx='200' cy='7' r='4.5' fill='#888' stroke='#333' stroke-width='0.8'/>"
    f"<text x='208' y='10' fill='#333' {FONT}>Latest, by its rating</text>"
    "</svg>"
)


SPC_WIDTH, SPC_HEIGHT = 420, 170
SPC_TOP = 14  # room for the trial-limits note


def _spc_runs(months, values, cuts) -> list[list[tuple[int, float]]]:
    runs: list[list[tuple[int, float]]] = [[]]
    for month, value, cut in zip(months, values, cuts, strict=True):
        if cut or pd.isna(value):
            runs.append([])
        if not pd.isna(value):
            runs[-1].append((int(month), float(value)))
    return [run for run in runs if run]


def spc_svg(series: pd.DataFrame, target_line: pd.DataFrame, indicator: Indicator) -> str:
    """One indicator's SPC chart (:func:`kpis.report.charts.spc_series`,
    :func:`kpis.report.charts.spc_target_line`) as an SVG element, drawn as the dashboard draws
    it: points in MDC's colours by type, each segment's mean (solid) and process limits
    (dashed), the line broken at a gap, the target in force (dotted steps) and the
    trajectory ahead (dashed), and the trial-limits note."""
    from kpis.report.icons import COMMON, POINT_COLOURS, POINT_TEXT
    from kpis.report.spc import trial_text

    label = escape(f"{indicator.name}: SPC chart")
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {SPC_WIDTH} {SPC_HEIGHT}' role='img' "
        f"aria-label='{label}' class='spc-chart'>"
    )
    if series.empty:
        text = (
            f"<text x='{SPC_WIDTH / 2}' y='{SPC_HEIGHT / 2}' text-anchor='middle' fill='#555' {FONT}>No values</text>"
        )
        return head + text + "</svg>"
    values = np.concatenate(
        [series[c].to_numpy(dtype=float) for c in ("value", "lower", "upper")] + [target_line["target"].to_numpy(float)]
    )
    values = values[np.isfinite(values)]
    ticks = nice_ticks(values.min(), values.max()) if values.max() > values.min() else [values.min(), values.min() + 1]
    first, last = int(series["period"].min()), int(max(series["period"].max(), target_line["period"].max()))
    plot = _Plot(first, last, ticks)
    plot_width = SPC_WIDTH - LEFT - RIGHT

    def x(month: float) -> float:
        return round(LEFT + (month - first) / max(last - first, 1) * plot_width, 1)

    def y(value: float) -> float:
        span = plot.high - plot.low
        return round(SPC_TOP + (plot.high - value) / span * (SPC_HEIGHT - SPC_TOP - BOTTOM), 1)

    unit, decimals = indicator.unit.value, max(0, min(indicator.decimals, 1))
    parts = [head]
    for tick in ticks:
        parts.append(
            f"<line x1='{LEFT}' x2='{SPC_WIDTH - RIGHT}' y1='{y(tick)}' y2='{y(tick)}' stroke='#E5E5E5' stroke-width='0.6'/>"
        )
        text = escape(formatting.with_unit(tick, unit, _tick_decimals(tick, unit, decimals)))
        parts.append(f"<text x='{LEFT - 4}' y='{y(tick) + 3}' text-anchor='end' fill='#444' {FONT}>{text}</text>")
    for month, anchor in ((first, "start"), (last, "end")):
        parts.append(
            f"<text x='{x(month)}' y='{SPC_HEIGHT - 4}' text-anchor='{anchor}' fill='#444' {FONT}>"
            f"{escape(periods.month_name(month))}</text>"
        )
    segments = series.groupby("segment", sort=True)
    for _, seg in segments:
        x1, x2 = x(seg["period"].iloc[0]), x(seg["period"].iloc[-1])
        for column, style in (
            ("mean", "stroke='#1a1a1a' stroke-width='1.2'"),
            ("upper", "stroke='#5A5A5A' stroke-width='1' stroke-dasharray='4 2.5'"),
            ("lower", "stroke='#5A5A5A' stroke-width='1' stroke-dasharray='4 2.5'"),
        ):
            level = seg[column].iloc[-1]
            if pd.notna(level):
                parts.append(f"<line x1='{x1}' x2='{x2}' y1='{y(level)}' y2='{y(level)}' {style}/>")
    for ahead, dash in ((False, "1.5 2"), (True, "5 3")):
        shown = target_line[target_line["ahead"] == ahead]
        if ahead:
            shown = pd.concat([target_line[~target_line["ahead"]].tail(1), shown])
        for run in _runs(shown["period"], shown["target"]):
            points = []
            for k, (month, value) in enumerate(run):
                if k:
                    points.append(f"{x(month)},{y(run[k - 1][1])}")
                points.append(f"{x(month)},{y(value)}")
            parts.append(
                f"<polyline fill='none' points='{' '.join(points)}' stroke='#C0392B' stroke-width='1.2' "
                f"stroke-dasharray='{dash}'/>"
            )
    cuts = (series["segment"].diff().fillna(0).to_numpy() != 0) | series["gap_before"].to_numpy()
    for run in _spc_runs(series["period"], series["value"], cuts):
        if len(run) > 1:
            line = " ".join(f"{x(m)},{y(v)}" for m, v in run)
            parts.append(f"<polyline fill='none' points='{line}' stroke='{COMMON}' stroke-width='1.2'/>")
    for month, value, point_type in zip(
        series["period"], series["value"], series["point_type"].astype(str), strict=True
    ):
        title = escape(
            f"{periods.month_name(int(month))}: {formatting.with_unit(value, unit, indicator.decimals)}, "
            f"{POINT_TEXT[point_type]}"
        )
        radius = 2.2 if point_type == "common_cause" else 3
        parts.append(
            f"<circle cx='{x(month)}' cy='{y(value)}' r='{radius}' fill='{POINT_COLOURS[point_type]}' "
            f"data-point-type='{point_type}'><title>{title}</title></circle>"
        )
    latest = series.iloc[-1]
    if bool(latest["trial"]):
        note = escape(trial_text(int(latest["segment_points"]), int(latest["min_points"])))
        parts.append(f"<text x='{SPC_WIDTH - RIGHT}' y='10' text-anchor='end' fill='#7a4b00' {FONT}>{note}</text>")
    return "".join(parts) + "</svg>"


SPC_LEGEND = (
    "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 640 14' role='img' aria-label='Key to the SPC charts'>"
    f"<line x1='0' x2='18' y1='7' y2='7' stroke='#1a1a1a' stroke-width='1.2'/><text x='22' y='10' fill='#333' {FONT}>Mean</text>"
    f"<line x1='56' x2='74' y1='7' y2='7' stroke='#5A5A5A' stroke-dasharray='4 2.5'/>"
    f"<text x='78' y='10' fill='#333' {FONT}>Process limits</text>"
    f"<line x1='150' x2='168' y1='7' y2='7' stroke='#C0392B' stroke-dasharray='1.5 2'/>"
    f"<text x='172' y='10' fill='#333' {FONT}>Target (ahead: dashed)</text>"
    f"<circle cx='290' cy='7' r='3' fill='#289DE0'/><text x='297' y='10' fill='#333' {FONT}>Improvement</text>"
    f"<circle cx='370' cy='7' r='3' fill='#FAB428'/><text x='377' y='10' fill='#333' {FONT}>Concern</text>"
    f"<circle cx='432' cy='7' r='3' fill='#361475'/><text x='439' y='10' fill='#333' {FONT}>Neutral</text>"
    f"<circle cx='490' cy='7' r='2.2' fill='#7B7D7D'/><text x='497' y='10' fill='#333' {FONT}>Common cause</text>"
    "</svg>"
)
