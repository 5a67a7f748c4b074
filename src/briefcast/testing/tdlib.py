"""Validate Telegram HTML with TDLib's own parser (``parseTextEntities``) — offline, via ``tdjson``.

Telegram's Bot API server parses ``parse_mode=HTML`` with TDLib; running the
same parser in tests catches "can't parse entities" before a real chat does.
``tdjson`` is a dev dependency, imported on first use (by
:func:`briefcast.render.telegram_entities.td_execute`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from briefcast.render.telegram_entities import td_execute

MAX_TEXT = 4096
MAX_ENTITIES = 100
MAX_CALLBACK_BYTES = 64


def parse_html_entities(text: str) -> dict[str, Any]:
    """TDLib's ``formattedText`` for some Telegram HTML: ``{"text": ..., "entities": [...]}``.

    Raises ``AssertionError`` carrying TDLib's message when the HTML is rejected.
    """
    result = td_execute(
        {"@type": "parseTextEntities", "text": text, "parse_mode": {"@type": "textParseModeHTML"}}
    )
    if result.get("@type") == "error":
        raise AssertionError(f"TDLib rejected the HTML: {result.get('message')}\n--- text ---\n{text[:2000]}")
    return result


def check_button_url(url: str) -> None:
    """Assert TDLib accepts ``url`` as a link (what an inline URL button needs).

    TDLib keeps a text link only when the URL passes its link check, the same check that refuses
    a button with ``BUTTON_URL_INVALID``: ``http://localhost:8080`` fails it (a host needs a dot or
    must be an IP address); the message text would be sent, but the keyboard not.
    """
    escaped = url.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    parsed = parse_html_entities(f'<a href="{escaped}">x</a>')
    kinds = [e.get("type", {}).get("@type") for e in parsed.get("entities", [])]
    assert kinds == ["textEntityTypeTextUrl"], f"Telegram would refuse the button URL {url!r}"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_telegram_payload(payload: Mapping[str, Any]) -> None:
    """Assert a ``sendMessage`` payload is one Telegram would accept and show.

    Checks: HTML parses in TDLib; the visible text is not blank and 1..4096
    UTF-16 units; at most 100 entities; link previews are an explicit choice (off by default,
    on only for subscriptions whose /settings ask for them); keyboard buttons
    have text and ``callback_data`` of at most 64 bytes, or a URL TDLib accepts as a link.
    """
    assert payload.get("parse_mode") == "HTML", f"parse_mode is {payload.get('parse_mode')!r}"
    text = payload.get("text")
    assert isinstance(text, str), "payload has no text"
    parsed = parse_html_entities(text)
    visible = str(parsed.get("text", ""))
    assert visible.strip(), "the visible text is blank"
    n = utf16_len(visible)
    assert 1 <= n <= MAX_TEXT, f"visible text is {n} UTF-16 units (limit {MAX_TEXT})"
    entities = parsed.get("entities", [])
    assert len(entities) <= MAX_ENTITIES, f"{len(entities)} entities (limit {MAX_ENTITIES})"
    previews = payload.get("link_preview_options")
    assert isinstance(previews, Mapping) and isinstance(previews.get("is_disabled"), bool), (
        f"link previews are not an explicit choice: {previews!r}"
    )
    markup = payload.get("reply_markup")
    if markup is not None:
        rows = markup.get("inline_keyboard")
        assert isinstance(rows, list) and rows, "reply_markup has no inline_keyboard rows"
        for row in rows:
            assert isinstance(row, list) and row, "empty keyboard row"
            for button in row:
                assert str(button.get("text", "")).strip(), f"button without text: {button}"
                if "url" in button:
                    check_button_url(str(button["url"]))
                    continue
                data = button.get("callback_data")
                assert isinstance(data, str) and data, f"button without callback_data or url: {button}"
                size = len(data.encode())
                assert size <= MAX_CALLBACK_BYTES, f"callback_data {data!r} is {size} bytes"
