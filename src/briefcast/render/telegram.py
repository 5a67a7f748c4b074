"""Document -> Telegram ``sendMessage`` parameters (HTML parse mode), split within Telegram's limits.

Telegram counts a message's length *after* entity parsing, in UTF-16 code
units (at most 4096), and keeps about 100 entities per message. Each part we
produce is complete HTML on its own — every tag opened in a part is closed in
it — so a split never leaves a dangling ``<b>`` or a broken link. Parts repeat
the title with a ``(1/3)`` marker; the footer and the keyboard ride on the last.

The output dicts have no ``chat_id``; the transport adds it (and
``message_thread_id`` for forum topics).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Sequence
from typing import Any, Final

from briefcast.briefing.model import RunStyle
from briefcast.render.document import (
    CONTINUED_LABEL_MAX,
    Button,
    Cost,
    Document,
    Piece,
    Span,
    clean_text,
    layout,
    link_runs,
    needs_continued_labels,
    pack,
    utf16_len,
    with_continued_labels,
)

MAX_TEXT: Final = 4096  # UTF-16 code units after entity parsing
MAX_ENTITIES: Final = 100
# Telegram measures the parsed text, but the raw markup has an undocumented cap too: about 9,500
# characters before parsing ("Entities_too_long", tdlib/telegram-bot-api#165, where a Telegram
# developer calls it an approximation of the limit on total entity size). Counted in UTF-16
# units like everything else here, not UTF-8 bytes: a byte cap split Chinese text (3 bytes a
# character) at ~3,000 characters, far below the 4,096 Telegram allows.
MAX_HTML_UNITS: Final = 9000
MAX_CALLBACK_BYTES: Final = 64
MAX_TITLE: Final = 256
MAX_FOOTER: Final = 512
MAX_URL: Final = 2048

_TAGS: Final[tuple[tuple[RunStyle, str, str], ...]] = (
    ("bold", "<b>", "</b>"),
    ("italic", "<i>", "</i>"),
    ("underline", "<u>", "</u>"),
    ("strike", "<s>", "</s>"),
    ("spoiler", "<tg-spoiler>", "</tg-spoiler>"),
    ("code", "<code>", "</code>"),  # innermost: code may not contain other entities
)
_URL_OK = re.compile(r"^(?:https?|tg)://\S+$", re.IGNORECASE)
_LANG_OK = re.compile(r"[^A-Za-z0-9_+#.-]")
# The longest marker we reserve room for: " (999/999)".
_MARKER_RESERVE: Final = 10


def escape(text: str) -> str:
    """Escape text for Telegram HTML: only ``&``, ``<`` and ``>`` are special in text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _href(url: str) -> str:
    return html.escape(url, quote=True)


def _linkable(url: str | None) -> str | None:
    """The URL if Telegram would keep it as a link (TDLib silently drops other schemes)."""
    if url is None:
        return None
    url = url.strip()
    return url if _URL_OK.match(url) and len(url) <= MAX_URL else None


def _span_html(span: Span) -> str:
    inner = escape(span.text)
    for style, open_, close in reversed(_TAGS):
        if style in span.styles:
            inner = f"{open_}{inner}{close}"
    return inner


def _spans_html(spans: Sequence[Span]) -> str:
    """Spans as HTML; adjacent spans with one URL share one ``<a>``."""
    out: list[str] = []
    for url, i, j in link_runs(spans, lambda s: _linkable(s.url)):
        inner = "".join(_span_html(s) for s in spans[i:j])
        out.append(inner if url is None else f'<a href="{_href(url)}">{inner}</a>')
    return "".join(out)


def _pre_open(language: str) -> tuple[str, str]:
    lang = _LANG_OK.sub("", language)[:32]
    if lang:
        return f'<pre><code class="language-{lang}">', "</code></pre>"
    return "<pre>", "</pre>"


def body_html(pieces: Sequence[Piece]) -> str:
    """The HTML of one part's pieces; consecutive pieces of one quote/pre share a tag."""
    out: list[str] = []
    i = 0
    while i < len(pieces):
        p = pieces[i]
        sep = p.sep if i else ""
        if not p.box:
            out.append(sep + _spans_html(p.spans))
            i += 1
            continue
        j = i + 1
        while j < len(pieces) and pieces[j].box == p.box and pieces[j].box_id == p.box_id:
            j += 1
        if p.box == "pre":
            inner = escape(pieces[i].text) + "".join(escape(q.sep + q.text) for q in pieces[i + 1 : j])
            open_, close = _pre_open(p.language)
        else:
            inner = _spans_html(pieces[i].spans) + "".join(
                escape(q.sep) + _spans_html(q.spans) for q in pieces[i + 1 : j]
            )
            open_, close = "<blockquote>", "</blockquote>"
        out.append(f"{sep}{open_}{inner}{close}")
        i = j
    return "".join(out)


