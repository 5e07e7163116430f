"""The RAG palette, read from ``.streamlit/config.toml`` so the app's theme, its tables and
its charts share one set of colours (the engine itself never imports Streamlit)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
# Streamlit's named colour for each rating, as used by st.badge and :color[...] Markdown.
StreamlitColour = Literal["green", "orange", "red", "gray"]
STREAMLIT_COLOUR: dict[str, StreamlitColour] = {"Green": "green", "Amber": "orange", "Red": "red", "n/a": "gray"}
SYMBOL = {"Green": "✔", "Amber": "▲", "Red": "✖", "n/a": "–"}
TREND_SYMBOL = {"better": "↑", "same": "→", "worse": "↓", "n/a": "–"}
TREND_TEXT = {
    "better": f"{TREND_SYMBOL['better']} better than last year",
    "same": f"{TREND_SYMBOL['same']} same as last year",
    "worse": f"{TREND_SYMBOL['worse']} worse than last year",
    "n/a": "no last-year figure to compare",
}  # a tile's line on the trend


@dataclass(frozen=True)
class Swatch:
    strong: str  # lines, markers, borders
    background: str  # cell and tile fills
    text: str  # text on the background


@cache
def rag_palette(config: Path = CONFIG) -> dict[str, Swatch]:
    theme = tomllib.loads(config.read_text(encoding="utf-8"))["theme"]
    return {
        rag: Swatch(theme[f"{name}Color"], theme[f"{name}BackgroundColor"], theme[f"{name}TextColor"])
        for rag, name in STREAMLIT_COLOUR.items()
    }


def rag_label(rag: str) -> str:
    """``✖ Red``: the word and a symbol, never colour alone."""
    return f"{SYMBOL.get(rag, '–')} {rag}"


def trend_label(trend: str) -> str:
    """``↓ worse``: the arrow means performance against last year, not the number's direction."""
    return f"{TREND_SYMBOL.get(trend, '–')} {trend}"
