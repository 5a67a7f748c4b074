"""Stage 4 and the document's settings: front matter, :class:`ParseOptions`, the issue extras
(keywords, takeaways, language) and the issue date."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

import yaml
from markdown_it.tree import SyntaxTreeNode

from briefcast.briefing.dates import as_date, date_from_path, find_date
from briefcast.briefing.model import (
    SECTION_KINDS,
    Block,
    Group,
    ListBlock,
    Paragraph,
    Quote,
    Section,
    SectionKind,
    block_text,
    plain,
)
from briefcast.briefing.parse.inline import _IDEOGRAPH

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


def _front_matter_keywords(value: object) -> list[str]:
    raw = value if isinstance(value, list) else _KEYWORD_SEP.split(str(value))
    return [" ".join(str(k).split()) for k in raw if str(k).strip()]


# ------------------------------------------------------------- document hints


@dataclass(frozen=True, slots=True)
class _Hints:
    """Document-level facts an HTML page carries outside its Markdown (``<time>``, ``<title>``)."""

    date: date | None = None
    title: str = ""


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
