"""Stage 2a: inline tokens -> runs (styles, links, images), soft breaks joined the CJK way."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace
from html.parser import HTMLParser

from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

from briefcast.briefing.model import Inline, Run, RunStyle
from briefcast.briefing.parse.markdown import _safe_html

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
