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
from kpis.report.charts import TARGET_COLOUR, window
from kpis.report.palette import SYMBOL, rag_palette

WIDTH, HEIGHT = 300, 136
LEFT, RIGHT, TOP, BOTTOM = 46, 10, 14, 26  # room for the latest value above, months and years below
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

    def __init__(self, first: float, last: float, ticks: list[float]):
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


def _tick_decimals(tick: float, unit: str, decimals: int) -> int:
    """Decimals for an axis value: none for a whole number; money in thousands with as
    many as the round value needs (``£1.5k``, not ``£2k``)."""
    if unit == formatting.CURRENCY and formatting.in_thousands(tick):
        shown = tick / formatting.THOUSAND
        return next(d for d in range(4) if abs(shown - round(shown, d)) < 1e-9 or d == 3)
    return decimals if tick != round(tick) else 0


MONTH_LETTERS = "JFMAMJJASOND"  # January first, as month index % 12
BAR_COLOUR = "#9DB3CF"  # the months before the latest; the latest is in its rating's colour


def what_bars_show(indicator: Indicator) -> str:
    """What one bar is: the figure the KPI table reports for that month."""
    if indicator.aggregation.is_ytd:
        return "the year-to-date figure at each month (it starts again each April)"
    if indicator.aggregation.is_rolling:
        return "the rolling 12-month figure at each month"
    return "each quarter's figure" if indicator.frequency is Frequency.QUARTERLY else "each month's figure"


def chart_text(shown: pd.DataFrame, indicator: Indicator, rating: tuple[str, str], first: int, last: int) -> str:
    """The chart's text alternative: what it shows and the latest value with its rating."""
    unit, d = indicator.unit.value, indicator.decimals
    text = (
        f"{indicator.name}: bar chart of {what_bars_show(indicator)}, "
        f"{periods.month_name(first)} to {periods.month_name(last)}"
    )
    if shown["target"].notna().any():
        text += ", with the target as a dotted line"
    latest = shown.dropna(subset=["actual"]).tail(1)
    if latest.empty:
        return text + ". No figure in these months."
    rag, basis = rating
    record = latest.iloc[0]
    text += (
        f". Latest, {periods.month_name(int(record['period']))}: "
        f"{formatting.with_unit(record['actual'], unit, d)}, {rag} against {basis}"
    )
    if pd.notna(record["target"]):
        text += f" (target {formatting.with_unit(record['target'], unit, d)})"
    return text + "."


