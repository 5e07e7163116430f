"""The monthly board pack: the whole report in the order the board knows it (a cover with
the month, a summary sentence and the headline tiles; what changed since last month;
workstream progress; a KPI table with its RAG summary and charts per workstream;
high-level risks; the key), as one self-contained HTML file (print stylesheet, A4
landscape) and as a PDF of that file (WeasyPrint).

Built from the same frames as the screens and the workbook (:mod:`kpis.report.presentation`),
so the figures are the ones on the dashboard. Every piece of text is escaped by the
template (Jinja2 autoescape); narrative Markdown goes through :func:`kpis.governance.narrative.to_html`,
which escapes raw HTML; and text from the catalogue or a user is neutralised against
spreadsheet formulas, as in the CSV and workbook. The HTML loads nothing from anywhere:
no script, font or image outside the file (a narrative's images show as their
description); and the PDF writer fetches nothing but the pack's own embedded resources.
"""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from kpis import periods
from kpis.catalogue import Catalogue, derived
from kpis.errors import preview
from kpis.governance import narrative
from kpis.publish import changes, contents, svgcharts
from kpis.report import benchmark_views, formatting, integrated
from kpis.report.charts import indicator_series, spc_series, spc_target_line
from kpis.report.icons import icons_html
from kpis.report.palette import TREND_TEXT, rag_label, rag_palette
from kpis.report.performance import RAG_WORDS, rag_summary
from kpis.report.presentation import BOARD_COLUMNS, board_table, headline_rating, summary_counts, tiles
from kpis.spreadsheet import neutralise

TEMPLATES = Path(__file__).resolve().parent / "templates"
NUMBER_COLUMNS = BOARD_COLUMNS[2:9]  # right-aligned


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rag_label"] = rag_label
    # Text from the catalogue or a user: neutralised as in the spreadsheets, since a table
    # pasted from the pack into Excel would otherwise run `=HYPERLINK(...)` as a formula.
    env.filters["text"] = lambda value: "" if value is None or value != value else str(neutralise(str(value)))
    return env


def _summary_counts(summary: pd.DataFrame, workstream: str) -> list[dict]:
    return [{"label": label, "counts": counts} for label, counts in summary_counts(summary, workstream)]


def _anchor(catalogue: Catalogue, indicator_id: str) -> str:
    """An indicator's anchor in the pack by its place in the catalogue (``3``): no code
    reaches an attribute."""
    return str(
        derived(catalogue, "pack.anchors", lambda c: {i: k for k, i in enumerate(c.indicator_ids)})[indicator_id]
    )


def _icons(record) -> Markup:
    """The two MDC icons with their words, and the trial note (where the limits are trial)."""
    note = record.get("spc_reason", "")
    html = icons_html(str(record["variation"]), str(record["assurance"]), 16)
    return Markup(html + (f" <span class='trial'>{escape(note)}</span>" if note else ""))


def _limits_text(record, catalogue: Catalogue) -> str:
    """``mean 12.1%, limits 8.3%–15.8%`` (the latest segment's), or why there are none."""
    if pd.isna(record["spc_mean"]):
        return "no limits"
    ind = catalogue.indicator(record["indicator"])
    d = min(ind.decimals + 1, 3)
    shown = [formatting.with_unit(record[c], ind.unit.value, d) for c in ("spc_mean", "spc_lower", "spc_upper")]
    return f"mean {shown[0]}, limits {shown[1]} to {shown[2]}"


def _integrated_summary(
    data: contents.ExportData, catalogue: Catalogue, table: pd.DataFrame, points: pd.DataFrame
) -> dict:
    """The integrated performance summary: the matrix of the pack's indicators by
    variation × assurance (each name a link to its row), and the exceptions with their
    latest value, RAG, owner and SPC chart."""
    cells = integrated.matrix(table)
    names = {i.id: i.display_name for i in catalogue.indicators}
    rows = []
    for group, label in integrated.MATRIX_ROWS.items():
        own = cells[cells["variation_group"] == group]
        entries = [[(_anchor(catalogue, i), names[i]) for i in ids] for ids in own["indicators"]]
        if group == "n/a" and not any(entries):
            continue
        rows.append({"label": label, "group": group, "cells": entries})
    listed = integrated.exceptions(table, catalogue)
    by_id = table.set_index("indicator")
    items = []
    for _, row in listed.iterrows():
        ind = catalogue.indicator(row["indicator"])
        record = {**by_id.loc[ind.id].to_dict(), "indicator": ind.id}
        series = spc_series(points, catalogue, ind.id)
        first = int(series["period"].min()) if len(series) else data.as_at
        svg = svgcharts.spc_svg(series, spc_target_line(catalogue, ind.id, first, data.as_at), ind)
        items.append(
            {
                "slug": _anchor(catalogue, ind.id),
                "indicator": ind.id,
                "name": ind.name,
                "period": row["period_label"] if isinstance(row["period_label"], str) else "no data",
                "value": formatting.with_unit(row["actual"], ind.unit.value, ind.decimals),
                "rag": row["rag_target"],
                "owner": row["owner"],
                "why": row["why"],
                "icons": _icons(record),
                "limits": _limits_text(record, catalogue),
                "svg": Markup(svg),
            }
        )
    return {"columns": list(integrated.MATRIX_COLUMNS.values()), "rows": rows, "exceptions": items}


