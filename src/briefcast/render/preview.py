"""Show platform messages in a browser as the platforms would, safely.

Telegram: we do not re-display the HTML the bot sent. We display what Telegram *made of
it*: the plain text and entities TDLib's parser produced (the same parser Telegram runs;
:func:`briefcast.render.telegram_entities.parse_entities`, which the Telegram emulator uses
too). A message Telegram would reject never reaches the page, and an entity Telegram would
drop is not shown either. Every character of text is escaped; tags come only from the entity
table below; link targets must be http(s), tg or mailto.

Slack: Block Kit is rendered block by block (header, section with mrkdwn and fields,
context, divider, actions, image); mrkdwn is interpreted the way Slack does — ``*bold*``,
``_italic_``, ``~strike~``, `` `code` ``, ``<url|text>`` links, ``>`` quotes — after the
``&amp;``/``&lt;``/``&gt;`` escapes are undone and the text is HTML-escaped again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

_SAFE_URL = re.compile(r"^(?:https?://|tg://|mailto:)[^\s\"'<>]+$", re.IGNORECASE)

_TAGS: dict[str, tuple[str, str]] = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ('<span class="tg-spoiler">', "</span>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ('<blockquote class="expandable">', "</blockquote>"),
    "mention": ('<span class="tg-mention">', "</span>"),
    "hashtag": ('<span class="tg-hashtag">', "</span>"),
    "cashtag": ('<span class="tg-hashtag">', "</span>"),
    "bot_command": ('<span class="tg-command">', "</span>"),
    "email": ('<span class="tg-email">', "</span>"),
    "phone_number": ('<span class="tg-phone">', "</span>"),
}


def safe_url(url: str) -> str | None:
    """The URL if a browser may follow it from our page (no ``javascript:`` or ``data:``), else None."""
    url = url.strip()
    return url if _SAFE_URL.match(url) else None


def _link_open(url: str) -> str:
    target = safe_url(url)
    if target is None:
        return '<span class="bad-link">'
    return f'<a href="{escape(target, quote=True)}" target="_blank" rel="noopener noreferrer">'


def _link_close(url: str) -> str:
    return "</a>" if safe_url(url) is not None else "</span>"


def _utf16_to_index(text: str) -> list[int]:
    """``table[u]`` = Python index of UTF-16 offset ``u`` (Bot API entity offsets are UTF-16)."""
    table: list[int] = []
    for i, ch in enumerate(text):
        table.extend([i] * (2 if ord(ch) > 0xFFFF else 1))
    table.append(len(text))
    return table


def _tags_for(entity: Mapping[str, Any], text: str, start: int, end: int) -> tuple[str, str] | None:
    kind = str(entity.get("type", ""))
    if kind == "text_link":
        url = str(entity.get("url", ""))
        return _link_open(url), _link_close(url)
    if kind == "url":
        url = text[start:end]
        if not re.match(r"(?i)^[a-z][a-z0-9+.-]*://", url):
            url = "http://" + url
        return _link_open(url), _link_close(url)
    return _TAGS.get(kind)


def telegram_html(text: str, entities: Sequence[Mapping[str, Any]] = ()) -> str:
    """Bot API ``text`` + ``entities`` -> safe HTML (newlines kept; the page uses ``pre-wrap``).

    Entities may nest (a link inside bold inside a quote); when two overlap without nesting,
    the inner one is closed and reopened around the boundary, as an HTML tree requires.
    """
    index = _utf16_to_index(text)
    spans: list[tuple[int, int, str, str]] = []
    for entity in entities:
        try:
            u_start, u_len = int(entity["offset"]), int(entity["length"])
        except (KeyError, TypeError, ValueError):
            continue
        if u_len <= 0 or u_start < 0 or u_start + u_len > len(index) - 1:
            continue
        start, end = index[u_start], index[u_start + u_len]
        tags = _tags_for(entity, text, start, end)
        if tags is not None and end > start:
            spans.append((start, end, *tags))
    # longer first at the same start, so outer tags open before inner ones
    spans.sort(key=lambda s: (s[0], -s[1]))
    bounds = sorted({0, len(text), *(s[0] for s in spans), *(s[1] for s in spans)})
    out: list[str] = []
    stack: list[tuple[int, int, str, str]] = []
    pending = list(reversed(spans))
    for pos, nxt in zip(bounds, [*bounds[1:], len(text)], strict=True):
        # close everything ending here; anything opened above it is closed and reopened
        if any(s[1] == pos for s in stack):
            reopen: list[tuple[int, int, str, str]] = []
            while any(s[1] == pos for s in stack):
                top = stack.pop()
                out.append(top[3])
                if top[1] != pos:
                    reopen.append(top)
            for span in reversed(reopen):
                out.append(span[2])
                stack.append(span)
        while pending and pending[-1][0] == pos:
            span = pending.pop()
            out.append(span[2])
            stack.append(span)
        out.append(escape(text[pos:nxt], quote=False))
    while stack:
        out.append(stack.pop()[3])
    return "".join(out)


# ------------------------------------------------------------------ Slack

_SLACK_LINK = re.compile(r"<([^<>]+)>")
_CODE_BLOCK = re.compile(r"```(.+?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_MARKS = (
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"), "<b>", "</b>"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"), "<i>", "</i>"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)(?<=\S)~(?![\w~])"), "<s>", "</s>"),
)


def _unescape_slack(text: str) -> str:
    """Slack's three escapes back to characters (the only ones mrkdwn defines)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _slack_token(token: str) -> str:
    """``<url|text>``, ``<@U1>``, ``<#C1|name>``, ``<!here>`` -> HTML (already safe)."""
    target, _, label = token.partition("|")
    if target.startswith("@"):
        return f'<span class="sl-mention">@{escape(_unescape_slack(label or target[1:]))}</span>'
    if target.startswith("#"):
        return f'<span class="sl-mention">#{escape(_unescape_slack(label or target[1:]))}</span>'
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        return f'<span class="sl-mention">@{escape(_unescape_slack(label or name))}</span>'
    url = _unescape_slack(target)
    text = _unescape_slack(label) if label else url
    return f"{_link_open(url)}{_format(escape(text, quote=False))}{_link_close(url)}"


