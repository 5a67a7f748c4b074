"""The reader side of the fidelity report: the documents a reader receives, rendered and read back."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from html.parser import HTMLParser
from typing import Any

from briefcast.briefing.model import Briefing
from briefcast.render import slack as slack_render
from briefcast.render import telegram as telegram_render
from briefcast.render.compose import overview_document, section_document
from briefcast.render.document import Document

Payload = dict[str, Any]
Renderer = Callable[[Document], list[Payload]]
PLATFORMS: Mapping[str, Renderer] = {"telegram": telegram_render.render, "slack": slack_render.render}


def reader_documents(briefing: Briefing, lang: str | None = None) -> list[Document]:
    """What a reader can receive: the overview (``/latest``) and every section, in issue order."""
    lang = lang or briefing.language
    return [
        overview_document(briefing, lang),
        *(section_document(briefing, s, lang=lang) for s in briefing.sections),
    ]


class _TelegramText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


_PART_HEAD = re.compile(r"^[^\n]*\(\d+/\d+\)\n\n")
_MRKDWN_LINK = re.compile(r"<([^|<>]+)(?:\|([^<>]*))?>")


def telegram_reading(payloads: Sequence[Payload]) -> tuple[str, list[str]]:
    """(visible text, link targets) of a document's Telegram messages; repeated part titles dropped."""
    texts: list[str] = []
    hrefs: list[str] = []
    for n, p in enumerate(payloads):
        reader = _TelegramText()
        reader.feed(str(p.get("text", "")))
        reader.close()
        text = "".join(reader.parts)
        if n:
            text = _PART_HEAD.sub("", text, count=1)
        texts.append(text)
        hrefs.extend(reader.hrefs)
        for row in p.get("reply_markup", {}).get("inline_keyboard", []):
            hrefs.extend(b["url"] for b in row if b.get("url"))
    return "\n".join(texts), hrefs


def mrkdwn_reading(text: str) -> tuple[str, list[str]]:
    """Slack mrkdwn -> (text a reader sees, link targets)."""
    hrefs: list[str] = []

    def link(m: re.Match[str]) -> str:
        hrefs.append(html.unescape(m.group(1)))
        return m.group(2) if m.group(2) is not None else m.group(1)

    return html.unescape(_MRKDWN_LINK.sub(link, text)), hrefs


def slack_reading(payloads: Sequence[Payload]) -> tuple[str, list[str]]:
    """(visible text, link targets) of a document's Slack messages; repeated headers dropped."""
    texts: list[str] = []
    hrefs: list[str] = []
    for n, p in enumerate(payloads):
        for block in p.get("blocks", []):
            kind = block.get("type")
            if kind == "header":
                if n == 0:
                    texts.append(str(block["text"]["text"]))
            elif kind == "section":
                t, h = mrkdwn_reading(str(block["text"]["text"]))
                texts.append(t)
                hrefs.extend(h)
            elif kind == "context":
                for el in block.get("elements", []):
                    if el.get("type") == "mrkdwn":
                        t, h = mrkdwn_reading(str(el.get("text", "")))
                        texts.append(t)
                        hrefs.extend(h)
            elif kind == "actions":
                hrefs.extend(str(el["url"]) for el in block.get("elements", []) if el.get("url"))
    return "\n".join(texts), hrefs


READERS: Mapping[str, Callable[[Sequence[Payload]], tuple[str, list[str]]]] = {
    "telegram": telegram_reading,
    "slack": slack_reading,
}