def _workstream_section(
    data, catalogue: Catalogue, summary: pd.DataFrame, ws, letter: str, spc_rows: pd.DataFrame | None = None
) -> dict:
    rows = data.table[data.table["workstream"] == ws.id].reset_index(drop=True)
    board = board_table(rows, catalogue)
    charts = []
    for _, row in rows.iterrows():
        indicator = catalogue.indicator(row["indicator"])
        series = indicator_series(data.observations, catalogue, indicator.id)
        svg = svgcharts.indicator_svg(series, indicator, headline_rating(row), data.as_at)
        charts.append({"name": indicator.name, "tag": _chart_tag(indicator), "svg": Markup(svg)})
    lead = catalogue.owners.get(ws.lead, ws.lead)
    return {
        "inequalities": _inequalities(data, catalogue, ws.id),
        "id": ws.id,
        "letter": letter,
        "name": ws.name,
        "lead": lead,
        "description": ws.description,
        "summary": _summary_counts(summary, ws.id),
        "rows": [
            {
                "cells": [(c, record[c]) for c in BOARD_COLUMNS],
                "rag_target": record["rag_target"],
                "rag_last_year": record["rag_last_year"],
                "slug": _anchor(catalogue, record["indicator"]),
                "spc": _icons(spc_rows.loc[record["indicator"]].to_dict()) if spc_rows is not None else "",
                "spc_limits": _limits_text(spc_rows.loc[record["indicator"]], catalogue)
                if spc_rows is not None
                else "",
            }
            for _, record in board.iterrows()
        ],
        "charts": charts,
    }


def _chart_tag(indicator) -> str:
    """What a chart's bars are, in a few words for its caption."""
    if indicator.aggregation.is_ytd:
        return "year to date"
    if indicator.aggregation.is_rolling:
        return "rolling 12 months"
    return "quarterly" if indicator.frequency.value == "quarterly" else "in month"


def _inequalities(data: contents.ExportData, catalogue: Catalogue, workstream: str) -> dict | None:
    """A workstream's inequalities part: the tartan rug of its indicators' areas and the
    home area's SII of each ordered breakdown as a sentence; None without breakdown data."""
    comparisons = getattr(data, "comparisons", pd.DataFrame())
    if comparisons.empty:
        return None
    values, words = benchmark_views.tartan_rug(comparisons, catalogue, workstream)
    found = getattr(data, "inequalities", pd.DataFrame())
    sentences = []
    if not found.empty:
        home = found[(found["area"] == catalogue.home_code) & found["indicator"].isin(catalogue.indicator_ids)]
        for _, record in home.iterrows():
            indicator = catalogue.indicator(record["indicator"])
            if indicator.workstream != workstream:
                continue
            breakdown = catalogue.breakdown(record["breakdown"])
            name = catalogue.area_names.get(record["area"], record["area"])
            change = benchmark_views.change_label(record["change"]) if isinstance(record["change"], str) else ""
            sentences.append(
                {
                    "indicator": indicator.display_name,
                    "text": benchmark_views.sii_sentence(record, indicator, breakdown, name),
                    "change": change,
                }
            )
    if values.empty and not sentences:
        return None
    columns = list(values.columns)
    return {
        "columns": columns,
        "rows": [
            [
                (values.at[k, c], benchmark_views.cell_style(str(words.at[k, c])) if k in words.index else "")
                for c in columns
            ]
            for k in values.index
        ],
        "sentences": sentences,
    }


def _risks(risks: pd.DataFrame, catalogue: Catalogue, workstreams: list[str], everything: bool) -> list[dict]:
    """The open risks for the pack's workstreams (a whole pack: every open risk), with
    their review date as text."""
    if risks.empty:
        return []
    shown = risks if everything else risks[risks["workstream"].isin(workstreams)]
    review = [f"{d.day} {d:%b %Y}" if pd.notna(d) else "-" for d in shown["next_review"]]
    names = {w.id: w.name for w in catalogue.workstreams}
    return shown.assign(next_review_text=review, workstream_name=shown["workstream"].map(names).fillna("")).to_dict(
        "records"
    )


def _css() -> Markup:
    palette = rag_palette()
    rules = [
        f".rag-{word.replace('/', '')} {{ background: {s.background}; color: {s.text}; }}\n"
        f".tile.rag-{word.replace('/', '')} {{ border-left-color: {s.strong}; }}"
        for word, s in palette.items()
    ]
    return Markup((TEMPLATES / "board_pack.css").read_text(encoding="utf-8") + "\n" + "\n".join(rules))


