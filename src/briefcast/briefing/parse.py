"""Parse a briefing (Markdown, or HTML via markdownify) into a :class:`Briefing`.

The parser works on the markdown-it-py syntax tree, never on lines of the
document, so emphasis, links, lists and code keep their meaning whatever the
author's layout. The pipeline:

1. markdown-it (CommonMark + tables + strikethrough, YAML ``---`` and TOML
   ``+++`` front matter, MDX import/export lines and ``{/* */}`` comments
   removed) gives a tree;
2. the top-level nodes become a flat stream of *items*: headings, paragraphs
   (still split into lines so the title line and ``1、`` numbering can be
   seen) and finished blocks;
3. the first item is the title line (a paragraph or an H1), the section level
   is chosen from the headings, headings at that level open sections,
   deeper headings and bold-only paragraphs (``**核心进展**``) open groups;
4. issue extras (keywords, takeaways, date, language) are read from the
   finished model. Paragraphs they come from stay in place: nothing is lost.

A document with text but no headings becomes ONE section with key
``"briefing"`` (``known=False``): a stable key is more useful to commands and
subscriptions than a slug of a title that changes every issue.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import unquote, urljoin, urlsplit

import yaml
from bs4 import BeautifulSoup, Tag
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode
from markdownify import MarkdownConverter
from mdit_py_plugins.front_matter import front_matter_plugin

from briefcast.briefing.dates import as_date, date_from_path, find_date
from briefcast.briefing.markup import Removed, metadata_header, strip_site_markup
from briefcast.briefing.model import (
    SECTION_KINDS,
    Block,
    Briefing,
    Code,
    Group,
    Inline,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Run,
    RunStyle,
    Section,
    SectionKind,
    Table,
    block_text,
    iter_runs,
    map_runs,
    plain,
)
from briefcast.briefing.sectors import SectorCatalogue, default_catalogue, slugify
from briefcast.briefing.source import (
    DEFAULT_MAX_BYTES,
    SourceKind,
    SourceText,
    kind_from_name,
    read_source,
    sniff_kind,
)
from briefcast.errors import BriefingError

__all__ = [
    "INTRO_PLACEMENTS",
    "ParseOptions",
    "SourceText",
    "parse_html",
    "parse_markdown",
    "parse_source",
    "parse_text",
    "read_source",
    "split_title",
]

# ---------------------------------------------------------------- markdown-it


def _toml_front_matter(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """``+++`` … ``+++`` at the very top (Hugo-style TOML front matter) as a ``front_matter`` token."""
    if start_line != 0 or state.getLines(0, 1, 0, False).rstrip() != "+++":
        return False
    line = 1
    while line < end_line:
        if state.getLines(line, line + 1, 0, False).rstrip() == "+++":
            break
        line += 1
    else:
        return False  # unclosed: not front matter, let the paragraph rule have it
    if silent:
        return True
    token = state.push("front_matter", "", 0)
    token.markup = "+++"
    token.content = state.getLines(1, line, 0, False)
    token.map = [0, line + 1]
    state.line = line + 1
    return True


_MDX_COMMENT = re.compile(r"[ \t]*\{/\*.*?\*/\}", re.DOTALL)
_MDX_IMPORT = re.compile(
    r"^\s*(?:import\s+(?:[\w*${}\s,]+\s+from\s+)?[\"'][^\"']+[\"']"
    r"|export\s+(?:const|let|var|function|default|async|class|\{)[^\n]*?)\s*;?\s*$"
)


def _mdx_rule(state: StateCore) -> None:
    """Before inline parsing: drop MDX ``import``/``export`` paragraphs and ``{/* comments */}``,
    and site-generator markup (template tags, attribute lists; see :mod:`briefcast.briefing.markup`).

    What is removed is counted in ``env["removed"]`` so the parser can report it.
    """
    removed = state.env.get("removed") if isinstance(state.env, dict) else None
    tokens = state.tokens
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if (
            tok.type == "paragraph_open"
            and i + 2 < len(tokens)
            and tokens[i + 1].type == "inline"
            and all(_MDX_IMPORT.match(line) for line in tokens[i + 1].content.splitlines())
        ):
            i += 3
            continue
        if tok.type == "inline" and "{/*" in tok.content:
            tok.content = _MDX_COMMENT.sub("", tok.content)
        if tok.type == "inline" and "{" in tok.content:
            tok.content = strip_site_markup(tok.content, removed if isinstance(removed, Removed) else None)
        out.append(tok)
        i += 1
    # a paragraph that held only an MDX comment is now empty: drop it too
    cleaned: list[Token] = []
    j = 0
    while j < len(out):
        if (
            out[j].type == "paragraph_open"
            and j + 2 < len(out)
            and out[j + 1].type == "inline"
            and not out[j + 1].content.strip()
        ):
            j += 3
            continue
        cleaned.append(out[j])
        j += 1
    state.tokens = cleaned


_REF_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S")
_MARKERS_ONLY = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)]|>)(?:\s+(?:[-*+]|\d{1,9}[.)]|>))*\s*$")
_LEAF_BLOCKS = frozenset(
    {
        "paragraph_open",
        "heading_open",
        "fence",
        "code_block",
        "html_block",
        "hr",
        "table_open",
        "front_matter",
    }
)


def _coverage_rule(state: StateCore) -> None:
    """Record the source lines block parsing placed (before any cleanup drops tokens)."""
    if isinstance(state.env, dict):
        covered: set[int] = state.env.setdefault("covered", set())
        for tok in state.tokens:
            if tok.map and tok.type in _LEAF_BLOCKS:
                covered.update(range(tok.map[0], tok.map[1]))


# CommonMark's default nesting limit (20) silently drops everything after a list nested ~8 deep.
MAX_NESTING = 120


def _make_parser(front_matter: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING}).enable(
        ["table", "strikethrough"]
    )
    if front_matter:
        md.use(front_matter_plugin)
        md.block.ruler.before(
            "table",
            "toml_front_matter",
            _toml_front_matter,
            {"alt": ["paragraph", "reference", "blockquote", "list"]},
        )
    md.core.ruler.after("block", "coverage", _coverage_rule)
    md.core.ruler.after("coverage", "mdx_cleanup", _mdx_rule)
    return md


class _HtmlToMarkdown(MarkdownConverter):
    """markdownify with underline kept as ``<ins>`` (Markdown has no syntax for it; our inline parser has)."""

    def convert_u(self, el: object, text: str, parent_tags: set[str]) -> str:
        if "_noformat" in parent_tags or not text.strip():
            return text
        core = text.strip()
        before = " " if text[0].isspace() else ""
        after = " " if text[-1].isspace() else ""
        return f"{before}<ins>{core}</ins>{after}"

    convert_ins = convert_u


def html_to_markdown(html: str) -> str:
    """HTML -> Markdown with markdownify (ATX headings, ``-`` bullets, underline preserved)."""
    return str(_HtmlToMarkdown(heading_style="ATX", bullets="-").convert(html))


_MD = _make_parser(front_matter=True)
_MD_FRAGMENT = _make_parser(front_matter=False)  # HTML blocks converted back to Markdown


def markdown_tokens(text: str, env: dict[str, Any] | None = None) -> list[Token]:
    """The markdown-it token stream the parser reads (front matter, MDX lines and site markup handled).

    Never loses part of a document: when markdown-it places no block on some
    lines (nesting deeper than :data:`MAX_NESTING` makes it stop), those lines
    are parsed on their own and appended, and ``env["unplaced"]`` counts them.
    An HTML comment that is never closed would hide the rest of the issue: its
    opening ``<!--`` is dropped (``env["removed"]`` counts it).
    """
    env = env if env is not None else {}
    removed: Removed = env.setdefault("removed", Removed())
    if "<!--" in text and "-->" not in text[text.rfind("<!--") :]:
        cut = text.rfind("<!--")
        removed.add("unclosed_comment", sample="<!--")
        text = text[:cut] + text[cut + 4 :]
    env["covered"] = set()
    tokens = _MD.parse(text, env)
    covered: set[int] = env.pop("covered")
    lines = text.split("\n")
    lost = [
        i
        for i, line in enumerate(lines)
        if i not in covered
        and line.strip()
        and not _REF_DEFINITION.match(line)
        and not _MARKERS_ONLY.match(line)
    ]
    if lost:
        first = lost[0]
        keep = set(lost)
        tail = "\n".join(lines[i].lstrip() if i in keep else "" for i in range(first, len(lines)))
        if tail.strip():
            env["unplaced"] = env.get("unplaced", 0) + len(lost)
            sub: dict[str, Any] = {"removed": removed}
            more = markdown_tokens(tail, sub)
            env["unplaced"] += sub.get("unplaced", 0)
            for t in more:
                if t.map:
                    t.map = [t.map[0] + first, t.map[1] + first]
            tokens.extend(t for t in more if t.type != "front_matter")
    return tokens


# ------------------------------------------------------------- character tests


def _is_cjk(ch: str) -> bool:
    """Ideographs, kana, hangul and CJK/full-width punctuation: text joined without spaces."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # radicals, CJK symbols & punctuation, kana, ideographs
        or 0xA960 <= o <= 0xA97F
        or 0xAC00 <= o <= 0xD7FF  # hangul
        or 0xF900 <= o <= 0xFAFF
        or 0xFE30 <= o <= 0xFE4F
        or 0xFF00 <= o <= 0xFFEF  # full-width forms (，：（）)
        or 0x20000 <= o <= 0x3FFFF
    )


