"""The board pack as a PowerPoint file (python-pptx), for a board that meets over slides:
a slide per section in the pack's order (the cover with the headline indicators, what
changed since last month, each workstream's KPI table and then its charts, the risks).

The charts are PowerPoint's own (a column per month of the reported figure, the target as
a line per financial year), so they stay readable and editable; every chart and table
carries a text alternative (its ``descr``, PowerPoint's "Alt Text") saying what it shows
and the latest value. Figures and words are the board pack's (:mod:`kpis.publish.boardpack`).
"""

from __future__ import annotations

import io
import math

import pandas as pd
from lxml import etree
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from kpis import periods
from kpis.catalogue import Catalogue
from kpis.publish import changes, contents, svgcharts
from kpis.report import formatting
from kpis.report.charts import indicator_series, window
from kpis.report.palette import SYMBOL, TREND_TEXT, rag_label, rag_palette
from kpis.report.performance import RAG_WORDS, rag_summary
from kpis.report.presentation import BOARD_COLUMNS, board_table, headline_rating, summary_counts, tiles
from kpis.spreadsheet import neutralise

WIDE, HIGH = Inches(13.333), Inches(7.5)  # 16:9
MARGIN = Inches(0.4)
CHARTS_PER_SLIDE = 8  # four across, two down
MONTHS = 24
NAVY = RGBColor(0x1F, 0x3A, 0x5F)
HEADER_FILL = RGBColor(0xF2, 0xF2, 0xF2)


def _rgb(colour: str) -> RGBColor:
    return RGBColor.from_string(colour.lstrip("#").upper())


def _text(value: object) -> str:
    """Text from the catalogue or a user, neutralised as in the spreadsheets."""
    return "" if value is None or value != value else str(neutralise(str(value)))


def set_alt_text(shape, text: str) -> None:
    """A shape's text alternative (PowerPoint's Alt Text: ``descr`` on its ``cNvPr``)."""
    shape._element.xpath("./*[1]/p:cNvPr")[0].set("descr", text)


TITLE_POINTS, TITLE_MIN_POINTS = 24, 16
CHARACTER_EM = 0.62  # a bold sans-serif character's width, about, in ems (wider fonts than Calibri included)


def title_points(text: str) -> int:
    """The title's size in points: 24, or smaller (not below 16) so that it stays on one
    line across the slide; a second line would run into the table or charts below it."""
    room = (WIDE - 2 * MARGIN) / Inches(1) * 72  # points
    return max(TITLE_MIN_POINTS, min(TITLE_POINTS, int(room / (max(len(text), 1) * CHARACTER_EM))))


def _title(slide, text: str, footer: str, number: int) -> None:
    box = slide.shapes.add_textbox(MARGIN, Inches(0.25), WIDE - 2 * MARGIN, Inches(0.6))
    frame = box.text_frame
    frame.word_wrap = True
    run = frame.paragraphs[0].add_run()
    run.text = text
    run.font.size, run.font.bold, run.font.color.rgb = Pt(title_points(text)), True, NAVY
    foot = slide.shapes.add_textbox(MARGIN, HIGH - Inches(0.4), WIDE - 2 * MARGIN, Inches(0.3))
    para = foot.text_frame.paragraphs[0]
    para.text = f"{footer} · Slide {number}"
    para.runs[0].font.size, para.runs[0].font.color.rgb = Pt(9), RGBColor(0x55, 0x55, 0x55)


def _paragraphs(slide, lines: list[tuple[str, int, bool]], top, height) -> None:
    box = slide.shapes.add_textbox(MARGIN, top, WIDE - 2 * MARGIN, height)
    frame = box.text_frame
    frame.word_wrap = True
    for k, (text, size, bold) in enumerate(lines):
        para = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
        run = para.add_run()
        run.text = text
        run.font.size, run.font.bold = Pt(size), bold
        para.space_after = Pt(6)


