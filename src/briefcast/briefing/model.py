"""The briefing model: frozen, typed, free of I/O.

A :class:`Briefing` is one issue of a newsletter. Its :class:`Section` objects
hold ordered blocks; inline text is a flat tuple of :class:`Run` objects, each
run carrying its own styles (bold, italic, code, strike, underline) and an
optional link target. Flat runs make nesting such as ``**[text](url)**`` or
``[**text**](url)`` trivial to represent and to render.

Every type converts to and from plain JSON-able dicts (``to_dict`` /
``from_dict``); the dict form is what ``briefcast parse --json`` prints and
what the store persists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, TypeAlias

RunStyle = Literal["bold", "italic", "code", "strike", "underline", "spoiler"]
STYLE_ORDER: tuple[RunStyle, ...] = ("bold", "italic", "underline", "strike", "spoiler", "code")


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of inline text with uniform styling.

    ``url`` makes the run (part of) a link; ``image`` marks the alt text of an
    image whose source is ``url`` (the text may be empty: renderers then show a
    localized "image" label); ``href`` is where a linked image
    (``[![alt](src)](href)``) points; ``text == "\\n"`` is a hard line break.
    """

    text: str
    styles: frozenset[RunStyle] = frozenset()
    url: str | None = None
    image: bool = False
    href: str | None = None

    @property
    def bold(self) -> bool:
        return "bold" in self.styles

    @property
    def is_break(self) -> bool:
        return self.text == "\n" and not self.url

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"text": self.text}
        if self.styles:
            d["styles"] = [s for s in STYLE_ORDER if s in self.styles]
        if self.url is not None:
            d["url"] = self.url
        if self.image:
            d["image"] = True
        if self.href is not None:
            d["href"] = self.href
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Run:
        return cls(
            text=d["text"],
            styles=frozenset(d.get("styles", ())),
            url=d.get("url"),
            image=bool(d.get("image", False)),
            href=d.get("href"),
        )


Inline: TypeAlias = tuple[Run, ...]


def plain(runs: Inline) -> str:
    """The text of some runs, styles and link targets dropped."""
    return "".join(r.text for r in runs)


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "url": self.url}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Link:
        return cls(text=d["text"], url=d["url"])


def links_of(runs: Inline) -> Iterator[Link]:
    """Links in reading order; adjacent runs with one URL form one link.

    An image is a link to its source; a linked image is also a link to where it points.
    """
    cur_url: str | None = None
    buf: list[str] = []
    for r in runs:
        if r.url is not None and r.url == cur_url and r.href is None:
            buf.append(r.text)
            continue
        if cur_url is not None:
            yield Link("".join(buf), cur_url)
        cur_url, buf = r.url, [r.text]
        if r.href is not None:
            if cur_url is not None:
                yield Link(r.text, cur_url)
            cur_url = r.href
    if cur_url is not None:
        yield Link("".join(buf), cur_url)


# --------------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True)
class Paragraph:
    runs: Inline
    kind: Literal["paragraph"] = "paragraph"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "paragraph", "runs": [r.to_dict() for r in self.runs]}


@dataclass(frozen=True, slots=True)
class ListItem:
    """One bullet or numbered item; ``children`` are nested lists."""

    runs: Inline
    number: int | None = None
    children: tuple[ListBlock, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"runs": [r.to_dict() for r in self.runs]}
        if self.number is not None:
            d["number"] = self.number
        if self.children:
            d["children"] = [c.to_dict() for c in self.children]
        return d


@dataclass(frozen=True, slots=True)
class ListBlock:
    items: tuple[ListItem, ...]
    ordered: bool = False
    kind: Literal["list"] = "list"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "list", "ordered": self.ordered, "items": [i.to_dict() for i in self.items]}


@dataclass(frozen=True, slots=True)
class Code:
    text: str
    language: str = ""
    kind: Literal["code"] = "code"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "code", "language": self.language, "text": self.text}


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[Inline, ...]
    rows: tuple[tuple[Inline, ...], ...]
    kind: Literal["table"] = "table"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "table",
            "header": [[r.to_dict() for r in cell] for cell in self.header],
            "rows": [[[r.to_dict() for r in cell] for cell in row] for row in self.rows],
        }


@dataclass(frozen=True, slots=True)
class Quote:
    blocks: tuple[Block, ...]
    kind: Literal["quote"] = "quote"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "quote", "blocks": [b.to_dict() for b in self.blocks]}


@dataclass(frozen=True, slots=True)
class Group:
    """A labelled group: a bold-only paragraph (``**核心进展**``) and the blocks after it."""

    label: str
    blocks: tuple[Block, ...]
    kind: Literal["group"] = "group"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "group", "label": self.label, "blocks": [b.to_dict() for b in self.blocks]}


Block: TypeAlias = Paragraph | ListBlock | Code | Table | Quote | Group


