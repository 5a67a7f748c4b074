"""Stage 2b: the tree's top-level nodes -> a flat stream of items (headings, open paragraphs,
finished blocks); paragraph rules (labels, ``1、`` lists), then grouping under deeper headings."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from html.parser import HTMLParser

from markdown_it.tree import SyntaxTreeNode

from briefcast.briefing.model import (
    Block,
    Code,
    Group,
    Inline,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Run,
    Table,
    block_text,
    plain,
)
from briefcast.briefing.parse.inline import (
    _HIDDEN_HTML,
    _SOFT,
    _has_link,
    _join,
    _lines,
    _merge,
    _Piece,
    _pieces,
    _strip_runs,
)
from briefcast.briefing.parse.markdown import _MD_FRAGMENT, _safe_html, html_to_markdown

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


def _opens(item: _Finished, level: int) -> bool:
    """Whether ``item`` is a heading that ends a part opened at ``level``."""
    return isinstance(item, _Heading) and item.level <= level
