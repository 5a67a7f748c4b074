"""Model -> :class:`Document`: what a digest or a command reply says, before any platform syntax.

Every function here is pure: the same briefing gives the same document, which
the platform renderers then turn into payloads. Composition decides *content*
(which blocks, which title, which buttons); rendering decides *syntax* and
limits.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace

from briefcast.archive.urls import issue_url
from briefcast.briefing.model import (
    Block,
    Briefing,
    Group,
    Inline,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Run,
    RunStyle,
    Section,
    iter_runs,
    map_runs,
    plain,
)
from briefcast.briefing.sectors import SectorCatalogue, default_catalogue
from briefcast.briefing.watch import Passage as WatchPassage
from briefcast.briefing.watch import watch_matches
from briefcast.i18n import is_zh, t
from briefcast.render.document import Button, Document

# Telegram shows button labels on one line; longer labels are cut with "…".
BUTTON_TEXT_MAX = 40
ATTRIBUTION_MAX = 60
# A section key this long or shorter goes into buttons as is ("sector:energy.42"); a longer one (a
# 48-character CJK slug is 144 bytes) as its position ("sector:#3.42"): Telegram allows 64 bytes.
BUTTON_KEY_MAX_BYTES = 24
# Buttons of an issue's sections: Telegram keyboards and Slack messages (50 blocks) hold only so many.
MAX_SECTION_BUTTONS = 30


Buttons = Sequence[Sequence[Button]]


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _freeze(buttons: Buttons) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(row) for row in buttons if row)


def _colon(briefing: Briefing) -> str:
    return "：" if is_zh(briefing.language) else ": "


def section_title(briefing: Briefing, section: Section, lang: str | None = None) -> str:
    """``🤖 AI新能力：推理成本下降…`` — emoji, name and headline, with the issue language's colon.

    A sponsored section says so: ``… · 赞助`` / ``… · Sponsored``.
    """
    head = f"{section.emoji} {section.name}".strip()
    title = f"{head}{_colon(briefing)}{section.headline}" if section.headline else head
    if section.kind == "sponsor":
        title = f"{title} · {t(lang or briefing.language, 'sponsored')}"
    return title


def label_images(blocks: tuple[Block, ...], lang: str) -> tuple[Block, ...]:
    """Images without alt text get the reader's word for "image" (``🖼 图片``), so none is invisible."""
    if not any(r.image and not r.text.strip() for r in iter_runs(blocks)):
        return blocks
    word = t(lang, "image")
    return map_runs(blocks, lambda r: replace(r, text=word) if r.image and not r.text.strip() else r)


def section_ref(briefing: Briefing, section: Section) -> str:
    """What a button carries to name ``section``: its key, or ``#<position>`` when the key is long.

    :meth:`Briefing.section` reads both, so callback data stays within Telegram's 64 bytes for any heading.
    """
    if len(section.key.encode()) <= BUTTON_KEY_MAX_BYTES:
        return section.key
    index = next((i for i, s in enumerate(briefing.sections) if s is section), None)
    if index is None:
        index = next(i for i, s in enumerate(briefing.sections) if s.key == section.key)
    return f"#{index}"


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Button labels made distinct: a repeated label gets `` (2)``, `` (3)``…; an empty one ``…``."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for label in labels:
        label = label or "…"
        n = seen.get(label, 0) + 1
        seen[label] = n
        out.append(label if n == 1 else f"{label} ({n})")
    return out


def section_buttons(
    briefing: Briefing,
    *,
    labels: Sequence[str] | None = None,
    exclude: str | None = None,
    issue_id: int | None = None,
) -> list[Button]:
    """One ``sector:<ref>`` button per delivered section (``<ref>.<issue id>`` pins a past issue).

    ``labels`` (one per delivered section) replace the default ``emoji name``;
    labels are shortened and made unique.
    """
    secs = briefing.delivered_sections[:MAX_SECTION_BUTTONS]
    raw = (
        list(labels)[:MAX_SECTION_BUTTONS]
        if labels is not None
        else [f"{s.emoji} {s.name}".strip() for s in secs]
    )
    names = unique_labels([_shorten(x, BUTTON_TEXT_MAX) for x in raw])
    out: list[Button] = []
    for s, name in zip(secs, names, strict=True):
        if s.key == exclude:
            continue
        ref = section_ref(briefing, s)
        value = ref if issue_id is None else f"{ref}.{issue_id}"
        out.append(Button(name, action="sector", value=value))
    return out


