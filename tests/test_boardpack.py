"""The board pack, read back as a reader gets it: the HTML parsed for its tables and
tiles, the PDF's text as ``pdftotext`` extracts it and its pages as ``pdftoppm`` renders
them (PNGs kept in ``artifacts/screenshots/`` to be looked at). Figures come from the
illustrative sample in a real SQLite file and must equal the screens' own frames."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from html import escape
from html.parser import HTMLParser

import pandas as pd
import pytest

from kpis import ingest, periods, sample, store
from kpis.publish import boardpack, contents, formats
from kpis.report import formatting
from kpis.report.integrated import ASSURANCE_TEXT, VARIATION_TEXT
from kpis.report.performance import RAG_WORDS, rag_summary
from kpis.report.presentation import BOARD_COLUMNS, board_table, tiles
from tests.browser import ARTIFACTS
from tests.coded import coded_catalogue, store_values
from tests.conftest import HOSTILE, require
from tests.test_exports import CORRECTION, DECEMBER, OCT_NOV

AS_AT = periods.parse_period("2020-11")


@pytest.fixture(scope="module")
def sample_engine(tmp_path_factory, catalogue):
    engine = store.connect(f"sqlite:///{tmp_path_factory.mktemp('pack') / 'kpis.sqlite'}")
    sample.load_sample(engine, catalogue)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def data(sample_engine, catalogue) -> contents.ExportData:
    return contents.export_data(sample_engine, catalogue, AS_AT)


@pytest.fixture(scope="module")
def html(data, catalogue) -> str:
    return boardpack.pack_html(data, catalogue)


@pytest.fixture(scope="module")
def pdf(data, catalogue, tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "pack.pdf"
    path.write_bytes(formats.export_bytes(data, catalogue, "pdf"))
    return path


class Page(HTMLParser):
    """The text of every table row in each ``<section id=…>``, and every tile's lines."""

    def __init__(self, document: str):
        super().__init__()
        self.section: str | None = None
        self.rows: dict[str, list[list[str]]] = {}
        self.tiles: list[list[str]] = []
        self.tags: list[str] = []
        self.classes: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.feed(document)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.classes.append(attrs.get("class") or "")
        if tag == "section":
            self.section = attrs.get("id")
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "div" and (attrs.get("class") or "").startswith("tile "):
            self.tiles.append([])
        elif tag == "div" and self.tiles and "tile" in " ".join(self.classes[:-1]):
            self.cell = []

    def handle_endtag(self, tag):
        self.tags.pop()
        self.classes.pop()
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.setdefault(self.section or "", []).append(self.row)
            self.row = None
        elif tag == "div" and self.cell is not None and self.row is None:
            self.tiles[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None and "svg" not in self.tags:  # an icon's title repeats the word beside it
            self.cell.append(data)


def board_rows(data, catalogue, workstream: str) -> list[list[str]]:
    rows = data.table[data.table["workstream"] == workstream]
    return board_table(rows, catalogue)[BOARD_COLUMNS].to_numpy().tolist()


def test_every_workstream_table_holds_the_screens_rows(html, data, catalogue):
    page = Page(html)
    for ws in catalogue.workstreams:
        table = page.rows[f"ws-{ws.id}"]
        # the workstream's RAG summary (3 rows), then the KPI table's two header rows
        body = table[5:]
        assert [row[:-1] for row in body] == board_rows(data, catalogue, ws.id), ws.id
        assert len(body) == len(catalogue.in_workstream(ws.id))
        own = data.table[data.table["workstream"] == ws.id]
        words = [
            f"{VARIATION_TEXT[v]} {ASSURANCE_TEXT[a]}" for v, a in zip(own["variation"], own["assurance"], strict=True)
        ]
        assert [row[-1][: len(w)] for row, w in zip(body, words, strict=True)] == words


def test_the_published_reference_rows_come_through(html):
    """Rows pinned in tests/test_sample.py to the 2020/21 edition."""
    rows = Page(html).rows["ws-prevention"]
    falls = next(r for r in rows if r[1] == "Falls and frailty admissions (65+)")
    assert falls == [
        "M5",
        "Falls and frailty admissions (65+)",
        "1,251",
        "1,692",
        "-441",
        "-26%",
        "no target set",  # the edition's bare "-", with its reason (issue 19)
        "",
        "",
        "– n/a: no target set",
        "↑ better",
        "Improvement (low) n/a mean 347.3, limits 285.8 to 408.8",
    ]
    iapt = next(r for r in rows if r[1].startswith("IAPT - % with common"))
    assert iapt[0] == "Q2" and iapt[2] == "5.9" and iapt[6] == "5.9" and iapt[9] == "✔ Green"


def test_each_workstream_has_its_rag_summary(html, data, catalogue):
    page = Page(html)
    summary = rag_summary(data.table, catalogue).set_index(["workstream", "comparison"])
    for ws in catalogue.workstreams:
        head, against_target, against_last_year = page.rows[f"ws-{ws.id}"][:3]
        assert head == ["RAG summary", *[f"{'✔▲✖–'[k]} {w}" for k, w in enumerate(RAG_WORDS)]]
        assert against_target == ["Against target", *[str(summary.loc[(ws.id, "target"), w]) for w in RAG_WORDS]]
        assert against_last_year == [
            "Against last year",
            *[str(summary.loc[(ws.id, "last_year"), w]) for w in RAG_WORDS],
        ]


def test_the_headline_tiles_are_the_overviews(html, data, catalogue):
    expected = tiles(data.table, catalogue)
    shown = Page(html).tiles
    assert len(shown) == len(expected)
    for lines, (_, tile) in zip(shown, expected.iterrows(), strict=True):
        assert lines[0] == tile["name"]
        assert lines[1] == f"{tile['value']} {tile['period_label']}"
        assert lines[2] == tile["comparator"]
        assert lines[3].endswith(f"{tile['rag']} · against {tile['rag_basis']}")


def test_the_overall_rag_summary_counts_every_workstream(html, data, catalogue):
    rows = Page(html).rows["changes"]
    summary = rag_summary(data.table, catalogue).set_index(["workstream", "comparison"])
    for ws in catalogue.workstreams:
        row = next(r for r in rows if r[0] == ws.name)
        expected = [str(summary.loc[(ws.id, c), w]) for c in ("target", "last_year") for w in RAG_WORDS]
        assert row[1:] == expected


def test_a_chart_per_indicator(html, catalogue):
    assert html.count("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 300 136'") == len(catalogue.indicators)


def test_the_pack_is_self_contained(html):
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)
    assert "@import" not in html and "url(" not in html


