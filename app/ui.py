"""Shared pieces of the screens: the RAG look, tiles, styled tables, empty states."""

from __future__ import annotations

import html
import re

import pandas as pd
import streamlit as st

from kpis.catalogue import Catalogue
from kpis.governance import narrative
from kpis.report import presentation
from kpis.report.palette import STREAMLIT_COLOUR, SYMBOL, TREND_TEXT, rag_label, rag_palette
from kpis.spreadsheet import safe_csv

# What Markdown (CommonMark, GFM, Streamlit's $maths$) could read as markup anywhere in a
# line: a backslash makes each plain. A bare web address is made a link after escapes are
# read (GFM's autolinks), so a word joiner (U+2060, invisible) goes after its "https:" or
# "www" instead. A bare email may still show as a mail link: it opens no page.
_MARKUP = re.compile(r"([\\`*_\[\]<>!#|~$&{}])")
_LINE_START = re.compile(r"^(\d+)([.)])|^([-+=])")
_BARE_LINK = re.compile(r"(?i)(:)(?=//)|(www)(?=\.)")
WORD_JOINER = "\u2060"
RISK_PARAM = "risk"  # the risk edit page's query parameter: the risk to open (the register links to it)


def plain(value: object) -> str:
    """A value a user or another system supplied (a file name, ``loaded_by``, an owner,
    a name from the identity provider, an engine message quoting them), made safe to put
    in any Streamlit text that renders Markdown (``st.markdown``, ``st.caption``,
    ``st.error``, titles, labels): it shows as written, on one line, and never becomes a
    web link, an image, HTML or formatting."""
    text = _MARKUP.sub(r"\\\1", " ".join(str(value).split()))
    text = _LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text)
    return _BARE_LINK.sub(lambda m: m[0] + WORD_JOINER, text)


def inject_css() -> None:
    """Tile and table styling keyed to the RAG palette (once per run)."""
    palette = rag_palette()
    rules = [
        f"[class*='st-key-tile-{rag.replace('/', '')}-'] {{ background: {s.background}; border-left: 8px solid {s.strong} !important; }}"
        for rag, s in palette.items()
    ]
    rules.append("[class*='st-key-tile-'] p { margin-bottom: 0.1rem; }")
    rules.append(".tile-value { font-size: 2.1rem; font-weight: 700; line-height: 1.15; color: #1a1a1a; }")
    rules.append(".tile-name { font-size: 0.95rem; font-weight: 600; min-height: 2.6em; color: #1a1a1a; }")
    rules.append(".tile-comparator { font-size: 1.0rem; color: #2b2b2b; }")
    rules.append(".mdc { white-space: nowrap; margin-right: 0.6rem; } .mdc img { vertical-align: middle; }")
    rules.append(".mdc-word { font-size: 0.85rem; font-weight: 600; color: #1a1a1a; }")
    st.html("<style>" + "\n".join(rules) + "</style>")


def rag_badge(rag: str, suffix: str = "") -> None:
    st.badge(f"{rag_label(rag)}{suffix}", color=STREAMLIT_COLOUR.get(rag, "gray"))


def tile(row: pd.Series, key: str, spc_html: str = "") -> st.delta_generator.DeltaGenerator:
    """A headline tile: name, value with unit, target or last year, RAG colour **and**
    word, the arrow against last year, and (``spc_html``) the SPC icons with their words.
    Returns the tile's container."""
    box = st.container(border=True, key=f"tile-{row['rag'].replace('/', '')}-{key}")
    with box:
        st.html(f"<div class='tile-name'>{html.escape(row['name'])}</div>")
        st.html(f"<div class='tile-value'>{html.escape(row['value'])}</div>")
        st.html(f"<div class='tile-comparator'>{html.escape(row['comparator'])}</div>")
        rag_badge(row["rag"], f" · against {row['rag_basis']}")
        st.caption(f"{TREND_TEXT[row['trend']]} · {row['period_label']}")
        if spc_html:
            st.html(f"<div class='tile-spc'>{spc_html}</div>")
    return box


