"""The fidelity measurement: a source reading compared with what each platform's readers receive."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from briefcast.briefing.model import Briefing
from briefcast.briefing.parse import split_title
from briefcast.render.document import Document
from briefcast.render.fidelity.reader import PLATFORMS, READERS, reader_documents
from briefcast.render.fidelity.report import FidelityReport, Lost, PlatformFidelity
from briefcast.render.fidelity.source import SourceItem, SourceLink, SourceReading, read_source

# ---------------------------------------------------------------- normalising

_DROP = re.compile(r"[\s\u200b\u200c\u2060\ufeff*_~`ˋ]+")


def _norm(text: str) -> str:
    """Text for comparison: NFKC, no whitespace, no emphasis marks (Slack adds ``*``, ``_``, ``~``)."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).replace("¦", "|"))


def _norm_item(text: str) -> str:
    """An item for comparison: like :func:`_norm`, and a label's trailing colon is formatting, not text."""
    return _norm(text).rstrip(":")


def _canon_url(url: str) -> str:
    """A link target as both renderers write it (Slack percent-encodes ``|``, ``<``, ``>``)."""
    url = html.unescape(url.strip())
    return url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def _match_items(items: Sequence[SourceItem], text: str) -> list[SourceItem]:
    """Items whose text is not in ``text``; searched from the previous hit first (reading order)."""
    missing: list[SourceItem] = []
    cursor = 0
    for it in items:
        needle = _norm_item(it.text)
        if not needle:
            continue
        pos = text.find(needle, cursor)
        if pos < 0:
            pos = text.find(needle)
        if pos < 0:
            missing.append(it)
        else:
            cursor = pos + len(needle)
    return missing


def _link_reason(link: SourceLink, platform: str) -> str:
    if link.kind == "relative":
        return "relative link and no base URL"
    if link.kind == "mail":
        return "e-mail link without its address"
    if link.kind == "other":
        return "link scheme not supported"
    if link.image:
        return "image dropped"
    return "link dropped"


def _link_kept(link: SourceLink, hrefs: set[str], text: str) -> bool:
    if _canon_url(link.target) in hrefs:
        return True
    if link.kind == "mail":
        address = link.target.split(":", 1)[1].split("?", 1)[0]
        return bool(address) and _norm(address) in text
    if link.kind in ("relative", "other"):
        return _norm(link.raw) in text
    return False


def _title_line_parts(briefing: Briefing, source: SourceReading) -> SourceReading:
    """The title line read as readers get it: title, each topic and the byline are shown apart
    (the overview's title, its topics line, its byline), so each part is an item of its own.

    The line may have been cut into several sentences: all of them are replaced by the parts.
    """
    full = briefing.meta.get("title_full", "")
    key = _norm(full)
    if not key:
        return source
    title, topics, attribution = split_title(full)
    items: list[SourceItem] = []
    i = 0
    its = source.items
    while i < len(its):
        acc = _norm(its[i].text)
        j = i + 1
        while acc and key.startswith(acc) and acc != key and j < len(its) and its[j].line == its[i].line:
            acc += _norm(its[j].text)
            j += 1
        if acc == key:
            items.extend(SourceItem(x, its[i].line, its[i].where) for x in (title, *topics, attribution) if x)
            items.extend(its[j:])
            return SourceReading(items, source.links, source.metadata, source.removed)
        items.append(its[i])
        i += 1
    return source


def _withheld_headings(briefing: Briefing) -> set[str]:
    """Headings (and sub-headings) of sections readers do not receive (tables of contents, legal text)."""
    out: set[str] = set()
    for s in briefing.sections:
        if not s.delivered:
            out.add(_norm(s.heading or s.name))
            out.update(_norm(label) for label in _all_labels(s.blocks))
    return out


def _all_labels(blocks: Iterable[Any]) -> Iterator[str]:
    from briefcast.briefing.model import Group

    for b in blocks:
        if isinstance(b, Group):
            yield b.label
            yield from _all_labels(b.blocks)


