"""Shared pieces of the screens: the RAG look, tiles, styled tables, empty states, links
between pages, and what a page says after a write (done, or the database busy)."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlencode

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from app import state
from app.state import AS_AT_PARAM, Pages
from kpis import periods, sample
from kpis.catalogue import Catalogue
from kpis.errors import first_listed
from kpis.governance import narrative
from kpis.report import charts, presentation
from kpis.report.palette import STREAMLIT_COLOUR, SYMBOL, TREND_TEXT, rag_label, rag_palette
from kpis.spreadsheet import safe_csv

if TYPE_CHECKING:  # a type only: Streamlit does not export it
    from streamlit.elements.lib.column_types import ColumnConfig

# What Markdown (CommonMark, GFM, Streamlit's $maths$) could read as markup anywhere in a
# line: a backslash makes each plain. A bare web address is made a link after escapes are
# read (GFM's autolinks), so a word joiner (U+2060, invisible) goes after its "https:" or
# "www" instead. A bare email may still show as a mail link: it opens no page.
_MARKUP = re.compile(r"([\\`*_\[\]<>!#|~$&{}])")
_LINE_START = re.compile(r"^(\d+)([.)])|^([-+=])")
_BARE_LINK = re.compile(r"(?i)(:)(?=//)|(www)(?=\.)")
WORD_JOINER = "\u2060"
INDICATOR_PARAM = "id"  # the indicator page's query parameter: the indicator to open
RISK_PARAM = "risk"  # the edit risks page's query parameter: the risk to open
WORKSTREAM_PARAM = "ws"  # the compare areas and write progress pages' query parameter: ?ws=prevention


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
    # A tile keeps its light fill in dark mode too: its captions and link stay dark on it.
    rules.append("[class*='st-key-tile-'] [data-testid='stCaptionContainer'] { color: #3d3d3d !important; }")
    rules.append("[class*='st-key-tile-'] [data-testid='stPageLink'] * { color: #0B4F94 !important; }")
    rules.append("[class*='st-key-tile-'] .mdc-word { color: #1a1a1a; }")
    rules.append(".tile-value { font-size: 2.1rem; font-weight: 700; line-height: 1.15; color: #1a1a1a; }")
    rules.append(".tile-name { font-size: 0.95rem; font-weight: 600; min-height: 2.6em; color: #1a1a1a; }")
    rules.append(".tile-comparator { font-size: 1.0rem; color: #2b2b2b; }")
    rules.append(".mdc { white-space: nowrap; margin-right: 0.6rem; } .mdc img { vertical-align: middle; }")
    rules.append(".mdc-word { font-size: 0.85rem; font-weight: 600; }")  # the theme's text colour, light or dark
    rules += _card_rules(palette)
    st.html("<style>" + "\n".join(rules) + "</style>")


PHONE_WIDTH = 640  # px: below it a KPI table shows as cards (indicator, actual, target, RAG), above it as a table


def _card_rules(palette: dict) -> list[str]:
    """A KPI table's two views, one shown at a time by the screen's width."""
    rules = [
        f"@media (max-width: {PHONE_WIDTH}px) {{ [class*='st-key-kpi-wide-'] {{ display: none; }} }}",
        f"@media (min-width: {PHONE_WIDTH + 1}px) {{ [class*='st-key-kpi-cards-'] {{ display: none; }} }}",
        ".kpi-card { border: 1px solid rgba(128, 128, 128, 0.45); border-radius: 0.5rem; padding: 0.5rem 0.7rem;"
        " margin-bottom: 0.5rem; }",
        ".kpi-card .name { font-weight: 600; } .kpi-card .name a { color: inherit; }",
        ".kpi-card .figures { display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; margin-top: 0.3rem; }",
        ".kpi-card .figure b { display: block; font-size: 1.15rem; } .kpi-card .figure b.trend { font-size: 0.95rem; }",
        ".kpi-card .figure span { font-size: 0.8rem; opacity: 0.8; }",  # the theme's text colour, light or dark
        ".kpi-card .rag { padding: 0.1rem 0.4rem; border-radius: 0.3rem; font-weight: 600; align-self: center; }",
    ]
    rules += [
        f".kpi-card .rag-{rag.replace('/', '')} {{ background: {s.background}; color: {s.text}; }}"
        for rag, s in palette.items()
    ]
    return rules


def kpi_cards(board: pd.DataFrame, as_at: int, key: str) -> None:
    """A KPI table (:func:`kpis.report.presentation.board_table`) as one card per
    indicator, for a phone: its name (a link to its page), actual, target and RAG, and the
    trend against last year; shown only below :data:`PHONE_WIDTH`."""
    cards = []
    for record in board.to_dict("records"):
        link = "indicator?" + urlencode({"id": str(record["indicator"]), AS_AT_PARAM: periods.to_text(as_at)})
        rag = str(record["rag_target"]).replace("/", "")
        cards.append(
            "<div class='kpi-card'>"
            f"<div class='name'><a href='{html.escape(link)}' target='_self'>{html.escape(str(record['Indicator']))}</a>"
            f" <span class='period'>· {html.escape(str(record['Period']))}</span></div>"
            "<div class='figures'>"
            f"<div class='figure'><span>Actual</span><b>{html.escape(str(record['Actual']))}</b></div>"
            f"<div class='figure'><span>Target</span><b>{html.escape(str(record['Target']))}</b></div>"
            f"<div class='rag rag-{html.escape(rag)}'>{html.escape(str(record['RAG']))}</div>"
            f"<div class='figure'><span>Against last year</span><b class='trend'>{html.escape(str(record['Trend']))}</b></div>"
            "</div></div>"
        )
    with st.container(key=key):
        st.html("".join(cards))


def rag_badge(rag: str, suffix: str = "") -> None:
    st.badge(f"{rag_label(rag)}{suffix}", color=STREAMLIT_COLOUR.get(rag, "gray"))


def abbreviated(text: str, glossary: Mapping[str, str]) -> str:
    """``text`` as HTML, each glossary term in it an ``<abbr>`` whose tooltip is its meaning."""
    parts, end = [], 0
    for start, stop, term in presentation.glossary_terms(glossary, text):
        parts += [
            html.escape(text[end:start]),
            f"<abbr title='{html.escape(glossary[term])}'>{html.escape(term)}</abbr>",
        ]
        end = stop
    return "".join([*parts, html.escape(text[end:])])


def tile(
    row: pd.Series, key: str, spc_html: str = "", glossary: Mapping[str, str] | None = None
) -> st.delta_generator.DeltaGenerator:
    """A headline tile: name (its glossary terms explained on hover), value with unit,
    target or last year, RAG colour **and** word, the arrow against last year, and
    (``spc_html``) the SPC icons with their words. Returns the tile's container."""
    box = st.container(border=True, key=f"tile-{row['rag'].replace('/', '')}-{key}")
    with box:
        st.html(f"<div class='tile-name'>{abbreviated(row['name'], glossary or {})}</div>")
        st.html(f"<div class='tile-value'>{html.escape(row['value'])}</div>")
        if row.get("why"):
            st.caption(plain(f"Why: {row['why']}"))
        st.html(f"<div class='tile-comparator'>{html.escape(row['comparator'])}</div>")
        rag_badge(row["rag"], f" · against {row['rag_basis']}")
        st.caption(f"{TREND_TEXT[row['trend']]} · {row['period_label']}")
        if spc_html:
            st.html(f"<div class='tile-spc'>{spc_html}</div>")
    return box


