"""Minutes as light rich text: paragraphs, bulleted and numbered lists, and bold.

Written the way a secretary types on any keyboard (a line starting with "- " or "• " is a
bullet, "1. " or "1、" a numbered point, ``**text**`` bold, a blank line ends a paragraph),
stored as plain text and rendered here. Everything is escaped first, so nothing typed can
inject markup; the same text prints, exports and redacts as plain text.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_BULLET = re.compile(r"^\s*(?:[-•·*])\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}\s*[.、)）]\s*(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    return _BOLD.sub(r"<strong>\1</strong>", escape(text))


def render(text: str) -> SafeString:
    """The minutes text as HTML: ``<p>``, ``<ul>``/``<ol>`` and ``<strong>`` only."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    kind = ""

    def flush_paragraph() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()

    def flush_list() -> None:
        nonlocal kind
        if items:
            blocks.append(f"<{kind}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{kind}>")
            items.clear()
        kind = ""

    for line in (text or "").replace("\r\n", "\n").split("\n"):
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        if bullet or numbered:
            flush_paragraph()
            wanted = "ul" if bullet else "ol"
            if kind and kind != wanted:
                flush_list()
            kind = wanted
            items.append((bullet or numbered).group(1))  # type: ignore[union-attr]
        elif not line.strip():
            flush_paragraph()
            flush_list()
        else:
            flush_list()
            paragraph.append(line.strip())
    flush_paragraph()
    flush_list()
    return mark_safe("".join(blocks))  # noqa: S308 — built from escaped text only