def _runs(raw: Any) -> Inline:
    return tuple(Run.from_dict(r) for r in raw)


def _item_from_dict(d: Mapping[str, Any]) -> ListItem:
    return ListItem(
        runs=_runs(d["runs"]),
        number=d.get("number"),
        children=tuple(_list_from_dict(c) for c in d.get("children", ())),
    )


def _list_from_dict(d: Mapping[str, Any]) -> ListBlock:
    return ListBlock(items=tuple(_item_from_dict(i) for i in d["items"]), ordered=bool(d["ordered"]))


def block_from_dict(d: Mapping[str, Any]) -> Block:
    t = d["type"]
    if t == "paragraph":
        return Paragraph(_runs(d["runs"]))
    if t == "list":
        return _list_from_dict(d)
    if t == "code":
        return Code(text=d["text"], language=d.get("language", ""))
    if t == "table":
        return Table(
            header=tuple(_runs(c) for c in d["header"]),
            rows=tuple(tuple(_runs(c) for c in row) for row in d["rows"]),
        )
    if t == "quote":
        return Quote(tuple(block_from_dict(b) for b in d["blocks"]))
    if t == "group":
        return Group(label=d["label"], blocks=tuple(block_from_dict(b) for b in d["blocks"]))
    raise ValueError(f"unknown block type {t!r}")


def iter_runs(blocks: tuple[Block, ...]) -> Iterator[Run]:
    """Every run below some blocks, in reading order (group labels excluded)."""
    for b in blocks:
        if isinstance(b, Paragraph):
            yield from b.runs
        elif isinstance(b, ListBlock):
            yield from _iter_list_runs(b)
        elif isinstance(b, Table):
            for cell in b.header:
                yield from cell
            for row in b.rows:
                for cell in row:
                    yield from cell
        elif isinstance(b, Quote | Group):
            yield from iter_runs(b.blocks)
        # Code carries no runs


def _iter_list_runs(lb: ListBlock) -> Iterator[Run]:
    for it in lb.items:
        yield from it.runs
        for child in it.children:
            yield from _iter_list_runs(child)


def map_runs(blocks: tuple[Block, ...], f: Callable[[Run], Run]) -> tuple[Block, ...]:
    """``blocks`` with every run replaced by ``f(run)`` (group labels and code unchanged)."""

    def runs(rs: Inline) -> Inline:
        return tuple(f(r) for r in rs)

    def lst(lb: ListBlock) -> ListBlock:
        items = tuple(ListItem(runs(i.runs), i.number, tuple(lst(c) for c in i.children)) for i in lb.items)
        return ListBlock(items, lb.ordered)

    out: list[Block] = []
    for b in blocks:
        if isinstance(b, Paragraph):
            out.append(Paragraph(runs(b.runs)))
        elif isinstance(b, ListBlock):
            out.append(lst(b))
        elif isinstance(b, Table):
            out.append(
                Table(tuple(runs(c) for c in b.header), tuple(tuple(runs(c) for c in r) for r in b.rows))
            )
        elif isinstance(b, Quote):
            out.append(Quote(map_runs(b.blocks, f)))
        elif isinstance(b, Group):
            out.append(Group(b.label, map_runs(b.blocks, f)))
        else:
            out.append(b)
    return tuple(out)


def block_text(b: Block) -> str:
    """Plain text of one block (for search indexing and keyword passages)."""
    if isinstance(b, Code):
        return b.text
    if isinstance(b, Group):
        return "\n".join([b.label, *(block_text(x) for x in b.blocks)])
    if isinstance(b, Quote):
        return "\n".join(block_text(x) for x in b.blocks)
    if isinstance(b, ListBlock):
        return "\n".join(_list_lines(b))
    if isinstance(b, Table):
        rows = [b.header, *b.rows]
        return "\n".join(" | ".join(plain(c) for c in row) for row in rows)
    return plain(b.runs)


def _list_lines(lb: ListBlock) -> Iterator[str]:
    for it in lb.items:
        yield plain(it.runs)
        for child in it.children:
            yield from _list_lines(child)


# ------------------------------------------------------------------- sections

SectionKind = Literal["content", "sponsor", "toc", "legal"]
SECTION_KINDS: tuple[SectionKind, ...] = ("content", "sponsor", "toc", "legal")
DELIVERED_KINDS: frozenset[str] = frozenset({"content", "sponsor"})


