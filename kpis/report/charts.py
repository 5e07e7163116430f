"""Plotly figures of an indicator: its reported figure over time, the target (a line or a
trajectory), last year's figures, and the latest point marked with its RAG rating.

Lines differ by dash as well as colour, and the rating is written in the hover text and
the marker's symbol, so no reading depends on colour alone.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from kpis import periods
from kpis.catalogue import Catalogue, Frequency, Indicator, Unit
from kpis.report import formatting
from kpis.report.aggregation import aggregate
from kpis.report.palette import SYMBOL, rag_palette
from kpis.report.performance import target_values

ACTUAL_COLOUR = "#1F3A5F"
LAST_YEAR_COLOUR = "#8C8C8C"
TARGET_COLOUR = "#333333"
MARKER_SYMBOL = {"Green": "circle", "Amber": "diamond", "Red": "x", "n/a": "circle-open"}
IMAGE_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}  # a chart's downloads, with their MIME types
IMAGE_WIDTH = 1100  # px: a chart saved as an image (a figure of no width of its own), as wide as a page's


def indicator_series(observations: pd.DataFrame, catalogue: Catalogue, indicator_id: str) -> pd.DataFrame:
    """One indicator's reported figures month by month: ``period`` (month index),
    ``month`` (timestamp), ``actual``, ``last_year`` (the same month a year before) and
    ``target``."""
    own = observations[observations["indicator"] == indicator_id]
    figures = aggregate(own, catalogue)
    figures = figures[figures["indicator"] == indicator_id][["period", "actual"]]
    last_year = figures.assign(period=figures["period"] + 12).rename(columns={"actual": "last_year"})
    series = figures.merge(last_year, on="period", how="left").sort_values("period").reset_index(drop=True)
    series["target"] = target_values(
        catalogue, pd.Series(indicator_id, index=series.index), series["period"]
    ).to_numpy()
    series["month"] = (
        pd.to_datetime(periods.texts(series["period"]) + "-01") if len(series) else pd.Series(dtype="datetime64[ns]")
    )
    return series[["period", "month", "actual", "last_year", "target"]]


def window(series: pd.DataFrame, as_at: int, months: int | None) -> pd.DataFrame:
    """The last ``months`` months of a series up to ``as_at`` (all of it up to then for None)."""
    shown = series[series["period"] <= as_at]
    return shown if months is None else shown[shown["period"] > as_at - months]


def _add_traces(
    fig: go.Figure,
    shown: pd.DataFrame,
    indicator: Indicator,
    rating: tuple[str, str],
    legend: Callable[[str], dict],
    **cell: int,
) -> None:
    """One indicator's lines: actual (solid), last year (dashed), target (dotted steps),
    and the latest point marked by its RAG rating (colour, symbol and name)."""
    mode = "lines+markers" if indicator.frequency is Frequency.QUARTERLY or len(shown) < 13 else "lines"
    money = indicator.unit is Unit.CURRENCY  # £1,234k, which no plotly format can write
    number = (
        "%{customdata}" if money else f"%{{y:,.{indicator.decimals}f}}{'%' if indicator.unit is Unit.PERCENT else ''}"
    )

    def as_shown(values: pd.Series) -> dict:
        return {"customdata": [formatting.currency(v, indicator.decimals) for v in values]} if money else {}

    lines = [
        ("Actual", "actual", mode, {"color": ACTUAL_COLOUR, "width": 2.4}),
        ("Last year", "last_year", mode, {"color": LAST_YEAR_COLOUR, "width": 1.4, "dash": "dash"}),
        ("Target", "target", "lines", {"color": TARGET_COLOUR, "width": 1.4, "dash": "dot", "shape": "hv"}),
    ]
    # A year-to-date figure starts again each April: its lines break there, never a sawtooth.
    breaks = pd.Series((periods.fy_months(shown["period"]) == 1) & indicator.aggregation.is_ytd, index=shown.index)
    for name, column, line_mode, line in lines:
        if shown[column].notna().any():
            x, y = _broken(shown, column, breaks) if column != "target" else (shown["month"], shown[column])
            fig.add_scatter(
                x=x,
                y=y,
                mode=line_mode,
                line=line,
                hovertemplate=f"%{{x|%b %Y}}: {number}<extra>{name}</extra>",
                **as_shown(pd.Series(y, dtype=float)),
                **legend(name),
                **cell,
            )
    latest = shown.dropna(subset=["actual"]).tail(1)
    rag, basis = rating
    if len(latest):
        fig.add_scatter(
            x=latest["month"], y=latest["actual"], mode="markers",
            marker={"color": rag_palette()[rag].strong, "size": 12, "symbol": MARKER_SYMBOL[rag], "line": {"color": TARGET_COLOUR, "width": 1}},
            hovertemplate=f"Latest: {number}, {rag} against {basis}<extra></extra>", **as_shown(latest["actual"]),
            **legend(f"{SYMBOL[rag]} {rag} (latest, against {basis})"), **cell,
        )  # fmt: skip


def _axes(fig: go.Figure, indicator: Indicator, **cell: int) -> None:
    fig.update_yaxes(
        tickprefix="£" if indicator.unit is Unit.CURRENCY else "",
        ticksuffix="%" if indicator.unit is Unit.PERCENT else "",
        tickformat=",",
        rangemode="tozero",
        gridcolor="#E5E5E5",
        **cell,
    )


def indicator_figure(
    series: pd.DataFrame,
    catalogue: Catalogue,
    indicator_id: str,
    as_at: int,
    rating: tuple[str, str] = ("n/a", "target"),
    months: int | None = 24,
    height: int = 260,
    range_selector: bool = False,
) -> go.Figure:
    """The figure for one indicator up to ``as_at``: the last ``months`` months (all
    history when None), with a range selector and slider on request."""
    indicator = catalogue.indicator(indicator_id)
    fig = go.Figure()
    _add_traces(fig, window(series, as_at, months), indicator, rating, lambda name: {"name": name})
    _axes(fig, indicator)
    fig.update_xaxes(tickformat="%b %y", gridcolor="#F0F0F0")
    fig.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 36 if range_selector else 8, "b": 8},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1, "font": {"size": 11}},
        hovermode="x unified" if range_selector else "closest",
        plot_bgcolor="white",
    )
    if range_selector:
        fig.update_xaxes(
            rangeselector={
                "x": 0,
                "y": 1.02,
                "yanchor": "bottom",
                "buttons": [
                    {"count": 1, "label": "1 yr", "step": "year", "stepmode": "backward"},
                    {"count": 2, "label": "2 yrs", "step": "year", "stepmode": "backward"},
                    {"step": "all", "label": "All"},
                ],
            },
            rangeslider={"visible": True, "thickness": 0.08},
        )
    return fig


def _wrap(text: str, width: int = 58) -> str:
    """Break a long indicator name over lines (plotly titles do not wrap)."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + len(word) + 1 > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "<br>".join([*lines, line][:3])