def _table(
    slide, header: list[str], rows: list[list[str]], top, height, alt: str, widths=None, rag_columns=(), size=10
):
    """A table with a grey header row; cells of ``rag_columns`` filled with their rating's
    colours (the word stays: never colour alone)."""
    shape = slide.shapes.add_table(len(rows) + 1, len(header), MARGIN, top, WIDE - 2 * MARGIN, height)
    set_alt_text(shape, alt)
    table = shape.table
    palette = rag_palette()
    if widths:
        total = sum(widths)
        for k, w in enumerate(widths):
            table.columns[k].width = Emu(int((WIDE - 2 * MARGIN) * w / total))
    for r, values in enumerate([header, *rows]):
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.margin_left = cell.margin_right = Inches(0.04)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            cell.text = str(value)
            # every paragraph's runs: a text of several lines (a risk's list) is a paragraph a line
            fonts = [run.font for para in cell.text_frame.paragraphs for run in para.runs]
            word = str(value).split(" ", 1)[-1]
            rag = palette[word] if r and c in rag_columns and word in palette else None
            for font in fonts:
                font.size = Pt(size)
                font.bold = r == 0
                font.color.rgb = _rgb(rag.text) if rag else RGBColor(0x1A, 0x1A, 0x1A)
            cell.fill.solid()
            cell.fill.fore_color.rgb = (
                _rgb(rag.background) if rag else HEADER_FILL if r == 0 else RGBColor(0xFF, 0xFF, 0xFF)
            )
    return shape


def _chart(slide, data: contents.ExportData, catalogue: Catalogue, row: pd.Series, left, top, width, height) -> None:
    """One indicator's native chart: a column per month of the reported figure (the latest
    labelled with its value and rating symbol, in its rating's colour) and the target as a
    line per financial year, so no line runs from March into April."""
    indicator = catalogue.indicator(row["indicator"])
    rating = headline_rating(row)
    series = window(indicator_series(data.observations, catalogue, indicator.id), data.as_at, MONTHS)
    months = list(range(data.as_at - MONTHS + 1, data.as_at + 1))
    by_month = series.set_index("period")
    actual = [_value(by_month, m, "actual") for m in months]
    chart_data = CategoryChartData(number_format='0"%"' if indicator.unit.value == "percent" else "#,##0")
    chart_data.categories = [f"{periods.month_name(m)[:3]} {m // 12 % 100:02d}" for m in months]
    chart_data.add_series("Figure", actual)
    years = sorted({periods.fy_start_year(m) for m in months})
    targets = {
        y: [_value(by_month, m, "target") if periods.fy_start_year(m) == y else None for m in months] for y in years
    }
    targets = {y: values for y, values in targets.items() if any(v is not None for v in values)}
    for year, values in targets.items():
        chart_data.add_series(f"Target {periods.fy_label(year)}", values)
    frame = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, left, top, width, height, chart_data)
    shown = series[series["period"].isin(months)]
    set_alt_text(frame, svgcharts.chart_text(shown, indicator, rating, months[0], months[-1]))
    chart = frame.chart
    chart.has_title = True
    chart.chart_title.text_frame.text = _text(indicator.name)
    title_font = chart.chart_title.text_frame.paragraphs[0].runs[0].font
    title_font.size, title_font.bold = Pt(9), True
    chart.font.size = Pt(7)
    chart.has_legend = bool(targets)
    if targets:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
    plot = chart.plots[0]
    plot.gap_width = 40
    bars = plot.series[0]
    bars.format.fill.solid()
    bars.format.fill.fore_color.rgb = _rgb(svgcharts.BAR_COLOUR)
    latest = max((k for k, v in enumerate(actual) if v is not None), default=None)
    if latest is not None:
        point = bars.points[latest]
        point.format.fill.solid()
        point.format.fill.fore_color.rgb = _rgb(rag_palette()[rating[0]].strong)
        label = point.data_label
        label.has_text_frame = True
        shown_value = formatting.with_unit(actual[latest], indicator.unit.value, indicator.decimals)
        label.text_frame.text = f"{SYMBOL[rating[0]]} {shown_value}"
        label.position = XL_LABEL_POSITION.OUTSIDE_END
        label.text_frame.paragraphs[0].runs[0].font.bold = True
        label.text_frame.paragraphs[0].runs[0].font.size = Pt(8)
    if targets:
        _targets_as_lines(chart)