def test_one_workstream_pack(data, catalogue):
    page = Page(boardpack.pack_html(data, catalogue, "market"))
    assert [s for s in page.rows if s.startswith("ws-")] == ["ws-market"]
    assert [row[:-1] for row in page.rows["ws-market"][5:]] == board_rows(data, catalogue, "market")
    market_tiles = tiles(data.table, catalogue).query("workstream == 'market'")
    assert [t[0] for t in page.tiles] == list(market_tiles["name"])


def test_narrative_and_risks_appear_where_present(data, catalogue):
    risks = pd.DataFrame(
        [
            {
                "programme": "Home Care",
                "description": "Risk that the market cannot keep pace",
                "rank": "V High",
                "owner": "CP",
                "mitigation": "Weekly calls with providers",
                "workstream": "market",
                "next_review": pd.Timestamp("2020-12-01"),
                "overdue": True,
            }
        ]
    )
    narrative = {"market": '**Hours** up by 11%\n\n<script>alert(1)</script>\n\n=HYPERLINK("http://x","y")'}
    html = boardpack.pack_html(
        replace(data, narrative=narrative, risks=risks, reviewed_on=date(2020, 12, 2)), catalogue
    )
    page = Page(html)
    assert "<strong>Hours</strong> up by 11%" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    assert "<p>'=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)</p>" in html  # neutralised, as in the workbook
    assert page.rows["risks"][1] == [
        "Managing and Developing the Market",
        "Home Care",
        "Risk that the market cannot keep pace",
        "V High",
        "CP",
        "Weekly calls with providers",
        "1 Dec 2020 (overdue)",
    ]
    assert "Review dates judged at 2 Dec 2020" in html
    without = boardpack.pack_html(replace(data, narrative={}, risks=pd.DataFrame()), catalogue)
    assert "Workstream progress" not in without and 'id="risks"' not in without
    assert "4. Workstream progress" in html and "6. High level risks" in html
    # A deep dive holds its own workstream's risks only
    assert 'id="risks"' not in boardpack.pack_html(
        replace(data, narrative=narrative, risks=risks), catalogue, "prevention"
    )