def style_board(board: pd.DataFrame):
    """The board table with RAG cells filled (by rating against target, and the trend by
    rating against last year)."""
    palette = rag_palette()

    def fill(rag: str) -> str:
        swatch = palette.get(rag, palette["n/a"])
        return f"background-color: {swatch.background}; color: {swatch.text}; font-weight: 600"

    styler = board.style
    styler = styler.apply(lambda _: [fill(r) for r in board["rag_target"]], subset=["RAG"], axis=0)
    styler = styler.apply(lambda _: [fill(r) for r in board["rag_last_year"]], subset=["Trend"], axis=0)
    return styler


def style_counts(frame: pd.DataFrame):
    """A RAG summary: each count column tinted with its rating's colour."""
    palette = rag_palette()
    styler = frame.style
    for column in frame.columns:
        word = column.split(": ")[-1]
        if word in palette:
            swatch = palette[word]
            styler = styler.map(
                lambda v, s=swatch: f"background-color: {s.background}; color: {s.text}" if v else "", subset=[column]
            )
    return styler


def summary_metrics(summary: pd.DataFrame, workstream: str) -> None:
    """One workstream's RAG summary, against target and against last year."""
    for label, counts in presentation.summary_counts(summary, workstream):
        st.markdown(
            f"**{label}:** "
            + " · ".join(f":{STREAMLIT_COLOUR[w]}-background[{SYMBOL[w]} {w} **{n}**]" for w, n in counts)
        )


def no_data() -> None:
    st.info(
        "**No data yet.** A performance officer loads the monthly extract, a CSV file with the "
        "columns `indicator,period,value`, with `python -m kpis ingest FILE` "
        "(see the README, “Extract format”). The dashboard fills in as soon as it is loaded.",
        icon=":material/upload_file:",
    )


def commentary(text: str) -> None:
    """A progress commentary as the board reads it (the board pack's rendering): Markdown,
    with any raw HTML shown as text, and no Streamlit Markdown extras (a ``$`` in a
    commentary is a pound or dollar sign, not the start of a formula)."""
    st.html(f"<div class='commentary'>{narrative.to_html(text)}</div>")


def saved_line(row: pd.Series) -> str:
    """``Version 2, saved by jo on 23 Nov 2026 14:05 UTC``."""
    return f"Version {int(row['version'])}, saved by {plain(row['saved_by'])} on {row['saved_at']:%d %b %Y %H:%M} UTC"


def problems_table(problems: pd.DataFrame, key: str, file_name: str, download_key: str | None = None) -> None:
    """A rejected file's problems (row, column, value, problem, how to fix it), and the
    same as a CSV download (``problems-<file name>``)."""
    # On screen the file is the heading's and a CSV has no sheet; the download keeps every column.
    sheet = ["sheet"] if "sheet" in problems and (problems["sheet"] != "").any() else []
    st.dataframe(
        problems.assign(row=problems["row"].map(lambda r: str(r) if r else "whole file")),
        hide_index=True,
        key=key,
        column_order=[*sheet, "row", "column", "value", "problem", "hint", "code"],
        column_config={
            "sheet": "Sheet",
            "code": st.column_config.TextColumn("Code", help="The kind of problem, as the README lists them"),
            "row": st.column_config.TextColumn("Row", width="small"),
            "column": "Column",
            "value": "Value",
            "problem": st.column_config.TextColumn("Problem", width="large"),
            "hint": st.column_config.TextColumn("How to fix it", width="large"),
        },
    )
    st.download_button(
        "Download the problems (CSV)",
        safe_csv(problems),
        file_name=f"problems-{file_name}",
        mime="text/csv",
        icon=":material/download:",
        key=download_key,
    )


def owner_label(catalogue: Catalogue, initials: str) -> str:
    """``DC — Associate Director, Integrated Care`` (the report's key)."""
    title = catalogue.owners.get(initials)
    return f"{initials} — {title}" if title else initials
