"""Document -> Slack ``chat.postMessage`` parameters (Block Kit + fallback text), within Block Kit limits.

One message is: a header block (the title, ``(2/3)`` on split messages), one
section block per labelled group (split further at block, then sentence
boundaries to stay under 3,000 characters), and on the last message a divider,
a context footer and actions blocks for buttons. Messages hold at most 50
blocks; a longer document becomes several messages.

mrkdwn escapes only ``&``, ``<`` and ``>``; links are ``<url|text>`` with ``|``
and ``>`` in the URL percent-encoded so the link syntax cannot break. The
output dicts have no ``channel``; the transport adds it (and ``thread_ts``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

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
    with_continued_labels,
)

MAX_BLOCKS: Final = 50
MAX_SECTION: Final = 3000
MAX_HEADER: Final = 150
MAX_CONTEXT_TEXT: Final = 3000
MAX_TEXT: Final = 40_000
FALLBACK_CHARS: Final = 3000
MAX_BUTTON_TEXT: Final = 75
MAX_ACTION_ID: Final = 255
MAX_VALUE: Final = 2000
MAX_ACTIONS_PER_BLOCK: Final = 25
MAX_URL: Final = 2000
# Keeps one message's section text well below any payload limit.
MAX_MESSAGE_TEXT: Final = 30_000

_MARKS: Final = (("strike", "~"), ("italic", "_"), ("bold", "*"))
_URL_OK = re.compile(r"^(?:https?://|mailto:)\S+$", re.IGNORECASE)
_ZWSP: Final = "\u200b"


def escape(text: str) -> str:
    """Escape mrkdwn control characters: ``&``, ``<``, ``>`` (and nothing else)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link_url(url: str | None) -> str | None:
    """A URL safe inside ``<url|text>``, or ``None`` when it should not be linked."""
    if url is None:
        return None
    url = url.strip()
    if not _URL_OK.match(url) or len(url) > MAX_URL:
        return None
    return url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def link_text(text: str) -> str:
    """Link text: escaped, on one line, with ``|`` as ``¦`` (Slack has no escape for the separator)."""
    return escape(" ".join(text.split("\n"))).replace("|", "¦")


def _needs_zwsp(ch: str) -> bool:
    """Slack only sees ``*bold*`` next to spaces or ASCII punctuation; CJK neighbours need a ZWSP."""
    return bool(ch) and not ch.isspace() and not (ch.isascii() and not ch.isalnum())


def _wrap(text: str, styles: frozenset[str], before: str, after: str) -> str:
    """Escaped ``text`` with mrkdwn emphasis, per line (Slack emphasis does not cross lines)."""
    marks = [m for style, m in _MARKS if style in styles]
    code = "code" in styles
    if not marks and not code:
        return escape(text)
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        core = line.strip()
        if not core:
            out.append(escape(line))
            continue
        lead = line[: len(line) - len(line.lstrip())]
        trail = line[len(line.rstrip()) :]
        body = escape(core)
        if code:
            body = "`" + body.replace("`", "ˋ") + "`"
        for m in marks:
            body = f"{m}{body}{m}"
        left = lead or (before if i == 0 else "")
        right = trail or (after if i == len(lines) - 1 else "")
        pre = _ZWSP if not lead and _needs_zwsp(left[-1:]) else ""
        post = _ZWSP if not trail and _needs_zwsp(right[:1]) else ""
        out.append(f"{escape(lead)}{pre}{body}{post}{escape(trail)}")
    return "\n".join(out)


def spans_mrkdwn(spans: Sequence[Span]) -> str:
    """Spans as mrkdwn; adjacent spans with one URL form one ``<url|text>`` link."""
    out: list[str] = []
    for url, i, j in link_runs(spans, lambda s: link_url(s.url)):
        before = spans[i - 1].text[-1:] if i else ""
        after = spans[j].text[:1] if j < len(spans) else ""
        if url is None:
            out.append(_wrap(spans[i].text, spans[i].styles, before, after))
        else:
            text = "".join(s.text for s in spans[i:j])
            styles = frozenset.intersection(*(s.styles for s in spans[i:j])) - {"code"}
            marks = [m for style, m in _MARKS if style in styles]
            body = f"<{url}|{link_text(text)}>" if text.strip() else f"<{url}>"
            for m in marks:
                body = f"{m}{body}{m}"
            if marks and _needs_zwsp(before):
                body = _ZWSP + body
            if marks and _needs_zwsp(after):
                body += _ZWSP
            out.append(body)
    return "".join(out)


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in text.split("\n"))


def section_mrkdwn(pieces: Sequence[Piece]) -> str:
    """The mrkdwn of one section's pieces; pre pieces share a fence, quote lines get ``> ``."""
    out: list[str] = []
    i = 0
    while i < len(pieces):
        p = pieces[i]
        sep = p.sep if i else ""
        j = i + 1
        if p.box:
            while j < len(pieces) and pieces[j].box == p.box and pieces[j].box_id == p.box_id:
                j += 1
        if p.box == "pre":
            inner = p.text + "".join(q.sep + q.text for q in pieces[i + 1 : j])
            out.append(f"{sep}```\n{escape(inner)}\n```")
        elif p.box == "quote":
            inner = spans_mrkdwn(p.spans) + "".join(q.sep + spans_mrkdwn(q.spans) for q in pieces[i + 1 : j])
            out.append(sep + _quote(inner))
        else:
            out.append(sep + spans_mrkdwn(p.spans))
        i = j
    return "".join(out)


