"""Plotly figures of an indicator: its reported figure over time, the target (a line or a
trajectory), last year's figures, and the latest point marked with its RAG rating.

Lines differ by dash as well as colour, and the rating is written in the hover text and
the marker's symbol, so no reading depends on colour alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from kpis import formatting, periods
from kpis.aggregation import aggregate
from kpis.catalogue import Catalogue, Frequency
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


def indicator_figure(
    series: pd.DataFrame,
    catalogue: Catalogue,
    indicator_id: str,
    as_at: int,
    rag: str = "n/a",
    months: int | None = 24,
    height: int = 260,
    range_selector: bool = False,
) -> go.Figure:
    """The figure for one indicator up to ``as_at``: the last ``months`` months (all
    history when None), with a range selector and slider on request."""
    indicator = catalogue.indicator(indicator_id)
    shown = series[series["period"] <= as_at]
    if months is not None:
        shown = shown[shown["period"] > as_at - months]
    d = indicator.decimals
    unit = indicator.unit.value
    label = [periods.label(int(p), indicator.frequency.value) for p in shown["period"]]
    fig = go.Figure()
    mode = "lines+markers" if indicator.frequency is Frequency.QUARTERLY or len(shown) < 13 else "lines"
    fig.add_scatter(
        x=shown["month"], y=shown["actual"], name="Actual", mode=mode,
        line={"color": ACTUAL_COLOUR, "width": 2.5},
        customdata=np.column_stack([label, [formatting.with_unit(v, unit, d) for v in shown["actual"]]]) if len(shown) else None,
        hovertemplate="%{customdata[0]}: %{customdata[1]}<extra>Actual</extra>",
    )  # fmt: skip
    if shown["last_year"].notna().any():
        fig.add_scatter(
            x=shown["month"], y=shown["last_year"], name="Last year", mode=mode,
            line={"color": LAST_YEAR_COLOUR, "width": 1.5, "dash": "dash"},
            hovertemplate="%{x|%b %Y} last year: %{y:,.{d}f}<extra></extra>".replace("{d}", str(d)),
        )  # fmt: skip
    if shown["target"].notna().any():
        fig.add_scatter(
            x=shown["month"], y=shown["target"], name="Target", mode="lines",
            line={"color": TARGET_COLOUR, "width": 1.5, "dash": "dot", "shape": "hv"},
            hovertemplate="%{x|%b %Y} target: %{y:,.{d}f}<extra></extra>".replace("{d}", str(d)),
        )  # fmt: skip
    latest = shown.dropna(subset=["actual"]).tail(1)
    if len(latest):
        swatch = rag_palette()[rag]
        fig.add_scatter(
            x=latest["month"], y=latest["actual"], name=f"{SYMBOL[rag]} {rag}", mode="markers",
            marker={"color": swatch.strong, "size": 13, "symbol": MARKER_SYMBOL[rag], "line": {"color": TARGET_COLOUR, "width": 1}},
            hovertemplate=f"Latest: %{{y:,.{d}f}} — {rag} against target<extra></extra>",
        )  # fmt: skip
    fig.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 36 if range_selector else 8, "b": 8},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1, "font": {"size": 11}},
        hovermode="x unified" if range_selector else "closest",
        plot_bgcolor="white",
        yaxis={
            "gridcolor": "#E5E5E5",
            "ticksuffix": "%" if unit == "percent" else "",
            "tickformat": ",",
            "rangemode": "tozero",
        },
        xaxis={"gridcolor": "#F0F0F0", "tickformat": "%b %y"},
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