_BY = re.compile(
    r"由\s*(?P<zh>[^\s，,。；;]{1,40}?)\s*(?:生成|出品|制作|发布)|\bby\s+(?P<en>[^,;.()]{1,60})", re.I
)
_CLAUSE = re.compile(r"[\s，,。；;!！]+")


def source_name(attribution: str) -> str:
    """Who produced the issue, short: "本报告由量子鲨鱼生成 欢迎…" -> "量子鲨鱼", "generated by X, …" -> "X".

    Falls back to the attribution's first clause, so the footer stays one short line.
    """
    m = _BY.search(attribution)
    if m:
        return (m.group("zh") or m.group("en") or "").strip()
    head = _CLAUSE.split(attribution.strip(), maxsplit=1)[0]
    return _shorten(head or attribution, ATTRIBUTION_MAX)


def footer_name(briefing: Briefing) -> str:
    """Who the footer credits: the byline's producer, or the authors from the metadata as they are."""
    if not briefing.attribution.strip():
        return ""
    if briefing.meta.get("attribution_source") == "front_matter":
        return _shorten(briefing.attribution, ATTRIBUTION_MAX)
    return source_name(briefing.attribution)


def footer(briefing: Briefing, lang: str) -> str:
    """Attribution and issue date, short: ``来源：量子鲨鱼 · 2026-11-28``."""
    who = footer_name(briefing)
    parts = [t(lang, "source", who=who)] if who else []
    if briefing.date is not None:
        parts.append(briefing.date.isoformat())
    return " · ".join(parts)


def _resolve(briefing: Briefing, section: Section | str) -> Section:
    if isinstance(section, Section):
        return section
    found = briefing.section(section)
    if found is None:
        raise KeyError(f"the issue has no section {section!r}")
    return found


def section_document(
    briefing: Briefing,
    section: Section | str,
    *,
    lang: str = "zh",
    compact: bool = False,
    buttons: Buttons = (),
) -> Document:
    """One sector as a message.

    ``compact`` keeps the headline (in the title), the first labelled group and a
    line counting the full section's links — enough to decide whether to open
    the full digest. ``buttons`` are passed through (the caller knows its commands).
    """
    sec = _resolve(briefing, section)
    blocks: tuple[Block, ...] = label_images(sec.blocks, lang)
    if compact:
        blocks = _compact_blocks(replace(sec, blocks=blocks), lang)
    return Document(
        title=section_title(briefing, sec, lang),
        blocks=blocks,
        footer=footer(briefing, lang),
        buttons=_freeze(buttons),
    )


def with_issue_link(
    doc: Document, public_url: str, issue_id: int, *, lang: str = "zh", section: str = ""
) -> Document:
    """``doc`` ending with a "read the whole issue" button: the issue's page in the public archive.

    A URL button rides on the last part of a rendered message (Telegram's inline keyboard, a Slack
    actions block), so a push ends with it. The page opens in ``lang`` at ``section``. Without a
    public URL (``BRIEFCAST_PUBLIC_URL`` unset) the document is returned unchanged.
    """
    if not public_url:
        return doc
    url = issue_url(public_url, issue_id, lang=lang, section=section)
    return replace(doc, buttons=(*doc.buttons, (Button(t(lang, "read_issue"), url=url),)))


def _compact_blocks(sec: Section, lang: str) -> tuple[Block, ...]:
    groups = [b for b in sec.blocks if isinstance(b, Group)]
    first: tuple[Block, ...]
    if groups:
        first = (groups[0],)
        omitted = len(groups) - 1
    else:
        first = sec.blocks[:1]
        omitted = 0
    line = t(lang, "links", n=len(sec.links))
    if omitted:
        line += " · " + t(lang, "more_groups", n=omitted)
    return (*first, Paragraph((Run(line, frozenset({"italic"})),)))


def issue_documents(
    briefing: Briefing,
    *,
    sectors: Sequence[str] | None = None,
    lang: str = "zh",
    compact: bool = False,
) -> list[Document]:
    """The issue as a reader receives it, optionally only the ``sectors`` keys: one document per
    delivered section in issue order, the intro placed as the issue says (see :func:`digest_parts`)."""
    keys = [s.key for s in briefing.delivered_sections] if sectors is None else list(sectors)
    return [make() for _, make in digest_parts(briefing, keys, lang=lang, compact=compact)]


