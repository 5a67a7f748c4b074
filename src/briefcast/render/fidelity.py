"""The fidelity report: is what the source says what a reader receives?

One measurement, used everywhere an issue is ingested or previewed
(``briefcast ingest``, ``POST /api/issues``, the operator's preview before
publishing) and by the real-newsletter corpus tests:

* the **source** is read on its own terms — every visible sentence (of
  paragraphs, list items, headings, quotes, table cells; each code line) and
  every link and image target, in reading order. What a site generator never
  shows (front matter, a ``Key: value`` metadata header, comments, template
  tags, ``<script>``) is not counted (:mod:`briefcast.briefing.markup` names
  it); relative targets are resolved against the issue's base URL when it has one;
* the **reader side** is what the bot sends: the overview (``/latest``) and
  every section, rendered by the real Telegram and Slack renderers, read back
  from the payloads (text with markup removed, link targets);
* an item is kept when its text appears in the reader's text (whitespace and
  emphasis marks ignored); a link is kept when its target is a link there, or
  shown as text (a ``mailto:`` address, a relative path without a base URL).

Every miss is listed with its source line and the reason when one is known,
so an issue below 100% says what was lost and why.
"""

from __future__ import annotations

import html
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from markdown_it.token import Token

from briefcast.briefing.markup import Removed, metadata_header, strip_site_markup
from briefcast.briefing.model import Briefing
from briefcast.briefing.parse import markdown_tokens, split_title
from briefcast.render import slack as slack_render
from briefcast.render import telegram as telegram_render
from briefcast.render.compose import overview_document, section_document
from briefcast.render.document import Document, sentence_cuts
from briefcast.render.document import shown_target as _shown_target

Payload = dict[str, Any]
Renderer = Callable[[Document], list[Payload]]
PLATFORMS: Mapping[str, Renderer] = {"telegram": telegram_render.render, "slack": slack_render.render}

LinkKind = Literal["web", "mail", "relative", "anchor", "other"]

# ---------------------------------------------------------------- normalising

_DROP = re.compile(r"[\s\u200b\u200c\u2060\ufeff*_~`ˋ]+")
_WORDY = re.compile(r"[^\W_]", re.UNICODE)


def _norm(text: str) -> str:
    """Text for comparison: NFKC, no whitespace, no emphasis marks (Slack adds ``*``, ``_``, ``~``)."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).replace("¦", "|"))


def _norm_item(text: str) -> str:
    """An item for comparison: like :func:`_norm`, and a label's trailing colon is formatting, not text."""
    return _norm(text).rstrip(":")


def _canon_url(url: str) -> str:
    """A link target as both renderers write it (Slack percent-encodes ``|``, ``<``, ``>``)."""
    url = html.unescape(url.strip())
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


# -------------------------------------------------------------------- source


@dataclass(frozen=True, slots=True)
class SourceItem:
    """One visible sentence (or code line) of the source; ``line`` is 1-based."""

    text: str
    line: int
    where: str = ""


@dataclass(frozen=True, slots=True)
class SourceLink:
    """One link or image target of the source, resolved against the base URL when there is one."""

    target: str
    raw: str
    kind: LinkKind
    line: int
    image: bool = False
    where: str = ""


@dataclass
class SourceReading:
    """Everything a reader of the source would see."""

    items: list[SourceItem] = field(default_factory=list)
    links: list[SourceLink] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    removed: Removed = field(default_factory=Removed)


def classify_link(raw: str, base_url: str = "") -> tuple[LinkKind, str]:
    """(kind, target): absolute web links as they are, relative ones resolved when ``base_url`` is set."""
    raw = raw.strip()
    low = raw.lower()
    if low.startswith("mailto:"):
        return "mail", raw
    if low.startswith(("http://", "https://", "tg://")):
        return "web", raw
    if raw.startswith("#"):
        return "anchor", raw
    if raw.startswith("//"):
        return "web", "https:" + raw
    scheme = urlsplit(raw).scheme
    if scheme and len(scheme) > 1:  # "javascript:", "data:", "ftp:"… (a Windows drive letter is not one)
        return "other", raw
    if base_url:
        return "web", urljoin(base_url, raw)
    return "relative", raw


