"""Stage 3: the title line and headings, the section level, the preamble, sections and their kinds,
and links resolved against the base URL."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from briefcast.briefing.dates import find_date
from briefcast.briefing.model import (
    Block,
    Group,
    Inline,
    Paragraph,
    Run,
    Section,
    SectionKind,
    iter_runs,
    plain,
)
from briefcast.briefing.parse.blocks import _Finished, _group, _Heading, _Item, _opens, _Para
from briefcast.briefing.parse.inline import _has_link, _is_emoji_char, _merge, _strip_runs
from briefcast.briefing.parse.metadata import ParseOptions, _fm_get, _Hints
from briefcast.briefing.sectors import SectorCatalogue, slugify
from briefcast.briefing.source import kind_from_name

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


# ------------------------------------------------------------ sections


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
