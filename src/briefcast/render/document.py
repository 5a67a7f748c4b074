"""A platform-neutral rich message: what every renderer takes.

Sections of an issue, command replies (help, keyword passages, overviews) and
previews are all built as a :class:`Document`; ``render.telegram``,
``render.slack`` and ``render.text`` turn one into platform payloads. Rich text
reuses the briefing model's blocks and runs, so one renderer per platform
serves both digests and replies.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from briefcast.briefing.model import (
    Block,
    Code,
    Inline,
    Link,
    ListBlock,
    Paragraph,
    Quote,
    Run,
    RunStyle,
    Table,
    links_of,
    plain,
)


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button. ``action`` + ``value`` come back in the platform's callback.

    Telegram packs them into ``callback_data`` as ``"action:value"`` (<= 64 bytes);
    Slack uses ``action_id=action`` and ``value=value``. ``url`` makes a link button.
    """

    text: str
    action: str = ""
    value: str = ""
    url: str | None = None
    style: str | None = None  # Slack: "primary" | "danger"


@dataclass(frozen=True, slots=True)
class Document:
    """``title`` is shown as the header (bold line / Block Kit header); ``footer`` as a muted footer."""

    title: str
    blocks: tuple[Block, ...] = ()
    footer: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()


def notice_document(text: str) -> Document:
    """A plain notice (usage hint, confirmation) as a title-less document, one paragraph, line breaks kept.

    Notices go through the same renderers as everything else, so they are escaped the same way.
    """
    runs: list[Run] = []
    for i, line in enumerate(text.split("\n")):
        if i:
            runs.append(Run("\n"))
        if line:
            runs.append(Run(line))
    return Document(title="", blocks=(Paragraph(tuple(runs)),))


# ----------------------------------------------------------- text measurement
# Shared by the renderers: every platform measures and splits text the same way.

