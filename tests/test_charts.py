"""A chart as a file to download (:func:`kpis.report.charts.image`): a PNG or an SVG of
the same figure, drawn by Kaleido in the machine's Chromium."""

from __future__ import annotations

import struct

import pandas as pd
import plotly.graph_objects as go
import pytest

from kpis import periods
from kpis.report import charts
from tests.browser import chromium_path
from tests.conftest import require


@pytest.fixture(scope="module")
def figure() -> go.Figure:
    require("Chromium", chromium_path(), "install Debian's chromium to draw charts as images")
    return go.Figure(go.Scatter(x=["Oct 2020", "Nov 2020"], y=[1692, 1748], name="Actual")).update_layout(
        title="Non-elective admissions", height=300
    )


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", content[16:24])  # the IHDR chunk: width, height


def test_a_png_is_the_figure_at_twice_its_size(figure):
    assert png_size(charts.image(figure, "png")) == (2 * charts.IMAGE_WIDTH, 2 * 300)
    assert png_size(charts.image(go.Figure(figure).update_layout(width=500), "png")) == (1000, 600)


def test_an_svg_holds_the_figures_text(figure):
    svg = charts.image(figure, "svg").decode()
    assert svg.startswith("<svg") and 'width="1100"' in svg
    assert "Non-elective admissions" in svg and "Nov 2020" in svg


def test_an_unknown_format_is_refused_naming_the_ones_there_are():
    with pytest.raises(ValueError, match=r"'jpeg' is not an image format; use one of png, svg"):
        charts.image(go.Figure(), "jpeg")


def test_the_screens_range_controls_are_left_off_the_picture(figure):
    with_controls = go.Figure(figure).update_xaxes(
        rangeslider_visible=True,
        rangeselector={"buttons": [{"count": 1, "label": "1 yr", "step": "year", "stepmode": "backward"}]},
    )
    svg = charts.image(with_controls, "svg").decode()
    assert "rangeslider" not in svg and "1 yr" not in svg
    assert "rangeslider" in with_controls.to_image(format="svg").decode()  # what the check would find
    assert with_controls.layout.xaxis.rangeslider.visible  # the screen's figure is left as it was


def test_a_machine_without_chromium_cannot_draw_images(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser on the PATH
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    assert not charts.images_available()
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    assert charts.images_available()


def _actual(catalogue, indicator_id: str, series: pd.DataFrame) -> go.Scatter:
    fig = charts.indicator_figure(series, catalogue, indicator_id, periods.parse_period("2021-03"), months=None)
    return next(trace for trace in fig.data if trace.name == "Actual")


def test_a_year_to_date_line_breaks_at_each_april_and_an_in_month_line_does_not(catalogue):
    months = list(range(periods.parse_period("2019-04"), periods.parse_period("2021-04")))  # two financial years
    rows = [("nel_admissions", m, 100.0) for m in months] + [("mofd_bed_occupancy", m, 5.0) for m in months]
    observations = pd.DataFrame(rows, columns=["indicator", "period", "value"]).assign(
        numerator=float("nan"), denominator=float("nan"), note=None, revision=1, extract_id=1
    )
    observations["indicator"] = observations["indicator"].astype("category")
    ytd = _actual(catalogue, "nel_admissions", charts.indicator_series(observations, catalogue, "nel_admissions"))
    gap = list(ytd.x).index(None)
    assert pd.Timestamp(ytd.x[gap + 1]) == pd.Timestamp("2020-04-01")  # the line starts again in April
    assert (ytd.y[gap - 1], ytd.y[gap + 1]) == (1200.0, 100.0)  # March's year total, April's first month
    assert list(ytd.x).count(None) == 1
    in_month = _actual(
        catalogue, "mofd_bed_occupancy", charts.indicator_series(observations, catalogue, "mofd_bed_occupancy")
    )
    assert None not in list(in_month.x) and len(in_month.x) == 24