@dataclass(frozen=True, slots=True)
class Section:
    """One sector of an issue.

    ``key`` is the catalogue key (``ai``, ``energy``…) or, for a heading that
    matches no sector, a stable slug of the heading, unique in the issue.
    ``name`` is the heading text before the colon, ``headline`` the text after
    it. ``kind`` says what the section is for (:data:`SECTION_KINDS`):
    ``content`` (the default), ``sponsor`` (delivered, marked as sponsored),
    ``toc`` (a table of contents) and ``legal`` (licence, unsubscribe and
    copyright boilerplate); the last two are not delivered to readers.
    """

    key: str
    emoji: str
    name: str
    headline: str
    blocks: tuple[Block, ...]
    heading: str = ""
    known: bool = True
    kind: SectionKind = "content"

    @property
    def delivered(self) -> bool:
        """Whether readers receive this section (overview, commands, pushes): not a toc or legal text."""
        return self.kind in DELIVERED_KINDS

    @property
    def links(self) -> tuple[Link, ...]:
        return tuple(link for b in self.blocks for link in links_of(tuple(iter_runs((b,)))))

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(b.label for b in self.blocks if isinstance(b, Group))

    @property
    def title(self) -> str:
        """Emoji, name and headline as one line (what a heading shows)."""
        head = f"{self.emoji} {self.name}".strip()
        return f"{head}：{self.headline}" if self.headline else head

    def text(self) -> str:
        return "\n".join(block_text(b) for b in self.blocks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "emoji": self.emoji,
            "name": self.name,
            "headline": self.headline,
            "heading": self.heading,
            "known": self.known,
            **({"kind": self.kind} if self.kind != "content" else {}),
            "blocks": [b.to_dict() for b in self.blocks],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Section:
        kind = d.get("kind", "content")
        return cls(
            kind=kind if kind in SECTION_KINDS else "content",
            key=d["key"],
            emoji=d.get("emoji", ""),
            name=d.get("name", ""),
            headline=d.get("headline", ""),
            heading=d.get("heading", ""),
            known=bool(d.get("known", True)),
            blocks=tuple(block_from_dict(b) for b in d.get("blocks", ())),
        )


@dataclass(frozen=True, slots=True)
class Briefing:
    """One parsed issue."""

    title: str
    sections: tuple[Section, ...]
    date: date | None = None
    attribution: str = ""
    topics: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    takeaways: tuple[str, ...] = ()
    preamble: tuple[Block, ...] = ()
    language: str = "zh"
    source: str = ""
    meta: Mapping[str, str] = field(default_factory=dict)
    fidelity: Mapping[str, Any] = field(default_factory=dict)
    """The fidelity report made at ingest (``FidelityReport.to_dict()``); empty when none was made."""

    @property
    def intro(self) -> tuple[Block, ...]:
        """Text before the first section (welcome lines, notices, subscribe links): the issue's intro."""
        return self.preamble

    def intro_section(self) -> Section | None:
        """The intro as a section (key ``intro``) for search indexing; None when there is none."""
        if not self.preamble:
            return None
        return Section(key="intro", emoji="", name="", headline="", blocks=self.preamble, known=False)

    @property
    def delivered_sections(self) -> tuple[Section, ...]:
        """The sections readers receive (content and sponsored ones), in issue order."""
        return tuple(s for s in self.sections if s.delivered)

    @property
    def links(self) -> tuple[Link, ...]:
        """Every link occurrence of the issue in reading order (repeats kept)."""
        pre = tuple(link for b in self.preamble for link in links_of(tuple(iter_runs((b,)))))
        return pre + tuple(link for s in self.sections for link in s.links)

    def section(self, key: str) -> Section | None:
        """The section with ``key``, or the one a short reference ``#<position>`` names."""
        if key.startswith("#") and key[1:].isdigit():
            n = int(key[1:])
            return self.sections[n] if n < len(self.sections) else None
        for s in self.sections:
            if s.key == key:
                return s
        return None

    @property
    def sector_keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.sections)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "attribution": self.attribution,
            "date": self.date.isoformat() if self.date else None,
            "language": self.language,
            "topics": list(self.topics),
            "keywords": list(self.keywords),
            "takeaways": list(self.takeaways),
            "links": [link.to_dict() for link in self.links],
            "preamble": [b.to_dict() for b in self.preamble],
            "sections": [s.to_dict() for s in self.sections],
            "source": self.source,
            "meta": dict(self.meta),
            **({"fidelity": dict(self.fidelity)} if self.fidelity else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Briefing:
        raw_date = d.get("date")
        return cls(
            title=d["title"],
            attribution=d.get("attribution", ""),
            date=date.fromisoformat(raw_date) if raw_date else None,
            language=d.get("language", "zh"),
            topics=tuple(d.get("topics", ())),
            keywords=tuple(d.get("keywords", ())),
            takeaways=tuple(d.get("takeaways", ())),
            preamble=tuple(block_from_dict(b) for b in d.get("preamble", ())),
            sections=tuple(Section.from_dict(s) for s in d.get("sections", ())),
            source=d.get("source", ""),
            meta=dict(d.get("meta", {})),
            fidelity=dict(d.get("fidelity", {})),
        )

    def content_hash(self) -> str:
        """SHA-256 of the content (source name and ingestion details excluded)."""
        d = self.to_dict()
        d.pop("source", None)
        d.pop("fidelity", None)
        blob = json.dumps(d, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()
