"""The Making Data Count icons as small inline SVGs, in MDC's style and colours: a
variation icon (a circle in the colour of the special cause, with ``H`` or ``L`` for a high
or low one; grey without a letter for common cause) and an assurance icon (``P`` pass in
blue, ``F`` fail in orange, ``?`` hit and miss in grey). Every icon carries its word as its
title, and the screens and the pack print the word beside it: colour is never the only cue.
"""

from __future__ import annotations

import base64
from html import escape

from kpis.report.integrated import ASSURANCE_TEXT, VARIATION_TEXT

# MDC's colours (as NHSRplotthedots draws them): improvement blue, concern orange,
# neutral purple, common cause and hit-and-miss grey.
IMPROVEMENT = "#289DE0"
CONCERN = "#FAB428"
NEUTRAL = "#361475"
COMMON = "#7B7D7D"
POINT_COLOURS = {
    "common_cause": COMMON,
    "special_cause_improvement": IMPROVEMENT,
    "special_cause_concern": CONCERN,
    "special_cause_neutral": NEUTRAL,
}
POINT_TEXT = {
    "common_cause": "Common cause",
    "special_cause_improvement": "Special cause improvement",
    "special_cause_concern": "Special cause concern",
    "special_cause_neutral": "Special cause neutral",
}
_VARIATION = {  # colour, letter
    "common_cause": (COMMON, ""),
    "improvement_high": (IMPROVEMENT, "H"),
    "improvement_low": (IMPROVEMENT, "L"),
    "concern_high": (CONCERN, "H"),
    "concern_low": (CONCERN, "L"),
    "neutral_high": (NEUTRAL, "H"),
    "neutral_low": (NEUTRAL, "L"),
    "n/a": ("#B0B0B0", "–"),
}
_ASSURANCE = {
    "pass": (IMPROVEMENT, "P"),
    "fail": (CONCERN, "F"),
    "hit_and_miss": (COMMON, "?"),
    "n/a": ("#B0B0B0", "–"),
}
FONT = "font-family='DejaVu Sans, Liberation Sans, Arial, sans-serif'"


def _icon(colour: str, letter: str, title: str, size: int, dots: bool = False, dashed: bool = False) -> str:
    ring = "stroke-dasharray='3 2'" if dashed else ""
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{size}' height='{size}' viewBox='0 0 40 40' role='img' "
        f"aria-label='{escape(title)}' class='mdc-icon'><title>{escape(title)}</title>",
        f"<circle cx='20' cy='20' r='17' fill='white' stroke='{colour}' stroke-width='4' {ring}/>",
    ]
    if dots:  # common cause: a level run of points, as MDC draws it
        parts += [f"<circle cx='{x}' cy='22' r='2.6' fill='{colour}'/>" for x in (10, 16, 22, 28)]
    if letter:
        parts.append(
            f"<text x='20' y='27' text-anchor='middle' font-size='20' font-weight='700' fill='{colour}' {FONT}>"
            f"{escape(letter)}</text>"
        )
    return "".join(parts) + "</svg>"


def variation_svg(variation: str, size: int = 22) -> str:
    """The variation icon of ``variation`` (a word of :data:`kpis.report.spc.VARIATIONS`)."""
    colour, letter = _VARIATION[variation]
    title = f"Variation: {VARIATION_TEXT[variation]}"
    return _icon(colour, letter, title, size, dots=variation == "common_cause", dashed=variation == "n/a")


def assurance_svg(assurance: str, size: int = 22) -> str:
    """The assurance icon of ``assurance`` (``pass``, ``fail``, ``hit_and_miss``, ``n/a``)."""
    colour, letter = _ASSURANCE[assurance]
    return _icon(colour, letter, f"Assurance: {ASSURANCE_TEXT[assurance]}", size, dashed=assurance == "n/a")


def data_uri(svg: str) -> str:
    """An SVG as a ``data:`` URI, for an image column of a table."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def image_html(svg: str, size: int, text: str) -> str:
    """An icon as an ``<img>`` of its ``data:`` URI, for pages whose HTML is sanitised of
    inline SVG (Streamlit's ``st.html``)."""
    return f"<img src='{data_uri(svg)}' width='{size}' height='{size}' alt='{escape(text)}' title='{escape(text)}'>"


def icons_html(variation: str, assurance: str, size: int = 22, as_images: bool = False) -> str:
    """Both icons, each followed by its word: ``[H] Concern (high) [F] Fail``; inline SVG
    (the board pack), or ``as_images`` (the screens)."""
    words = (VARIATION_TEXT[variation], ASSURANCE_TEXT[assurance])
    drawn: tuple[str, ...] = (variation_svg(variation, size), assurance_svg(assurance, size))
    if as_images:
        drawn = tuple(
            image_html(svg, size, f"{kind}: {word}")
            for svg, kind, word in zip(drawn, ("Variation", "Assurance"), words, strict=True)
        )
    return " ".join(
        f"<span class='mdc'>{icon} <span class='mdc-word'>{escape(word)}</span></span>"
        for icon, word in zip(drawn, words, strict=True)
    )