def test_formula_like_and_markup_like_catalogue_text_is_neutralised_and_escaped(sample_engine, hostile_catalogue):
    data = contents.export_data(sample_engine, hostile_catalogue, AS_AT)
    html = boardpack.pack_html(data, hostile_catalogue)
    page = Page(html)
    names = [row[1] for row in page.rows[f"ws-{hostile_catalogue.workstreams[0].id}"][5:]]
    assert names[: len(HOSTILE)] == [" ".join(("'" + n).split()) for n in HOSTILE]
    assert "<h1>&#39;=HYPERLINK(&#34;http://x&#34;,&#34;y&#34;)</h1>" in html


def test_as_published_pack_is_unchanged_by_later_revisions(engine, catalogue):
    load = lambda text, name: ingest.ingest(engine, text.encode(), name, catalogue, "tester")  # noqa: E731
    load(OCT_NOV, "oct-nov.csv")
    load(CORRECTION, "correction.csv")
    first = formats.export_bytes(contents.export_data(engine, catalogue, AS_AT), catalogue, "html")
    load(DECEMBER, "december.csv")
    now = formats.export_bytes(contents.export_data(engine, catalogue, AS_AT), catalogue, "html")
    published = contents.export_data(engine, catalogue, AS_AT, as_published=True)
    assert formats.export_bytes(published, catalogue, "html") == first
    assert now != first


# The PDF ---------------------------------------------------------------------------------------

POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm")


def pdf_text(path) -> str:
    require("poppler-utils", POPPLER, "install Debian's poppler-utils for pdftotext and pdftoppm")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout


def test_the_pdf_text_holds_every_workstream_row(pdf, data, catalogue):
    """Each row as pdftotext lays it out: the period, the start of the indicator's name
    and the row's figures, rating and trend on one line; the name's rest on the next. A
    cell that says why a figure is missing may wrap in its column: its first word is on
    the row's line; a blank cell is left out."""
    lines = pdf_text(pdf).splitlines()
    for ws in catalogue.workstreams:
        for period, name, *cells in board_rows(data, catalogue, ws.id):
            figures = r"\s+".join(re.escape(c.split()[0]) + (r"(?:\s+\S+)*?" if " " in c else "") for c in cells if c)
            pattern = re.compile(rf"^\s*{re.escape(period)}\s+(.+?)\s+{figures}(\s|$)")  # then the SPC
            found = [(k, m) for k, line in enumerate(lines) if (m := pattern.match(line))]
            squeezed = "".join(name.split())  # a long name wraps, maybe after a hyphen
            assert any(
                "".join(
                    "".join(
                        [m.group(1), *(re.split(r"\s{3,}", line.strip())[0] for line in lines[k + 1 : k + 12])]
                    ).split()
                ).startswith(squeezed)
                for k, m in found
            ), (ws.id, name, cells)


def test_the_pdf_is_a4_landscape_and_its_pages_render(pdf, catalogue):
    text = pdf_text(pdf)
    pages = text.count("\f")
    assert pages >= 1 + len(catalogue.workstreams)
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+841\.89 x 595\.2\d+ pts \(A4\)", info)
    for old in ARTIFACTS.glob("board-pack-pdf-*.png"):
        old.unlink()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(pdf), str(ARTIFACTS / "board-pack-pdf")], check=True)
    rendered = sorted(ARTIFACTS.glob("board-pack-pdf-*.png"))
    assert len(rendered) == pages
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text