def _value(by_month: pd.DataFrame, month: int, column: str) -> float | None:
    if month not in by_month.index:
        return None
    value = by_month[column].get(month)
    return None if value is None or pd.isna(value) else float(value)


def _targets_as_lines(chart) -> None:
    """Move every series but the first out of the column chart into a line chart on the
    same axes (python-pptx makes one chart type per chart; PowerPoint reads a combination)."""
    plot_area = chart._chartSpace.chart.plotArea
    bar = plot_area.find(qn("c:barChart"))
    line = etree.SubElement(plot_area, qn("c:lineChart"))
    bar.addnext(line)
    etree.SubElement(line, qn("c:grouping")).set("val", "standard")
    etree.SubElement(line, qn("c:varyColors")).set("val", "0")
    for ser in bar.findall(qn("c:ser"))[1:]:
        for invert in ser.findall(qn("c:invertIfNegative")):
            ser.remove(invert)
        sp_pr = ser.find(qn("c:spPr"))
        if sp_pr is None:
            sp_pr = etree.SubElement(ser, qn("c:spPr"))
            ser.find(qn("c:tx")).addnext(sp_pr)
        for child in list(sp_pr):
            sp_pr.remove(child)
        ln = etree.SubElement(sp_pr, qn("a:ln"))
        ln.set("w", str(Pt(1.75)))
        fill = etree.SubElement(etree.SubElement(ln, qn("a:solidFill")), qn("a:srgbClr"))
        fill.set("val", "333333")
        etree.SubElement(ln, qn("a:prstDash")).set("val", "sysDot")
        marker = etree.Element(qn("c:marker"))
        etree.SubElement(marker, qn("c:symbol")).set("val", "none")
        sp_pr.addnext(marker)
        ser.append(etree.Element(qn("c:smooth")))
        ser[-1].set("val", "0")
        line.append(ser)
    etree.SubElement(line, qn("c:marker")).set("val", "1")
    for ax_id in bar.findall(qn("c:axId")):
        etree.SubElement(line, qn("c:axId")).set("val", ax_id.get("val"))


RISK_WIDTHS = [2, 1.8, 5, 1, 0.8, 5, 1.4]  # shares of the slide's width
RISK_POINTS = 7
RISK_ROOM = 5.6  # inches of table below the title and above the foot, less its header row


def risk_slides(rows: list[list[str]]) -> list[list[list[str]]]:
    """The risk rows in slides that hold them: a row's height estimated from its longest
    text at :data:`RISK_POINTS` in its column (PowerPoint grows a row to fit its text, so a
    slide of long risks would run off the bottom)."""
    usable = (WIDE - 2 * MARGIN) / Inches(1)
    per_inch = 72 / (RISK_POINTS * 0.55)  # characters an inch, about
    line = RISK_POINTS * 1.25 / 72  # inches a line
    groups: list[list[list[str]]] = [[]]
    used = 0.0
    for row in rows:
        lines = max(
            math.ceil(len(text) / max(usable * w / sum(RISK_WIDTHS) * per_inch - 2, 1))
            for text, w in zip(row, RISK_WIDTHS, strict=True)
        )
        height = lines * line + 0.08
        if groups[-1] and used + height > RISK_ROOM:
            groups.append([])
            used = 0.0
        groups[-1].append(row)
        used += height
    return groups


