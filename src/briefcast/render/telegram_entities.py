"""Telegram's text entities: parse a message like the Bot API does (TDLib when available).

:func:`parse_entities` turns ``text`` + ``parse_mode`` into (plain text, Bot API entities) or raises
:class:`EntityParseError` with TDLib's wording. The dashboard's previews and the Telegram emulator
both use it; TDLib runs offline through the ``tdjson`` package (a dev dependency, imported on first
use), with a small HTML checker in its place when ``tdjson`` is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any, Protocol, cast

__all__ = ["EntityParseError", "parse_entities", "td_execute", "utf16_len"]


class _Execute(Protocol):
    def __call__(self, request: bytes, /) -> bytes | None: ...


@cache
def _td_execute() -> _Execute:
    """``tdjson.td_execute`` with TDLib's logging silenced (it writes to stderr otherwise)."""
    import tdjson  # dev dependency: imported lazily so production never needs it

    execute = cast(_Execute, tdjson.td_execute)
    execute(json.dumps({"@type": "setLogVerbosityLevel", "new_verbosity_level": 0}).encode())
    return execute


def td_execute(request: Mapping[str, Any]) -> dict[str, Any]:
    """Run one synchronous TDLib request and decode its answer."""
    raw = _td_execute()(json.dumps(request).encode())
    if raw is None:
        raise AssertionError(f"TDLib returned nothing for {request.get('@type')!r}")
    return cast(dict[str, Any], json.loads(raw))


class EntityParseError(ValueError):
    """The text is not valid for the parse mode; ``str(exc)`` is TDLib's message."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_TD_TYPES: dict[str, str] = {
    "textEntityTypeMention": "mention",
    "textEntityTypeHashtag": "hashtag",
    "textEntityTypeCashtag": "cashtag",
    "textEntityTypeBotCommand": "bot_command",
    "textEntityTypeUrl": "url",
    "textEntityTypeEmailAddress": "email",
    "textEntityTypePhoneNumber": "phone_number",
    "textEntityTypeBold": "bold",
    "textEntityTypeItalic": "italic",
    "textEntityTypeUnderline": "underline",
    "textEntityTypeStrikethrough": "strikethrough",
    "textEntityTypeSpoiler": "spoiler",
    "textEntityTypeCode": "code",
    "textEntityTypePre": "pre",
    "textEntityTypePreCode": "pre",
    "textEntityTypeBlockQuote": "blockquote",
    "textEntityTypeExpandableBlockQuote": "expandable_blockquote",
    "textEntityTypeTextUrl": "text_link",
    "textEntityTypeMentionName": "text_mention",
    "textEntityTypeCustomEmoji": "custom_emoji",
}


class _TdJson:
    """TDLib's offline parser via :func:`td_execute`; ``available`` is False without tdjson."""

    def __init__(self) -> None:
        self._available: bool | None = None

    @property
    def available(self) -> bool:
        if self._available is None:
            self._available = importlib.util.find_spec("tdjson") is not None
        return self._available

    def call(self, request: Mapping[str, Any]) -> dict[str, Any]:
        return td_execute(request)


_TD = _TdJson()


def _convert_td_entity(entity: Mapping[str, Any]) -> dict[str, Any] | None:
    td_type = entity["type"]
    kind = _TD_TYPES.get(td_type["@type"])
    if kind is None:
        return None
    out: dict[str, Any] = {"offset": entity["offset"], "length": entity["length"], "type": kind}
    if td_type["@type"] == "textEntityTypePreCode" and td_type.get("language"):
        out["language"] = td_type["language"]
    elif kind == "text_link":
        out["url"] = td_type["url"]
    elif kind == "text_mention":
        out["user"] = {"id": td_type.get("user_id", 0), "is_bot": False, "first_name": ""}
    elif kind == "custom_emoji":
        out["custom_emoji_id"] = str(td_type.get("custom_emoji_id", ""))
    return out


