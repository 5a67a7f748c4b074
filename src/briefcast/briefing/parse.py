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
from dataclasses import dataclass, replace
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import yaml
from bs4 import BeautifulSoup, Tag
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode
from markdownify import MarkdownConverter
from mdit_py_plugins.front_matter import front_matter_plugin

from briefcast.briefing.model import (
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
    Table,
    block_text,
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
    """Drop MDX ``import``/``export`` paragraphs and ``{/* comments */}`` before inline parsing."""
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


def _make_parser(front_matter: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    if front_matter:
        md.use(front_matter_plugin)
        md.block.ruler.before(
            "table",
            "toml_front_matter",
            _toml_front_matter,
            {"alt": ["paragraph", "reference", "blockquote", "list"]},
        )
    md.core.ruler.after("block", "mdx_cleanup", _mdx_rule)
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


def markdown_tokens(text: str) -> list[Token]:
    """The markdown-it token stream the parser reads (front matter and MDX lines already recognised)."""
    return _MD.parse(text)

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


class _InlineBuilder:
    """Turns markdown-it inline tokens into flat runs: a style counter and a link stack."""

    def __init__(self) -> None:
        self.pieces: list[_Piece] = []
        self.styles: dict[RunStyle, int] = {}
        self.urls: list[str] = []
        self.link_starts: list[int] = []

    def _active(self) -> frozenset[RunStyle]:
        return frozenset(s for s, n in self.styles.items() if n > 0)

    def _push(self, style: RunStyle) -> None:
        self.styles[style] = self.styles.get(style, 0) + 1

    def _pop(self, style: RunStyle) -> None:
        self.styles[style] = max(0, self.styles.get(style, 0) - 1)

    def text(self, text: str, extra: frozenset[RunStyle] = frozenset()) -> None:
        if text:
            url = self.urls[-1] if self.urls else None
            self.pieces.append(Run(text, self._active() | extra, url))

    def open_link(self, url: str) -> None:
        self.urls.append(url)
        self.link_starts.append(len(self.pieces))

    def close_link(self) -> None:
        if not self.urls:
            return
        url = self.urls[-1]
        start = self.link_starts.pop()
        if not any(p is not None and p.url == url and not p.image for p in self.pieces[start:]):
            # "[](url)" or a link around an image: keep the target as a visible link
            alt = next((p.text for p in self.pieces[start:] if p is not None and p.image), "")
            self.pieces.append(Run(alt or url, self._active(), url))
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
            self.pieces.append(Run(alt or tok.content, self._active(), str(tok.attrGet("src") or ""), True))
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
        if name == "br":
            self.pieces.append(Run("\n"))
        elif name == "img" and tag.opening:
            src = tag.attrs.get("src", "")
            alt = tag.attrs.get("alt", "") or tag.attrs.get("title", "")
            if src or alt:
                self.pieces.append(Run(alt or src, self._active(), src or None, bool(src)))
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
        if not r.text:
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
        """An HTML block (``<p align=center>…``) is converted to Markdown and parsed again."""
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
            for child in li.children:
                if child.type in ("bullet_list", "ordered_list"):
                    children.append(self._list(child))
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


class _CommentStripper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags = 0

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("img", "br", "hr", "video", "iframe", "a"):
            self.tags += 1


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
    entries: list[tuple[int, list[_Piece]]] = []
    for line in lines:
        text = plain(tuple(p for p in line if p is not None))
        m = _NUMBERED.match(text)
        if m:
            entries.append((int(m.group(1)), _drop_prefix(line, m.end())))
        elif entries:
            entries[-1][1].extend([_SOFT, *line])
    items = tuple(ListItem(runs=_strip_runs(_join(body)), number=num) for num, body in entries if _join(body))
    return ListBlock(items=items, ordered=True) if items else None


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
# "：" or ":", but not the ":" of "10:30" or "https://"
_COLON = re.compile(r"\s*(?:：|(?<![0-9]):(?!//)|(?<=[0-9]):(?![0-9/]))\s*")
_TOPIC_SEP = re.compile(r"\s*[、，,;；]\s*")


def split_title(line: str) -> tuple[str, tuple[str, ...], str]:
    """``"周观察：A、B、C--本报告由…"`` -> ``("周观察", ("A", "B", "C"), "本报告由…")``.

    The attribution follows the last ``--`` (or ``——``, `` — ``, `` | ``); the
    topics follow the first colon and are split on list punctuation.
    """
    line = " ".join(line.split())
    head, attribution = line, ""
    seps = list(_ATTRIBUTION_SEP.finditer(line))
    if seps and seps[-1].start() > 0 and line[seps[-1].end() :].strip():
        head, attribution = line[: seps[-1].start()], line[seps[-1].end() :].strip()
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


# --------------------------------------------------------------------- dates

_DATE_DASHED = re.compile(r"(?<![0-9])(\d{4})[-_.](\d{2})[-_.](\d{2})(?![0-9])")
_DATE_PACKED = re.compile(r"(?<![0-9])(\d{4})(\d{2})(\d{2})(?![0-9])")


def _as_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return _date_in(value, packed=False)
    return None


def _date_in(text: str, *, packed: bool) -> date | None:
    patterns = (_DATE_DASHED, _DATE_PACKED) if packed else (_DATE_DASHED,)
    for pat in patterns:
        for m in pat.finditer(text):
            y, mo, d = (int(g) for g in m.groups())
            if 1990 <= y <= 2200:
                try:
                    return date(y, mo, d)
                except ValueError:
                    continue
    return None


def _name_of(source: str) -> str:
    path = urlsplit(source).path if "://" in source else source
    return PurePosixPath(unquote(path).replace("\\", "/")).name


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


def _meta_value(value: object) -> str | None:
    if isinstance(value, str | int | float | bool | date):
        return value.isoformat() if isinstance(value, date) else str(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return ", ".join(str(v) for v in value)
    return None


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
) -> Briefing:
    """Parse a Markdown briefing. Raises :class:`BriefingError` when there is nothing to publish."""
    return _parse(text, source=source, catalogue=catalogue, default_date=default_date, hints=_Hints())


def _parse(
    text: str,
    *,
    source: str,
    catalogue: SectorCatalogue | None,
    default_date: date | None,
    hints: _Hints,
) -> Briefing:
    if not text.strip():
        raise BriefingError("the issue is empty")
    cat = catalogue if catalogue is not None else default_catalogue()
    tree = SyntaxTreeNode(_MD.parse(text))
    fm, fm_error = _front_matter(tree)
    atx = any(n.type == "heading" and n.markup.startswith("#") for n in tree.children)
    raw_items = list(_Converter().items(tree.children, atx=atx))
    if not raw_items:
        raise BriefingError("the issue is empty")

    meta: dict[str, str] = {}
    for k, v in fm.items():
        mv = _meta_value(v)
        if mv is not None:
            meta[f"fm.{k}"] = mv
    if fm_error:
        meta["front_matter_error"] = fm_error

    headings = [i for i in raw_items if isinstance(i, _Heading)]
    level = _section_level(raw_items[0], headings, cat)
    title_line, title_runs, rest, title_source = _take_title(raw_items, level, fm, hints, cat)
    items = _finish(rest)
    meta["title_source"] = title_source
    if title_line:
        meta["title_full"] = title_line
    title, topics, attribution = split_title(title_line)

    preamble_items, section_items = _split_preamble(items, level)
    preamble = list(_group(preamble_items))
    if _has_link(title_runs) or any(r.image for r in title_runs):
        preamble.insert(0, Paragraph(title_runs))
    if level is not None:
        meta["section_level"] = str(level)
    sections = _sections(section_items, cat)
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

    all_blocks = [*preamble, *(b for s in sections for b in s.blocks)]
    keywords, takeaways = _extras(all_blocks)
    day, date_source = _issue_date(fm, hints, source, default_date)
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


def _take_title(
    items: Sequence[_Item],
    level: int | None,
    fm: Mapping[str, Any],
    hints: _Hints,
    cat: SectorCatalogue,
) -> tuple[str, Inline, list[_Item], str]:
    """(title line, its runs, the remaining items, where the title came from).

    The title is an H1 (or any heading above the section level), else the
    front matter's ``title``, else the first line of the first paragraph.
    """
    first = items[0]
    rest = list(items[1:])
    if isinstance(first, _Heading):
        above = level is None or first.level < level
        if above or (first.level == 1 == level and not _matches(first, cat)):
            return first.text, first.runs, rest, "heading"
    fm_title = fm.get("title")
    if isinstance(fm_title, str) and fm_title.strip():
        return " ".join(fm_title.split()), (), list(items), "front_matter"
    if isinstance(first, _Para):
        pieces = list(first.pieces)
        cut = next((i for i, p in enumerate(pieces) if p is None or p.is_break), len(pieces))
        head = _strip_runs(_merge(p for p in pieces[:cut] if p is not None))
        if head:
            if pieces[cut + 1 :]:
                rest.insert(0, _Para(tuple(pieces[cut + 1 :])))
            return " ".join(plain(head).split()), head, rest, "paragraph"
    if hints.title:
        return hints.title, (), list(items), "html_title"
    return "", (), list(items), "none"


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


def _sections(items: Sequence[_Finished], cat: SectorCatalogue) -> list[Section]:
    """Each heading in ``items`` (all at or above the section level) opens a section."""
    sections: list[Section] = []
    used: set[str] = set()
    i = 0
    while i < len(items):
        head = items[i]
        assert isinstance(head, _Heading)  # _split_preamble starts the list at a heading
        j = i + 1
        while j < len(items) and not _opens(items[j], head.level):
            j += 1
        # deeper headings inside stay for _group; same-or-shallower ones start the next section
        sections.append(_section(head, items[i + 1 : j], cat, used))
        i = j
    return sections


def _section(head: _Heading, body: Sequence[_Finished], cat: SectorCatalogue, used: set[str]) -> Section:
    heading = head.text
    emoji, name, headline = _split_heading(heading)
    sector = cat.match_heading(emoji, name)
    if sector is not None:
        key, known = sector.key, True
    else:
        key, known = slugify(name or heading), False
        base, n = key, 2
        while key in used or cat.get(key) is not None:
            key, n = f"{base}-{n}", n + 1
    used.add(key)
    blocks = _group(body)
    if _has_link(head.runs) or any(r.image for r in head.runs):
        blocks = (Paragraph(head.runs), *blocks)
    return Section(
        key=key, emoji=emoji, name=name, headline=headline, blocks=blocks, heading=heading, known=known
    )


def _issue_date(
    fm: Mapping[str, Any], hints: _Hints, source: str, default_date: date | None
) -> tuple[date, str]:
    for key in ("date", "published", "pubDate", "issue_date"):
        d = _as_date(fm.get(key))
        if d is not None:
            return d, "front_matter"
    if hints.date is not None:
        return hints.date, "html_meta"
    if source:
        d = _date_in(_name_of(source), packed=True)
        if d is not None:
            return d, "filename"
    if default_date is not None:
        return default_date, "default"
    return date.today(), "today"


# ----------------------------------------------------------------------- HTML

_DATE_META = ("date", "dc.date", "article:published_time", "pubdate", "publish_date")


def parse_html(
    html: str,
    *,
    source: str = "",
    catalogue: SectorCatalogue | None = None,
    default_date: date | None = None,
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
    briefing = _parse(md, source=source, catalogue=catalogue, default_date=default_date, hints=hints)
    return replace(briefing, meta={**briefing.meta, "format": "html"})


def _html_title(soup: BeautifulSoup) -> str:
    tag = soup.find("title")
    return " ".join(tag.get_text().split()) if isinstance(tag, Tag) else ""


def _html_date(soup: BeautifulSoup) -> date | None:
    for meta in soup.find_all("meta"):
        name = str(meta.get("name") or meta.get("property") or "").lower()
        if name in _DATE_META:
            d = _as_date(str(meta.get("content") or ""))
            if d is not None:
                return d
    tag = soup.find("time")
    if isinstance(tag, Tag):
        return _as_date(str(tag.get("datetime") or tag.get_text()))
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
) -> Briefing:
    """Parse text of a known kind, or sniff it (file extension of ``source`` first, then content)."""
    resolved: SourceKind = kind or kind_from_name(source) or sniff_kind(text)
    return _PARSERS[resolved](text, source=source, catalogue=catalogue, default_date=default_date)


def parse_source(
    file_or_url: str,
    *,
    catalogue: SectorCatalogue | None = None,
    default_date: date | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = 20.0,
) -> Briefing:
    """Read and parse a file or URL. Raises :class:`SourceError` or :class:`BriefingError`."""
    src = read_source(file_or_url, max_bytes=max_bytes, timeout=timeout)
    return parse_text(
        src.text, kind=src.kind, source=src.name, catalogue=catalogue, default_date=default_date
    )