def test_a_pack_of_coded_ids_and_money(tmp_path):
    catalogue = coded_catalogue(tmp_path)
    engine = store.connect(f"sqlite:///{tmp_path / 'kpis.sqlite'}")
    try:
        store_values(engine, catalogue)
        data = contents.export_data(engine, catalogue, AS_AT)
    finally:
        engine.dispose()
    html = boardpack.pack_html(data, catalogue)
    page = Page(html)
    body = [row[:-1] for row in page.rows["ws-finance"][5:]]  # the last cell: the SPC
    assert body == board_rows(data, catalogue, "finance")
    budget = next(row for row in body if row[1] == "Budget variance")
    assert budget[2:9] == ["-£56k", "£150k", "-£206k", "-137%", "£0", "-£56k", "n/a (0 target)"]
    assert next(row for row in body if row[1] == "Health checks net change")[2] == "-1,234"
    assert page.tiles == [
        [
            "Budget variance",
            "-£56k M8 2020/21",
            "Target ≥ £0",
            "✖ Red · against target",
            "↓ worse than last year",
            "Common cause Hit and miss trial limits (2 of 12 points)",
        ],
        [
            "Surplus or deficit",
            "£640.0 M8 2020/21",
            "Prev Yr = £1,234.0k",
            "✖ Red · against last year",
            "↓ worse than last year",
            "Common cause n/a trial limits (2 of 12 points)",
        ],
    ]
    assert "Latest, Nov 2020: -£56k, Red against target (target £0)." in html and ">✖ -£56k</text>" in html
    # no id reaches an attribute: sections are named by workstream ids, indicators by their place
    assert re.findall(r"""\b(?:id|href|src)\s*=\s*["']([^"']*)""", html) == [
        "headline",
        "changes",
        "integrated-summary",
        *["#kpi-0", "#kpi-3", "#kpi-4", "#kpi-1", "#kpi-2", "#kpi-5"],  # the matrix, cell by cell
        "ws-finance",
        *[f"kpi-{k}" for k in range(6)],
        "key",
    ]


# Nothing fetched from anywhere ----------------------------------------------------------

HOSTILE_NARRATIVE = (
    "Hours up. ![chart]({base}/chart.png) and ![dot](data:image/png;base64,iVBORw0KGgo=)\n\n"
    "[JCB papers](https://example.org/jcb), [mail](mailto:icu@example.org), [share](file:///etc/passwd),"
    " [inside]({base}/inside) <{base}/auto>\n\n"
    '<img src="{base}/raw.png"> <link rel="stylesheet" href="{base}/x.css"> <style>@import "{base}/y.css";</style>'
)


@pytest.fixture
def listener():
    """A local HTTP server on a random port that records every request made to it: the
    'internal address' a narrative might name."""
    import http.server
    import threading

    requests: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


