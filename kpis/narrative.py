"""Workstream narrative: the officers' commentary per workstream per month, in Markdown.

User text is never rendered as raw HTML: :func:`to_html` escapes any HTML in it, and
links to anything but http(s) and mail addresses are left as text.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

# CommonMark with tables and strikethrough; "html": False escapes raw HTML (``<script>``
# becomes text), and markdown-it's link check refuses javascript:, vbscript:, file: and data: links.
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def to_html(text: str) -> str:
    """A commentary's Markdown as HTML, safe to put in a page: raw HTML shows as text."""
    return _MARKDOWN.render(text or "")
