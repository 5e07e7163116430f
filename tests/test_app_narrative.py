"""The workstream narrative through AppTest, on the real app and its own SQLite file (the
sample, with its illustrative 2020/21 commentary, loads at first start): an officer
writes and edits a commentary, every version is kept with who and when, a director reads
it on the workstream page, a viewer cannot write, and user text never becomes markup."""

from __future__ import annotations

import getpass

from streamlit.testing.v1 import AppTest

from app.pages import narrative as narrative_page
from kpis import access, periods, sample, store
from kpis.governance import narrative
from tests.test_app import ROOT, TIMEOUT, dataframe_with, open_page

NOV = periods.parse_period("2020-11")
HOSTILE_TEXT = '<script>alert(1)</script> and =HYPERLINK("http://x","y")'


def start(role: str, monkeypatch) -> AppTest:
    monkeypatch.setenv(access.LOCAL_ROLE_ENV, role)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    return at


def editor(at: AppTest):
    (area,) = [t for t in at.text_area if t.label == "Commentary (Markdown)"]
    return area


def html_bodies(at: AppTest) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def write(at: AppTest, workstream: str, text: str) -> AppTest:
    at.selectbox(key=narrative_page.WORKSTREAM_KEY).set_value(workstream).run()
    editor(at).set_value(text).run()
    at.button(key=narrative_page.SAVE_KEY).click().run()
    assert not at.exception
    return at


def test_an_officer_writes_and_edits_a_commentary_and_both_versions_are_kept(app_env, monkeypatch):
    at = start("officer", monkeypatch)
    open_page(at, "narrative")
    assert at.title[0].value == "Write progress"
    engine = store.connect(app_env)
    sample_text = narrative.current(engine, NOV).set_index("workstream").loc["market", "text"]
    at.selectbox(key=narrative_page.WORKSTREAM_KEY).set_value("market").run()
    assert editor(at).value == sample_text  # this month's text, version 1 (the sample's)

    write(at, "market", "**Home care** hours up by 11% on April 2019.")
    assert at.success[0].value == "Saved version 2 of the Managing and Developing the Market commentary for Nov 2020."
    write(at, "market", "**Home care** hours up by 11% on April 2019.\n\nProvider failure protocol reviewed.")
    assert at.success[0].value.startswith("Saved version 3 of")

    versions = narrative.history(engine, "market", NOV)
    assert list(versions["version"]) == [3, 2, 1]
    assert list(versions["saved_by"]) == [getpass.getuser(), getpass.getuser(), sample.SAMPLE_USER]
    assert versions["text"].iloc[1] == "**Home care** hours up by 11% on April 2019."
    shown = dataframe_with(at, "Saved by")
    assert list(shown["Version"]) == [3, 2, 1]
    assert list(shown["Saved by"]) == [getpass.getuser(), getpass.getuser(), sample.SAMPLE_USER]
    assert all(s.endswith(" UTC") for s in shown["Saved at"])
    assert "<strong>Home care</strong> hours up by 11% on April 2019." in html_bodies(at)  # the preview


def test_saving_the_same_text_again_writes_nothing(app_env, monkeypatch):
    at = start("officer", monkeypatch)
    open_page(at, "narrative")
    at.selectbox(key=narrative_page.WORKSTREAM_KEY).set_value("prevention").run()
    at.button(key=narrative_page.SAVE_KEY).click().run()
    assert at.info[-1].value == "No change: nothing was saved."
    assert list(narrative.history(store.connect(app_env), "prevention", NOV)["version"]) == [1]


def test_last_months_text_is_the_starting_point_for_a_new_month(app_env, monkeypatch):
    at = start("officer", monkeypatch)
    engine = store.connect(app_env)
    # The sample has no commentary for integrated care in October: take November's away
    # by opening the editor for a month whose text is last month's.
    at.query_params["as_at"] = "2020-11"
    open_page(at, "narrative")
    at.selectbox(key=narrative_page.WORKSTREAM_KEY).set_value("market").run()
    draft = narrative.starting_text(engine, "market", NOV)
    assert editor(at).value == draft.text