def _is_cjk_punct(ch: str) -> bool:
    o = ord(ch)
    return 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFF0F or 0xFF1A <= o <= 0xFF20 or ch in "—…“”‘’"


_IDEOGRAPH = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _is_emoji_char(ch: str) -> bool:
    if ch in "\ufe0f\ufe0e\u200d\u20e3":
        return True
    o = ord(ch)
    if 0x1F3FB <= o <= 0x1F3FF or 0xE0020 <= o <= 0xE007F:  # skin tones, tag sequences
        return True
    return unicodedata.category(ch) == "So"


# ----------------------------------------------------------------- inline runs

_SOFT: None = None  # soft line break marker inside a paragraph's pieces
_Piece = Run | None

_HTML_STYLE: dict[str, RunStyle] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strike",
    "del": "strike",
    "strike": "strike",
    "code": "code",
    "tt": "code",
    "kbd": "code",
    "tg-spoiler": "spoiler",
}
_MD_STYLE: dict[str, RunStyle] = {"strong": "bold", "em": "italic", "s": "strike"}


_MARKED_SECTION = re.compile(r"<!\[(?!CDATA\[)", re.IGNORECASE)


def _safe_html(html: str) -> str:
    """Escape ``<![…`` marked sections, which make the stdlib HTML parser (and bs4) raise."""
    return _MARKED_SECTION.sub("&lt;![", html)