def _format(escaped: str) -> str:
    """Bold / italic / strike on text that is already HTML-escaped (the marks survive escaping)."""
    for pattern, open_tag, close_tag in _MARKS:
        escaped = pattern.sub(rf"{open_tag}\1{close_tag}", escaped)
    return escaped


def mrkdwn_html(text: str) -> str:
    """Slack mrkdwn -> safe HTML."""
    holes: list[str] = []

    def hole(html: str) -> str:
        holes.append(html)
        return f"\x00{len(holes) - 1}\x00"

    text = text.replace("\x00", "")
    text = _CODE_BLOCK.sub(
        lambda m: hole(f"<pre>{escape(_unescape_slack(m.group(1)), quote=False)}</pre>"), text
    )
    text = _INLINE_CODE.sub(
        lambda m: hole(f"<code>{escape(_unescape_slack(m.group(1)), quote=False)}</code>"), text
    )
    text = _SLACK_LINK.sub(lambda m: hole(_slack_token(m.group(1))), text)
    lines: list[str] = []
    quote: list[str] = []
    for line in text.split("\n"):
        marker = 1 if line.startswith(">") else 4 if line.startswith("&gt;") else 0
        if marker:  # Slack reads both a literal ">" and its escape as a quote marker
            quote.append(_format(escape(_unescape_slack(line[marker:].lstrip(" ")), quote=False)))
            continue
        body = _format(escape(_unescape_slack(line), quote=False))
        if quote:
            lines.append("<blockquote>" + "\n".join(quote) + "</blockquote>")
            quote = []
        lines.append(body)
    if quote:
        lines.append("<blockquote>" + "\n".join(quote) + "</blockquote>")
    html = (
        "\n".join(lines).replace("\n<blockquote>", "<blockquote>").replace("</blockquote>\n", "</blockquote>")
    )
    return re.sub(r"\x00(\d+)\x00", lambda m: holes[int(m.group(1))], html)


def _text_object(obj: Any) -> str:
    if not isinstance(obj, Mapping):
        return ""
    raw = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn_html(raw)
    return escape(raw, quote=False)


def _button(element: Mapping[str, Any]) -> dict[str, str]:
    out = {
        "text": str((element.get("text") or {}).get("text", "")),
        "action_id": str(element.get("action_id", "")),
        "value": str(element.get("value", "")),
    }
    url = safe_url(str(element.get("url", "")))
    if url:
        out["url"] = url
    if element.get("style") in ("primary", "danger"):
        out["style"] = str(element["style"])
    return out


def slack_html(
    blocks: Sequence[Mapping[str, Any]] | None, text: str = ""
) -> tuple[str, list[list[dict[str, str]]]]:
    """Block Kit -> (safe HTML, button rows). Without blocks, the ``text`` is shown as mrkdwn."""
    if not blocks:
        return f'<div class="sl-section">{mrkdwn_html(text)}</div>', []
    parts: list[str] = []
    rows: list[list[dict[str, str]]] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            parts.append(f'<div class="sl-header">{_text_object(block.get("text"))}</div>')
        elif kind == "section":
            inner = _text_object(block.get("text"))
            fields = block.get("fields") or []
            if fields:
                inner += (
                    '<div class="sl-fields">'
                    + "".join(f"<div>{_text_object(f)}</div>" for f in fields)
                    + "</div>"
                )
            parts.append(f'<div class="sl-section">{inner}</div>')
        elif kind == "context":
            items = []
            for el in block.get("elements") or []:
                if isinstance(el, Mapping) and el.get("type") == "image":
                    continue  # no remote images: the playground works offline
                items.append(_text_object(el))
            parts.append(f'<div class="sl-context">{" ".join(items)}</div>')
        elif kind == "divider":
            parts.append('<hr class="sl-divider">')
        elif kind == "actions":
            rows.append([_button(el) for el in block.get("elements") or [] if isinstance(el, Mapping)])
        elif kind == "image":
            alt = escape(str(block.get("alt_text", "image")), quote=False)
            parts.append(f'<div class="sl-context">[image: {alt}]</div>')
        elif kind == "markdown":
            parts.append(f'<div class="sl-section">{escape(str(block.get("text", "")), quote=False)}</div>')
        else:
            parts.append(f'<div class="sl-context">[{escape(str(kind), quote=False)} block]</div>')
    return "".join(parts), rows


def telegram_buttons(markup: Mapping[str, Any] | None) -> list[list[dict[str, str]]]:
    """Inline keyboard rows as ``{"text", "data"}`` or ``{"text", "url"}`` (unsafe URLs dropped)."""
    rows: list[list[dict[str, str]]] = []
    for row in (markup or {}).get("inline_keyboard") or []:
        out: list[dict[str, str]] = []
        for button in row:
            if not isinstance(button, Mapping):
                continue
            item = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                item["data"] = str(button["callback_data"])
            elif (url := safe_url(str(button.get("url", "")))) is not None:
                item["url"] = url
            out.append(item)
        if out:
            rows.append(out)
    return rows