DigestPart = tuple[str, Callable[[], Document]]
"""(a name unique within the issue, for caching renders; the document, made on demand)."""


def intro_placement(briefing: Briefing) -> str:
    """Where the intro goes in a push: ``first`` (with the first section), ``separate`` or ``off``."""
    value = briefing.meta.get("intro", "first")
    return value if value in ("first", "separate", "off") else "first"


def intro_label(lang: str) -> str:
    """What the intro (the text before the first section) is called: 导语 / Intro."""
    return t(lang, "intro_title")


def intro_document(briefing: Briefing, lang: str = "zh") -> Document:
    """The intro on its own: the issue title over the text before the first section."""
    return Document(
        title=briefing.title or t(lang, "intro_title"),
        blocks=label_images(briefing.preamble, lang),
        footer=footer(briefing, lang),
    )


def digest_parts(
    briefing: Briefing, sectors: Iterable[str], *, lang: str = "zh", compact: bool = False
) -> list[DigestPart]:
    """What one push of ``briefing`` to a subscriber of ``sectors`` consists of, in order.

    The delivered sections among ``sectors`` in issue order; the issue's intro
    comes with the first of them (``intro = "first"``, the default), as its own
    message before them (``"separate"``) or not at all (``"off"``). The compact
    variant leaves the intro out (it is in the overview).
    """
    wanted = set(sectors)
    secs = [s for s in briefing.delivered_sections if s.key in wanted]
    parts: list[DigestPart] = []
    placement = intro_placement(briefing) if briefing.preamble and secs and not compact else "off"
    if placement == "separate":
        parts.append(("intro", functools.partial(intro_document, briefing, lang)))
    for i, sec in enumerate(secs):
        if i == 0 and placement == "first":
            parts.append((f"{sec.key}+intro", functools.partial(_with_intro, briefing, sec, lang)))
        else:
            make = functools.partial(section_document, briefing, sec, lang=lang, compact=compact)
            parts.append((sec.key, make))
    return parts


def _with_intro(briefing: Briefing, sec: Section, lang: str) -> Document:
    """The first section of a push, the issue's intro above it (under the issue's title)."""
    doc = section_document(briefing, sec, lang=lang)
    intro: list[Block] = []
    if briefing.title:
        intro.append(Paragraph((Run(briefing.title, frozenset({"bold"})),)))
    intro.extend(label_images(briefing.preamble, lang))
    return replace(
        doc, blocks=(*intro, Group(label=doc.title, blocks=doc.blocks)), title=briefing.title or doc.title
    )


def overview_document(briefing: Briefing, lang: str = "zh", *, issue_id: int | None = None) -> Document:
    """The issue at a glance: topics, the intro, one line per section, a button per section.

    Buttons carry ``sector:<ref>`` (:func:`section_ref`), pinned to ``issue_id`` when given.
    Tables of contents and legal text are not listed (readers do not receive them).
    """
    blocks: list[Block] = []
    if briefing.topics:
        sep = "、" if is_zh(briefing.language) else ", "
        blocks.append(
            Paragraph((Run(t(lang, "topics"), frozenset({"bold"})), Run(sep.join(briefing.topics))))
        )
    blocks.extend(label_images(briefing.preamble, lang))
    items: list[ListItem] = []
    for s in briefing.delivered_sections:
        head = f"{s.emoji} {s.name}".strip()
        runs: list[Run] = [Run(head, frozenset({"bold"}))]
        if s.headline:
            runs.append(Run(_colon(briefing) + s.headline))
        if s.kind == "sponsor":
            runs.append(Run(f" · {t(lang, 'sponsored')}", frozenset({"italic"})))
        items.append(ListItem(tuple(runs)))
    if items:
        blocks.append(ListBlock(tuple(items)))
        if len(items) > MAX_SECTION_BUTTONS:
            more = t(lang, "more_sections", n=len(items) - MAX_SECTION_BUTTONS)
            blocks.append(Paragraph((Run(more, frozenset({"italic"})),)))
    else:
        blocks.append(Paragraph((Run(t(lang, "no_sections")),)))
    said = briefing.attribution.strip()
    if said and said != footer_name(briefing):
        # the footer names the producer; the whole byline ("… contact us to subscribe") is read here
        blocks.append(Paragraph((Run(said, frozenset({"italic"})),)))
    return Document(
        title=briefing.title,
        blocks=tuple(blocks),
        footer=footer(briefing, lang),
        buttons=_rows(section_buttons(briefing, issue_id=issue_id), 2),
    )


