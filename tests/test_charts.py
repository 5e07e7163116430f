"""A chart as a file to download (:func:`kpis.report.charts.image`): a PNG or an SVG of
the same figure, drawn by Kaleido in the machine's Chromium."""

from __future__ import annotations

import struct

import plotly.graph_objects as go
import pytest

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
