"""The workstream narrative on a real SQLite file and a real PostgreSQL database: every
version kept with who and when, a stale edit refused with nothing written, unchanged text
not saved again, last month's text as the starting point, the four-month rolling view,
Markdown rendered with raw HTML escaped, a store made before the narrative brought up to
date on connect, and the sample narrative."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import MetaData, create_engine, insert, inspect, select

from kpis import errors, periods, sample, store
from kpis.governance import narrative, risks


def month(text: str) -> int:
    return periods.from_text(text)


NOV, OCT, SEP, AUG, JUL, DEC = (month(m) for m in ("2020-11", "2020-10", "2020-09", "2020-08", "2020-07", "2020-12"))


def save(engine, catalogue, text, based_on=None, workstream="market", when=NOV, by="ann"):
    return narrative.save(engine, workstream, when, text, by, based_on, catalogue=catalogue)


def stored_rows(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(store.commentaries).order_by(store.commentaries.c.id)).fetchall())


# Saving ---------------------------------------------------------------------------------


def test_every_version_is_kept_with_who_saved_it_and_when(engine, catalogue):
    before = pd.Timestamp.now(tz="UTC")
    assert save(engine, catalogue, "First draft.", by="ann") == 1
    assert save(engine, catalogue, "Second draft.", based_on=1, by="bob") == 2
    after = pd.Timestamp.now(tz="UTC")
    history = narrative.history(engine, "market", NOV)
    assert history.columns.tolist() == narrative.COLUMNS
    assert history[["workstream", "month", "version", "text", "saved_by"]].values.tolist() == [
        ["market", NOV, 2, "Second draft.", "bob"],
        ["market", NOV, 1, "First draft.", "ann"],
    ]
    assert str(history["saved_at"].dt.tz) == "UTC"
    assert before <= history["saved_at"].iloc[1] <= history["saved_at"].iloc[0] <= after
    assert narrative.current(engine, NOV)[["workstream", "version", "text"]].values.tolist() == [
        ["market", 2, "Second draft."]
    ]


def test_a_stale_edit_is_refused_and_nothing_is_written(engine, catalogue):
    save(engine, catalogue, "Ann's text.", by="ann")
    saved_at = narrative.history(engine, "market", NOV)["saved_at"].iloc[0].strftime("%d %b %Y %H:%M UTC")
    before = stored_rows(engine)
    with pytest.raises(errors.StaleEditError) as refused:
        save(engine, catalogue, "Bob's text, started before Ann saved.", based_on=None, by="bob")
    assert str(refused.value) == (
        f"The commentary of Managing and Developing the Market for Nov 2020: ann saved version 1 on {saved_at}"
        " after you started editing from no saved version; nothing was written. Hint: reload to see their"
        " version, then make your changes to it again."
    )
    assert type(refused.value) is errors.StaleEditError  # the one stale-edit error, as for risks
    assert (refused.value.version, refused.value.saved_by, refused.value.based_on) == (1, "ann", None)
    save(engine, catalogue, "Ann's second text.", based_on=1, by="ann")
    with pytest.raises(errors.StaleEditError, match=r"ann saved version 2 on .* from version 1; nothing was written"):
        save(engine, catalogue, "Carol's text.", based_on=1, by="carol")
    assert narrative.history(engine, "market", NOV)["saved_by"].tolist() == ["ann", "ann"]
    assert len(stored_rows(engine)) == len(before) + 1


@pytest.mark.parametrize("again", ["Unchanged.", "Unchanged.  \n\n", "Unchanged.\r\n"])
def test_unchanged_text_writes_no_new_version(engine, catalogue, again):
    assert save(engine, catalogue, "Unchanged.") == 1
    assert save(engine, catalogue, again, based_on=1, by="bob") == 1
    assert save(engine, catalogue, again, based_on=None, by="bob") == 1  # nothing to overwrite: not stale
    assert narrative.history(engine, "market", NOV)[["version", "saved_by"]].values.tolist() == [[1, "ann"]]


def test_text_is_stored_with_one_kind_of_line_break_and_no_trailing_whitespace(engine, catalogue):
    save(engine, catalogue, "  - one\r\n  - two  \r\n\r\n")
    assert stored_rows(engine)["text"].tolist() == ["  - one\n  - two"]


def test_text_up_to_the_limit_is_saved_and_longer_text_refused(engine, catalogue):
    assert save(engine, catalogue, "x" * narrative.MAX_CHARS + "   ") == 1
    with pytest.raises(narrative.NarrativeError) as refused:
        save(engine, catalogue, "y" * (narrative.MAX_CHARS + 1), based_on=1)
    assert str(refused.value) == (
        "The commentary has 20,001 characters, more than the limit of 20,000; nothing was written."
        " Hint: shorten it; detail belongs in the papers the commentary refers to."
    )
    assert len(stored_rows(engine)) == 1


def test_an_unknown_workstream_is_refused_with_the_ids(engine, catalogue):
    with pytest.raises(narrative.NarrativeError) as refused:
        save(engine, catalogue, "Text.", workstream="finance")
    assert str(refused.value) == (
        "'finance' is not a workstream; nothing was written."
        " Hint: use one of integrated_care, prevention, safe_quality, market."
    )
    assert stored_rows(engine).empty


# Reading --------------------------------------------------------------------------------


def test_current_is_the_latest_text_of_each_workstream_for_the_month(engine, catalogue):
    save(engine, catalogue, "Market, October.", when=OCT)
    save(engine, catalogue, "Market, November.")
    save(engine, catalogue, "Market, November, revised.", based_on=1, by="bob")
    save(engine, catalogue, "Prevention, November.", workstream="prevention", by="carol")
    save(engine, catalogue, "Quality, November.", workstream="safe_quality")
    save(engine, catalogue, "", workstream="safe_quality", based_on=1)  # cleared: no commentary in force
    current = narrative.current(engine, NOV)
    assert current.columns.tolist() == narrative.COLUMNS
    assert current[["workstream", "month", "version", "text", "saved_by"]].values.tolist() == [
        ["market", NOV, 2, "Market, November, revised.", "bob"],
        ["prevention", NOV, 1, "Prevention, November.", "carol"],
    ]
    assert narrative.current(engine, DEC).empty
    assert narrative.current(engine, DEC).columns.tolist() == narrative.COLUMNS


def test_starting_text_is_this_months_text_else_the_latest_earlier_months(engine, catalogue):
    assert narrative.starting_text(engine, "market", NOV) == narrative.Draft(NOV, "", None, None)
    save(engine, catalogue, "August.", when=AUG)
    save(engine, catalogue, "September.", when=SEP)
    save(engine, catalogue, "September, revised.", when=SEP, based_on=1)
    save(engine, catalogue, "Prevention, October.", workstream="prevention", when=OCT)
    save(engine, catalogue, "December.", when=DEC)  # later than the month asked for: not offered
    draft = narrative.starting_text(engine, "market", NOV)
    assert draft == narrative.Draft(NOV, "September, revised.", None, SEP)
    assert draft.carried_forward
    # Saved from the carried-forward text, it becomes this month's version 1.
    assert save(engine, catalogue, draft.text + "\n\nNovember's news.", based_on=draft.based_on) == 1
    draft = narrative.starting_text(engine, "market", NOV)
    assert draft == narrative.Draft(NOV, "September, revised.\n\nNovember's news.", 1, NOV)
    assert not draft.carried_forward


def test_starting_text_after_this_months_text_was_cleared(engine, catalogue):
    save(engine, catalogue, "October.", when=OCT)
    save(engine, catalogue, "Saved by mistake.")
    save(engine, catalogue, "", based_on=1)
    draft = narrative.starting_text(engine, "market", NOV)
    assert draft == narrative.Draft(NOV, "October.", 2, OCT)  # based on the cleared version: not stale
    assert save(engine, catalogue, draft.text, based_on=draft.based_on) == 3


def test_rolling_view_is_the_latest_text_of_the_last_four_months_with_text(engine, catalogue):
    save(engine, catalogue, "July.", when=JUL)  # five months back: outside the view
    save(engine, catalogue, "August.", when=AUG)
    # no September commentary
    save(engine, catalogue, "October.", when=OCT)
    save(engine, catalogue, "October, revised.", when=OCT, based_on=1, by="bob")
    save(engine, catalogue, "November.")
    save(engine, catalogue, "December.", when=DEC)  # after the as-at month
    save(engine, catalogue, "Prevention, November.", workstream="prevention")
    rolling = narrative.rolling(engine, "market", NOV)
    assert rolling.columns.tolist() == narrative.COLUMNS
    assert rolling[["month", "version", "text", "saved_by"]].values.tolist() == [
        [NOV, 1, "November.", "ann"],
        [OCT, 2, "October, revised.", "bob"],
        [AUG, 1, "August.", "ann"],
    ]
    assert narrative.rolling(engine, "market", NOV, months=2)["month"].tolist() == [NOV, OCT]
    assert narrative.rolling(engine, "safe_quality", NOV).empty


# Rendering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        ("[click](javascript:alert(1))", "<p>[click](javascript:alert(1))</p>\n"),
        ("[click](JavaScript:alert(1))", "<p>[click](JavaScript:alert(1))</p>\n"),
        ("![chart](javascript:alert(1))", "<p>![chart](javascript:alert(1))</p>\n"),
        (
            '<a href="javascript:alert(1)">x</a>',
            "<p>&lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt;</p>\n",
        ),
        (
            "**Winter** <img src=x onerror=alert(1)>",
            "<p><strong>Winter</strong> &lt;img src=x onerror=alert(1)&gt;</p>\n",
        ),
        ("[JCB papers](https://example.org/jcb)", '<p><a href="https://example.org/jcb">JCB papers</a></p>\n'),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"),
    ],
)
def test_to_html_renders_markdown_and_never_raw_html(markdown, html):
    assert narrative.to_html(markdown) == html


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        # An image is never loaded from anywhere: it shows as its description.
        ("![p](http://127.0.0.1:8799/x.png)", "<p>[image: p]</p>\n"),
        ("![](https://example.org/x.png)", "<p>[image]</p>\n"),
        ("![dot](data:image/png;base64,iVBORw0KGgo=)", "<p>![dot](data:image/png;base64,iVBORw0KGgo=)</p>\n"),
        (
            "[![logo](http://x.org/l.png)](https://example.org)",
            '<p><a href="https://example.org">[image: logo]</a></p>\n',
        ),
        ("![<b>x</b>](http://x.org/l.png)", "<p>[image: &lt;b&gt;x&lt;/b&gt;]</p>\n"),
        # Links: http(s) and mail only; anything else stays as the text written.
        ("[mail us](mailto:icu@example.org)", '<p><a href="mailto:icu@example.org">mail us</a></p>\n'),
        ("<https://example.org/jcb>", '<p><a href="https://example.org/jcb">https://example.org/jcb</a></p>\n'),
        ("[files](ftp://example.org/x)", "<p>[files](ftp://example.org/x)</p>\n"),
        ("[share](smb://fileserver/papers)", "<p>[share](smb://fileserver/papers)</p>\n"),
        ("[admin](/data-status)", "<p>[admin](/data-status)</p>\n"),
        ("[call](tel:0123)", "<p>[call](tel:0123)</p>\n"),
    ],
)
def test_images_never_load_and_links_are_http_or_mail_only(markdown, html):
    assert narrative.to_html(markdown) == html


# The store ------------------------------------------------------------------------------


def test_a_store_made_before_the_narrative_gets_its_tables_on_connect(database_url, catalogue):
    """A store with extracts and observations only (as made before issue 7) gets the
    commentaries and risk_versions tables when connected, and keeps its rows."""
    first = MetaData()
    for table in (store.extracts, store.observations):
        table.to_metadata(first)
    old = create_engine(database_url)
    first.create_all(old)
    with old.begin() as conn:
        conn.execute(
            insert(first.tables["extracts"]).values(
                id=1,
                sha256="0" * 64,
                file_name="extract-1.csv",
                loaded_by="alice",
                loaded_at=datetime(2020, 11, 23, tzinfo=UTC),
                rows_total=1,
                rows_new=1,
                rows_revised=0,
                rows_unchanged=0,
                content=b"indicator,period,value\nlarc_uptake,2020-10,30\n",
            )
        )
        conn.execute(
            insert(first.tables["observations"]).values(
                indicator="larc_uptake", period="2020-10", revision=1, value=30.0, extract_id=1
            )
        )
    assert set(inspect(old).get_table_names()) == {"extracts", "observations"}
    old.dispose()

    engine = store.connect(database_url)
    try:
        assert set(inspect(engine).get_table_names()) == {"extracts", "observations", "commentaries", "risk_versions"}
        assert store.current_observations(engine)[["indicator", "value"]].values.tolist() == [["larc_uptake", 30.0]]
        assert store.extract_log(engine)["loaded_by"].tolist() == ["alice"]
        assert save(engine, catalogue, "November.") == 1
        assert risks.save(engine, risks.Risk("A risk.", "High", "DC"), "ann") == (1, 1)
    finally:
        engine.dispose()


# The sample -----------------------------------------------------------------------------


def test_the_sample_narrative_is_labelled_illustrative_and_valid_against_the_catalogue(catalogue):
    header = sample.NARRATIVE_FILE.read_text(encoding="utf-8").split("\n- ", 1)[0]
    assert "ILLUSTRATIVE sample content" in header and "2020/21" in header
    entries = sample.sample_narrative()
    workstreams = [w.id for w in catalogue.workstreams]
    assert sorted((e["workstream"], periods.to_text(e["month"])) for e in entries) == sorted(
        (w, m) for w in workstreams for m in ("2020-08", "2020-09", "2020-10", "2020-11")
    )
    assert all(0 < len(narrative.clean(e["text"])) <= narrative.MAX_CHARS for e in entries)
    assert [e["month"] for e in entries] == sorted(e["month"] for e in entries)  # loaded oldest first


def test_the_sample_narrative_loads_with_the_sample_and_fills_the_rolling_view(engine, catalogue):
    sample.load_sample_narrative(engine, catalogue)
    for workstream in catalogue.workstreams:
        rolling = narrative.rolling(engine, workstream.id, NOV)
        assert rolling["month"].tolist() == [NOV, OCT, SEP, AUG], workstream.id
        assert set(rolling["saved_by"]) == {sample.SAMPLE_USER}
    november = narrative.current(engine, NOV).set_index("workstream")["text"]
    assert november["market"].startswith("A number of workstreams are in train, including:")
    assert "Almost all homes in the city accepted the offer" in november["safe_quality"]
    sample.load_sample_narrative(engine, catalogue)  # again: nothing new
    assert len(stored_rows(engine)) == 16


def test_the_sample_narrative_never_overwrites_an_officers_commentary(engine, catalogue):
    save(engine, catalogue, "The officer's own November text.", by="ann")
    sample.load_sample_narrative(engine, catalogue)
    assert narrative.history(engine, "market", NOV)[["version", "saved_by"]].values.tolist() == [[1, "ann"]]
    assert narrative.history(engine, "market", OCT)["saved_by"].tolist() == [sample.SAMPLE_USER]