class _TagReader(HTMLParser):
    """Reads one inline HTML tag: name, attributes, and whether it opens, closes or both."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tag = ""
        self.attrs: dict[str, str] = {}
        self.opening = False
        self.closing = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tag, self.opening = tag, True
        self.attrs = {k: v or "" for k, v in attrs}

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.closing = True

    def handle_endtag(self, tag: str) -> None:
        self.tag, self.closing = tag, True


def _read_tag(raw: str) -> _TagReader:
    reader = _TagReader()
    reader.feed(_safe_html(raw))
    reader.close()
    return reader


_HIDDEN_HTML = frozenset({"script", "style", "noscript", "template"})


class _InlineBuilder:
    """Turns markdown-it inline tokens into flat runs: a style counter and a link stack."""

    def __init__(self) -> None:
        self.pieces: list[_Piece] = []
        self.styles: dict[RunStyle, int] = {}
        self.urls: list[str] = []
        self.link_starts: list[int] = []
        self.hidden = 0  # inside <script>/<style>: text is not for readers

    def _active(self) -> frozenset[RunStyle]:
        return frozenset(s for s, n in self.styles.items() if n > 0)

    def _push(self, style: RunStyle) -> None:
        self.styles[style] = self.styles.get(style, 0) + 1

    def _pop(self, style: RunStyle) -> None:
        self.styles[style] = max(0, self.styles.get(style, 0) - 1)

    def text(self, text: str, extra: frozenset[RunStyle] = frozenset()) -> None:
        if text and not self.hidden:
            url = self.urls[-1] if self.urls else None
            self.pieces.append(Run(text, self._active() | extra, url))

    def image(self, alt: str, src: str) -> None:
        """An image: its alt text (may be empty) linked to its source; never dropped."""
        if not self.hidden and (src or alt):
            self.pieces.append(Run(alt, self._active(), src or None, bool(src)))

    def open_link(self, url: str) -> None:
        self.urls.append(url)
        self.link_starts.append(len(self.pieces))

    def close_link(self) -> None:
        if not self.urls:
            return
        url = self.urls[-1]
        start = self.link_starts.pop()
        inside = self.pieces[start:]
        has_text = any(p is not None and p.url == url and not p.image and p.text.strip() for p in inside)
        images = [i for i, p in enumerate(inside) if p is not None and p.image]
        for i in images:  # a linked image points where the link does (its source stays its own link)
            p = inside[i]
            assert p is not None
            self.pieces[start + i] = replace(p, href=url)
        if not has_text and not images and not self.hidden:
            # "[](url)": keep the target as a visible link
            self.pieces.append(Run(url, self._active(), url))
        self.urls.pop()

    def feed(self, tokens: Sequence[Token]) -> None:
        for tok in tokens:
            self._token(tok)

    def _token(self, tok: Token) -> None:
        t = tok.type
        if t in ("text", "text_special"):
            self.text(tok.content)
        elif t == "softbreak":
            self.pieces.append(_SOFT)
        elif t == "hardbreak":
            self.pieces.append(Run("\n"))
        elif t == "code_inline":
            self.text(tok.content, frozenset({"code"}))
        elif t.endswith("_open") and t[:-5] in _MD_STYLE:
            self._push(_MD_STYLE[t[:-5]])
        elif t.endswith("_close") and t[:-6] in _MD_STYLE:
            self._pop(_MD_STYLE[t[:-6]])
        elif t == "link_open":
            self.open_link(str(tok.attrGet("href") or ""))
        elif t == "link_close":
            self.close_link()
        elif t == "image":
            alt = "".join(c.content for c in tok.children or () if c.type in ("text", "code_inline"))
            self.image(alt, str(tok.attrGet("src") or ""))
        elif t == "html_inline":
            self._html(tok.content)
        elif tok.children:
            self.feed(tok.children)
        elif tok.content:
            self.text(tok.content)

    def _html(self, raw: str) -> None:
        """Inline HTML: translate tags with a meaning, ignore the rest (their text is separate tokens)."""
        if raw.startswith(("<!--", "<?", "<!")):
            return
        tag = _read_tag(raw)
        name = tag.tag.lower()
        if name in _HIDDEN_HTML:
            if tag.opening and not tag.closing:
                self.hidden += 1
            elif tag.closing and not tag.opening:
                self.hidden = max(0, self.hidden - 1)
        elif self.hidden:
            return
        elif name == "br":
            self.pieces.append(Run("\n"))
        elif name == "img" and tag.opening:
            self.image(tag.attrs.get("alt", "") or tag.attrs.get("title", ""), tag.attrs.get("src", ""))
        elif name == "a":
            if tag.opening and not tag.closing:
                self.open_link(tag.attrs.get("href", ""))
            elif tag.closing and not tag.opening:
                self.close_link()
        elif name in _HTML_STYLE and not (tag.opening and tag.closing):
            if tag.opening:
                self._push(_HTML_STYLE[name])
            else:
                self._pop(_HTML_STYLE[name])

    def finish(self) -> list[_Piece]:
        while self.urls:
            self.close_link()
        return self.pieces


def _pieces(node: SyntaxTreeNode) -> list[_Piece]:
    """The runs (with soft-break markers) of a node that holds one ``inline`` child."""
    builder = _InlineBuilder()
    for child in node.children:
        if child.type == "inline" and child.token is not None:
            builder.feed(child.token.children or ())
    return builder.finish()


def _soft_joiner(before: Sequence[_Piece], after: Sequence[_Piece]) -> str:
    """A soft line break: nothing between CJK text (or after CJK punctuation), a space otherwise."""
    prev = next((p.text for p in reversed(before) if p is not None and p.text), "")
    nxt = next((p.text for p in after if p is not None and p.text), "")
    if not prev or not nxt:
        return ""
    a, b = prev[-1], nxt[0]
    if a == "\n" or b == "\n":
        return ""
    if (_is_cjk(a) and _is_cjk(b)) or _is_cjk_punct(a) or _is_cjk_punct(b):
        return ""
    return " "


def _join(pieces: Sequence[_Piece]) -> Inline:
    """Resolve soft breaks and merge neighbours with identical style and link."""
    runs: list[Run] = []
    for i, p in enumerate(pieces):
        if p is not None:
            runs.append(p)
            continue
        sep = _soft_joiner(pieces[:i], pieces[i + 1 :])
        if sep:
            left = runs[-1] if runs else None
            right = next((q for q in pieces[i + 1 :] if q is not None), None)
            styles = left.styles & right.styles if left and right else frozenset()
            url = left.url if left and right and left.url == right.url and not left.image else None
            runs.append(Run(sep, styles, url))
    return _merge(runs)


def _merge(runs: Iterable[Run]) -> Inline:
    out: list[Run] = []
    for r in runs:
        if not r.text and not r.image:
            continue
        prev = out[-1] if out else None
        if (
            prev is not None
            and not prev.image
            and not r.image
            and not prev.is_break
            and not r.is_break
            and prev.styles == r.styles
            and prev.url == r.url
        ):
            out[-1] = Run(prev.text + r.text, prev.styles, prev.url)
        else:
            out.append(r)
    return tuple(out)


def _strip_runs(runs: Inline) -> Inline:
    """Trim whitespace (and line breaks) at both ends of some runs."""
    items = list(runs)
    while items and (items[0].is_break or (not items[0].image and not items[0].text.strip())):
        items.pop(0)
    while items and (items[-1].is_break or (not items[-1].image and not items[-1].text.strip())):
        items.pop()
    if items and not items[0].image:
        items[0] = replace(items[0], text=items[0].text.lstrip())
    if items and not items[-1].image:
        items[-1] = replace(items[-1], text=items[-1].text.rstrip())
    return tuple(items)


def _lines(pieces: Sequence[_Piece]) -> list[list[_Piece]]:
    """Split pieces at soft and hard line breaks."""
    lines: list[list[_Piece]] = [[]]
    for p in pieces:
        if p is None or p.is_break:
            lines.append([])
        else:
            lines[-1].append(p)
    return lines


def _has_link(runs: Iterable[Run]) -> bool:
    return any(r.url for r in runs)


# ------------------------------------------------------------------ the items


@dataclass(frozen=True, slots=True)
class _Heading:
    level: int
    runs: Inline

    @property
    def text(self) -> str:
        return _clean_heading_text(plain(self.runs))


@dataclass(frozen=True, slots=True)
class _Para:
    """A paragraph before interpretation (label, ``1、`` list or plain paragraph)."""

    pieces: tuple[_Piece, ...]


_Item = _Heading | _Para | Block

_ANCHOR = re.compile(r"\s*\{\s*[#.][^{}]*\}\s*$")
# "1、" / "2．" item markers; "2025、2026年" (a list of years in prose) is not one
_NUMBERED = re.compile(r"^\s*([0-9]{1,2})\s*[、．]\s*(?![0-9])")
_SENTENCE_END = ("。", "！", "？", ".", "!", "?", "；", ";")


def _clean_heading_text(text: str) -> str:
    text = " ".join(text.replace("\n", " ").split())
    return _ANCHOR.sub("", text).strip()


def _clean_heading_runs(runs: Inline) -> Inline:
    """Drop a trailing ``{#anchor}`` / ``{.class}`` from a heading's runs."""
    if runs and not runs[-1].image:
        last = runs[-1]
        cut = _ANCHOR.sub("", last.text)
        if cut != last.text:
            runs = (*runs[:-1], replace(last, text=cut))
    return _strip_runs(_merge(runs))


class _Converter:
    """Tree nodes -> items/blocks. Holds the recursion depth for HTML round-trips."""

    def __init__(self, depth: int = 0) -> None:
        self.depth = depth

    # top level: headings and paragraphs stay open for the sectioning pass
    def items(self, nodes: Iterable[SyntaxTreeNode], *, atx: bool) -> Iterator[_Item]:
        for node in nodes:
            t = node.type
            if t == "heading":
                setext = node.markup in ("=", "-")
                runs = _clean_heading_runs(_join(_pieces(node)))
                if setext and atx:
                    # "text\n---" in a document that uses "## " headings is a paragraph and a rule
                    yield _Para(tuple(_pieces(node)))
                elif runs:
                    yield _Heading(int(node.tag[1:]) if node.tag[1:].isdigit() else 2, runs)
            elif t == "paragraph":
                yield _Para(tuple(_pieces(node)))
            elif t == "html_block":
                yield from self._html_items(node.content)
            else:
                yield from self.blocks([node])

    def _html_items(self, html: str) -> Iterator[_Item]:
        """An HTML block (``<p align=center>…``) is converted to Markdown and parsed again.

        ``<script>``/``<style>`` content is code for the page, never text for a reader.
        """
        html = _HIDDEN_BLOCK.sub("", html)
        if not _html_visible(html):
            return
        if self.depth >= 3:
            text = _html_text(html)
            if text.strip():
                yield Paragraph((Run(text.strip()),))
            return
        md = html_to_markdown(_safe_html(html))
        tree = SyntaxTreeNode(_MD_FRAGMENT.parse(md))
        inner = _Converter(self.depth + 1)
        yield from inner.items(tree.children, atx=True)

    # inside lists, quotes, cells: everything is a finished block
    def blocks(self, nodes: Iterable[SyntaxTreeNode]) -> Iterator[Block]:
        for node in nodes:
            t = node.type
            if t in ("paragraph", "heading"):
                runs = _strip_runs(_join(_pieces(node)))
                if runs:
                    yield Paragraph(runs)
            elif t in ("bullet_list", "ordered_list"):
                yield self._list(node)
            elif t == "table":
                yield self._table(node)
            elif t in ("fence", "code_block"):
                info = (node.info or "").strip().split()
                yield Code(text=node.content.rstrip("\n"), language=info[0] if info else "")
            elif t == "blockquote":
                inner = tuple(self.blocks(node.children))
                if inner:
                    yield Quote(inner)
            elif t == "html_block":
                for item in self._html_items(node.content):
                    yield from _finish_loose(item)
            elif t in ("hr", "front_matter"):
                continue
            elif node.children:
                yield from self.blocks(node.children)
            elif node.content.strip():
                yield Paragraph((Run(node.content.strip()),))

    def _list(self, node: SyntaxTreeNode) -> ListBlock:
        ordered = node.type == "ordered_list"
        start = node.attrs.get("start", 1) if ordered else None
        first = int(start) if isinstance(start, int | str) and str(start).isdigit() else 1
        items: list[ListItem] = []
        for i, li in enumerate(node.children):
            parts: list[Inline] = []
            children: list[ListBlock] = []
            extra: list[tuple[int, list[_Piece]]] = []
            for child in li.children:
                if child.type in ("bullet_list", "ordered_list"):
                    children.append(self._list(child))
                elif child.type == "paragraph" and ordered and not parts and not extra:
                    # "1. x" then lazy lines "2、y": the author's next items, not one long item
                    own, *more = _numbered_entries(_lines(_pieces(child)), first + i)
                    parts.append(_strip_runs(_join(own[1])))
                    extra.extend(more)
                elif child.type == "paragraph":
                    parts.append(_strip_runs(_join(_pieces(child))))
                else:
                    # the model's list items hold runs only: keep other blocks' text as runs
                    parts.extend(_block_runs(b) for b in self.blocks([child]))
            runs: list[Run] = []
            for part in (p for p in parts if p):
                if runs:
                    runs.append(Run("\n"))
                runs.extend(part)
            number = None
            if ordered:
                number = int(li.info) if li.info.isdigit() else first + i
            items.append(ListItem(runs=_merge(runs), number=number, children=tuple(children)))
            items.extend(
                ListItem(runs=_strip_runs(_join(body)), number=n) for n, body in extra if _join(body)
            )
        return ListBlock(items=tuple(items), ordered=ordered)

    def _table(self, node: SyntaxTreeNode) -> Table:
        header: tuple[Inline, ...] = ()
        rows: list[tuple[Inline, ...]] = []
        for part in node.children:
            for tr in part.children:
                cells = tuple(_strip_runs(_join(_pieces(cell))) for cell in tr.children)
                if part.type == "thead" and not header:
                    header = cells
                else:
                    rows.append(cells)
        return Table(header=header, rows=tuple(rows))


def _block_runs(block: Block) -> Inline:
    """A block flattened to runs (for list items, which can only hold runs)."""
    if isinstance(block, Paragraph):
        return block.runs
    if isinstance(block, Code):
        return (Run(block.text, frozenset({"code"})),)
    return (Run(block_text(block)),)


_HIDDEN_BLOCK = re.compile(
    r"<(script|style|noscript|template)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.IGNORECASE | re.DOTALL
)


class _CommentStripper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags = 0
        self.hidden = 0

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_HTML:
            self.hidden += 1
        if tag in ("img", "br", "hr", "video", "iframe", "a"):
            self.tags += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_HTML:
            self.hidden = max(0, self.hidden - 1)


def _html_scan(html: str) -> _CommentStripper:
    reader = _CommentStripper()
    reader.feed(_safe_html(html))
    reader.close()
    return reader


def _html_visible(html: str) -> bool:
    """False for HTML blocks that show nothing (comments, empty wrappers)."""
    reader = _html_scan(html)
    return bool("".join(reader.parts).strip()) or reader.tags > 0


def _html_text(html: str) -> str:
    return "".join(_html_scan(html).parts)


# ------------------------------------------------------------ paragraph rules


def _label_of(runs: Inline) -> str | None:
    """The label of a bold-only paragraph (``**核心进展**`` or ``**Highlights**:``), else None."""
    if not runs or any(r.url or r.image or r.is_break for r in runs):
        return None
    body = list(runs)
    if len(body) > 1 and body[-1].text.strip() in (":", "：") and not body[-1].bold:
        body.pop()
    if not all(r.bold for r in body if r.text.strip()):
        return None
    text = plain(tuple(body)).strip().rstrip(":：").strip()
    if not text or len(text) > 40 or text.endswith(_SENTENCE_END):
        return None
    return text


def _numbered_list(pieces: Sequence[_Piece]) -> ListBlock | None:
    """``1、第一…`` lines (which CommonMark leaves as a paragraph) as an ordered list."""
    lines = _lines(pieces)
    first_text = plain(tuple(p for p in lines[0] if p is not None))
    if not _NUMBERED.match(first_text):
        return None
    entries = _numbered_entries(lines, None)
    items = tuple(ListItem(runs=_strip_runs(_join(body)), number=num) for num, body in entries if _join(body))
    return ListBlock(items=items, ordered=True) if items else None


# "2. x" / "2) x" continuing a "1、" list, as authors mix the two markers within one list
_ASCII_NUMBERED = re.compile(r"^\s*([0-9]{1,2})[.)]\s+")


def _numbered_entries(lines: Sequence[Sequence[_Piece]], first: int | None) -> list[tuple[int, list[_Piece]]]:
    """Lines grouped into numbered entries: a line opens one when it starts with ``N、`` / ``N．``, or
    with ``N.`` / ``N)`` when N follows the previous entry. ``first`` is the number of an entry already
    open (a CommonMark list item whose lazy lines these are); its lines come back under number 0."""
    entries: list[tuple[int, list[_Piece]]] = [] if first is None else [(0, [])]
    last = first
    for line in lines:
        text = plain(tuple(p for p in line if p is not None))
        m = _NUMBERED.match(text)
        if m is None and last is not None:
            m2 = _ASCII_NUMBERED.match(text)
            m = m2 if m2 is not None and int(m2.group(1)) == last + 1 else None
        if m is not None and (last is None or int(m.group(1)) == last + 1 or _NUMBERED.match(text)):
            last = int(m.group(1))
            entries.append((last, _drop_prefix(line, m.end())))
        elif entries:
            if entries[-1][1]:
                entries[-1][1].append(_SOFT)
            entries[-1][1].extend(line)
    return entries


def _drop_prefix(line: Sequence[_Piece], n: int) -> list[_Piece]:
    """Remove the first ``n`` characters of a line of runs (the ``1、`` marker)."""
    out: list[_Piece] = []
    for p in line:
        if p is None:
            out.append(p)
            continue
        if n > 0 and not p.image:
            cut = min(n, len(p.text))
            n -= cut
            if cut < len(p.text):
                out.append(replace(p, text=p.text[cut:]))
            continue
        out.append(p)
    return out


@dataclass(frozen=True, slots=True)
class _Label:
    text: str


_Finished = _Heading | _Label | Block


def _finish_para(para: _Para) -> Iterator[_Label | Block]:
    numbered = _numbered_list(para.pieces)
    if numbered is not None:
        yield numbered
        return
    runs = _strip_runs(_join(para.pieces))
    if not runs:
        return
    label = _label_of(runs)
    yield _Label(label) if label is not None else Paragraph(runs)


def _finish_loose(item: _Item) -> Iterator[Block]:
    """An item where no sections/groups are possible (inside lists and quotes)."""
    if isinstance(item, _Heading):
        yield Paragraph(item.runs)
    elif isinstance(item, _Para):
        runs = _strip_runs(_join(item.pieces))
        if runs:
            yield Paragraph(runs)
    else:
        yield item


def _finish(items: Iterable[_Item]) -> list[_Finished]:
    """Interpret paragraphs; merge ``1、``/``2、`` paragraphs separated by blank lines into one list."""
    out: list[_Finished] = []
    for item in items:
        produced: Iterable[_Finished] = _finish_para(item) if isinstance(item, _Para) else (item,)
        for f in produced:
            prev = out[-1] if out else None
            if (
                isinstance(f, ListBlock)
                and f.ordered
                and isinstance(prev, ListBlock)
                and prev.ordered
                and prev.items
                and f.items
                and prev.items[-1].number is not None
                and f.items[0].number == prev.items[-1].number + 1
            ):
                out[-1] = ListBlock(items=prev.items + f.items, ordered=True)
            else:
                out.append(f)
    return out


def _group(items: Sequence[_Finished]) -> tuple[Block, ...]:
    """Deeper headings open (nested) groups; bold labels open flat groups within them."""
    out: list[Block] = []
    i = 0
    while i < len(items):
        item = items[i]
        if isinstance(item, _Heading):
            j = i + 1
            while j < len(items) and not _opens(items[j], item.level):
                j += 1
            body = _group(items[i + 1 : j])
            if _has_link(item.runs) or any(r.image for r in item.runs):
                body = (Paragraph(item.runs), *body)
            out.append(Group(label=item.text, blocks=body))
            i = j
            continue
        j = i
        while j < len(items) and not isinstance(items[j], _Heading):
            j += 1
        out.extend(_label_groups(items[i:j]))
        i = j
    return tuple(out)


def _label_groups(items: Sequence[_Finished]) -> list[Block]:
    out: list[Block] = []
    label: str | None = None
    body: list[Block] = []
    for item in items:
        if isinstance(item, _Label):
            if label is not None:
                out.append(Group(label, tuple(body)))
            label, body = item.text, []
        elif isinstance(item, _Heading):  # not reached: _group splits at headings
            body.append(Paragraph(item.runs))
        elif label is None:
            out.append(item)
        else:
            body.append(item)
    if label is not None:
        out.append(Group(label, tuple(body)))
    return out


# ---------------------------------------------------------- title & headings

_ATTRIBUTION_SEP = re.compile(r"\s*(?:-{2,}|——|\s[—|]\s)\s*")
# " | " and " — " also separate parts of a title ("科技周刊 | 第 12 期 | 2026-08-19"): they start an
# attribution only when what follows says who made the issue.
_SOFT_SEP = re.compile(r"^\s*[—|]\s*$")
_ATTRIBUTION_CUE = re.compile(
    r"\bby\b|generated|produced|published|curated|edited|presented|written|compiled|powered"
    r"|©|\(c\)|@|由|出品|编辑|主编|整理|作者|撰稿|编译|制作|来源",
    re.IGNORECASE,
)
# "：" or ":", but not the ":" of "10:30" or "https://"
_COLON = re.compile(r"\s*(?:：|(?<![0-9]):(?!//)|(?<=[0-9]):(?![0-9/]))\s*")
_TOPIC_SEP = re.compile(r"\s*[、，,;；]\s*")


def split_title(line: str) -> tuple[str, tuple[str, ...], str]:
    """``"周观察：A、B、C--本报告由…"`` -> ``("周观察", ("A", "B", "C"), "本报告由…")``.

    The attribution follows the last ``--`` or ``——``, or the last `` — `` / `` | ``
    when the text after it names a producer ("by …", "由…生成", "©…"): a title
    made of ``|`` groups keeps all its groups. The topics follow the first colon
    and are split on list punctuation.
    """
    line = " ".join(line.split())
    head, attribution = line, ""
    seps = list(_ATTRIBUTION_SEP.finditer(line))
    if seps and seps[-1].start() > 0 and line[seps[-1].end() :].strip():
        sep, tail = seps[-1], line[seps[-1].end() :].strip()
        if not _SOFT_SEP.match(sep.group(0)) or _ATTRIBUTION_CUE.search(tail):
            head, attribution = line[: sep.start()], tail
    m = _COLON.search(head)
    if m is None or m.start() == 0:
        return head.strip(), (), attribution
    title = head[: m.start()].strip()
    topics = tuple(t for t in (x.strip() for x in _TOPIC_SEP.split(head[m.end() :])) if t)
    return title, topics, attribution


def _split_heading(text: str) -> tuple[str, str, str]:
    """``"🤖 AI新能力：推理成本下降"`` -> ``("🤖", "AI新能力", "推理成本下降")``."""
    i = 0
    while i < len(text) and (
        _is_emoji_char(text[i])
        or (i > 0 and text[i] == " " and i + 1 < len(text) and _is_emoji_char(text[i + 1]))
    ):
        i += 1
    emoji, rest = text[:i].replace(" ", ""), text[i:].strip()
    m = _COLON.search(rest)
    if m is None or m.start() == 0:
        return emoji, rest.strip("：: "), ""
    return emoji, rest[: m.start()].strip(), rest[m.end() :].strip()


# ------------------------------------------------------------------- extras

_KEYWORDS_LABEL = re.compile(
    r"^\s*(?:今日关键词|本期关键词|关键词|关键字|today['’]?s keywords|key ?words|tags)\s*[：:]\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_TAKEAWAY_LABEL = re.compile(
    r"^\s*(?:核心启示|启示|核心结论|key takeaways?|takeaways?|bottom line)\s*[：:]\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)
_KEYWORDS_GROUP = re.compile(r"^(?:今日关键词|本期关键词|关键词|today['’]?s keywords|keywords)$", re.I)
_TAKEAWAY_GROUP = re.compile(r"^(?:核心启示|启示|核心结论|key takeaways?|takeaways?)$", re.IGNORECASE)
_KEYWORD_SEP = re.compile(r"\s*[、，,;；/|·]\s*")


def _texts(blocks: Iterable[Block]) -> Iterator[tuple[str, str]]:
    """(group label, text) of every paragraph and list item, in reading order."""

    def walk(bs: Iterable[Block], label: str) -> Iterator[tuple[str, str]]:
        for b in bs:
            if isinstance(b, Paragraph):
                yield label, plain(b.runs)
            elif isinstance(b, Group):
                yield from walk(b.blocks, b.label)
            elif isinstance(b, Quote):
                yield from walk(b.blocks, label)
            elif isinstance(b, ListBlock):
                yield from _list_texts(b, label)

    yield from walk(blocks, "")


def _list_texts(lb: ListBlock, label: str) -> Iterator[tuple[str, str]]:
    for it in lb.items:
        yield label, plain(it.runs)
        for child in it.children:
            yield from _list_texts(child, label)


def _split_keywords(text: str) -> list[str]:
    return [k for k in (w.strip(" \t\n。.：:\"'“”‘’`") for w in _KEYWORD_SEP.split(text)) if k]


def _extras(blocks: Sequence[Block]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    keywords: list[str] = []
    takeaways: list[str] = []
    for label, text in _texts(blocks):
        text = text.strip()
        if m := _KEYWORDS_LABEL.match(text):
            keywords.extend(_split_keywords(m.group(1)))
        elif m := _TAKEAWAY_LABEL.match(text):
            if m.group(1).strip():
                takeaways.append(m.group(1).strip())
        elif label and _KEYWORDS_GROUP.match(label.strip()):
            keywords.extend(_split_keywords(text))
        elif label and _TAKEAWAY_GROUP.match(label.strip()) and text:
            takeaways.append(text)
    return tuple(dict.fromkeys(keywords)), tuple(takeaways)


def _language(title: str, sections: Sequence[Section], preamble: Sequence[Block]) -> str:
    heads = " ".join([title, *(s.heading or s.name for s in sections)])
    if _IDEOGRAPH.search(heads):
        return "zh"
    body = "\n".join([*(s.text() for s in sections), *(block_text(b) for b in preamble)])
    cjk = len(_IDEOGRAPH.findall(body))
    latin = sum(1 for ch in body if ch.isascii() and ch.isalpha())
    return "zh" if cjk and cjk * 3 >= latin else "en"


# -------------------------------------------------------------- front matter


def _front_matter(tree: SyntaxTreeNode) -> tuple[dict[str, Any], str]:
    """Front matter as a dict (YAML or TOML); the second value is an error note or ''."""
    for node in tree.children:
        if node.type != "front_matter":
            continue
        raw = node.content
        try:
            data: object = tomllib.loads(raw) if node.markup == "+++" else yaml.safe_load(raw)
        except (yaml.YAMLError, tomllib.TOMLDecodeError, ValueError) as err:
            return {}, f"front matter ignored: {type(err).__name__}"
        if data is None:
            return {}, ""
        if not isinstance(data, dict):
            return {}, "front matter ignored: not a mapping"
        return {str(k): v for k, v in data.items()}, ""
    return {}, ""


def _fm_get(fm: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` present in the front matter (keys compared case-insensitively)."""
    lower = {k.lower(): v for k, v in fm.items()}
    for n in names:
        if n in lower and lower[n] not in (None, ""):
            return lower[n]
    return None


def _meta_value(value: object) -> str | None:
    if isinstance(value, str | int | float | bool | date):
        return value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return None


def _person(value: object) -> str:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, Mapping):
        return _person(value.get("name") or value.get("title") or "")
    return ""


def _fm_authors(fm: Mapping[str, Any]) -> str:
    """``author`` / ``authors`` (a name, a list of names, or Docusaurus-style ``{name: …}`` entries)."""
    value = _fm_get(fm, "author", "authors", "creator", "byline")
    items = value if isinstance(value, list) else [value]
    names = [n for n in (_person(v) for v in items) if n]
    return ", ".join(dict.fromkeys(names))


# -------------------------------------------------------------------- options

IntroPlacement = Literal["first", "separate", "off"]
INTRO_PLACEMENTS: tuple[IntroPlacement, ...] = ("first", "separate", "off")


@dataclass(frozen=True, slots=True)
class ParseOptions:
    """How a publisher's issues are read: the ``[newsletter]`` settings; front matter may override.

    ``base_url`` resolves relative links and images (an issue read from an
    http(s) URL uses that URL when this is empty). ``intro`` says where the
    text before the first section goes in a push: with the ``first`` section,
    as its own ``separate`` message, or ``off`` (overview only).
    ``*_headings`` add heading words to the built-in ones that mark sponsor,
    table-of-contents and legal sections.
    """

    base_url: str = ""
    intro: IntroPlacement = "first"
    sponsor_headings: tuple[str, ...] = ()
    toc_headings: tuple[str, ...] = ()
    legal_headings: tuple[str, ...] = ()
    section_kinds: Mapping[str, SectionKind] = field(default_factory=dict)
    """Exact headings (case-insensitive) -> kind, e.g. from front matter ``briefcast: {sections: …}``."""


def _with_front_matter(opts: ParseOptions, fm: Mapping[str, Any]) -> ParseOptions:
    """A publisher's per-issue overrides: ``base_url`` and a ``briefcast:`` table in the front matter."""
    own = _fm_get(fm, "briefcast")
    own = own if isinstance(own, Mapping) else {}
    base = own.get("base_url") or _fm_get(fm, "base_url", "baseurl")
    intro = own.get("intro")
    kinds = own.get("sections")
    changes: dict[str, Any] = {}
    if isinstance(base, str) and base.lower().startswith(("http://", "https://")):
        changes["base_url"] = base.strip()
    if intro in INTRO_PLACEMENTS:
        changes["intro"] = intro
    if isinstance(kinds, Mapping):
        merged = dict(opts.section_kinds)
        merged.update({str(k).casefold(): v for k, v in kinds.items() if v in SECTION_KINDS})
        changes["section_kinds"] = merged
    return replace(opts, **changes) if changes else opts


# ------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class _Hints:
    """Document-level facts an HTML page carries outside its Markdown (``<time>``, ``<title>``)."""

    date: date | None = None
    title: str = ""


def parse_markdown(
    text: str,
    *,
    source: str = "",
    catalogue: SectorCatalogue | None = None,
    default_date: date | None = None,
    options: ParseOptions | None = None,
) -> Briefing:
    """Parse a Markdown briefing. Raises :class:`BriefingError` when there is nothing to publish."""
    return _parse(
        text, source=source, catalogue=catalogue, default_date=default_date, hints=_Hints(), options=options
    )


def _parse(
    text: str,
    *,
    source: str,
    catalogue: SectorCatalogue | None,
    default_date: date | None,
    hints: _Hints,
    options: ParseOptions | None = None,
) -> Briefing:
    if not text.strip():
        raise BriefingError("the issue is empty")
    cat = catalogue if catalogue is not None else default_catalogue()
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    header, consumed = metadata_header(text)
    env: dict[str, Any] = {}
    tree = SyntaxTreeNode(markdown_tokens(text[consumed:], env))
    fm, fm_error = _front_matter(tree)
    if header:
        fm = {**header, **fm}
    opts = _with_front_matter(options or ParseOptions(), fm)
    atx = any(n.type == "heading" and n.markup.startswith("#") for n in tree.children)
    raw_items = list(_Converter().items(tree.children, atx=atx))
    if not raw_items:
        raise BriefingError("the issue is empty")

    meta: dict[str, str] = {}
    for k, v in fm.items():
        mv = _meta_value(v)
        if mv is not None:
            meta[f"fm.{k}"] = mv
    if header:
        meta["metadata_header"] = ", ".join(header)
    if fm_error:
        meta["front_matter_error"] = fm_error

    headings = [i for i in raw_items if isinstance(i, _Heading)]
    level = _section_level(raw_items[0], headings, cat)
    title_line, title_runs, rest, title_source = _take_title(raw_items, level, fm, hints, cat)
    if not title_line:
        title_line = _title_from_name(source)
        title_source = "filename" if title_line else "none"
    items = _finish(rest)
    meta["title_source"] = title_source
    if title_line:
        meta["title_full"] = title_line
    title, topics, attribution = split_title(title_line)
    if attribution:
        meta["attribution_source"] = "title"
    elif authors := _fm_authors(fm):
        attribution = authors
        meta["attribution_source"] = "front_matter"

    preamble_items, section_items = _split_preamble(items, level)
    preamble = list(_group(preamble_items))
    if _has_link(title_runs) or any(r.image for r in title_runs):
        preamble.insert(0, Paragraph(title_runs))
    if level is not None:
        meta["section_level"] = str(level)
    rules = _KindRules(opts)
    sections, merged = _sections(section_items, cat, rules)
    if merged:
        meta["merged_sections"] = ", ".join(merged)
    if not sections:
        if not preamble or all(isinstance(b, Group) and not b.blocks for b in preamble):
            raise BriefingError("no sections found: the issue has a title but no content")
        # no headings at all: the body is one section (see the module docstring)
        sections = [
            Section(
                key="briefing",
                emoji="",
                name=title or "Briefing",
                headline="",
                blocks=tuple(preamble),
                heading="",
                known=False,
            )
        ]
        preamble = []
        meta["implicit_section"] = "true"

    base = opts.base_url or (source if source.lower().startswith(("http://", "https://")) else "")
    links = _LinkResolver(base)
    sections = [replace(s, blocks=map_runs(s.blocks, links.run)) for s in sections]
    preamble = list(map_runs(tuple(preamble), links.run))
    if base:
        meta["base_url"] = base
    meta.update(links.notes())
    removed: Removed = env["removed"]
    for kind, n in removed.as_dict().items():
        meta[f"removed.{kind}"] = str(n)
    if env.get("unplaced"):
        meta["unplaced_lines"] = str(env["unplaced"])
    meta["intro"] = opts.intro

    all_blocks = [*preamble, *(b for s in sections for b in s.blocks)]
    keywords, takeaways = _extras(all_blocks)
    if not keywords and isinstance(fm_kw := _fm_get(fm, "keywords"), list | str):
        keywords = tuple(dict.fromkeys(_front_matter_keywords(fm_kw)))
        if keywords:
            meta["keywords_source"] = "front_matter"
    first_heading = next((i.text for i in rest if isinstance(i, _Heading)), "")
    day, date_source = _issue_date(fm, hints, title_line, first_heading, source, default_date)
    meta["date_source"] = date_source
    return Briefing(
        title=title,
        sections=tuple(sections),
        date=day,
        attribution=attribution,
        topics=topics,
        keywords=keywords,
        takeaways=takeaways,
        preamble=tuple(preamble),
        language=_language(title_line, sections, preamble),
        source=source,
        meta=meta,
    )


def _front_matter_keywords(value: object) -> list[str]:
    raw = value if isinstance(value, list) else _KEYWORD_SEP.split(str(value))
    return [" ".join(str(k).split()) for k in raw if str(k).strip()]


def _matches(h: _Heading, cat: SectorCatalogue) -> bool:
    emoji, name, _ = _split_heading(h.text)
    return cat.match_heading(emoji, name) is not None


def _section_level(first: _Item, headings: Sequence[_Heading], cat: SectorCatalogue) -> int | None:
    """The shallowest heading level used more than once or by a sector (an H1 title excluded)."""
    if isinstance(first, _Heading) and first.level == 1:
        h1s = [h for h in headings if h.level == 1]
        if len(h1s) == 1 or not _matches(first, cat):
            headings = [h for h in headings if h is not first]
    if not headings:
        return None
    for lv in sorted({h.level for h in headings}):
        at = [h for h in headings if h.level == lv]
        if len(at) > 1 or any(_matches(h, cat) for h in at):
            return lv
    return min(h.level for h in headings)


# An issue's name: "AI洞察日报 2025/12/29", "Weekly #12", "第 12 期", "Vol. 3"
_TITLE_WORDS = re.compile(
    r"日报|周报|周刊|月报|月刊|简报|早报|晚报|快讯|通讯|双周报|newsletter|digest|weekly|daily|briefing|bulletin"
    r"|roundup|recap|\bissue\b|\bvol\.?\s*\d|第\s*\d+\s*期|#\s*\d+",
    re.IGNORECASE,
)
_TITLE_STOP = ("。", "！", "？", ".", "!", "?", "：", ":")


def _title_key(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def _looks_like_title(h: _Heading, cat: SectorCatalogue) -> bool:
    """A first heading at the section level naming the issue, not a sector (``## AI日报 2025/12/29``)."""
    if find_date(h.text) is not None:  # "AI洞察日报 2025/12/29": a dated heading names an issue
        return True
    return not _matches(h, cat) and bool(_TITLE_WORDS.search(h.text))


def _take_title(
    items: Sequence[_Item],
    level: int | None,
    fm: Mapping[str, Any],
    hints: _Hints,
    cat: SectorCatalogue,
) -> tuple[str, Inline, list[_Item], str]:
    """(title line, its runs, the remaining items, where the title came from).

    In order of trust: the front matter's (or metadata header's) ``title``
    (a first heading that repeats it is the title line instead: it may add
    topics and a byline); an H1 or any heading
    above the section level; a first heading at the section level that names
    the issue (a date, "日报", "Weekly", "#12"…); the first line of the first
    paragraph when it reads like a title (not a sentence); the HTML ``<title>``.
    The caller falls back to the file name.
    """
    first = items[0]
    rest = list(items[1:])
    raw_title = _fm_get(fm, "title")
    fm_title = " ".join(raw_title.split()) if isinstance(raw_title, str) else ""
    if isinstance(first, _Heading):
        if fm_title and _title_key(first.text).startswith(_title_key(fm_title)):
            # the first heading repeats the front matter title, maybe with topics and a byline: richer
            return first.text, first.runs, rest, "heading"
        if not fm_title:
            above = level is None or first.level < level
            if (
                above
                or (first.level == 1 == level and not _matches(first, cat))
                or _looks_like_title(first, cat)
            ):
                return first.text, first.runs, rest, "heading"
    if fm_title:
        return fm_title, (), list(items), "front_matter"
    if isinstance(first, _Para):
        pieces = list(first.pieces)
        cut = next((i for i, p in enumerate(pieces) if p is None or p.is_break), len(pieces))
        head = _strip_runs(_merge(p for p in pieces[:cut] if p is not None))
        line = " ".join(plain(head).split())
        if line and not line.endswith(_TITLE_STOP):
            if pieces[cut + 1 :]:
                rest.insert(0, _Para(tuple(pieces[cut + 1 :])))
            return line, head, rest, "paragraph"
    if hints.title:
        return hints.title, (), list(items), "html_title"
    return "", (), list(items), "none"


def _title_from_name(source: str) -> str:
    """A last-resort title from the file name (``issue-538.markdown`` -> ``issue 538``), or ""."""
    if not source or kind_from_name(source) is None:
        return ""
    path = urlsplit(source).path if "://" in source else source
    p = PurePosixPath(unquote(path).replace("\\", "/"))
    stem = p.parent.name if p.stem.lower() in ("index", "_index", "readme") else p.stem
    words = " ".join(re.split(r"[-_\s]+", _LEADING_DATE.sub("", stem))).strip()
    return words if any(ch.isalpha() for ch in words) else ""


_LEADING_DATE = re.compile(r"^\d{4}[-_.]\d{1,2}[-_.]\d{1,2}[-_]?")


def _split_preamble(items: Sequence[_Finished], level: int | None) -> tuple[list[_Finished], list[_Finished]]:
    if level is None:
        return list(items), []
    for i, item in enumerate(items):
        if isinstance(item, _Heading) and item.level <= level:
            return list(items[:i]), list(items[i:])
    return list(items), []


def _opens(item: _Finished, level: int) -> bool:
    """Whether ``item`` is a heading that ends a part opened at ``level``."""
    return isinstance(item, _Heading) and item.level <= level


# ------------------------------------------------------------ section kinds

_SPONSOR_WORDS = (
    "sponsor",
    "sponsored",
    "sponsors",
    "advertisement",
    "advertising",
    "ads",
    "promoted",
    "partner content",
    "赞助",
    "广告",
    "推广",
    "合作伙伴",
    "商务合作",
)
_TOC_HEADINGS = (
    "table of contents",
    "contents",
    "toc",
    "in this issue",
    "目录",
    "本期目录",
    "导航",
    "快速导航",
    "本期导读",
)
_LEGAL_WORDS = (
    "license",
    "licence",
    "copyright",
    "disclaimer",
    "unsubscribe",
    "privacy",
    "terms of use",
    "terms of service",
    "版权",
    "许可",
    "免责声明",
    "退订",
    "取消订阅",
    "隐私",
    "法律声明",
)


def _words_re(words: Iterable[str], *, whole: bool) -> re.Pattern[str]:
    alts = "|".join(re.escape(w.casefold()) for w in words if w.strip())
    if whole:
        return re.compile(rf"^(?:{alts})$")
    return re.compile(rf"(?<![a-z])(?:{alts})(?![a-z])")


class _KindRules:
    """Which sections are sponsors, tables of contents or legal text (built-in words + settings)."""

    def __init__(self, opts: ParseOptions) -> None:
        self.exact = dict(opts.section_kinds)
        self.sponsor = _words_re((*_SPONSOR_WORDS, *opts.sponsor_headings), whole=False)
        self.toc = _words_re((*_TOC_HEADINGS, *opts.toc_headings), whole=True)
        self.legal = _words_re((*_LEGAL_WORDS, *opts.legal_headings), whole=False)

    def kind(self, heading: str, name: str, blocks: tuple[Block, ...]) -> SectionKind:
        for text in (heading, name):
            k = self.exact.get(text.casefold().strip())
            if k is not None:
                return k
        n = " ".join(name.casefold().split()).strip(" :：")
        if self.toc.search(n) or _only_anchor_links(blocks):
            return "toc"
        if self.sponsor.search(n):
            return "sponsor"
        if self.legal.search(n):
            return "legal"
        return "content"


def _only_anchor_links(blocks: tuple[Block, ...]) -> bool:
    """A list of in-page links and nothing else: a table of contents."""
    runs = [r for r in iter_runs(blocks) if r.text.strip()]
    return bool(runs) and all(r.url is not None and r.url.startswith("#") for r in runs)


def _emoji_name(emoji: str, blocks: tuple[Block, ...]) -> str:
    """A name for an emoji-only heading: its first group's label, else the emoji's Unicode name."""
    label = next((b.label for b in blocks if isinstance(b, Group) and b.label.strip()), "")
    if label:
        return label if len(label) <= 24 else label[:23].rstrip() + "…"
    names = [unicodedata.name(ch, "").title() for ch in emoji if unicodedata.category(ch) == "So"]
    return " ".join(n for n in names if n)


def _sections(
    items: Sequence[_Finished], cat: SectorCatalogue, rules: _KindRules
) -> tuple[list[Section], list[str]]:
    """Each heading in ``items`` (all at or above the section level) opens a section.

    A second heading of a sector already present joins that sector's section
    as a labelled group, so ``/energy`` shows both; returns the merged headings too.
    """
    sections: list[Section] = []
    merged: list[str] = []
    used: set[str] = set()
    i = 0
    while i < len(items):
        head = items[i]
        assert isinstance(head, _Heading)  # _split_preamble starts the list at a heading
        j = i + 1
        while j < len(items) and not _opens(items[j], head.level):
            j += 1
        # deeper headings inside stay for _group; same-or-shallower ones start the next section
        sec = _section(head, items[i + 1 : j], cat, used, rules)
        prior = next((k for k, s in enumerate(sections) if s.known and s.key == sec.key), None)
        if prior is None:
            sections.append(sec)
        else:
            first = sections[prior]
            sections[prior] = replace(
                first, blocks=(*first.blocks, Group(label=sec.heading, blocks=sec.blocks))
            )
            merged.append(sec.heading)
        i = j
    return sections, merged


def _section(
    head: _Heading, body: Sequence[_Finished], cat: SectorCatalogue, used: set[str], rules: _KindRules
) -> Section:
    heading = head.text
    emoji, name, headline = _split_heading(heading)
    sector = cat.match_heading(emoji, name)
    blocks = _group(body)
    if _has_link(head.runs) or any(r.image for r in head.runs):
        blocks = (Paragraph(head.runs), *blocks)
    kind: SectionKind = "content"
    if sector is not None:
        key, known = sector.key, True
    else:
        known = False
        if not name:
            name = _emoji_name(emoji, blocks)
        kind = rules.kind(heading, name, blocks)
        key = slugify(name or heading)
        base, n = key, 2
        while key in used or cat.get(key) is not None or key == "intro":
            key, n = f"{base}-{n}", n + 1
    used.add(key)
    return Section(
        key=key,
        emoji=emoji,
        name=name,
        headline=headline,
        blocks=blocks,
        heading=heading,
        known=known,
        kind=kind,
    )


# ---------------------------------------------------------------------- links


class _LinkResolver:
    """Relative links and images resolved against the base URL; unusable targets dropped (text kept).

    Without a base URL a relative target stays as written: renderers show it
    as text next to the link text, since a chat cannot open it.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.relative = 0
        self.resolved = 0
        self.dropped = 0

    def url(self, url: str | None) -> str | None:
        if url is None:
            return None
        u = url.strip()
        low = u.lower()
        if not u:
            return None
        if low.startswith(("http://", "https://", "mailto:", "tg://")):
            return u
        if u.startswith("//"):
            return "https:" + u
        scheme = urlsplit(u).scheme
        if scheme and len(scheme) > 1:  # javascript:, data:, file:… never reach a reader as links
            self.dropped += 1
            return None
        if self.base:
            self.resolved += 1
            return urljoin(self.base, u)
        if u.startswith("#"):
            return None  # an in-page anchor without a page to point to: the text stays
        self.relative += 1
        return u

    def run(self, r: Run) -> Run:
        if r.url is None and r.href is None:
            return r
        url, href = self.url(r.url), self.url(r.href)
        if url == r.url and href == r.href:
            return r
        if r.image and url is None and href is None:
            return replace(r, url=None, href=None, image=bool(r.text) or r.image)
        return replace(r, url=url, href=href)

    def notes(self) -> dict[str, str]:
        out = {}
        if self.resolved:
            out["links_resolved"] = str(self.resolved)
        if self.relative:
            out["relative_links"] = str(self.relative)
        if self.dropped:
            out["unsafe_links"] = str(self.dropped)
        return out


# ---------------------------------------------------------------------- dates


def _issue_date(
    fm: Mapping[str, Any],
    hints: _Hints,
    title_line: str,
    first_heading: str,
    source: str,
    default_date: date | None,
) -> tuple[date | None, str]:
    """The issue's date and where it came from, in order of trust; ``(None, "none")`` when nothing says.

    Front matter / metadata header, then the HTML page's date, then the title,
    then the first heading, then the file name or path. Never today's date.
    """
    for key in ("date", "published", "pubdate", "issue_date", "publishdate"):
        d = as_date(_fm_get(fm, key))
        if d is not None:
            return d, "front_matter"
    if hints.date is not None:
        return hints.date, "html_meta"
    for text, where in ((title_line, "title"), (first_heading, "heading")):
        d = find_date(text) if text else None
        if d is not None:
            return d, where
    d = date_from_path(source)
    if d is not None:
        return d, "filename"
    if default_date is not None:
        return default_date, "default"
    return None, "none"


# ----------------------------------------------------------------------- HTML

_DATE_META = ("date", "dc.date", "article:published_time", "pubdate", "publish_date")


def parse_html(
    html: str,
    *,
    source: str = "",
    catalogue: SectorCatalogue | None = None,
    default_date: date | None = None,
    options: ParseOptions | None = None,
) -> Briefing:
    """Parse an HTML briefing: ``<article>``, else ``<main>``, else ``<body>``, through markdownify."""
    if not html.strip():
        raise BriefingError("the issue is empty")
    soup = BeautifulSoup(_safe_html(html), "html.parser")
    for junk in soup(["script", "style", "noscript", "template"]):
        junk.decompose()
    hints = _Hints(date=_html_date(soup), title=_html_title(soup))
    root = soup.find("article") or soup.find("main") or soup.find("body")
    if not isinstance(root, Tag):
        for head in soup(["head", "title"]):
            head.decompose()
    fragment = str(root) if isinstance(root, Tag) else str(soup)
    md = html_to_markdown(fragment)
    briefing = _parse(
        md, source=source, catalogue=catalogue, default_date=default_date, hints=hints, options=options
    )
    return replace(briefing, meta={**briefing.meta, "format": "html"})


def _html_title(soup: BeautifulSoup) -> str:
    tag = soup.find("title")
    return " ".join(tag.get_text().split()) if isinstance(tag, Tag) else ""


def _html_date(soup: BeautifulSoup) -> date | None:
    for meta in soup.find_all("meta"):
        name = str(meta.get("name") or meta.get("property") or "").lower()
        if name in _DATE_META:
            d = as_date(str(meta.get("content") or ""))
            if d is not None:
                return d
    tag = soup.find("time")
    if isinstance(tag, Tag):
        return as_date(str(tag.get("datetime") or tag.get_text()))
    return None


# -------------------------------------------------------------------- entries

_PARSERS: dict[SourceKind, Callable[..., Briefing]] = {"markdown": parse_markdown, "html": parse_html}


def parse_text(
    text: str,
    *,
    kind: Literal["markdown", "html"] | None = None,
    source: str = "",
    catalogue: SectorCatalogue | None = None,
    default_date: date | None = None,
    options: ParseOptions | None = None,
) -> Briefing:
    """Parse text of a known kind, or sniff it (file extension of ``source`` first, then content)."""
    resolved: SourceKind = kind or kind_from_name(source) or sniff_kind(text.lstrip("\ufeff"))
    return _PARSERS[resolved](
        text, source=source, catalogue=catalogue, default_date=default_date, options=options
    )


def parse_source(
    file_or_url: str,
    *,
    catalogue: SectorCatalogue | None = None,
    default_date: date | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = 20.0,
    options: ParseOptions | None = None,
) -> Briefing:
    """Read and parse a file or URL. Raises :class:`SourceError` or :class:`BriefingError`."""
    src = read_source(file_or_url, max_bytes=max_bytes, timeout=timeout)
    return parse_text(
        src.text,
        kind=src.kind,
        source=src.name,
        catalogue=catalogue,
        default_date=default_date,
        options=options,
    )