def _cost(p: Piece, first: bool) -> Cost:
    sep = "" if first else p.sep
    # Inside a quote each newline of the separator gains "> " (counted for every piece: conservative).
    return (len(sep) + len(section_mrkdwn([p])) + 2 * sep.count("\n"),)


def plain_text(pieces: Sequence[Piece]) -> str:
    return "".join((p.sep if i else "") + p.text for i, p in enumerate(pieces))


def _shorten(text: str, limit: int) -> str:
    text = " ".join(clean_text(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _header(title: str, index: int, total: int) -> dict[str, Any] | None:
    marker = f" ({index}/{total})" if total > 1 else ""
    if not title:
        return None
    text = _shorten(title, MAX_HEADER - len(marker)) + marker
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def render(doc: Document) -> list[dict[str, Any]]:
    """``chat.postMessage`` params for ``doc``: one dict per message, in order."""
    title = _shorten(doc.title, 3000)
    pieces = layout(doc.blocks)
    sections = pack(pieces, _cost, (MAX_SECTION,), break_before_labels=True)
    actions = _actions(doc.buttons)
    foot = _shorten(doc.footer, MAX_CONTEXT_TEXT)
    tail: list[dict[str, Any]] = []
    if foot:
        tail += [
            {"type": "divider"},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(foot)}]},
        ]
    tail += actions
    per_message = MAX_BLOCKS - 1 - len(tail)
    if per_message < 1:
        raise ValueError(f"{len(doc.buttons)} button rows leave no room for content in one Slack message")
    messages = _messages(sections, per_message) or [[]]
    if len(messages) > 1 and needs_continued_labels([m[0] for m in messages if m]):
        # a message starting inside a group repeats its label: pack again with room for it
        spare = (MAX_SECTION - 2 * CONTINUED_LABEL_MAX - 20,)
        sections = pack(pieces, _cost, spare, break_before_labels=True)
        messages = _messages(sections, per_message) or [[]]
        firsts = with_continued_labels([m[0] for m in messages])
        messages = [[first, *m[1:]] for first, m in zip(firsts, messages, strict=True)]
    out: list[dict[str, Any]] = []
    for n, group in enumerate(messages, start=1):
        blocks: list[dict[str, Any]] = []
        header = _header(title, n, len(messages))
        if header is not None:
            blocks.append(header)
        elif len(messages) > 1:
            blocks.append(
                {"type": "context", "elements": [{"type": "plain_text", "text": f"({n}/{len(messages)})"}]}
            )
        for pieces in group:
            if not section_mrkdwn(pieces).strip():
                continue
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": section_mrkdwn(pieces)}})
        if n == len(messages):
            blocks.extend(tail)
        out.append(
            {
                "text": _fallback(title, n, len(messages), group, foot),
                "blocks": blocks,
                "unfurl_links": False,
                "unfurl_media": False,
            }
        )
    return out


def _messages(sections: list[list[Piece]], per_message: int) -> list[list[list[Piece]]]:
    """Sections grouped into messages by block count and total text size."""
    out: list[list[list[Piece]]] = []
    cur: list[list[Piece]] = []
    size = 0
    for s in sections:
        n = len(section_mrkdwn(s))
        if cur and (len(cur) >= per_message or size + n > MAX_MESSAGE_TEXT):
            out.append(cur)
            cur, size = [], 0
        cur.append(s)
        size += n
    if cur:
        out.append(cur)
    return out


def _fallback(title: str, index: int, total: int, group: list[list[Piece]], foot: str) -> str:
    """Notification text: the title and the first ~3,000 characters of this message's plain text."""
    marker = f" ({index}/{total})" if total > 1 else ""
    body = "\n\n".join(plain_text(s) for s in group)
    if len(body) > FALLBACK_CHARS:
        body = body[: FALLBACK_CHARS - 1].rstrip() + "…"
    parts = [title + marker if title else marker.strip(), body]
    if index == total and foot:
        parts.append(foot)
    text = escape("\n\n".join(p for p in parts if p)) or "…"
    return text[:MAX_TEXT]


def action_id(button: Button, index: int) -> str:
    """``"action:value"``, or ``"action:#index"`` when that is too long; ``"link:#index"`` for URL buttons."""
    if not button.action:
        return f"link:#{index}"
    aid = f"{button.action}:{button.value}"
    return aid if len(aid) <= MAX_ACTION_ID else f"{button.action}:#{index}"


def _actions(rows: Sequence[Sequence[Button]]) -> list[dict[str, Any]]:
    """One actions block per keyboard row (at most 25 buttons each); action_ids unique in the message."""
    blocks: list[dict[str, Any]] = []
    seen: set[str] = set()
    index = 0
    for row in rows:
        elements: list[dict[str, Any]] = []
        for b in row:
            aid = action_id(b, index)
            if aid in seen:
                aid = f"{b.action or 'link'}:#{index}"
            seen.add(aid)
            index += 1
            if len(b.value) > MAX_VALUE:
                raise ValueError(f"button value is {len(b.value)} characters; Slack allows {MAX_VALUE}")
            el: dict[str, Any] = {
                "type": "button",
                "text": {
                    "type": "plain_text",
                    "text": _shorten(b.text, MAX_BUTTON_TEXT) or "…",
                    "emoji": True,
                },
                "action_id": aid,
            }
            if b.value:
                el["value"] = b.value
            if b.url:
                el["url"] = b.url
            if b.style in ("primary", "danger"):
                el["style"] = b.style
            elements.append(el)
            if len(elements) == MAX_ACTIONS_PER_BLOCK:
                blocks.append({"type": "actions", "elements": elements})
                elements = []
        if elements:
            blocks.append({"type": "actions", "elements": elements})
    return blocks