class _Sentences:
    """Accumulates inline text; images and block ends cut it; sentences come out with their line."""

    def __init__(self, out: SourceReading, line: int, where: str) -> None:
        self.out, self.line, self.where = out, line, where
        self.buf: list[str] = []

    def add(self, text: str) -> None:
        self.buf.append(text)

    def cut(self) -> None:
        text = "".join(self.buf)
        self.buf = []
        add_sentences(self.out, text, self.line, self.where)


def add_sentences(out: SourceReading, text: str, line: int, where: str) -> None:
    """Split ``text`` into sentences; keep the ones with at least one letter or digit."""
    cuts = [0, *sentence_cuts(text), len(text)]
    for a, b in itertools.pairwise(cuts):
        piece = " ".join(text[a:b].split())
        if piece and _WORDY.search(piece):
            out.items.append(SourceItem(piece, line, where))


def _add_link(out: SourceReading, raw: str, line: int, where: str, base_url: str, *, image: bool) -> None:
    if not raw.strip():
        return
    kind, target = classify_link(raw, base_url)
    out.links.append(SourceLink(target, raw.strip(), kind, line, image, where))


class _TagReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tag = ""
        self.attrs: dict[str, str] = {}
        self.closing = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag, self.attrs = tag, {k: v or "" for k, v in attrs}

    def handle_endtag(self, tag: str) -> None:
        self.tag, self.closing = tag, True


_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "tr",
        "td",
        "th",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "section",
        "article",
        "main",
        "header",
        "footer",
        "figure",
        "figcaption",
        "br",
        "hr",
        "dd",
        "dt",
    }
)