class Resources(HTMLParser):
    """Every URL a document would load (``src``, ``srcset``, ``data``, ``poster``, a
    ``<link>``'s ``href``, CSS ``url()`` and ``@import``) and every link's ``href``."""

    LOADING = frozenset({"src", "srcset", "data", "poster", "background", "xlink:href", "action", "formaction"})

    def __init__(self, document: str):
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.feed(document)
        self.loads += re.findall(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", document)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in self.LOADING or (tag == "link" and name == "href"):
                self.loads.append(value or "")
            elif tag == "a" and name == "href":
                self.links.append(value or "")


def test_a_narrative_naming_urls_makes_a_pack_that_loads_nothing(data, catalogue, listener):
    base, requests = listener
    html = boardpack.pack_html(replace(data, narrative={"market": HOSTILE_NARRATIVE.format(base=base)}), catalogue)
    found = Resources(html)
    assert found.loads == []
    # A link is the reader's to follow, never fetched: http(s) and mail only (file: stays text).
    inside = [link for link in found.links if link.startswith("#")]  # the pack's own anchors
    assert all(re.fullmatch(r"#(kpi|spc)-\d+", link) for link in inside) and inside
    assert [link for link in found.links if not link.startswith("#")] == [
        "https://example.org/jcb",
        "mailto:icu@example.org",
        f"{base}/inside",
        f"{base}/auto",
    ]
    assert "[share](file:///etc/passwd)" in html
    assert "[image: chart]" in html and "![dot](data:image/png;base64,iVBORw0KGgo=)" in html
    assert "<img" not in html and "<link" not in html
    assert requests == []


def test_the_pdf_export_makes_no_request_for_a_narratives_urls(data, catalogue, listener):
    base, requests = listener
    pdf = boardpack.pack_pdf(replace(data, narrative={"market": HOSTILE_NARRATIVE.format(base=base)}), catalogue)
    assert pdf.startswith(b"%PDF")
    assert requests == []


def test_the_pdf_writer_refuses_every_url_but_the_packs_own_embedded_resources(listener, tmp_path):
    """Behind the narrative's own rule: even markup that names URLs directly gets none
    fetched by WeasyPrint, while an embedded (data:) image still renders."""
    base, requests = listener
    (tmp_path / "local.png").write_bytes(b"not read")
    document = (
        f"<html><head><link rel='stylesheet' href='{base}/a.css'><style>@import '{base}/b.css';"
        f" body {{ background: url('{base}/c.png') }} @font-face {{ font-family: x; src: url('{base}/d.woff') }}"
        "</style></head>"
        f"<body><img src='{base}/e.png'><img src='{(tmp_path / 'local.png').as_uri()}'>"
        "<img src='data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7'></body></html>"
    )
    assert boardpack.html_to_pdf(document).startswith(b"%PDF")
    assert requests == []
    fetcher = boardpack.pdf_fetcher()
    with pytest.raises(boardpack.FetchRefused) as caught:
        fetcher(f"{base}/e.png")
    assert str(caught.value) == f"The board pack loads nothing from outside itself: refused '{base}/e.png'"
    assert fetcher("data:text/plain,hi").read() == b"hi"
    assert requests == []


# Board-ready: the cover, what changed, readable charts, risks judged at the report's month ------

SAMPLE_PDF_PAGES = 16  # the sample pack for Nov 2020: docs/board-pack.md says what is on each page


def test_the_cover_gives_the_month_and_a_summary_sentence(html):
    cover = html[html.index('<header class="cover">') : html.index("</header>")]
    assert '<strong class="month">As at Nov 2020</strong>' in cover
    assert (
        "Of 33 indicators, 19 have a target and a figure: 10 met it, 1 missed it within tolerance and 8 are Red. "
        "19 of the 28 with a figure a year before are better than last year. "
        "No rating against target moved since Oct 2020."
    ) in cover


def test_the_changes_page_lists_the_ratings_that_moved_and_the_biggest_movers(html):
    rows = Page(html).rows["changes"]
    # the sample's one move: reablement fell from Green to Red against last year (M7 → M8)
    assert [
        "Integrated Care (Better Care)",
        "% of clients in rehab/reablement who do not need ongoing care",
        "last year",
        "✔ Green",
        "✖ Red (down)",
    ] in rows
    movers = rows[rows.index(["Indicator", "Last report", "This report", "Change", "Reading"]) + 1 :]
    assert movers[0] == [
        "% of clients in rehab/reablement who do not need ongoing care",
        "48% (M7 2020/21)",
        "41% (M8 2020/21)",
        "-8 points (-16%)",
        "worse",
    ]
    assert "None: no indicator moved into Red against target since Oct 2020." in html


def test_a_pack_with_no_earlier_month_says_so(data, catalogue):
    html = boardpack.pack_html(replace(data, previous=data.previous.assign(actual=float("nan"))), catalogue)
    assert "No figure for Oct 2020 or earlier to compare with." in html
    assert "No earlier month to compare with." in html


@pytest.mark.parametrize(
    ("as_at", "made_on", "expected"),
    [
        ("2020-11", date(2026, 12, 7), date(2020, 11, 30)),  # made years later: the end of the month
        ("2020-02", date(2026, 12, 7), date(2020, 2, 29)),  # a leap year
        ("2026-12", date(2026, 12, 3), date(2026, 12, 3)),  # made during the month: that day
        ("2020-11", date(2020, 12, 10), date(2020, 11, 30)),  # published after the month
    ],
)
def test_risk_reviews_are_judged_at_the_end_of_the_as_at_month(as_at, made_on, expected):
    assert contents.review_day(periods.parse_period(as_at), made_on) == expected


def test_risks_reviewed_after_the_report_month_are_not_overdue(data, pdf):
    assert data.reviewed_on == date(2020, 11, 30)
    reviews = data.risks.set_index("programme")["next_review"]
    assert data.risks["overdue"].tolist() == (reviews <= pd.Timestamp("2020-11-30")).tolist()
    assert data.risks["overdue"].sum() == 1 and reviews["Wheel Chair Service"] == pd.Timestamp("2020-11-20")
    text = pdf_text(pdf)
    assert text.count("(overdue)") == 1
    assert "Review dates judged at 30 Nov 2020" in " ".join(text.split())


def chart_svgs(html: str, kind: str) -> list[str]:
    return re.findall(rf"<svg [^>]*class='{kind}'.*?</svg>", html, flags=re.S)


def test_every_chart_has_month_labels_and_a_text_alternative_with_its_latest_value(html, data, catalogue):
    charts = chart_svgs(html, "kpi-chart")
    assert len(charts) == len(catalogue.indicators)
    for svg, (_, row) in zip(charts, data.table.iterrows(), strict=True):
        ind = catalogue.indicator(row["indicator"])
        letters = "".join(re.findall(r"font-size='6.5'>([A-Z])</text>", svg))
        assert letters == "DJFMAMJJASON" * 2, ind.id  # Dec 2018 … Nov 2020
        assert ">2019/20</text>" in svg and ">2020/21</text>" in svg
        label = re.search(r"aria-label='([^']*)'", svg).group(1)
        assert svg.count("role='img'") == 1 and f"<title>{label}</title>" in svg
        assert label.startswith(escape(ind.name, quote=True) + ": bar chart of "), ind.id
        if pd.notna(row["actual"]):
            latest = escape(formatting.with_unit(row["actual"], ind.unit.value, ind.decimals), quote=True)
            assert f": {latest}, {row['rag_target'] if pd.notna(row['target']) else ''}" in label, ind.id
        else:
            assert label.endswith("No figure in these months."), ind.id
    for svg in chart_svgs(html, "spc-chart"):
        label = re.search(r"aria-label='([^']*)'", svg).group(1)
        assert f"<title>{label}</title>" in svg and "Latest: " in label


def pdf_pages(path) -> list[str]:
    count = pdf_text(path).count("\f")
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(path), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for n in range(1, count + 1)
    ]


