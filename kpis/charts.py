"""Plotly figures of an indicator: its reported figure over time, the target (a line or a
trajectory), last year's figures, and the latest point marked with its RAG rating.

Lines differ by dash as well as colour, and the rating is written in the hover text and
the marker's symbol, so no reading depends on colour alone.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from kpis import formatting, periods
from kpis.aggregation import aggregate
from kpis.catalogue import Catalogue, Frequency, Indicator, Unit
from kpis.palette import SYMBOL, rag_palette
from kpis.performance import target_values

ACTUAL_COLOUR = "#1F3A5F"
LAST_YEAR_COLOUR = "#8C8C8C"
TARGET_COLOUR = "#333333"
MARKER_SYMBOL = {"Green": "circle", "Amber": "diamond", "Red": "x", "n/a": "circle-open"}


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
    for name, column, line_mode, line in lines:
        if shown[column].notna().any():
            fig.add_scatter(
                x=shown["month"],
                y=shown[column],
                mode=line_mode,
                line=line,
                hovertemplate=f"%{{x|%b %Y}}: {number}<extra>{name}</extra>",
                **as_shown(shown[column]),
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
