"""The source side of the fidelity report: every visible sentence and link target of a newsletter's text."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urljoin, urlsplit

from markdown_it.token import Token

from briefcast.briefing.markup import Removed, metadata_header, strip_site_markup
from briefcast.briefing.parse import markdown_tokens
from briefcast.render.document import sentence_cuts
from briefcast.render.document import shown_target as _shown_target

LinkKind = Literal["web", "mail", "relative", "anchor", "other"]

_WORDY = re.compile(r"[^\W_]", re.UNICODE)


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
    """The visible sentences and link targets of a Markdown newsletter (see the package docstring)."""
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