def _td_parse(text: str, parse_mode: str) -> tuple[str, list[dict[str, Any]]]:
    mode: dict[str, Any]
    if parse_mode == "html":
        mode = {"@type": "textParseModeHTML"}
    else:
        mode = {"@type": "textParseModeMarkdown", "version": 2 if parse_mode == "markdownv2" else 1}
    result = _TD.call({"@type": "parseTextEntities", "text": text, "parse_mode": mode})
    if result.get("@type") == "error":
        message = str(result.get("message", "Can't parse entities"))
        raise EntityParseError(message.removeprefix("Can't parse entities: "))
    entities = [e for e in map(_convert_td_entity, result.get("entities", [])) if e is not None]
    return str(result["text"]), entities


def _auto_entities(text: str, explicit: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entities Telegram detects by itself (URLs, mentions, commands) that explicit ones don't cover."""
    if not _TD.available or not text:
        return []
    result = _TD.call({"@type": "getTextEntities", "text": text})
    blocked = [(e["offset"], e["offset"] + e["length"]) for e in explicit if e["type"] in _OPAQUE]
    found = []
    for raw in result.get("entities", []):
        entity = _convert_td_entity(raw)
        if entity is None:
            continue
        start, end = entity["offset"], entity["offset"] + entity["length"]
        if any(start < b_end and b_start < end for b_start, b_end in blocked):
            continue
        found.append(entity)
    return found


_OPAQUE = frozenset({"code", "pre", "text_link", "url", "text_mention", "custom_emoji"})

# --- fallback HTML parser (only used when tdjson is not importable) ---------------------------
_HTML_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_HTML_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _html_fallback(text: str) -> tuple[str, list[dict[str, Any]]]:
    """A small HTML checker with TDLib's error wording for the common mistakes."""
    out: list[str] = []
    pos = 0
    stack: list[tuple[str, int, dict[str, Any]]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            match = _TAG.match(text, i)
            if match is None:
                raise EntityParseError(f'Unsupported start tag "" at byte offset {_byte_offset(text, i)}')
            closing, name = match.group(1) == "/", match.group(2).lower()
            if closing:
                if not stack:
                    raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(text, i)}")
                open_name, start, extra = stack.pop()
                if open_name != name:
                    raise EntityParseError(
                        f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                if pos > start and extra.get("type"):
                    entities.append({"offset": start, "length": pos - start, **extra})
            else:
                stack.append((name, pos, _open_tag(text, i, name, match.group(3))))
            i = match.end()
            continue
        if char == "&" and (entity := _HTML_ENTITY.match(text, i)):
            name = entity.group(1)
            if name.startswith("#x"):
                char = chr(int(name[2:], 16))
            elif name.startswith("#"):
                char = chr(int(name[1:]))
            else:
                char = _NAMED[name]
            i = entity.end()
        else:
            i += 1
        out.append(char)
        pos += utf16_len(char)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _open_tag(text: str, index: int, name: str, raw_attrs: str) -> dict[str, Any]:
    kind = _HTML_TAGS.get(name)
    if kind is None:
        raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, index)}')
    attrs = {
        m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTR.finditer(raw_attrs)
    }
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, index)}'
        )
    extra: dict[str, Any] = {"type": kind}
    if name == "a":
        if not attrs.get("href"):
            return {}
        extra["url"] = attrs["href"]
    if name == "blockquote" and "expandable" in attrs:
        extra["type"] = "expandable_blockquote"
    return extra


def parse_entities(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Parse ``text`` like the Bot API: return (plain text, Bot API entities) or raise EntityParseError.

    Uses TDLib (tdjson) when importable — the same parser Telegram runs — else a small HTML checker
    (MarkdownV2/Markdown are then accepted unparsed).
    """
    mode = (parse_mode or "").lower()
    if mode and mode not in ("html", "markdown", "markdownv2"):
        raise ValueError(parse_mode)
    if not mode:
        return text, _auto_entities(text, [])
    if _TD.available:
        plain, entities = _td_parse(text, mode)
    elif mode == "html":
        plain, entities = _html_fallback(text)
    else:
        plain, entities = text, []
    merged = entities + _auto_entities(plain, entities)
    merged.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, merged
