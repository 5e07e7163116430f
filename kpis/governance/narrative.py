"""Workstream narrative: the officers' commentary per workstream per month, in Markdown.

Every saved version is kept with who saved it and when (``store.commentaries``); an edit
started from an older version is refused rather than overwriting someone's text. User
text is never rendered as raw HTML: :func:`to_html` escapes any HTML in it, links to
anything but http(s) and mail addresses are left as text, and images are never loaded
(each shows as its description).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from sqlalchemy import Engine, Select, func, select

from kpis import periods, store
from kpis.catalogue import Catalogue
from kpis.governance import versions
from kpis.spreadsheet import FORMULA_START

MAX_CHARS = 20_000
COLUMNS = ["workstream", "month", "version", "text", "saved_by", "saved_at"]

# CommonMark with tables and strikethrough; "html": False escapes raw HTML (``<script>``
# becomes text). A link or image must be http(s) or mailto, else it stays as the text
# written; an image is never loaded (from a reader's browser or the PDF writer on the
# server): it shows as its description.
LINK_SCHEMES = re.compile(r"(https?:|mailto:)", re.IGNORECASE)


class _Markdown(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        return LINK_SCHEMES.match(url.strip()) is not None


_MARKDOWN = _Markdown("commonmark", {"html": False}).enable(["table", "strikethrough"])


def _image_as_text(renderer, tokens, idx, options, env) -> str:
    description = escapeHtml(renderer.renderInlineAsText(tokens[idx].children or [], options, env))
    return f"[image: {description}]" if description else "[image]"


_MARKDOWN.add_render_rule("image", _image_as_text)


class NarrativeError(Exception):
    """A commentary was refused; the message says why and how to fix it. Nothing was written."""


@dataclass(frozen=True)
class Draft:
    """What to put in the editor for a workstream and month."""

    month: int  # the month being written for
    text: str  # "" when there is no commentary yet
    based_on: int | None  # this month's current version (None: none yet): pass it to save()
    from_month: int | None  # the month the text was written for; None: there is no text

    @property
    def carried_forward(self) -> bool:
        """The text is an earlier month's, offered as the starting point."""
        return self.from_month is not None and self.from_month != self.month


def to_html(text: str, neutralise_formulas: bool = False) -> str:
    """A commentary's Markdown as HTML, safe to put in a page: raw HTML shows as text.
    ``neutralise_formulas`` (for exports): a paragraph, list item or cell whose text
    starts like a spreadsheet formula (``=HYPERLINK(...)``) gets a leading apostrophe, as
    in the CSV and workbook, so pasting it into Excel cannot run it."""
    tokens = _MARKDOWN.parse(text or "")
    if neutralise_formulas:
        for token in tokens:
            first = token.children[0] if token.type == "inline" and token.children else None
            if first is not None and first.type == "text" and first.content.startswith(FORMULA_START):
                first.content = "'" + first.content
    return _MARKDOWN.renderer.render(tokens, _MARKDOWN.options, {})