def test_the_sample_pdf_has_its_stated_pages_each_with_content_and_the_data_version(pdf, data):
    pages = pdf_pages(pdf)
    assert len(pages) == SAMPLE_PDF_PAGES
    footer = f"ICU Summary Performance Report · As at Nov 2020 · Data version {data.data_version}"
    for n, text in enumerate(pages, start=1):
        lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
        assert any(line.startswith(footer) and line.endswith(f"Page {n} of {len(pages)}") for line in lines), n
        content = [line for line in lines if not line.startswith(footer)]
        assert len(" ".join(content).split()) >= 30, (n, content)  # a page of content, not an orphan


def test_the_changes_page_screenshot(pdf):
    """The 'Changed since last month' page as a board member sees it, kept in artifacts/."""
    pages = pdf_pages(pdf)
    number = next(n for n, text in enumerate(pages, start=1) if "Changed since last month" in text)
    assert number == 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", "80", "-png", "-singlefile", "-f", str(number), "-l", str(number), str(pdf),
         str(ARTIFACTS / "board-pack-changes")],
        check=True,
    )  # fmt: skip
    assert (ARTIFACTS / "board-pack-changes.png").stat().st_size > 10_000


# PowerPoint ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deck(data, catalogue):
    import io

    from pptx import Presentation

    return Presentation(io.BytesIO(formats.export_bytes(data, catalogue, "pptx")))


def slide_title(slide) -> str:
    return slide.shapes[0].text_frame.text


def descr(shape) -> str:
    return shape._element.xpath("./*[1]/p:cNvPr")[0].get("descr", "")


def test_the_pptx_has_a_slide_per_section(deck, catalogue):
    assert [slide_title(s) for s in deck.slides] == [
        "ICU Summary Performance Report",
        "Changed since last month",
        "a. Integrated Care (Better Care): key performance indicators",
        "a. Integrated Care (Better Care): the last 24 months (1 of 2)",
        "a. Integrated Care (Better Care): the last 24 months (2 of 2)",
        "b. Prevention and Early Intervention: key performance indicators",
        "b. Prevention and Early Intervention: the last 24 months (1 of 2)",
        "b. Prevention and Early Intervention: the last 24 months (2 of 2)",
        "c. Commissioning Safe & High Quality Services: key performance indicators",
        "c. Commissioning Safe & High Quality Services: the last 24 months",
        "d. Managing and Developing the Market: key performance indicators",
        "d. Managing and Developing the Market: the last 24 months",
        "High level risks/issues (1 of 2)",  # the sample's six risks, with long mitigations
        "High level risks/issues (2 of 2)",
    ]
    charts = [shape for slide in deck.slides for shape in slide.shapes if shape.has_chart]
    assert len(charts) == len(catalogue.indicators)
    assert deck.slides[0].shapes[2].text_frame.text.startswith("As at Nov 2020 (M8 2020/21)")