def _entities(p: Piece) -> int:
    if p.box == "pre":
        return 1
    n = 1 if p.box == "quote" else 0
    for s in p.spans:
        n += sum(1 for style, _, _ in _TAGS if style in s.styles)
        n += 1 if _linkable(s.url) else 0
    return n


def _cost(p: Piece, first: bool) -> Cost:
    """(visible UTF-16 units, raw HTML UTF-16 units, entities) — conservative: boxes counted per piece."""
    sep = "" if first else p.sep
    return (
        utf16_len(sep + p.text),
        utf16_len(body_html([Piece((), sep), p]) if sep else body_html([p])),
        _entities(p),
    )


def _shorten(text: str, limit: int) -> str:
    text = " ".join(clean_text(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _title_html(title: str, index: int, total: int) -> str:
    marker = f"({index}/{total})" if total > 1 else ""
    if not title:
        return marker
    return f"<b>{escape(title)}</b>" + (f" {marker}" if marker else "")


def render(doc: Document) -> list[dict[str, Any]]:
    """``sendMessage`` params for ``doc``: one dict per message part, in order.

    Raises ``ValueError`` if a button's ``callback_data`` would exceed 64 bytes
    (a composition bug: put an index, not a long value, in the button).

    Rendering is a pure function of the (frozen, hashable) document, and the same sector
    answers thousands of commands: results are memoised, and each call gets its own
    top-level dicts so a caller may add ``chat_id`` without touching the cache.
    """
    return [dict(p) for p in _render_cached(doc)]


@functools.lru_cache(maxsize=256)
def _render_cached(doc: Document) -> tuple[dict[str, Any], ...]:
    return tuple(_render(doc))


def _render(doc: Document) -> list[dict[str, Any]]:
    title = _shorten(doc.title, MAX_TITLE)
    foot = _shorten(doc.footer, MAX_FOOTER)
    foot_html = f"<i>{escape(foot)}</i>" if foot else ""
    head_reserve = utf16_len(title) + _MARKER_RESERVE + 2
    limits: Cost = (
        MAX_TEXT - head_reserve - (utf16_len(foot) + 2 if foot else 0),
        MAX_HTML_UNITS - utf16_len(_title_html(title, 999, 999)) - 2 - (utf16_len(foot_html) + 2),
        MAX_ENTITIES - (1 if title else 0) - (1 if foot else 0),
    )
    pieces = layout(doc.blocks)
    parts = pack(pieces, _cost, limits) or [[]]
    if needs_continued_labels(parts):
        # a part starting inside a group repeats its label: pack again with room for it
        room = CONTINUED_LABEL_MAX + 12
        spare = (limits[0] - room, limits[1] - 2 * room - 10, limits[2] - 1)
        parts = with_continued_labels(pack(pieces, _cost, spare) or [[]])
    keyboard = _keyboard(doc.buttons)
    out: list[dict[str, Any]] = []
    for n, pieces in enumerate(parts, start=1):
        chunks = [_title_html(title, n, len(parts)), body_html(pieces)]
        if n == len(parts):
            chunks.append(foot_html)
        text = "\n\n".join(c for c in chunks if c) or "…"
        payload: dict[str, Any] = {
            "text": text,
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        }
        if keyboard and n == len(parts):
            payload["reply_markup"] = {"inline_keyboard": keyboard}
        out.append(payload)
    return out


def callback_data(button: Button) -> str:
    """``"action:value"`` — what the bot adapter splits on the first ``:`` to route a press."""
    return f"{button.action}:{button.value}"


def _keyboard(rows: Sequence[Sequence[Button]]) -> list[list[dict[str, str]]]:
    keyboard: list[list[dict[str, str]]] = []
    for row in rows:
        out_row: list[dict[str, str]] = []
        for b in row:
            text = _shorten(b.text, 64) or "…"
            if b.url:
                out_row.append({"text": text, "url": b.url})
                continue
            data = callback_data(b)
            if len(data.encode()) > MAX_CALLBACK_BYTES:
                size = len(data.encode())
                raise ValueError(
                    f"callback_data {data!r} is {size} bytes; Telegram allows {MAX_CALLBACK_BYTES}"
                )
            out_row.append({"text": text, "callback_data": data})
        if out_row:
            keyboard.append(out_row)
    return keyboard