def pack_html(data: contents.ExportData, catalogue: Catalogue, workstream: str | None = None) -> str:
    """The board pack for ``data`` (:class:`kpis.publish.contents.ExportData`), all workstreams or
    just ``workstream``, as one HTML document. Its narrative and risks parts are left out
    when ``data`` has none."""
    chosen = [w for w in catalogue.workstreams if workstream is None or w.id == workstream]
    ids = [w.id for w in chosen]
    summary = rag_summary(data.table, catalogue)
    headline = tiles(data.table, catalogue)
    headline = headline[headline["workstream"].isin(ids)]
    letters = "abcdefghijklmnopqrstuvwxyz"
    progress = [
        {"name": w.name, "html": Markup(narrative.to_html(data.narrative[w.id], neutralise_formulas=True))}
        for w in chosen
        if data.narrative.get(w.id, "").strip()
    ]
    title = catalogue.title if workstream is None else f"{catalogue.title}: {chosen[0].name}"
    points = contents.spc_points(data, catalogue)
    reasons = integrated.spc_table(points, catalogue).set_index("indicator")["spc_reason"]
    spc_rows = data.table.set_index("indicator", drop=False).assign(spc_reason=reasons)
    own_table = data.table[data.table["workstream"].isin(ids)].reset_index(drop=True)
    spc_icons = {i: _icons(spc_rows.loc[i].to_dict()) for i in headline["indicator"]}
    own_previous = data.previous[data.previous["workstream"].isin(ids)] if len(data.previous) else data.previous
    return (
        _environment()
        .get_template("board_pack.html.j2")
        .render(
            title=title,
            css=_css(),
            header=contents.header_lines(data, title),  # the workbook's header, word for word
            version=f"Data version {data.data_version}",
            sentence=changes.summary_sentence(own_table, _moves(own_table, own_previous), own_previous, data.as_at),
            changed=_changed(data, catalogue, own_table, own_previous),
            as_at=periods.month_name(data.as_at),
            as_at_label=periods.label(data.as_at),
            tiles=[
                {
                    "group": group,
                    "tiles": [{**t, "spc": spc_icons[t["indicator"]]} for t in members.to_dict("records")],
                }
                for group, members in headline.groupby("group", sort=False)
            ],
            integrated=_integrated_summary(
                data, catalogue, own_table.assign(spc_reason=own_table["indicator"].map(reasons)), points
            ),
            spc_legend=Markup(svgcharts.SPC_LEGEND),
            trend_text=TREND_TEXT,
            rag_words=RAG_WORDS,
            summary=[{"name": w.name, "counts": _summary_counts(summary, w.id)} for w in chosen],
            progress=progress,
            workstreams=[
                _workstream_section(data, catalogue, summary, w, letters[k % 26], spc_rows)
                for k, w in enumerate(chosen)
            ],
            number_columns=NUMBER_COLUMNS,
            legend=Markup(svgcharts.LEGEND),
            risks=_risks(data.risks, catalogue, ids, everything=workstream is None),
            reviewed_on=f"{data.reviewed_on.day} {data.reviewed_on:%b %Y}" if data.reviewed_on else "",
            owners=catalogue.owners,
            key=contents.key_sections(catalogue),
        )
    )


def _moves(table: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    return changes.rating_moves(table, previous)


def _changed(data: contents.ExportData, catalogue: Catalogue, table: pd.DataFrame, previous: pd.DataFrame) -> dict:
    """The "Changed since last month" page: the ratings that moved, the new Reds, the
    biggest movers."""
    moves = _moves(table, previous)
    return {
        "before": periods.month_name(data.as_at - 1),
        "comparable": changes.has_previous(previous),
        "moves": changes.moved_rows(moves, catalogue),
        "new_reds": changes.moved_rows(changes.new_reds(moves), catalogue),
        "movers": changes.movers(table, previous, catalogue).to_dict("records"),
    }


def pack_pdf(data: contents.ExportData, catalogue: Catalogue, workstream: str | None = None) -> bytes:
    """The board pack as a PDF: the HTML pack laid out on A4 landscape pages."""
    return html_to_pdf(pack_html(data, catalogue, workstream))


class FetchRefused(ValueError):
    """The PDF writer was asked for a URL outside the pack; nothing was fetched."""


def pdf_fetcher():
    """WeasyPrint's URL fetcher for the pack: only the pack's own embedded (``data:``)
    resources; every other URL (http, file, ftp...) is refused without a request, so
    that no text in a pack can make the server fetch an address (an internal one)."""
    from weasyprint.urls import URLFetcher  # imported on use: it loads Pango, which the rest never needs

    class EmbeddedOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if not url.lower().startswith("data:"):
                raise FetchRefused(f"The board pack loads nothing from outside itself: refused {preview(url)}")
            return super().fetch(url, headers)

    return EmbeddedOnly(allowed_protocols={"data"}, allow_redirects=False)


def html_to_pdf(document: str) -> bytes:
    """An HTML document as a PDF, fetching nothing (:func:`pdf_fetcher`)."""
    from weasyprint import HTML

    return HTML(string=document, url_fetcher=pdf_fetcher()).write_pdf()