def small_multiples(
    series: dict[str, pd.DataFrame],
    catalogue: Catalogue,
    ratings: dict[str, tuple[str, str]],
    as_at: int,
    months: int = 24,
    columns: int = 2,
    row_height: int = 250,
) -> go.Figure:
    """One figure with a small chart per indicator (in the order of ``series``): the last
    ``months`` months, target, last year and the latest point by RAG. One figure rather
    than one per indicator, so a workstream page draws its charts in a single pass."""
    from plotly.subplots import make_subplots

    ids = list(series)
    rows = max(1, -(-len(ids) // columns))
    fig = make_subplots(
        rows=rows, cols=columns,
        subplot_titles=[_wrap(catalogue.indicator(i).name) for i in ids],
        vertical_spacing=min(0.6 / rows, 0.12), horizontal_spacing=0.08,
    )  # fmt: skip
    seen: set[str] = set()

    def legend(name: str) -> dict:
        first = name not in seen
        seen.add(name)
        return {"name": name, "legendgroup": name, "showlegend": first}

    for position, indicator_id in enumerate(ids):
        cell = {"row": position // columns + 1, "col": position % columns + 1}
        indicator = catalogue.indicator(indicator_id)
        _add_traces(
            fig,
            window(series[indicator_id], as_at, months),
            indicator,
            ratings.get(indicator_id, ("n/a", "target")),
            legend,
            **cell,
        )
        _axes(fig, indicator, **cell)
    fig.update_xaxes(tickformat="%b %y", gridcolor="#F0F0F0")
    fig.update_annotations(font={"size": 12, "color": "#1a1a1a"}, xanchor="left", align="left")
    for annotation, position in zip(fig.layout.annotations, range(len(ids)), strict=False):
        annotation.x = 0 if position % columns == 0 else 0.54
    fig.update_layout(
        height=rows * row_height + 60,
        margin={"l": 8, "r": 8, "t": 70, "b": 8},
        plot_bgcolor="white",
        legend={
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0 + 40 / (rows * row_height),
            "xanchor": "left",
            "x": 0,
        },
        hovermode="closest",
    )
    return fig


# SPC (Making Data Count) ------------------------------------------------------------------


def spc_series(points: pd.DataFrame, catalogue: Catalogue, indicator_id: str) -> pd.DataFrame:
    """One indicator's SPC points (from :func:`kpis.report.integrated.spc_charts`) with
    ``month`` (timestamp) and ``gap_before`` (True where periods are missing before the
    point: the chart breaks its line there, since SPC joins the observed points)."""
    own = points[points["indicator"].astype(str) == indicator_id].reset_index(drop=True)
    step = 3 if catalogue.indicator(indicator_id).frequency is Frequency.QUARTERLY else 1
    gap = own["period"].diff().fillna(step).to_numpy() > step
    month = pd.to_datetime(periods.texts(own["period"]) + "-01") if len(own) else pd.Series(dtype="datetime64[ns]")
    return own.assign(month=month.to_numpy(), gap_before=gap)


def spc_target_line(catalogue: Catalogue, indicator_id: str, first: int, as_at: int) -> pd.DataFrame:
    """The target in force each month from ``first`` to the end of the as-at month's
    financial year (``period, month, target, ahead``; ``ahead``: after ``as_at``, the
    trajectory still to come), as SPC compares with it (none for a sum's target)."""
    from kpis.report.integrated import spc_targets

    last = as_at + 12 - periods.fy_month(as_at)
    step = 3 if catalogue.indicator(indicator_id).frequency is Frequency.QUARTERLY else 1
    months = pd.Series([m for m in range(first, last + 1) if step == 1 or periods.is_quarter_end(m)], dtype="int64")
    target = spc_targets(catalogue)(pd.Series(indicator_id, index=months.index), months)
    return pd.DataFrame(
        {
            "period": months,
            "month": pd.to_datetime(periods.texts(months) + "-01", format="%Y-%m-%d"),
            "target": target.to_numpy(dtype=float),
            "ahead": (months > as_at).to_numpy(),
        }
    )


def _broken(frame: pd.DataFrame, column: str, breaks: pd.Series) -> tuple[list, list]:
    """x and y of a line broken (a None) before each row where ``breaks`` is True."""
    xs: list = []
    ys: list = []
    for month, value, cut in zip(frame["month"], frame[column], breaks, strict=True):
        if cut and xs:
            xs.append(None)
            ys.append(None)
        xs.append(month)
        ys.append(None if pd.isna(value) else value)
    return xs, ys


def spc_figure(
    series: pd.DataFrame,
    target_line: pd.DataFrame,
    indicator: Indicator,
    show_2sigma: bool = False,
    height: int = 440,
) -> go.Figure:
    """The SPC chart of one indicator (:func:`spc_series`, :func:`spc_target_line`):
    the points and their line (broken at a gap), each segment's mean (solid) and process
    limits (dashed), optionally its 2-sigma lines (dotted), special-cause points in MDC's
    colours with their type in the legend and hover text, the stepped target in force
    each month (dotted) and the trajectory ahead (dashed); a trial-limits note."""
    from kpis.report.icons import COMMON, POINT_COLOURS, POINT_TEXT

    fig = go.Figure()
    number = f"%{{y:,.{min(indicator.decimals + 1, 3)}f}}{'%' if indicator.unit is Unit.PERCENT else ''}"
    new_segment = series["segment"].diff().fillna(0).to_numpy() != 0
    cut = pd.Series(new_segment | series["gap_before"].to_numpy(), index=series.index)
    segment_cut = pd.Series(new_segment, index=series.index)
    limits = [
        ("Upper process limit", "upper", {"color": "#5A5A5A", "width": 1.4, "dash": "dash"}),
        ("Mean", "mean", {"color": "#1a1a1a", "width": 1.6}),
        ("Lower process limit", "lower", {"color": "#5A5A5A", "width": 1.4, "dash": "dash"}),
    ]
    if show_2sigma:
        limits += [
            ("Upper 2-sigma", "upper_2sigma", {"color": "#9A9A9A", "width": 1, "dash": "dot"}),
            ("Lower 2-sigma", "lower_2sigma", {"color": "#9A9A9A", "width": 1, "dash": "dot"}),
        ]
    for name, column, line in limits:
        xs, ys = _broken(series, column, segment_cut)
        fig.add_scatter(
            x=xs, y=ys, mode="lines", line=line, name=name, hovertemplate=f"{name}: {number}<extra></extra>"
        )
    for ahead, name, dash in ((False, "Target", "dot"), (True, "Target ahead (trajectory)", "dash")):
        shown = target_line[target_line["ahead"] == ahead]
        if ahead and len(shown) and not target_line[~target_line["ahead"]].empty:
            shown = pd.concat([target_line[~target_line["ahead"]].tail(1), shown])  # joined to the line so far
        if shown["target"].notna().any():
            fig.add_scatter(
                x=shown["month"], y=shown["target"], mode="lines", name=name,
                line={"color": "#C0392B", "width": 1.6, "dash": dash, "shape": "hv"},
                hovertemplate=f"%{{x|%b %Y}}: {number}<extra>{name}</extra>",
            )  # fmt: skip
    xs, ys = _broken(series, "value", cut)
    fig.add_scatter(
        x=xs, y=ys, mode="lines", line={"color": COMMON, "width": 1.6}, name="Value",
        hoverinfo="skip", showlegend=False,
    )  # fmt: skip
    for point_type, colour in POINT_COLOURS.items():
        shown = series[series["point_type"].astype(str) == point_type]
        if shown.empty:
            continue
        fig.add_scatter(
            x=shown["month"], y=shown["value"], mode="markers", name=POINT_TEXT[point_type],
            marker={"color": colour, "size": 9 if point_type != "common_cause" else 7, "line": {"color": "white", "width": 0.8}},
            customdata=[r if r else "no rule" for r in shown["rule"].astype(str)],
            hovertemplate=f"%{{x|%b %Y}}: {number}<br>{POINT_TEXT[point_type]} (%{{customdata}})<extra></extra>",
        )  # fmt: skip
    if len(series) and bool(series["trial"].iloc[-1]):
        from kpis.report.spc import trial_text

        fig.add_annotation(
            text=trial_text(int(series["segment_points"].iloc[-1]), int(series["min_points"].iloc[-1])),
            xref="paper", yref="paper", x=1, y=1.0, xanchor="right", yanchor="bottom", showarrow=False,
            font={"size": 12, "color": "#7a4b00"}, bgcolor="#FFF4E0",
        )  # fmt: skip
    _axes(fig, indicator)
    fig.update_yaxes(rangemode="normal")
    fig.update_xaxes(tickformat="%b %y", gridcolor="#F0F0F0")
    fig.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 28, "b": 8},
        legend={"orientation": "h", "yanchor": "top", "y": -0.08, "xanchor": "left", "x": 0, "font": {"size": 11}},
        hovermode="closest",
        plot_bgcolor="white",
    )
    return fig


BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def images_available() -> bool:
    """Whether this machine can draw a chart as a file: Kaleido needs a Chromium or
    Chrome (``BROWSER_PATH``, as Kaleido reads it, or one on the ``PATH``)."""
    named = os.environ.get("BROWSER_PATH")
    return bool(named and Path(named).is_file()) or any(shutil.which(name) for name in BROWSER_NAMES)


def image(figure: go.Figure, image_format: str) -> bytes:
    """``figure`` as a file of ``image_format`` (:data:`IMAGE_FORMATS`): a PNG at twice
    its size (sharp when pasted into a paper), or an SVG. Drawn by Kaleido in the
    machine's Chromium, the same drawing as the screen's less its range controls."""
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"{image_format!r} is not an image format; use one of {', '.join(IMAGE_FORMATS)}")
    width = figure.layout.width or IMAGE_WIDTH
    # the screen's controls (range buttons, the range slider) mean nothing on paper
    still = go.Figure(figure).update_xaxes(rangeselector_visible=False, rangeslider_visible=False)
    return still.to_image(format=image_format, width=width, scale=2 if image_format == "png" else 1)