def test_every_pptx_chart_picture_and_table_has_alt_text(deck):
    shapes = [
        shape
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_chart or shape.has_table or shape.shape_type == 13  # 13: a picture
    ]
    assert shapes
    for shape in shapes:
        assert len(descr(shape)) > 20, shape.name
    first = next(shape for shape in deck.slides[3].shapes if shape.has_chart)
    assert descr(first).startswith("% acute beds occupied per day by patients who are medically optimised")
    assert "Latest, Oct 2020: 16%, Red against target (target 4%)." in descr(first)


def test_every_pptx_shape_lies_within_its_slide(deck):
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0, (number, shape.name)
            assert shape.left + shape.width <= deck.slide_width, (number, shape.name)
            assert shape.top + shape.height <= deck.slide_height, (number, shape.name)


def test_every_line_of_every_pptx_table_cell_has_the_tables_size(deck):
    """A cell of several lines (a risk listing its points) is a paragraph a line: each is
    sized, or PowerPoint shows it at 18 pt and the table runs off the slide."""
    from pptx.util import Pt

    risk_cells = 0
    for number, slide in enumerate(deck.slides, start=1):
        for shape in slide.shapes:
            if not shape.has_table:
                continue
            for row in shape.table.rows:
                for cell in row.cells:
                    runs = [run for para in cell.text_frame.paragraphs for run in para.runs]
                    assert all(run.font.size is not None and run.font.size <= Pt(10) for run in runs), (
                        number,
                        cell.text[:60],
                    )
                    risk_cells += len(cell.text_frame.paragraphs) > 1
    assert risk_cells  # the sample's risk descriptions hold lists


@pytest.mark.parametrize(
    ("title", "points"),
    [
        ("Changed since last month", 24),
        ("a. Integrated Care (Better Care): key performance indicators", 24),
        ("c. Commissioning Safe & High Quality Services: key performance indicators", 19),  # wrapped at 24
        ("x" * 200, 16),
    ],
)
def test_a_long_slide_title_is_set_smaller_to_stay_on_one_line(title, points):
    from kpis.publish import slides

    assert slides.title_points(title) == points


def test_the_pptx_titles_are_set_at_their_fitted_size(deck):
    from pptx.util import Pt

    from kpis.publish import slides

    for slide in deck.slides:
        run = slide.shapes[0].text_frame.paragraphs[0].runs[0]
        assert run.font.size == Pt(slides.title_points(run.text)), run.text


def test_the_pptx_charts_are_columns_with_the_target_as_a_line_per_year(deck):
    chart = next(shape for shape in deck.slides[3].shapes if shape.has_chart).chart
    kinds = [plot.__class__.__name__ for plot in chart.plots]
    assert kinds == ["BarPlot", "LinePlot"]
    assert [s.name for s in chart.plots[1].series] == ["Target 2020/21"]  # a target from April 2020 only
    values = chart.plots[1].series[0].values
    assert all(v is None for v in values[:16]) and all(v is not None for v in values[16:23])  # from Apr 2020
    assert len(chart.plots[0].categories) == 24 and chart.plots[0].categories[-1] == "Nov 20"


def test_long_risks_go_on_as_many_slides_as_they_need():
    from kpis.publish import slides

    short = [["Market", "Home Care", "A risk", "High", "CP", "Calls", "1 Dec 2020"]] * 3
    assert slides.risk_slides(short) == [short]
    long = [["Market", "Home Care", "word " * 200, "High", "CP", "word " * 250, "1 Dec 2020"]] * 6
    groups = slides.risk_slides(long)
    assert len(groups) == 3 and [len(g) for g in groups] == [2, 2, 2]  # each ~2.2 inches of 5.6


def test_a_one_workstream_pptx(data, catalogue):
    import io

    from pptx import Presentation

    deck = Presentation(io.BytesIO(formats.export_bytes(data, catalogue, "pptx", "market")))
    assert [slide_title(s) for s in deck.slides] == [
        "ICU Summary Performance Report: Managing and Developing the Market",
        "Changed since last month",
        "a. Managing and Developing the Market: key performance indicators",
        "a. Managing and Developing the Market: the last 24 months",
        "High level risks/issues",
    ]