def measure(
    briefing: Briefing,
    source: SourceReading,
    *,
    documents: Sequence[Document] | None = None,
    platforms: Iterable[str] = ("telegram", "slack"),
    lang: str | None = None,
    warnings: Sequence[str] = (),
) -> FidelityReport:
    """Compare a source reading with what ``documents`` (default: :func:`reader_documents`) deliver.

    Items and links under a section readers do not receive (a table of contents,
    licence text) are counted apart, as withheld by policy, not as losses.
    """
    docs = list(documents) if documents is not None else reader_documents(briefing, lang)
    source = _title_line_parts(briefing, source)
    withheld_at = _withheld_headings(briefing)
    if withheld_at:
        shown_items = [it for it in source.items if _norm(it.where) not in withheld_at]
        shown_links = [x for x in source.links if _norm(x.where) not in withheld_at]
        withheld = (len(source.items) - len(shown_items), len(source.links) - len(shown_links))
        source = SourceReading(shown_items, shown_links, source.metadata, source.removed)
    else:
        withheld = (0, 0)
    links = [x for x in source.links if x.kind != "anchor"]
    anchors = len(source.links) - len(links)
    results: list[PlatformFidelity] = []
    leaks: list[str] = []
    for platform in platforms:
        render = PLATFORMS[platform]
        texts: list[str] = []
        hrefs: set[str] = set()
        crashes: list[str] = []
        for doc in docs:
            try:
                payloads = render(doc)
            except Exception as e:  # a crash is a finding, reported like a loss
                crashes.append(f"{platform}: {doc.title[:60]!r}: {type(e).__name__}: {e}")
                continue
            text, h = READERS[platform](payloads)
            texts.append(text)
            hrefs.update(_canon_url(u) for u in h)
        reader_text = _norm("\n".join(texts))
        for sample in source.removed.samples:
            needle = _norm(sample)
            if len(needle) >= 3 and needle in reader_text and sample not in leaks:
                leaks.append(sample)
        missing = _match_items(source.items, reader_text)
        lost = [Lost("item", it.text, it.line, it.where) for it in missing]
        kept_links = 0
        for link in links:
            if _link_kept(link, hrefs, reader_text):
                kept_links += 1
            else:
                lost.append(Lost("link", link.raw, link.line, link.where, _link_reason(link, platform)))
        results.append(
            PlatformFidelity(
                platform,
                items_kept=len(source.items) - len(missing),
                links_kept=kept_links,
                lost=tuple(lost),
                crashes=tuple(crashes),
            )
        )
    return FidelityReport(
        items_total=len(source.items),
        links_total=len(links),
        platforms=tuple(results),
        anchors=anchors,
        withheld_items=withheld[0],
        withheld_links=withheld[1],
        warnings=tuple(warnings),
        removed=source.removed.as_dict(),
        leaks=tuple(leaks),
    )


def fidelity_report(
    briefing: Briefing,
    text: str,
    *,
    kind: str = "markdown",
    base_url: str = "",
    platforms: Iterable[str] = ("telegram", "slack"),
    lang: str | None = None,
) -> FidelityReport:
    """Read ``text`` (the issue's source) and measure what readers of ``briefing`` receive."""
    reading = read_source(text, kind=kind, base_url=base_url)
    return measure(briefing, reading, platforms=platforms, lang=lang)


_NOTES: Mapping[str, str] = {
    "relative_links": "{n} relative link(s) and no base URL: shown as text (set base_url)",
    "unsafe_links": "{n} link(s) with a scheme readers cannot open (javascript:, data:…): kept as text",
    "unplaced_lines": "{n} line(s) nested too deeply to place: kept as plain text",
    "removed.template": "{n} template tag(s) / shortcode(s) removed (site markup, not text)",
    "removed.attribute_list": "{n} kramdown attribute list(s) removed",
    "front_matter_error": "{n}",
    "merged_sections": "sections of a sector already in the issue joined it: {n}",
}


def ingest_warnings(briefing: Briefing) -> list[str]:
    """What the parser noted about an issue that an operator should know (from ``Briefing.meta``)."""
    out: list[str] = []
    for key, template in _NOTES.items():
        value = briefing.meta.get(key)
        if value:
            out.append(template.format(n=value))
    if briefing.date is None:
        out.append("no date in the issue (front matter, title, heading or file name): none is shown")
    for s in briefing.sections:
        if not s.delivered:
            out.append(f"section {s.heading or s.name!r} is a {s.kind} section: readers do not receive it")
    return out


def source_kind(briefing: Briefing) -> str:
    return "html" if briefing.meta.get("format") == "html" else "markdown"


def report_for(
    briefing: Briefing,
    text: str,
    *,
    platforms: Iterable[str] = ("telegram", "slack"),
    lang: str | None = None,
) -> FidelityReport:
    """The fidelity report of an ingested issue: its source ``text`` against what readers receive.

    The source is read with the base URL the parser used (``meta["base_url"]``);
    the parser's notes become the report's warnings. This is the one measurement
    ``briefcast ingest``, ``POST /api/issues`` and the operator preview show.
    """
    reading = read_source(text, kind=source_kind(briefing), base_url=briefing.meta.get("base_url", ""))
    return measure(briefing, reading, platforms=platforms, lang=lang, warnings=ingest_warnings(briefing))


def iter_losses(report: FidelityReport) -> Iterator[Lost]:
    for _, x in report.lost():
        yield x