def test_a_director_reads_the_commentary_on_the_workstream_page(app_env, monkeypatch):
    officer = start("officer", monkeypatch)
    open_page(officer, "narrative")
    write(officer, "market", "Hours *up* 11%.")
    director = start("viewer", monkeypatch)
    open_page(director, "market")
    bodies = html_bodies(director)
    assert "<p>Hours <em>up</em> 11%.</p>" in bodies
    assert f"Version 2, saved by {getpass.getuser()} on " in " ".join(c.value for c in director.caption)
    assert not [link for link in director.get("page_link") if "commentary" in link.proto.label]
    director.query_params["tab"] = "Progress"  # the rolling four months
    open_page(director, "market")
    assert not director.exception
    assert [s.value for s in director.subheader][-4:] == ["Nov 2020", "Oct 2020", "Sep 2020", "Aug 2020"]


def test_a_viewer_cannot_write_and_is_refused_by_url(app_env, monkeypatch):
    at = start("viewer", monkeypatch)
    open_page(at, "narrative")
    assert at.title[0].value == "Not available"
    assert not [t for t in at.text_area]
    assert not at.button


def test_markup_and_formulas_show_as_text(app_env, monkeypatch):
    at = start("officer", monkeypatch)
    open_page(at, "narrative")
    write(at, "market", HOSTILE_TEXT)
    engine = store.connect(app_env)
    assert narrative.current(engine, NOV).set_index("workstream").loc["market", "text"] == HOSTILE_TEXT
    director = start("viewer", monkeypatch)
    open_page(director, "market")
    bodies = html_bodies(director)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; and =HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in bodies
    assert "<script" not in bodies


def test_a_save_after_someone_elses_is_refused_and_keeps_both_texts(app_env, monkeypatch):
    bob = start("officer", monkeypatch)
    open_page(bob, "narrative")
    bob.selectbox(key=narrative_page.WORKSTREAM_KEY).set_value("market").run()
    ann = start("officer", monkeypatch)
    open_page(ann, "narrative")
    write(ann, "market", "Ann's text.")
    assert ann.success[0].value.startswith("Saved version 2 of")

    editor(bob).set_value("Bob's text.").run()  # reruns re-read nothing: the edit started from version 1
    bob.button(key=narrative_page.SAVE_KEY).click().run()
    assert not bob.exception
    assert bob.error[0].value.startswith("The commentary of Managing and Developing the Market for Nov 2020: ")
    assert "saved version 2 on " in bob.error[0].value
    assert bob.error[0].value.endswith("after you started editing from version 1; nothing was written.")
    assert editor(bob).value == "Bob's text."
    assert [c.value for c in bob.code] == ["Bob's text.", "Ann's text."]
    engine = store.connect(app_env)
    assert list(narrative.history(engine, "market", NOV)["text"])[:1] == ["Ann's text."]

    editor(bob).set_value("Ann's text.\n\nBob's text.").run()
    assert [c.value for c in bob.code] == ["Ann's text.\n\nBob's text.", "Ann's text."]  # the comparison stays
    bob.button(key=narrative_page.AFTER_THEIRS_KEY).click().run()
    assert bob.success[0].value.startswith("Saved version 3 of")
    assert list(narrative.history(engine, "market", NOV)["text"])[:2] == ["Ann's text.\n\nBob's text.", "Ann's text."]
    assert not bob.code


def test_discarding_ones_text_after_a_refusal_loads_theirs(app_env, monkeypatch):
    bob = start("officer", monkeypatch)
    open_page(bob, "narrative")
    bob.selectbox(key=narrative_page.WORKSTREAM_KEY).set_value("market").run()
    ann = start("officer", monkeypatch)
    open_page(ann, "narrative")
    write(ann, "market", "Ann's text.")
    editor(bob).set_value("Bob's text.").run()
    bob.button(key=narrative_page.SAVE_KEY).click().run()
    bob.button(key=narrative_page.DISCARD_KEY).click().run()
    assert editor(bob).value == "Ann's text."
    assert not bob.error and not bob.code
