"""The pipeline run end to end: Markdown text -> tokens -> items -> title, sections, extras -> Briefing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from markdown_it.tree import SyntaxTreeNode

from briefcast.briefing.markup import Removed, metadata_header
from briefcast.briefing.model import Briefing, Group, Paragraph, Section, map_runs
from briefcast.briefing.parse.blocks import _Converter, _finish, _group, _Heading
from briefcast.briefing.parse.inline import _has_link
from briefcast.briefing.parse.markdown import markdown_tokens
from briefcast.briefing.parse.metadata import (
    ParseOptions,
    _extras,
    _fm_authors,
    _fm_get,
    _front_matter,
    _front_matter_keywords,
    _Hints,
    _issue_date,
    _language,
    _meta_value,
    _with_front_matter,
)
from briefcast.briefing.parse.structure import (
    _KindRules,
    _LinkResolver,
    _section_level,
    _sections,
    _split_preamble,
    _take_title,
    _title_from_name,
    split_title,
)
from briefcast.briefing.sectors import SectorCatalogue, default_catalogue
from briefcast.errors import BriefingError

# ------------------------------------------------------------------- parsing


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