def _rows(buttons: Sequence[Button], width: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


def keywords_document(briefing: Briefing, lang: str = "zh") -> Document:
    """The issue's keywords, each with a button ``kw:<index>``.

    The index (not the keyword) goes into the callback: a 30-character CJK
    keyword is 90 bytes, over Telegram's 64-byte ``callback_data`` limit.
    """
    if not briefing.keywords:
        return Document(
            title=t(lang, "keywords_title"),
            blocks=(Paragraph((Run(t(lang, "no_keywords")),)),),
            footer=footer(briefing, lang),
        )
    items = tuple(ListItem((Run(kw),), number=i + 1) for i, kw in enumerate(briefing.keywords))
    buttons = [
        Button(_shorten(kw, BUTTON_TEXT_MAX), action="kw", value=str(i))
        for i, kw in enumerate(briefing.keywords)
    ]
    return Document(
        title=t(lang, "keywords_title"),
        blocks=(ListBlock(items, ordered=True),),
        footer=footer(briefing, lang),
        buttons=_rows(buttons, 3),
    )


def takeaways_document(briefing: Briefing, lang: str = "zh") -> Document:
    """The issue's closing takeaways as bullets."""
    if not briefing.takeaways:
        blocks: tuple[Block, ...] = (Paragraph((Run(t(lang, "takeaways_none")),)),)
    else:
        blocks = (ListBlock(tuple(ListItem((Run(x),)) for x in briefing.takeaways)),)
    return Document(title=t(lang, "takeaways_title"), blocks=blocks, footer=footer(briefing, lang))


# ------------------------------------------------------------ keyword passages


def keyword_passages_document(briefing: Briefing, keyword: str, lang: str = "zh") -> Document:
    """Every passage (paragraph or list item) that mentions ``keyword``, grouped by sector.

    Matching is case-insensitive; each mention is made bold so the reader
    finds it in a long paragraph.
    """
    kw = " ".join(keyword.split())
    title = t(lang, "keyword_title", kw=_shorten(kw, 64))
    pattern = re.compile(re.escape(kw), re.IGNORECASE) if kw else None
    groups: list[Block] = []
    count = 0
    for sec in briefing.sections:
        found = list(_passages(sec.blocks, pattern)) if pattern else []
        if not found:
            continue
        count += len(found)
        groups.append(Group(label=section_title(briefing, sec), blocks=_passage_blocks(found, pattern)))
    if not groups:
        body: tuple[Block, ...] = (Paragraph((Run(t(lang, "keyword_none", kw=kw)),)),)
    else:
        body = (Paragraph((Run(t(lang, "keyword_count", n=count), frozenset({"italic"})),)), *groups)
    return Document(title=title, blocks=body, footer=footer(briefing, lang))


Passage = tuple[Inline, "ListItem | None", bool]  # runs, item (None = paragraph), ordered


def _passages(blocks: Sequence[Block], pattern: re.Pattern[str] | None) -> Iterator[Passage]:
    for b in blocks:
        if isinstance(b, Paragraph):
            if pattern is not None and pattern.search(plain(b.runs)):
                yield (b.runs, None, False)
        elif isinstance(b, ListBlock):
            yield from _item_passages(b, pattern)
        elif isinstance(b, Group | Quote):
            yield from _passages(b.blocks, pattern)


def _item_passages(lb: ListBlock, pattern: re.Pattern[str] | None) -> Iterator[Passage]:
    for it in lb.items:
        if pattern is not None and pattern.search(plain(it.runs)):
            yield (it.runs, it, lb.ordered)
        for child in it.children:
            yield from _item_passages(child, pattern)


def _passage_blocks(found: Sequence[Passage], pattern: re.Pattern[str] | None) -> tuple[Block, ...]:
    """Paragraphs stay paragraphs; consecutive list items become one list (children dropped)."""
    return _as_blocks(
        (
            highlight(runs, pattern) if pattern else runs,
            item is not None,
            ordered,
            item.number if item else None,
        )
        for runs, item, ordered in found
    )


def _as_blocks(found: Iterable[tuple[Inline, bool, bool, int | None]]) -> tuple[Block, ...]:
    """``(runs, is_item, ordered, number)`` passages as blocks: a paragraph each, except that
    consecutive list items of one kind (ordered or not) become one list."""
    out: list[Block] = []
    pending: list[ListItem] = []
    pending_ordered = False

    def flush() -> None:
        if pending:
            out.append(ListBlock(tuple(pending), ordered=pending_ordered))
            pending.clear()

    for runs, is_item, ordered, number in found:
        if not is_item:
            flush()
            out.append(Paragraph(runs))
            continue
        if pending and ordered != pending_ordered:
            flush()
        pending_ordered = ordered
        pending.append(ListItem(runs, number=number))
    flush()
    return tuple(out)


def highlight(runs: Inline, pattern: re.Pattern[str]) -> Inline:
    """``runs`` with every match of ``pattern`` made bold (runs split at match edges)."""
    text = plain(runs)
    return bold_spans(runs, [(m.start(), m.end()) for m in pattern.finditer(text) if m.end() > m.start()])


def bold_spans(runs: Inline, spans: Sequence[tuple[int, int]]) -> Inline:
    """``runs`` with the character ranges ``spans`` of ``plain(runs)`` made bold."""
    if not spans:
        return runs
    out: list[Run] = []
    pos = 0
    for r in runs:
        start, end = pos, pos + len(r.text)
        pos = end
        cuts = {start, end}
        for a, b in spans:
            if start < a < end:
                cuts.add(a)
            if start < b < end:
                cuts.add(b)
        edges = sorted(cuts)
        for a, b in itertools.pairwise(edges):
            piece = r.text[a - start : b - start]
            inside = any(sa <= a and b <= sb for sa, sb in spans)
            styles: frozenset[RunStyle] = r.styles | {"bold"} if inside else r.styles
            out.append(Run(piece, styles, r.url, r.image))
    return tuple(out)


# ------------------------------------------------------------- keyword watches

# Passages shown in one watch alert; the rest are counted (``/search`` finds them all).
MAX_WATCH_PASSAGES = 20
MAX_WATCH_BUTTONS = 6
SectionUrl = Callable[[str], "str | None"]


def _words_of(passages: Sequence[WatchPassage]) -> list[str]:
    words: list[str] = []
    for p in passages:
        for w in p.words:
            if w not in words:
                words.append(w)
    return words


def _watch_blocks(found: Sequence[WatchPassage]) -> tuple[Block, ...]:
    """Paragraphs, headlines and table rows as paragraphs; consecutive list items as one list."""
    return _as_blocks((bold_spans(p.runs, p.spans), p.kind == "item", p.ordered, p.number) for p in found)


def _sector_label(cat: SectorCatalogue, briefing: Briefing, key: str, lang: str) -> str:
    """``⚡ Energy``: the catalogue's name in the reader's language, else the issue's own heading."""
    sector = cat.get(key)
    if sector is not None:
        return f"{sector.emoji} {sector.name(lang)}".strip()
    section = briefing.section(key)
    if section is not None:
        return f"{section.emoji} {section.name}".strip() or key
    return key


def watch_document(
    briefing: Briefing,
    passages: Sequence[WatchPassage],
    *,
    lang: str = "zh",
    issue_id: int | None = None,
    section_url: SectionUrl | None = None,
    prefix: str = "/",
    catalogue: SectorCatalogue | None = None,
    max_passages: int = MAX_WATCH_PASSAGES,
) -> Document:
    """The alert a watching chat receives: the matching passages, grouped under their section.

    ``passages`` come from :func:`briefcast.briefing.watch.watch_matches` (in reading order).
    Each section group is labelled with the section's emoji and name; every mention is bold.
    A link to each section: ``section_url(key)`` when it returns a URL (the public archive),
    and a button per section (``sector:<key>.<issue_id>``, the section in the chat) when
    ``issue_id`` is given. At most ``max_passages`` passages are shown; the rest are counted.
    ``prefix`` is how commands are typed on the platform (``/`` or ``/briefing ``).
    """
    cat = catalogue or default_catalogue()
    words = _words_of(passages)
    title = t(lang, "watch_title", words=_shorten("、".join(words) if is_zh(lang) else ", ".join(words), 80))
    shown = list(passages[: max(max_passages, 0)])
    blocks: list[Block] = [
        Paragraph(
            (Run(t(lang, "watch_intro", n=len(passages), title=briefing.title), frozenset({"italic"})),)
        )
    ]
    order: list[str] = []
    for p in shown:
        if p.section_key not in order:
            order.append(p.section_key)
    for key in order:
        found = [p for p in shown if p.section_key == key]
        label = _sector_label(cat, briefing, key, lang)
        group_blocks = list(_watch_blocks(found))
        url = section_url(key) if section_url is not None else None
        if url:
            group_blocks.append(Paragraph((Run(t(lang, "watch_section_link"), url=url),)))
        blocks.append(Group(label=label, blocks=tuple(group_blocks)))
    hidden = len(passages) - len(shown)
    if hidden > 0:
        line = t(lang, "watch_more", n=hidden, prefix=prefix, word=words[0] if words else "")
        blocks.append(Paragraph((Run(line, frozenset({"italic"})),)))
    blocks.append(Paragraph((Run(t(lang, "watch_manage", prefix=prefix), frozenset({"italic"})),)))
    buttons: list[Button] = []
    if issue_id is not None:
        for key in order[:MAX_WATCH_BUTTONS]:
            label = _sector_label(cat, briefing, key, lang)
            buttons.append(
                Button(_shorten(label, BUTTON_TEXT_MAX), action="sector", value=f"{key}.{issue_id}")
            )
    return Document(
        title=title, blocks=tuple(blocks), footer=footer(briefing, lang), buttons=_rows(buttons, 2)
    )


def watch_alert(
    briefing: Briefing,
    words: Sequence[str],
    *,
    lang: str = "zh",
    issue_id: int | None = None,
    prefix: str = "/",
    section_url: SectionUrl | None = None,
    catalogue: SectorCatalogue | None = None,
) -> Document | None:
    """What a chat watching ``words`` gets for ``briefing``, or None when nothing matches.

    The one call a sender needs: :func:`briefcast.briefing.watch.watch_matches` then
    :func:`watch_document`. ``prefix`` is ``"/"`` on Telegram and ``"/briefing "`` on Slack.
    """
    passages = watch_matches(briefing, words)
    if not passages:
        return None
    return watch_document(
        briefing,
        passages,
        lang=lang,
        issue_id=issue_id,
        section_url=section_url,
        prefix=prefix,
        catalogue=catalogue,
    )


def rollup_document(
    issues: Sequence[tuple[int, Briefing]],
    sectors: Sequence[str],
    *,
    lang: str = "zh",
    public_url: str = "",
    catalogue: SectorCatalogue | None = None,
) -> Document | None:
    """A weekly roll-up: the ``issues`` (id, briefing; oldest first) since the previous one, each as
    its date and title over one line per subscribed sector it has (the sector's title, linked to
    that section of the issue's archive page when a public URL is set). None when no issue has any
    of the ``sectors``. The platform renderers split a long roll-up within their limits.
    """
    cat = catalogue or default_catalogue()
    blocks: list[Block] = []
    shown: list[int] = []
    for issue_id, briefing in issues:
        wanted = set(cat.received(sectors, (s.key for s in briefing.delivered_sections)))
        secs = [s for s in briefing.delivered_sections if s.key in wanted]
        if not secs:
            continue
        shown.append(issue_id)
        when = briefing.date.isoformat() if briefing.date is not None else f"#{issue_id}"
        label = f"📅 {when} · {briefing.title}" if briefing.title else f"📅 {when}"
        items = []
        for sec in secs:
            url = issue_url(public_url, issue_id, lang=lang, section=sec.key) or None
            items.append(ListItem(runs=(Run(section_title(briefing, sec, lang), url=url),)))
        blocks.append(Group(label=_shorten(label, 200), blocks=(ListBlock(items=tuple(items)),)))
    if not shown:
        return None
    first, last = issues[0][1].date, issues[-1][1].date
    span = f"{first.isoformat()} – {last.isoformat()}" if first and last and first != last else ""
    title = t(lang, "rollup_title", n=len(shown)) + (f" · {span}" if span else "")
    buttons: tuple[tuple[Button, ...], ...] = ()
    if public_url:
        newest = issue_url(public_url, shown[-1], lang=lang)
        buttons = ((Button(t(lang, "read_issue"), url=newest),),)
    return Document(title=title, blocks=tuple(blocks), footer=t(lang, "rollup_footer"), buttons=buttons)