def style_board(board: pd.DataFrame) -> Styler:
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


def style_counts(frame: pd.DataFrame) -> Styler:
    """A RAG summary: each count column tinted with its rating's colour."""
    palette = rag_palette()
    styler = frame.style
    for column in frame.columns:
        word = column.split(": ")[-1].split(" ")[-1]  # "Target: Green" or "✔ Green"
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


def sample_notice(view: state.View, rows: pd.DataFrame) -> None:
    """``12 of 33 figures on this page are illustrative sample data``, while any is."""
    flags = sample.sample_figures(rows, view.sample_keys())
    if flags.any():
        st.info(
            f"**{int(flags.sum())} of {len(rows)} figures on this page are illustrative sample data**, not real "
            "figures. An admin can remove the sample data on the Data status page.",
            icon=":material/science:",
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


def problem_columns() -> dict[str, str | ColumnConfig]:
    """The columns of a problem, wherever problems are listed (a file's, or a form's);
    made afresh for each table, as Streamlit may fill in a column's settings."""
    return {
        "value": "Value",
        "problem": st.column_config.TextColumn("Problem", width="large"),
        "hint": st.column_config.TextColumn("How to fix it", width="large"),
    }


def rejected_file(
    headline: str,
    problems: pd.DataFrame,
    key: str,
    file_name: str,
    download_key: str | None = None,
    total: int | None = None,
) -> None:
    """A file refused whole: ``headline`` (which names it), how many problems (``total``
    found, when only the first are kept), and the :func:`problems_table`."""
    count = len(problems)
    listed = (
        first_listed(total, count) if total is not None and total > count else f"{count} {plural(count, 'problem')}"
    )
    st.error(
        f"{headline} {listed} below, each with its row in the file "
        "(the header is row 1). Fix them and upload the file again.",
        icon=":material/block:",
    )
    problems_table(problems, key, file_name, download_key)


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
            **problem_columns(),
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


def plural(count: int, noun: str) -> str:
    """``noun`` as it reads after ``count``: ``problem`` after 1, ``problems`` after any other number."""
    return noun if count == 1 else f"{noun}s"


def owner_label(catalogue: Catalogue, initials: str) -> str:
    """``DC — Associate Director, Integrated Care`` (the report's key)."""
    title = catalogue.owners.get(initials)
    return f"{initials} — {title}" if title else initials


def indicator_params(indicator_id: str, as_at: int) -> dict[str, str]:
    """The query parameters of a link to an indicator's page as at a month."""
    return {INDICATOR_PARAM: indicator_id, AS_AT_PARAM: periods.to_text(as_at)}


def workstream_params(workstream_id: str, as_at: int) -> dict[str, str]:
    """The query parameters of a link to a page of a workstream (comparing areas, writing progress) as at a month."""
    return {WORKSTREAM_PARAM: workstream_id, AS_AT_PARAM: periods.to_text(as_at)}


def open_indicator(pages: Pages, indicator_id: str, as_at: int) -> NoReturn:
    """Go to an indicator's page as at a month (a row selected in a table)."""
    st.switch_page(pages["indicator"], query_params=indicator_params(indicator_id, as_at))


def done_then_rerun(key: str, message: str) -> NoReturn:
    """Rerun the page after a write, and show ``message`` once at the top of the new run
    (see :func:`show_done`): a message written before ``st.rerun`` would be lost."""
    st.session_state[key] = message
    st.rerun()


def show_done(key: str, icon: str = ":material/check_circle:") -> None:
    """The message :func:`done_then_rerun` left, shown once."""
    message = st.session_state.pop(key, None)
    if message:
        st.success(message, icon=icon)


def database_busy(what: str) -> None:
    """A write the database refused (a lock held too long, or the server unreachable): its
    transaction wrote nothing, so the user may simply try again."""
    st.error(
        f"The database could not take {what} just now (it is busy or unreachable); nothing was written. "
        "Try again in a minute.",
        icon=":material/database:",
    )


RAG_FILTER_OPTIONS = ("All", "Red", "Amber", "Green", "n/a")


def rag_filter(key: str) -> str:
    """The "Show: all / Red / Amber / Green / n/a" control above a KPI table: the rating
    (against target) to show, or ``All``."""
    return st.radio(
        "Show",
        RAG_FILTER_OPTIONS,
        horizontal=True,
        key=key,
        format_func=lambda r: r if r == "All" else rag_label(r),
        help="Only the indicators of this rating against target",
    )


def filter_rag(frame: pd.DataFrame, shown: str, column: str = "rag_target") -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` is ``shown`` (all for ``All``), numbered afresh."""
    kept = frame if shown == "All" else frame[frame[column] == shown]
    return kept.reset_index(drop=True)


# The chart's modebar: a download button only, as SVG (the board pack's vector form; a
# browser opens it, and Office pastes it).
def chart_config(name: str) -> dict:
    return {
        "displaylogo": False,
        "modeBarButtons": [["toImage"]],
        "toImageButtonOptions": {"format": "svg", "filename": name, "scale": 1},
    }


@st.cache_resource(show_spinner=False)
def _images_available() -> bool:
    return charts.images_available()


def chart(figure, key: str, alternative: str) -> None:
    """A Plotly chart with its downloads (the modebar's SVG, and buttons beneath it for a
    PNG and an SVG, which a keyboard and a phone reach too) and its text alternative (what
    it shows and the latest value), written beside it for screen readers and anyone
    without the chart. The files are drawn only when a button is clicked."""
    st.plotly_chart(figure, key=key, config=chart_config(key))
    st.caption(f"Chart: {alternative}")
    if not _images_available():
        st.caption("The chart's own button saves it as SVG; PNG downloads need Chromium on the server.")
        return
    with st.container(horizontal=True, key=f"{key}-downloads"):
        for image_format, mime in charts.IMAGE_FORMATS.items():
            st.download_button(
                f"Download {image_format.upper()}",
                data=partial(charts.image, figure, image_format),
                file_name=f"{key}.{image_format}",
                mime=mime,
                on_click="ignore",
                type="tertiary",
                icon=":material/download:",
                key=f"{key}-{image_format}",
                help=f"Save the chart as {'a PNG picture' if image_format == 'png' else 'an SVG (vector) picture'}",
            )