def clean(text: str) -> str:
    """The text as it is stored: one kind of line break (browsers send ``\\r\\n``), no
    trailing whitespace, so that resaving unchanged text is recognised as unchanged."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").rstrip()


# Writing --------------------------------------------------------------------------------


def save(
    engine: Engine,
    workstream: str,
    month: int,
    text: str,
    saved_by: str,
    based_on: int | None,
    *,
    catalogue: Catalogue,
) -> int:
    """Save a new version of a workstream's commentary for a month (a month index); the
    version now current. ``based_on`` is the version the editor started from (None or 0:
    there was none). Text identical to the current version writes nothing. Raises
    :class:`~kpis.errors.StaleEditError` if someone saved a newer version meanwhile, and
    :class:`NarrativeError` for an unknown workstream or text over :data:`MAX_CHARS`."""
    _check_workstream(workstream, catalogue)
    text = clean(text)
    if len(text) > MAX_CHARS:
        raise NarrativeError(
            f"The commentary has {len(text):,} characters, more than the limit of {MAX_CHARS:,}; nothing"
            " was written. Hint: shorten it; detail belongs in the papers the commentary refers to."
        )
    subject = f"The commentary of {catalogue.workstream(workstream).name} for {periods.month_name(month)}"
    with store.write_transaction(engine) as conn:
        version, _ = versions.save_version(
            conn,
            store.commentaries,
            {"workstream": workstream, "month": periods.to_text(month)},
            {"text": text},
            based_on=based_on,
            subject=subject,
            saved_by=saved_by,
            absent={"text": ""},
        )
    return version


def _check_workstream(workstream: str, catalogue: Catalogue) -> None:
    ids = [w.id for w in catalogue.workstreams]
    if workstream not in ids:
        raise NarrativeError(
            f"{workstream!r} is not a workstream; nothing was written. Hint: use one of {', '.join(ids)}."
        )


# Reading --------------------------------------------------------------------------------


def current(engine: Engine, month: int) -> pd.DataFrame:
    """The commentary in force for each workstream for a month, by workstream id: its
    latest version (:data:`COLUMNS`). A commentary cleared to no text is left out."""
    latest = _latest_versions(months=[month])
    return _with_text(
        _read(engine, _versions().join(latest, _is_latest(latest)).order_by(store.commentaries.c.workstream))
    )


def history(engine: Engine, workstream: str, month: int) -> pd.DataFrame:
    """Every saved version of a workstream's commentary for a month, newest first."""
    c = store.commentaries.c
    query = _versions().where(c.workstream == workstream, c.month == periods.to_text(month))
    return _read(engine, query.order_by(c.version.desc()))


def rolling(engine: Engine, workstream: str, as_at: int, months: int = 4) -> pd.DataFrame:
    """The commentary in force for each of the ``months`` months up to ``as_at`` (the
    board's rolling view), newest first; months without text are left out."""
    latest = _latest_versions(workstream=workstream, months=range(as_at - months + 1, as_at + 1))
    query = _versions().join(latest, _is_latest(latest)).order_by(store.commentaries.c.month.desc())
    return _with_text(_read(engine, query))


def starting_text(engine: Engine, workstream: str, month: int) -> Draft:
    """The text to open the editor with: this month's commentary (with its version, to
    pass to :func:`save` as ``based_on``); else the latest earlier month's, as a starting
    point (``based_on`` None); else nothing."""
    c = store.commentaries.c
    latest = _latest_versions(workstream=workstream)
    query = (
        _versions().join(latest, _is_latest(latest)).where(c.month <= periods.to_text(month)).order_by(c.month.desc())
    )
    found = _read(engine, query)
    this_month = found[found["month"] == month]
    based_on = int(this_month["version"].iloc[0]) if len(this_month) else None
    with_text = _with_text(found)
    if with_text.empty:
        return Draft(month, "", based_on, None)
    return Draft(month, with_text["text"].iloc[0], based_on, int(with_text["month"].iloc[0]))


def _versions():
    c = store.commentaries.c
    return select(c.workstream, c.month, c.version, c.text, c.saved_by, c.saved_at)


def _latest_versions(workstream: str | None = None, months=None):
    """Subquery: the latest version of each (workstream, month), optionally of one
    workstream or some months."""
    c = store.commentaries.c
    query = select(c.workstream, c.month, func.max(c.version).label("version"))
    if workstream is not None:
        query = query.where(c.workstream == workstream)
    if months is not None:
        query = query.where(c.month.in_([periods.to_text(m) for m in months]))
    return query.group_by(c.workstream, c.month).subquery("latest")


def _is_latest(latest):
    c = store.commentaries.c
    return (c.workstream == latest.c.workstream) & (c.month == latest.c.month) & (c.version == latest.c.version)


def _with_text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["text"] != ""].reset_index(drop=True)


def _read(engine: Engine, query: Select) -> pd.DataFrame:
    """The rows as :data:`COLUMNS`: ``month`` a month index, ``saved_at`` UTC."""
    frame = store.read_frame(engine, query)
    return frame.astype({"workstream": str, "text": str, "saved_by": str}).assign(
        month=periods.from_texts(frame["month"].astype(str)).astype(int) if len(frame) else pd.Series(dtype=int),
        version=frame["version"].astype(int),
        saved_at=pd.to_datetime(frame["saved_at"], utc=True),
    )