def indicator_svg(
    series: pd.DataFrame, indicator: Indicator, rating: tuple[str, str], as_at: int, months: int = 24
) -> str:
    """One indicator's last ``months`` months up to ``as_at`` (from
    :func:`kpis.report.charts.indicator_series`) as an SVG bar chart a figure can be read
    from: a bar per month of the figure the KPI table reports (year to date, rolling or in
    month), the target as dotted steps broken at each financial year, a letter under each
    month and the financial year under its months, and the latest bar in its rating's
    colour and symbol with its value written above it. ``role="img"`` with a ``<title>``
    and ``aria-label`` saying what it shows and the latest value."""
    shown = window(series, as_at, months)
    first, last = as_at - months + 1, as_at
    alt = escape(chart_text(shown, indicator, rating, first, last), quote=True)
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {WIDTH} {HEIGHT}' role='img' aria-label='{alt}' "
        f"class='kpi-chart'><title>{alt}</title>"
    )
    values = shown[["actual", "target"]].to_numpy(dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        text = f"<text x='{WIDTH / 2}' y='{HEIGHT / 2}' text-anchor='middle' fill='#555' {FONT}>No data in these months</text>"
        return head + _month_axis(first, last) + text + "</svg>"
    ticks = nice_ticks(min(0.0, values.min()), max(0.0, values.max()))
    plot = _Plot(first - 0.5, last + 0.5, ticks)
    unit, decimals = indicator.unit.value, max(0, min(indicator.decimals, 1))
    parts = [head]
    for tick in ticks:
        y = plot.y(tick)
        parts.append(f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{y}' y2='{y}' stroke='#E5E5E5' stroke-width='0.6'/>")
        text = escape(formatting.with_unit(tick, unit, _tick_decimals(tick, unit, decimals)))
        parts.append(f"<text x='{LEFT - 4}' y='{y + 3}' text-anchor='end' fill='#444' {FONT}>{text}</text>")
    parts.append(_month_axis(first, last, plot))
    slot = plot.x(1) - plot.x(0)
    zero = plot.y(0.0)
    actual = shown.dropna(subset=["actual"])
    latest = int(actual["period"].iloc[-1]) if len(actual) else None
    rag = rating[0]
    swatch = rag_palette()[rag]
    for month, value in zip(actual["period"], actual["actual"], strict=True):
        top, bottom = sorted((plot.y(float(value)), zero))
        fill = swatch.strong if month == latest else BAR_COLOUR
        stroke = " stroke='#333' stroke-width='0.6'" if month == latest else ""
        parts.append(
            f"<rect x='{round(plot.x(month) - slot * 0.36, 1)}' y='{top}' width='{round(slot * 0.72, 1)}' "
            f"height='{max(round(bottom - top, 1), 0.4)}' fill='{fill}'{stroke}/>"
        )
    parts += _target_steps(plot, shown, slot)
    if latest is not None:
        value = float(actual["actual"].iloc[-1])
        label = f"{SYMBOL[rag]} {formatting.with_unit(value, indicator.unit.value, indicator.decimals)}"
        # above the plot, right-aligned to the latest bar (the last slot): never over a bar
        parts.append(
            f"<text x='{max(min(plot.x(latest) + slot / 2, WIDTH - RIGHT), LEFT + 70)}' y='{TOP - 3}' text-anchor='end' "
            f"font-weight='bold' fill='#1a1a1a' {FAMILY} font-size='10'>{escape(label)}</text>"
        )
    return "".join(parts) + "</svg>"


def _month_axis(first: int, last: int, plot: _Plot | None = None) -> str:
    """A letter under each month, a tick before each April, and each financial year's label
    (``2020/21``) under its months."""
    plot = plot or _Plot(first - 0.5, last + 0.5, [0.0, 1.0])
    base = HEIGHT - BOTTOM
    parts = [f"<line x1='{LEFT}' x2='{WIDTH - RIGHT}' y1='{base}' y2='{base}' stroke='#888' stroke-width='0.6'/>"]
    for month in range(first, last + 1):
        parts.append(
            f"<text x='{plot.x(month)}' y='{base + 8}' text-anchor='middle' fill='#555' {FAMILY} font-size='6.5'>"
            f"{MONTH_LETTERS[month % 12]}</text>"
        )
    years: dict[int, list[int]] = {}
    for month in range(first, last + 1):
        years.setdefault(periods.fy_start_year(month), []).append(month)
    for start, members in years.items():
        if members[0] != first or periods.fy_month(members[0]) == 1:
            x = plot.x(members[0] - 0.5)
            parts.append(f"<line x1='{x}' x2='{x}' y1='{TOP}' y2='{base + 16}' stroke='#BBB' stroke-width='0.6'/>")
        middle = (plot.x(members[0] - 0.5) + plot.x(members[-1] + 0.5)) / 2
        label = periods.fy_label(start) if len(members) >= 3 else ""
        parts.append(
            f"<text x='{round(middle, 1)}' y='{base + 16}' text-anchor='middle' fill='#444' {FONT}>{label}</text>"
        )
    return "".join(parts)


def _target_steps(plot: _Plot, shown: pd.DataFrame, slot: float) -> list[str]:
    """The target as a dotted step across each month's slot, joined within a financial
    year and broken at a gap or a new year (a year's target never runs into the next)."""
    out = []
    run: list[str] = []
    previous: int | None = None
    for month, value in zip(shown["period"], shown["target"], strict=True):
        month = int(month)
        new_year = previous is not None and periods.fy_start_year(month) != periods.fy_start_year(previous)
        if pd.isna(value) or new_year or (previous is not None and month != previous + 1):
            if len(run) > 1:
                out.append(run)
            run = []
        if pd.notna(value):
            y = plot.y(float(value))
            run += [f"{round(plot.x(month) - slot / 2, 1)},{y}", f"{round(plot.x(month) + slot / 2, 1)},{y}"]
        previous = month
    if len(run) > 1:
        out.append(run)
    return [
        f"<polyline fill='none' points='{' '.join(points)}' stroke='{TARGET_COLOUR}' stroke-width='1.4' "
        f"stroke-dasharray='2 1.5'/>"
        for points in out
    ]


LEGEND = (
    f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 470 14' role='img' aria-label='Key to the charts'>"
    f"<title>Key to the charts</title>"
    f"<rect x='0' y='2' width='10' height='10' fill='{BAR_COLOUR}'/>"
    f"<text x='14' y='10' fill='#333' {FONT}>The reported figure</text>"
    f"<line x1='112' x2='130' y1='7' y2='7' stroke='{TARGET_COLOUR}' stroke-width='1.4' stroke-dasharray='2 1.5'/>"
    f"<text x='134' y='10' fill='#333' {FONT}>Target</text>"
    f"<rect x='176' y='2' width='10' height='10' fill='#888' stroke='#333' stroke-width='0.6'/>"
    f"<text x='190' y='10' fill='#333' {FONT}>The latest: its rating's colour, its value and symbol above</text>"
    "</svg>"
)


SPC_WIDTH, SPC_HEIGHT = 420, 170
SPC_TOP = 14  # room for the trial-limits note
SPC_BOTTOM = 18  # the first and last months


def _spc_runs(months, values, cuts) -> list[list[tuple[int, float]]]:
    runs: list[list[tuple[int, float]]] = [[]]
    for month, value, cut in zip(months, values, cuts, strict=True):
        if cut or pd.isna(value):
            runs.append([])
        if not pd.isna(value):
            runs[-1].append((int(month), float(value)))
    return [run for run in runs if run]


def spc_text(series: pd.DataFrame, indicator: Indicator) -> str:
    """An SPC chart's text alternative: what it shows, the latest value and the limits."""
    from kpis.report.icons import POINT_TEXT

    if series.empty:
        return f"{indicator.name}: SPC chart, no values."
    unit, d = indicator.unit.value, indicator.decimals
    latest = series.iloc[-1]
    text = (
        f"{indicator.name}: SPC chart of the values {periods.month_name(int(series['period'].min()))} to "
        f"{periods.month_name(int(latest['period']))}. Latest: {formatting.with_unit(latest['value'], unit, d)}, "
        f"{POINT_TEXT[str(latest['point_type'])]}"
    )
    if pd.notna(latest["mean"]):
        shown = [formatting.with_unit(latest[c], unit, min(d + 1, 3)) for c in ("mean", "lower", "upper")]
        text += f"; mean {shown[0]}, process limits {shown[1]} to {shown[2]}"
    return text + "."


def spc_svg(series: pd.DataFrame, target_line: pd.DataFrame, indicator: Indicator) -> str:
    """One indicator's SPC chart (:func:`kpis.report.charts.spc_series`,
    :func:`kpis.report.charts.spc_target_line`) as an SVG element, drawn as the dashboard draws
    it: points in MDC's colours by type, each segment's mean (solid) and process limits
    (dashed), the line broken at a gap, the target in force (dotted steps) and the
    trajectory ahead (dashed), and the trial-limits note."""
    from kpis.report.icons import COMMON, POINT_COLOURS, POINT_TEXT
    from kpis.report.spc import trial_text

    label = escape(spc_text(series, indicator), quote=True)
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {SPC_WIDTH} {SPC_HEIGHT}' role='img' "
        f"aria-label='{label}' class='spc-chart'><title>{label}</title>"
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
        return round(SPC_TOP + (plot.high - value) / span * (SPC_HEIGHT - SPC_TOP - SPC_BOTTOM), 1)

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