def pack_pptx(data: contents.ExportData, catalogue: Catalogue, workstream: str | None = None) -> bytes:
    """The board pack as slides: all workstreams, or just ``workstream``."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDE, HIGH
    deck.core_properties.title = _text(f"{catalogue.title}, {periods.month_name(data.as_at)}")
    deck.core_properties.comments = f"Data version {data.data_version}"
    blank = deck.slide_layouts[6]
    chosen = [w for w in catalogue.workstreams if workstream is None or w.id == workstream]
    ids = [w.id for w in chosen]
    table = data.table[data.table["workstream"].isin(ids)].reset_index(drop=True)
    previous = data.previous[data.previous["workstream"].isin(ids)] if len(data.previous) else data.previous
    moves = changes.rating_moves(table, previous)
    title = catalogue.title if workstream is None else f"{catalogue.title}: {chosen[0].name}"
    month = periods.month_name(data.as_at)
    footer = f"{_text(title)} · As at {month} · Data version {data.data_version}"
    slides: list = []

    def new_slide(heading: str):
        slide = deck.slides.add_slide(blank)
        slides.append(slide)
        _title(slide, heading, footer, len(slides))
        return slide

    # Cover: the month, the sentence, the headline indicators
    slide = new_slide(_text(title))
    header = contents.header_lines(data, title)
    _paragraphs(
        slide,
        [
            (f"As at {month} ({periods.label(data.as_at)})", 20, True),
            (changes.summary_sentence(table, moves, previous, data.as_at), 14, False),
            (header[2], 10, False),
        ],
        Inches(0.9),
        Inches(1.9),
    )
    headline = tiles(data.table, catalogue)
    headline = headline[headline["workstream"].isin(ids)]
    rows = [
        [_text(t["name"]), f"{t['value']} ({t['period_label']})", t["comparator"], rag_label(t["rag"]),
         f"against {t['rag_basis']}", TREND_TEXT[t["trend"]]]
        for t in headline.to_dict("records")
    ]  # fmt: skip
    if rows:
        _table(
            slide,
            ["Headline indicator", "Latest", "Comparator", "RAG", "Rated", "Against last year"],
            rows,
            Inches(2.9),
            Inches(0.3) * (len(rows) + 1),
            f"Headline indicators as at {month}: each one's latest figure, comparator, rating and trend.",
            widths=[5, 2.2, 2, 1.3, 1.5, 2.4],
            rag_columns=(3,),
            size=10,
        )

    # What changed since last month
    slide = new_slide("Changed since last month")
    summary = rag_summary(data.table, catalogue)
    counts = [
        [_text(w.name), *[str(n) for _, block in summary_counts(summary, w.id) for _, n in block]] for w in chosen
    ]
    _table(
        slide,
        ["Workstream", *[f"Target: {w}" for w in RAG_WORDS], *[f"Last year: {w}" for w in RAG_WORDS]],
        counts,
        Inches(0.9),
        Inches(0.3) * (len(counts) + 1),
        "RAG summary of each workstream: the count of each rating against target and against last year.",
        widths=[4, *[1] * (2 * len(RAG_WORDS))],
        size=10,
    )
    before = periods.month_name(data.as_at - 1)
    top = Inches(1.1) + Inches(0.3) * (len(counts) + 1)
    if not changes.has_previous(previous):
        _paragraphs(slide, [(f"No figure for {before} or earlier to compare with.", 12, False)], top, Inches(0.5))
    else:
        reds = changes.new_reds(moves)
        lines = [
            (
                "New Reds against target: "
                + ("; ".join(_text(n) for n in reds["name"]) if len(reds) else f"none since {before}."),
                12,
                True,
            )
        ]
        _paragraphs(slide, lines, top, Inches(0.5))
        top += Inches(0.55)
        moved = changes.moved_rows(moves, catalogue)
        if moved:
            _table(
                slide,
                ["Workstream", "Indicator", "Against", "From", "To"],
                [
                    [
                        _text(m["workstream_name"]),
                        _text(m["name"]),
                        m["comparison"],
                        rag_label(str(m["from"])),
                        rag_label(str(m["to"])),
                    ]
                    for m in moved
                ],
                top,
                Inches(0.3) * (len(moved) + 1),
                f"Ratings that moved since {before}.",
                widths=[3, 6, 1.5, 1.3, 1.3],
                rag_columns=(3, 4),
                size=10,
            )
            top += Inches(0.3) * (len(moved) + 1) + Inches(0.2)
        else:
            _paragraphs(slide, [(f"No rating moved since {before}.", 12, False)], top, Inches(0.4))
            top += Inches(0.45)
        movers = changes.movers(table, previous, catalogue)
        if len(movers):
            _table(
                slide,
                ["Biggest movers", "Last report", "This report", "Change", "Reading"],
                [
                    [_text(m["name"]), m["before"], m["now"], m["change"], m["reading"]]
                    for m in movers.to_dict("records")
                ],
                top,
                Inches(0.3) * (len(movers) + 1),
                f"The indicators whose figure moved most since {before}.",
                widths=[6, 2, 2, 2, 1.2],
                size=10,
            )

    # Each workstream: its KPI table, then its charts
    letters = "abcdefghijklmnopqrstuvwxyz"
    for k, ws in enumerate(chosen):
        rows_ws = data.table[data.table["workstream"] == ws.id].reset_index(drop=True)
        board = board_table(rows_ws, catalogue)
        slide = new_slide(f"{letters[k % 26]}. {_text(ws.name)}: key performance indicators")
        body = [[_text(v) if c == "Indicator" else str(v) for c, v in zip(BOARD_COLUMNS, r, strict=True)]
                for r in board[BOARD_COLUMNS].to_numpy().tolist()]  # fmt: skip
        size = 10 if len(body) <= 10 else 8
        _table(
            slide,
            BOARD_COLUMNS,
            body,
            Inches(0.9),
            Inches(0.27 if size == 8 else 0.32) * (len(body) + 1),
            f"{ws.name}: the KPI table as at {month}, one row per indicator with its period, actual, last year, "
            "target, variances, RAG rating against target and trend against last year.",
            widths=[0.8, 6, 1.1, 1.1, 1, 0.9, 1.1, 1, 0.9, 1.1, 1.3],
            rag_columns=(9,),
            size=size,
        )
        records = [r for _, r in rows_ws.iterrows()]
        pages = max(1, math.ceil(len(records) / CHARTS_PER_SLIDE))
        each = max(1, math.ceil(len(records) / pages))  # 9 charts: 5 and 4, not 8 and 1
        for page in range(pages):
            part = records[page * each : (page + 1) * each]
            more = f" ({page + 1} of {pages})" if pages > 1 else ""
            slide = new_slide(f"{letters[k % 26]}. {_text(ws.name)}: the last {MONTHS} months{more}")
            width, height = (WIDE - 2 * MARGIN) / 4, Inches(3.05)
            for n, row in enumerate(part):
                left = MARGIN + width * (n % 4)
                top = Inches(0.9) + height * (n // 4)
                _chart(
                    slide,
                    data,
                    catalogue,
                    row,
                    int(left),
                    int(top),
                    int(width - Inches(0.1)),
                    int(height - Inches(0.1)),
                )

    # Risks
    risks = data.risks
    if not risks.empty:
        shown = risks if workstream is None else risks[risks["workstream"].isin(ids)]
        if len(shown):
            names = {w.id: w.name for w in catalogue.workstreams}
            reviewed = f"{data.reviewed_on.day} {data.reviewed_on:%b %Y}" if data.reviewed_on else ""
            rows = [
                [
                    _text(names.get(r["workstream"], "")),
                    _text(r["programme"]),
                    _text(r["description"]),
                    str(r["rank"]),
                    _text(r["owner"]),
                    _text(r["mitigation"]),
                    (f"{r['next_review']:%d %b %Y}" if pd.notna(r["next_review"]) else "none set")
                    + (" (overdue)" if r["overdue"] else ""),
                ]
                for r in shown.to_dict("records")
            ]
            groups = risk_slides(rows)
            for n, group in enumerate(groups, start=1):
                more = f" ({n} of {len(groups)})" if len(groups) > 1 else ""
                slide = new_slide(f"High level risks/issues{more}")
                _table(
                    slide,
                    ["Workstream", "Programme", "Risk/issue", "Rank", "Owner", "Mitigation", "Next review"],
                    group,
                    Inches(0.9),
                    Inches(0.3) * (len(group) + 1),
                    f"The open risks, most severe first, review dates judged at {reviewed}"
                    f"{f': part {n} of {len(groups)}' if more else ''}.",
                    widths=RISK_WIDTHS,
                    size=RISK_POINTS,
                )
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()