class _HtmlReader(HTMLParser):
    """Visible text of an HTML fragment, cut at block elements; link and image targets."""

    def __init__(self, out: SourceReading, line: int, where: str, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.out, self.where, self.base_url = out, where, base_url
        self.line0 = line
        self.hidden = 0
        self.sentences = _Sentences(out, line, where)

    def _line(self) -> int:
        return self.line0 + self.getpos()[0] - 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in _HIDDEN_TAGS:
            self.hidden += 1
            return
        if tag in _BLOCK_TAGS:
            self.sentences.cut()
            self.sentences.line = self._line()
        if self.hidden:
            return
        if tag == "a" and a.get("href"):
            _add_link(self.out, a["href"], self._line(), self.where, self.base_url, image=False)
        elif tag == "img" and a.get("src"):
            self.sentences.cut()
            _add_link(self.out, a["src"], self._line(), self.where, self.base_url, image=True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.sentences.cut()

    def handle_data(self, data: str) -> None:
        if self.hidden:
            self.out.removed.add("hidden_html", sample=data)
        else:
            self.sentences.add(strip_site_markup(data, self.out.removed))

    def finish(self) -> None:
        self.close()
        self.sentences.cut()


_MARKED_SECTION = re.compile(r"<!\[.*?\]\]?>", re.DOTALL)


def _read_html(out: SourceReading, fragment: str, line: int, where: str, base_url: str) -> None:
    reader = _HtmlReader(out, line, where, base_url)
    # "<![CDATA[…]]>" outside SVG/MathML is a bogus comment to a browser: not shown
    reader.feed(_MARKED_SECTION.sub("", fragment).replace("<![", "&lt;!["))
    reader.finish()


def _inline(out: SourceReading, tok: Token, line: int, where: str, base_url: str) -> None:
    """One ``inline`` token: its sentences (cut at images) and its link/image targets."""
    sentences = _Sentences(out, line, where)
    hidden = 0
    open_links: list[tuple[SourceLink | None, int]] = []  # (link, where its text starts in the buffer)
    for child in tok.children or ():
        t = child.type
        if t == "html_inline":
            reader = _TagReader()
            reader.feed(child.content.replace("<![", "&lt;!["))
            name = reader.tag.lower()
            if name in _HIDDEN_TAGS:
                hidden = max(0, hidden - 1) if reader.closing else hidden + 1
            elif hidden:
                continue
            elif name == "br":
                sentences.add("\n")
            elif name == "img" and reader.attrs.get("src"):
                sentences.cut()
                _add_link(out, reader.attrs["src"], line, where, base_url, image=True)
            elif name == "a" and reader.attrs.get("href") and not reader.closing:
                _add_link(out, reader.attrs["href"], line, where, base_url, image=False)
            continue
        if hidden:
            if child.content.strip():
                out.removed.add("hidden_html", sample=child.content)
            continue
        if t == "text":
            sentences.add(strip_site_markup(child.content, out.removed))
        elif t == "code_inline":
            sentences.add(child.content)
        elif t in ("softbreak", "hardbreak"):
            sentences.add("\n" if t == "hardbreak" else " ")
        elif t == "image":
            sentences.cut()
            _add_link(out, str(child.attrGet("src") or ""), line, where, base_url, image=True)
        elif t == "link_open":
            before = len(out.links)
            _add_link(out, str(child.attrGet("href") or ""), line, where, base_url, image=False)
            open_links.append((out.links[-1] if len(out.links) > before else None, len(sentences.buf)))
        elif t == "link_close" and open_links:
            link, start = open_links.pop()
            if link is not None and link.kind in ("mail", "relative"):
                # a chat cannot open it: readers get its target beside the text, "text (address)"
                shown = _shown_target(link.target, "".join(sentences.buf[start:]))
                if shown:
                    sentences.add(f" ({shown})")
        elif t == "text_special":
            sentences.add(child.content)
    sentences.cut()


_HEADING_ATTR = re.compile(r"\s*\{\s*[#.][^{}]*\}\s*$")
_HEADING_TEXT = frozenset({"text", "code_inline", "text_special"})


def read_markdown_source(text: str, *, base_url: str = "") -> SourceReading:
    """The visible sentences and link targets of a Markdown newsletter (see the module docstring)."""
    out = SourceReading()
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    fields, consumed = metadata_header(text)
    out.metadata = fields
    skipped_lines = text[:consumed].count("\n")
    tokens = markdown_tokens(text[consumed:])
    where = ""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        line = (tok.map[0] if tok.map else 0) + 1 + skipped_lines
        if tok.type == "heading_open" and i + 1 < len(tokens):
            inline = tokens[i + 1]
            shown = "".join(c.content for c in inline.children or () if c.type in _HEADING_TEXT)
            where = " ".join(_HEADING_ATTR.sub("", strip_site_markup(shown)).split())
            _inline(out, _with_content(inline, _HEADING_ATTR), line, where, base_url)
            i += 2
            continue
        if tok.type == "inline":
            _inline(out, tok, line, where, base_url)
        elif tok.type in ("fence", "code_block"):
            for n, code_line in enumerate(tok.content.splitlines()):
                if code_line.strip() and _WORDY.search(code_line):
                    out.items.append(SourceItem(" ".join(code_line.split()), line + n + 1, where))
        elif tok.type == "html_block":
            _read_html(out, tok.content, line, where, base_url)
        i += 1
    return out


def _with_content(inline: Token, pattern: re.Pattern[str]) -> Token:
    """A heading's inline token with a trailing ``{#anchor}`` removed from its last text child."""
    children = list(inline.children or ())
    for j in range(len(children) - 1, -1, -1):
        if children[j].type == "text":
            copy = children[j].copy()
            copy.content = pattern.sub("", copy.content)
            children[j] = copy
            break
    clone = inline.copy()
    clone.children = children
    return clone


def read_html_source(text: str, *, base_url: str = "") -> SourceReading:
    """The visible sentences and link targets of an HTML newsletter (``<article>``/``<main>``/``<body>``)."""
    out = SourceReading()
    low = text.lower()
    start = -1
    for tag in ("<article", "<main", "<body"):
        start = low.find(tag)
        if start >= 0:
            break
    fragment = text[start:] if start >= 0 else text
    _read_html(out, fragment, text[: max(start, 0)].count("\n") + 1, "", base_url)
    return out


def read_source(text: str, *, kind: str = "markdown", base_url: str = "") -> SourceReading:
    return (
        read_html_source(text, base_url=base_url)
        if kind == "html"
        else read_markdown_source(text, base_url=base_url)
    )


# -------------------------------------------------------------------- reader


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


# -------------------------------------------------------------------- report


@dataclass(frozen=True, slots=True)
class Lost:
    """One source item or link a reader does not receive, where it was, and why when known."""

    kind: Literal["item", "link"]
    text: str
    line: int
    where: str = ""
    reason: str = ""

    def describe(self) -> str:
        loc = f"line {self.line}" + (f" ({self.where})" if self.where else "")
        why = f": {self.reason}" if self.reason else ""
        return f"{loc}: {self.text}{why}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "line": self.line,
            "where": self.where,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class PlatformFidelity:
    platform: str
    items_kept: int
    links_kept: int
    lost: tuple[Lost, ...] = ()
    crashes: tuple[str, ...] = ()

    def to_dict(self, *, limit: int | None = None) -> dict[str, Any]:
        lost = self.lost if limit is None else self.lost[:limit]
        return {
            "platform": self.platform,
            "items_kept": self.items_kept,
            "links_kept": self.links_kept,
            "lost_count": len(self.lost),
            "lost": [x.to_dict() for x in lost],
            "crashes": list(self.crashes),
        }


def _pct(kept: int, total: int) -> float:
    return 100.0 if total == 0 else 100.0 * kept / total


@dataclass(frozen=True, slots=True)
class FidelityReport:
    """Source vs reader: items and links, per platform (the worst platform is the headline)."""

    items_total: int
    links_total: int
    platforms: tuple[PlatformFidelity, ...]
    anchors: int = 0
    withheld_items: int = 0
    """Items of sections readers do not receive by policy (``toc``, ``legal``), not counted above."""
    withheld_links: int = 0
    warnings: tuple[str, ...] = ()
    removed: Mapping[str, int] = field(default_factory=dict)
    leaks: tuple[str, ...] = ()
    """Source text no reader should see (template tags, attribute lists, script) that reached one."""

    @property
    def items_kept(self) -> int:
        return min((p.items_kept for p in self.platforms), default=self.items_total)

    @property
    def links_kept(self) -> int:
        return min((p.links_kept for p in self.platforms), default=self.links_total)

    @property
    def items_percent(self) -> float:
        return _pct(self.items_kept, self.items_total)

    @property
    def links_percent(self) -> float:
        return _pct(self.links_kept, self.links_total)

    @property
    def crashes(self) -> tuple[str, ...]:
        return tuple(c for p in self.platforms for c in p.crashes)

    @property
    def complete(self) -> bool:
        return (
            self.items_kept == self.items_total
            and self.links_kept == self.links_total
            and not self.crashes
            and not self.leaks
        )

    def lost(self) -> list[tuple[str, Lost]]:
        """(platforms, loss) for every distinct loss, platforms joined with ``+``."""
        seen: dict[Lost, list[str]] = {}
        for p in self.platforms:
            for x in p.lost:
                names = seen.setdefault(x, [])
                if p.platform not in names:
                    names.append(p.platform)
        return [("+".join(ps), x) for x, ps in seen.items()]

    def summary(self, lang: str = "en") -> str:
        """One line: ``fidelity: 412/412 items (100%), 88/88 links (100%)`` (+ crashes)."""
        zh = lang.lower().startswith("zh")
        items = f"{self.items_kept}/{self.items_total}"
        links = f"{self.links_kept}/{self.links_total}"
        if zh:
            pi, pl = f"{self.items_percent:.1f}%", f"{self.links_percent:.1f}%"
            line = f"保真度：{items} 条内容（{pi}），{links} 个链接（{pl}）"
            return line + (f"；{len(self.crashes)} 处渲染失败" if self.crashes else "")
        line = (
            f"fidelity: {items} items ({self.items_percent:.1f}%), {links} links ({self.links_percent:.1f}%)"
        )
        return line + (f"; {len(self.crashes)} render failures" if self.crashes else "")

    def details(self, limit: int = 10) -> list[str]:
        """Human lines: crashes, then up to ``limit`` losses, then warnings."""
        out = [f"render failure: {c}" for c in self.crashes]
        out.extend(f"leaked markup: {x[:80]!r}" for x in self.leaks)
        losses = self.lost()
        for platforms, x in losses[:limit]:
            out.append(f"lost {x.kind} ({platforms}) {x.describe()}")
        if len(losses) > limit:
            out.append(f"… {len(losses) - limit} more losses")
        out.extend(f"warning: {w}" for w in self.warnings)
        return out

    def to_dict(self, *, limit: int | None = None) -> dict[str, Any]:
        """JSON form; ``limit`` caps the losses listed per platform (their count is always there)."""
        return {
            "items": {
                "total": self.items_total,
                "kept": self.items_kept,
                "percent": round(self.items_percent, 2),
            },
            "links": {
                "total": self.links_total,
                "kept": self.links_kept,
                "percent": round(self.links_percent, 2),
            },
            "anchors": self.anchors,
            "withheld": {"items": self.withheld_items, "links": self.withheld_links},
            "complete": self.complete,
            "summary": {"en": self.summary("en"), "zh": self.summary("zh")},
            "platforms": [p.to_dict(limit=limit) for p in self.platforms],
            "warnings": list(self.warnings),
            "removed": dict(self.removed),
            "leaks": list(self.leaks),
        }


def _match_items(items: Sequence[SourceItem], text: str) -> list[SourceItem]:
    """Items whose text is not in ``text``; searched from the previous hit first (reading order)."""
    missing: list[SourceItem] = []
    cursor = 0
    for it in items:
        needle = _norm_item(it.text)
        if not needle:
            continue
        pos = text.find(needle, cursor)
        if pos < 0:
            pos = text.find(needle)
        if pos < 0:
            missing.append(it)
        else:
            cursor = pos + len(needle)
    return missing


def _link_reason(link: SourceLink, platform: str) -> str:
    if link.kind == "relative":
        return "relative link and no base URL"
    if link.kind == "mail":
        return "e-mail link without its address"
    if link.kind == "other":
        return "link scheme not supported"
    if link.image:
        return "image dropped"
    return "link dropped"


def _link_kept(link: SourceLink, hrefs: set[str], text: str) -> bool:
    if _canon_url(link.target) in hrefs:
        return True
    if link.kind == "mail":
        address = link.target.split(":", 1)[1].split("?", 1)[0]
        return bool(address) and _norm(address) in text
    if link.kind in ("relative", "other"):
        return _norm(link.raw) in text
    return False


def _title_line_parts(briefing: Briefing, source: SourceReading) -> SourceReading:
    """The title line read as readers get it: title, each topic and the byline are shown apart
    (the overview's title, its topics line, its byline), so each part is an item of its own.

    The line may have been cut into several sentences: all of them are replaced by the parts.
    """
    full = briefing.meta.get("title_full", "")
    key = _norm(full)
    if not key:
        return source
    title, topics, attribution = split_title(full)
    items: list[SourceItem] = []
    i = 0
    its = source.items
    while i < len(its):
        acc = _norm(its[i].text)
        j = i + 1
        while acc and key.startswith(acc) and acc != key and j < len(its) and its[j].line == its[i].line:
            acc += _norm(its[j].text)
            j += 1
        if acc == key:
            items.extend(SourceItem(x, its[i].line, its[i].where) for x in (title, *topics, attribution) if x)
            items.extend(its[j:])
            return SourceReading(items, source.links, source.metadata, source.removed)
        items.append(its[i])
        i += 1
    return source


def _withheld_headings(briefing: Briefing) -> set[str]:
    """Headings (and sub-headings) of sections readers do not receive (tables of contents, legal text)."""
    out: set[str] = set()
    for s in briefing.sections:
        if not s.delivered:
            out.add(_norm(s.heading or s.name))
            out.update(_norm(label) for label in _all_labels(s.blocks))
    return out


def _all_labels(blocks: Iterable[Any]) -> Iterator[str]:
    from briefcast.briefing.model import Group

    for b in blocks:
        if isinstance(b, Group):
            yield b.label
            yield from _all_labels(b.blocks)


def measure(
    briefing: Briefing,
    source: SourceReading,
    *,
    documents: Sequence[Document] | None = None,
    platforms: Iterable[str] = ("telegram", "slack"),
    lang: str | None = None,
    warnings: Sequence[str] = (),
) -> FidelityReport:
    """Compare a source reading with what ``documents`` (default: :func:`reader_documents`) deliver.

    Items and links under a section readers do not receive (a table of contents,
    licence text) are counted apart, as withheld by policy, not as losses.
    """
    docs = list(documents) if documents is not None else reader_documents(briefing, lang)
    source = _title_line_parts(briefing, source)
    withheld_at = _withheld_headings(briefing)
    if withheld_at:
        shown_items = [it for it in source.items if _norm(it.where) not in withheld_at]
        shown_links = [x for x in source.links if _norm(x.where) not in withheld_at]
        withheld = (len(source.items) - len(shown_items), len(source.links) - len(shown_links))
        source = SourceReading(shown_items, shown_links, source.metadata, source.removed)
    else:
        withheld = (0, 0)
    links = [x for x in source.links if x.kind != "anchor"]
    anchors = len(source.links) - len(links)
    results: list[PlatformFidelity] = []
    leaks: list[str] = []
    for platform in platforms:
        render = PLATFORMS[platform]
        texts: list[str] = []
        hrefs: set[str] = set()
        crashes: list[str] = []
        for doc in docs:
            try:
                payloads = render(doc)
            except Exception as e:  # a crash is a finding, reported like a loss
                crashes.append(f"{platform}: {doc.title[:60]!r}: {type(e).__name__}: {e}")
                continue
            text, h = READERS[platform](payloads)
            texts.append(text)
            hrefs.update(_canon_url(u) for u in h)
        reader_text = _norm("\n".join(texts))
        for sample in source.removed.samples:
            needle = _norm(sample)
            if len(needle) >= 3 and needle in reader_text and sample not in leaks:
                leaks.append(sample)
        missing = _match_items(source.items, reader_text)
        lost = [Lost("item", it.text, it.line, it.where) for it in missing]
        kept_links = 0
        for link in links:
            if _link_kept(link, hrefs, reader_text):
                kept_links += 1
            else:
                lost.append(Lost("link", link.raw, link.line, link.where, _link_reason(link, platform)))
        results.append(
            PlatformFidelity(
                platform,
                items_kept=len(source.items) - len(missing),
                links_kept=kept_links,
                lost=tuple(lost),
                crashes=tuple(crashes),
            )
        )
    return FidelityReport(
        items_total=len(source.items),
        links_total=len(links),
        platforms=tuple(results),
        anchors=anchors,
        withheld_items=withheld[0],
        withheld_links=withheld[1],
        warnings=tuple(warnings),
        removed=source.removed.as_dict(),
        leaks=tuple(leaks),
    )


def fidelity_report(
    briefing: Briefing,
    text: str,
    *,
    kind: str = "markdown",
    base_url: str = "",
    platforms: Iterable[str] = ("telegram", "slack"),
    lang: str | None = None,
) -> FidelityReport:
    """Read ``text`` (the issue's source) and measure what readers of ``briefing`` receive."""
    reading = read_source(text, kind=kind, base_url=base_url)
    return measure(briefing, reading, platforms=platforms, lang=lang)


_NOTES: Mapping[str, str] = {
    "relative_links": "{n} relative link(s) and no base URL: shown as text (set base_url)",
    "unsafe_links": "{n} link(s) with a scheme readers cannot open (javascript:, data:…): kept as text",
    "unplaced_lines": "{n} line(s) nested too deeply to place: kept as plain text",
    "removed.template": "{n} template tag(s) / shortcode(s) removed (site markup, not text)",
    "removed.attribute_list": "{n} kramdown attribute list(s) removed",
    "front_matter_error": "{n}",
    "merged_sections": "sections of a sector already in the issue joined it: {n}",
}


def ingest_warnings(briefing: Briefing) -> list[str]:
    """What the parser noted about an issue that an operator should know (from ``Briefing.meta``)."""
    out: list[str] = []
    for key, template in _NOTES.items():
        value = briefing.meta.get(key)
        if value:
            out.append(template.format(n=value))
    if briefing.date is None:
        out.append("no date in the issue (front matter, title, heading or file name): none is shown")
    for s in briefing.sections:
        if not s.delivered:
            out.append(f"section {s.heading or s.name!r} is a {s.kind} section: readers do not receive it")
    return out


def source_kind(briefing: Briefing) -> str:
    return "html" if briefing.meta.get("format") == "html" else "markdown"


def report_for(
    briefing: Briefing,
    text: str,
    *,
    platforms: Iterable[str] = ("telegram", "slack"),
    lang: str | None = None,
) -> FidelityReport:
    """The fidelity report of an ingested issue: its source ``text`` against what readers receive.

    The source is read with the base URL the parser used (``meta["base_url"]``);
    the parser's notes become the report's warnings. This is the one measurement
    ``briefcast ingest``, ``POST /api/issues`` and the operator preview show.
    """
    reading = read_source(text, kind=source_kind(briefing), base_url=briefing.meta.get("base_url", ""))
    return measure(briefing, reading, platforms=platforms, lang=lang, warnings=ingest_warnings(briefing))


def iter_losses(report: FidelityReport) -> Iterator[Lost]:
    for _, x in report.lost():
        yield x