_SENTENCE_END = re.compile(
    r"(?:[。！？!?；;]+|…+|\.(?=\s|$))[”’\"'）)\]】」』]*[ \t]*|\n+",
)
_GLUE = frozenset(["\u200d", "\u20e3"])


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what Telegram counts (an emoji like 🤖 is 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def display_width(text: str) -> int:
    """Monospace columns: wide/fullwidth characters (CJK) take two, combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or ch in _GLUE or "\ufe00" <= ch <= "\ufe0f":
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def sentence_cuts(text: str) -> list[int]:
    """Offsets (exclusive of 0 and ``len(text)``) just after each sentence end.

    Sentence ends are CJK and Latin terminal punctuation (``。！？. ! ?``), with
    closing quotes/brackets and trailing spaces kept on the sentence, and line breaks.
    A period ends a sentence only before whitespace, so ``3.5`` and URLs stay whole.
    """
    return [m.end() for m in _SENTENCE_END.finditer(text) if 0 < m.end() < len(text)]


def _joins_previous(ch: str) -> bool:
    cp = ord(ch)
    return bool(
        unicodedata.combining(ch)
        or ch in _GLUE
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0x1F3FB <= cp <= 0x1F3FF  # skin tones
        or 0xE0020 <= cp <= 0xE007F  # emoji tag sequences (subdivision flags)
    )


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def safe_cut(text: str, limit: int) -> int:
    """Where to cut ``text`` so the head has at most ``limit`` characters (code points).

    Never splits a grapheme cluster we can recognise (ZWJ sequences, skin tones,
    variation selectors, flag pairs, combining marks); prefers a space in the
    last stretch. Always returns at least 1 when ``text`` is not empty, so
    callers make progress.
    """
    if len(text) <= limit:
        return len(text)
    limit = max(limit, 1)
    cut = limit
    while cut > 0 and (_joins_previous(text[cut]) or text[cut - 1] == "\u200d"):
        cut -= 1
    if cut > 0 and _regional(text[cut]) and _regional(text[cut - 1]):
        run = 0
        while cut - run - 1 >= 0 and _regional(text[cut - run - 1]):
            run += 1
        if run % 2 == 1:
            cut -= 1
    if cut <= 0:
        return limit
    space = text.rfind(" ", max(0, cut - 40), cut)
    return space + 1 if space > 0 else cut


_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Drop control characters and lone surrogates (platforms reject them); ``\\r\\n`` -> ``\\n``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _BAD_CHARS.sub(lambda m: "\ufffd" if m.group() >= "\ud800" else "", text)


# -------------------------------------------------------------------- layout
# Blocks -> a flat list of pieces (one paragraph, list item, code line, table
# row...). Renderers measure pieces in their own syntax and pack them into
# messages with :func:`pack`, so Telegram, Slack and the terminal agree on
# bullets, numbering and where a message may be split.

BoxKind = Literal["", "quote", "pre"]


@dataclass(frozen=True, slots=True)
class Span:
    """Uniformly styled text, optionally linked; the unit renderers escape and wrap."""

    text: str
    styles: frozenset[RunStyle] = frozenset()
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Piece:
    """One line-ish unit of a layout.

    ``sep`` is emitted before the piece unless it opens a message part (``""``
    marks the continuation of a piece that had to be split). ``box`` groups
    consecutive pieces with the same ``box_id`` into one quote or preformatted
    block. ``label`` marks a group label, which must not end a part on its own.
    ``under`` is the label of the group the piece belongs to: a message part
    that starts inside a group repeats it (:func:`with_continued_labels`).
    """

    spans: tuple[Span, ...]
    sep: str = "\n\n"
    box: BoxKind = ""
    box_id: int = 0
    language: str = ""
    label: bool = False
    under: str = ""

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)


BULLETS = ("•", "◦", "▪")


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]+:", re.IGNORECASE)


def chat_linkable(url: str | None) -> bool:
    """Whether a chat can open ``url`` as a link: an absolute web (or Telegram) URL."""
    return url is not None and url.strip().lower().startswith(("http://", "https://", "tg://"))


def shown_target(url: str, text: str) -> str:
    """What to show beside a link a chat cannot open: a mailto's address, a relative path; "" if visible."""
    target = url.strip()
    if target.lower().startswith("mailto:"):
        target = target[7:].split("?", 1)[0]
    elif _SCHEME.match(target):
        return ""  # javascript:, data:… are never shown, linked or not
    return "" if not target or target in text else target


def _spans(runs: Inline) -> tuple[Span, ...]:
    """Runs as spans: images shown as ``🖼 alt`` (``🖼 image`` without one: composition puts the
    reader's word for it, see :func:`briefcast.render.compose.label_images`), links a chat cannot
    open (``mailto:``, a relative path without a base URL) followed by their target as text."""
    out: list[Span] = []

    def add(text: str, styles: frozenset[RunStyle], url: str | None) -> None:
        if not text:
            return
        prev = out[-1] if out else None
        if prev is not None and prev.styles == styles and prev.url == url:
            out[-1] = Span(prev.text + text, prev.styles, prev.url)
        else:
            out.append(Span(text, styles, url))

    for r in runs:
        text = clean_text(r.text)
        if r.image:
            alt = text or "image"
            if r.href is not None:
                add("🖼", r.styles, r.url)
                add(" " + alt, r.styles, r.href)
            else:
                add("🖼 " + alt, r.styles, r.url)
            continue
        add(text, r.styles, r.url)
    return _with_targets(out)


T = TypeVar("T")


def link_runs(items: Sequence[T], url_of: Callable[[T], str | None]) -> Iterator[tuple[str | None, int, int]]:
    """``(url, start, end)`` per run of adjacent items sharing one link target (``url_of``); an
    item without a target is a run of its own. Every renderer draws one link per run."""
    i = 0
    while i < len(items):
        url = url_of(items[i])
        j = i + 1
        while url is not None and j < len(items) and url_of(items[j]) == url:
            j += 1
        yield url, i, j
        i = j


def span_url(span: Span) -> str | None:
    return span.url


def _with_targets(spans: list[Span]) -> tuple[Span, ...]:
    """After each link a chat cannot open, its target as plain text (`` (path)``)."""
    out: list[Span] = []
    for url, i, j in link_runs(spans, span_url):
        out.extend(spans[i:j])
        if url is not None and not chat_linkable(url):
            shown = shown_target(url, "".join(s.text for s in spans[i:j]))
            if shown:
                out.append(Span(f" ({shown})"))
    return tuple(out)


def table_lines(table: Table) -> list[str]:
    """A table as monospace lines, columns padded by display width (CJK counts double)."""
    rows = [[" ".join(clean_text(plain(c)).split()) for c in row] for row in (table.header, *table.rows)]
    ncols = max((len(r) for r in rows), default=0)
    if ncols == 0:
        return []
    rows = [r + [""] * (ncols - len(r)) for r in rows]
    widths = [max(display_width(r[i]) for r in rows) for i in range(ncols)]

    def fmt(row: list[str]) -> str:
        cells = [c + " " * (w - display_width(c)) for c, w in zip(row, widths, strict=True)]
        return " | ".join(cells).rstrip()

    if not table.header:
        return [fmt(r) for r in rows[1:]]
    return [fmt(rows[0]), "-+-".join("-" * w for w in widths), *(fmt(r) for r in rows[1:])]


class _Layout:
    def __init__(self) -> None:
        self.pieces: list[Piece] = []
        self._box_ids = 0

    def new_box(self) -> int:
        self._box_ids += 1
        return self._box_ids

    def blocks(self, blocks: tuple[Block, ...], sep: str, box: BoxKind = "", box_id: int = 0) -> None:
        for b in blocks:
            start = len(self.pieces)
            self.block(b, sep, box, box_id)
            if len(self.pieces) > start:
                sep = "\n\n"

    def block(self, b: Block, sep: str, box: BoxKind, box_id: int) -> None:
        if isinstance(b, Paragraph):
            spans = _spans(b.runs)
            if spans:
                self.pieces.append(Piece(spans, sep, box, box_id))
        elif isinstance(b, ListBlock):
            self.items(b, 0, sep, box, box_id)
        elif isinstance(b, Code):
            self.lines(clean_text(b.text).rstrip("\n").split("\n"), sep, box, box_id, b.language)
        elif isinstance(b, Table):
            self.lines(table_lines(b), sep, box, box_id, "")
            links = [Span(x.text or x.url, frozenset(), x.url) for x in _table_links(b)]
            if links:
                row: list[Span] = [Span("🔗 ")]
                for i, s in enumerate(links):
                    row.extend([Span(" · ")] if i else [])
                    row.append(s)
                self.pieces.append(Piece(_with_targets(row), "\n", box, box_id))
        elif isinstance(b, Quote):
            qid = box_id if box == "quote" else self.new_box()
            self.blocks(b.blocks, sep, "quote", qid)
        else:  # Group
            label = Span(clean_text(b.label), frozenset({"bold"}))
            self.pieces.append(Piece((label,), sep, box, box_id, label=True))
            start = len(self.pieces)
            self.blocks(b.blocks, "\n", box, box_id)
            name = " ".join(clean_text(b.label).split())
            for k in range(start, len(self.pieces)):
                if not self.pieces[k].under:
                    self.pieces[k] = replace(self.pieces[k], under=name)

    def items(self, lb: ListBlock, depth: int, sep: str, box: BoxKind, box_id: int) -> None:
        indent = "  " * depth
        for i, item in enumerate(lb.items):
            if lb.ordered:
                marker = f"{item.number if item.number is not None else i + 1}. "
            else:
                marker = BULLETS[min(depth, len(BULLETS) - 1)] + " "
            spans = (Span(indent + marker), *_spans(item.runs))
            self.pieces.append(Piece(spans, sep if i == 0 else "\n", box, box_id))
            for child in item.children:
                self.items(child, depth + 1, "\n", box, box_id)

    def lines(self, lines: list[str], sep: str, box: BoxKind, box_id: int, language: str) -> None:
        if not any(line.strip() for line in lines):
            return
        # Inside a quote a preformatted block stays quoted text (Telegram and Slack
        # both handle a flat quote better than a nested pre).
        kind: BoxKind = box if box == "quote" else "pre"
        bid = box_id if box == "quote" else self.new_box()
        for i, line in enumerate(lines):
            self.pieces.append(
                Piece((Span(line),) if line else (), sep if i == 0 else "\n", kind, bid, language)
            )


def _table_links(table: Table) -> list[Link]:
    out: list[Link] = []
    for row in (table.header, *table.rows):
        for cell in row:
            out.extend(links_of(cell))
    return out


def layout(blocks: tuple[Block, ...]) -> list[Piece]:
    """The pieces of some blocks, in reading order (see :class:`Piece`)."""
    lay = _Layout()
    lay.blocks(blocks, "\n\n")
    return lay.pieces


# ------------------------------------------------------------------- packing

Cost = tuple[int, ...]
CostFn = Callable[[Piece, bool], Cost]


def _add(a: Cost, b: Cost) -> Cost:
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _sub(a: Cost, b: Cost) -> Cost:
    return tuple(x - y for x, y in zip(a, b, strict=True))


def _within(c: Cost, limits: Cost) -> bool:
    return all(x <= y for x, y in zip(c, limits, strict=True))


def _slice_spans(spans: tuple[Span, ...], start: int, end: int) -> tuple[Span, ...]:
    out: list[Span] = []
    pos = 0
    for s in spans:
        a, b = pos, pos + len(s.text)
        pos = b
        lo, hi = max(a, start), min(b, end)
        if lo < hi:
            out.append(Span(s.text[lo - a : hi - a], s.styles, s.url))
    return tuple(out)


def _cut_spans(spans: tuple[Span, ...], cuts: list[int]) -> list[tuple[Span, ...]]:
    """Spans cut at text offsets ``cuts`` (sorted, from 0 to the text length): one walk, no rescans."""
    atoms: list[tuple[Span, ...]] = []
    si, offset = 0, 0  # current span and its start offset in the text
    for a, b in itertools.pairwise(cuts):
        atom: list[Span] = []
        while si < len(spans) and offset + len(spans[si].text) <= a:
            offset += len(spans[si].text)
            si += 1
        j, start = si, offset
        while j < len(spans) and start < b:
            sp = spans[j]
            lo, hi = max(a, start), min(b, start + len(sp.text))
            if lo < hi:
                atom.append(Span(sp.text[lo - start : hi - start], sp.styles, sp.url))
            if start + len(sp.text) > b:
                break
            start += len(sp.text)
            j += 1
        atoms.append(tuple(atom))
    return atoms


def split_piece(piece: Piece, cost: CostFn, limits: Cost) -> list[Piece]:
    """Cut a piece too big for an empty part into pieces that each fit one.

    Tries sentence boundaries first, then span (link/style) boundaries, then a
    hard cut inside a span (grapheme-safe, see :func:`safe_cut`). The first
    result keeps the piece's separator; the rest continue it (``sep=""``).
    """
    if _within(cost(piece, True), limits):
        return [piece]
    text = piece.text
    cuts = [0, *sentence_cuts(text), len(text)]
    if len(cuts) > 2:
        atoms = _cut_spans(piece.spans, cuts)
    elif len(piece.spans) > 1:
        atoms = [(s,) for s in piece.spans]
    else:
        atoms = _hard_atoms(piece, cost, limits)
    return _group_atoms(piece, atoms, cost, limits)


def _group_atoms(piece: Piece, atoms: list[tuple[Span, ...]], cost: CostFn, limits: Cost) -> list[Piece]:
    """Greedy grouping of atoms into pieces that fit; linear in the number of atoms.

    Each atom is measured once and group costs are summed (rendering a
    concatenation costs at most about the sum of its parts); every group is
    then measured for real and shrunk from its end in the rare case the sum
    was too optimistic.
    """
    zero: Cost = tuple(0 for _ in limits)
    queue = deque(atoms)
    out: list[Piece] = []
    while queue:
        group: list[tuple[Span, ...]] = []
        estimate = zero
        while queue:
            atom = queue[0]
            c = cost(_with(piece, atom, True), True)
            if not group and not _within(c, limits):
                queue.popleft()
                for sub in split_piece(_with(piece, atom, bool(out)), cost, limits):
                    out.append(_with(piece, sub.spans, bool(out)))
                continue
            if group and not _within(_add(estimate, c), limits):
                break
            group.append(queue.popleft())
            estimate = _add(estimate, c)
        if not group:
            continue
        while len(group) > 1 and not _within(cost(_join(piece, group, bool(out)), True), limits):
            queue.appendleft(group.pop())
        out.append(_join(piece, group, bool(out)))
    return out


def _join(piece: Piece, group: list[tuple[Span, ...]], continuation: bool) -> Piece:
    return _with(piece, tuple(s for atom in group for s in atom), continuation)


def _with(piece: Piece, spans: tuple[Span, ...], continuation: bool) -> Piece:
    return replace(piece, spans=spans, sep="" if continuation else piece.sep)


def _hard_atoms(piece: Piece, cost: CostFn, limits: Cost) -> list[tuple[Span, ...]]:
    """A single span cut into the longest heads that fit (binary search on the length)."""
    span = piece.spans[0] if piece.spans else Span("")
    rest = span.text
    atoms: list[tuple[Span, ...]] = []
    while rest:
        lo, hi = 1, len(rest)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if _within(cost(_with(piece, (Span(rest[:mid], span.styles, span.url),), True), True), limits):
                lo = mid
            else:
                hi = mid - 1
        n = safe_cut(rest, lo)
        atoms.append((Span(rest[:n], span.styles, span.url),))
        rest = rest[n:]
    return atoms


def pack(
    pieces: list[Piece], cost: CostFn, limits: Cost, *, break_before_labels: bool = False
) -> list[list[Piece]]:
    """Greedily pack pieces into parts within ``limits`` (costs are additive per piece).

    A piece that fits an empty part is never split: it moves to the next part.
    A piece too big for any part is split (:func:`split_piece`) and its pieces
    fill the current part first. A group label never ends a part. With
    ``break_before_labels`` every label starts a new part (Slack: one section
    per group).
    """
    parts: list[list[Piece]] = []
    cur: list[Piece] = []
    total: Cost = tuple(0 for _ in limits)

    def fits(p: Piece) -> bool:
        return _within(_add(total, cost(p, not cur)), limits)

    def push(p: Piece) -> None:
        nonlocal cur, total
        if cur and not fits(p):
            parts.append(cur)
            cur, total = [], tuple(0 for _ in limits)
        total = _add(total, cost(p, not cur))
        cur.append(p)

    def head_for_room(p: Piece) -> Piece | None:
        """The longest head of ``p`` (at sentence, span or character level) that fits the current part."""
        if not cur:
            return None
        sep_cost = _sub(cost(p, False), cost(p, True))
        room = _sub(_sub(limits, total), sep_cost)
        if min(room) <= 0 or (room[0] < limits[0] // 4 and not cur[-1].label):
            return None
        head = split_piece(p, cost, room)[0]
        return head if fits(head) and len(head.text) < len(p.text) else None

    for i, p in enumerate(pieces):
        if cur and p.label and break_before_labels:
            parts.append(cur)
            cur, total = [], tuple(0 for _ in limits)
        if p.label and cur and i + 1 < len(pieces):
            nxt = pieces[i + 1]
            after_label = _add(total, cost(p, False))
            if not _within(_add(after_label, cost(nxt, False)), limits):
                will_split = not _within(cost(nxt, True), limits)
                if not will_split or limits[0] - after_label[0] < limits[0] // 4:
                    parts.append(cur)
                    cur, total = [], tuple(0 for _ in limits)
        if _within(cost(p, True), limits):
            push(p)
            continue
        head = head_for_room(p)
        if head is not None:
            push(head)
            p = _with(p, _slice_spans(p.spans, len(head.text), len(p.text)), True)
        for sub in split_piece(p, cost, limits):
            push(sub)
    if cur:
        parts.append(cur)
    return parts


# --------------------------------------------------------- continued groups

CONTINUED_LABEL_MAX = 60
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def continued_label(piece: Piece) -> Piece | None:
    """The label a part starting with ``piece`` repeats: ``核心进展（续）`` / ``Highlights (continued)``."""
    if piece.label or not piece.under:
        return None
    name = piece.under
    if len(name) > CONTINUED_LABEL_MAX:
        name = name[: CONTINUED_LABEL_MAX - 1].rstrip() + "…"
    suffix = "（续）" if _CJK.search(name) else " (continued)"
    return Piece((Span(name + suffix, frozenset({"bold"})),), "", label=True)


def needs_continued_labels(parts: list[list[Piece]]) -> bool:
    return any(part and continued_label(part[0]) is not None for part in parts[1:])


def with_continued_labels(parts: list[list[Piece]]) -> list[list[Piece]]:
    """Parts after the first that start inside a group get the group's label first, so a section
    split over several messages keeps its sub-heading (pack with :data:`CONTINUED_LABEL_MAX` spare)."""
    out = [parts[0]] if parts else []
    for part in parts[1:]:
        label = continued_label(part[0]) if part else None
        if label is None:
            out.append(part)
        else:
            first = replace(part[0], sep="\n")
            out.append([label, first, *part[1:]])
    return out
