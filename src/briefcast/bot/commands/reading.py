"""Handlers that read the archive: /start, /help, /sectors, /keywords, /insight, /latest, /issue, /search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from briefcast.bot.commands.core import (
    Reply,
    Request,
    UsageError,
    _short,
    command,
)
from briefcast.bot.commands.parsing import (
    _split_public,
)
from briefcast.bot.commands.router import Commands
from briefcast.briefing.model import Block, Link, ListBlock, ListItem, Paragraph, Run
from briefcast.i18n import Lang, t
from briefcast.render import compose
from briefcast.render.document import Document
from briefcast.store.records import (
    SearchHit,
    StoredIssue,
)


@command("start", zh="开始使用，查看板块按钮", en="Start: welcome and sector buttons")
async def cmd_start(c: Commands, request: Request, lang: Lang) -> Reply:
    """Welcome the user and offer a button per sector."""
    issue = await c.db(c.store.latest_issue)
    body = Paragraph((Run(t(lang, "welcome_body", prefix=c.prefix)),))
    doc = Document(
        title=t(lang, "welcome_title"),
        blocks=(body,),
        buttons=c.sector_buttons(issue.briefing if issue is not None else None, lang=lang),
    )
    return Reply(documents=(doc,))


@command("help", zh="查看全部命令", en="List every command")
async def cmd_help(c: Commands, request: Request, lang: Lang) -> Reply:
    """One line per command: name, aliases, arguments and what it does."""
    items: list[ListItem] = []
    for spec in c.visible_specs:
        head = f"{c.prefix}{spec.name}"
        if spec.usage(lang):
            head += f" {spec.usage(lang)}"
        tail = f" — {spec.description(lang)}"
        if spec.aliases:
            tail += f" ({t(lang, 'alias')}: {', '.join(c.prefix + a for a in spec.aliases)})"
        items.append(ListItem((Run(head, frozenset({"code"})), Run(tail))))
    doc = Document(title=t(lang, "help_title"), blocks=(ListBlock(tuple(items)),), footer=c.help_footer(lang))
    return Reply(documents=(doc,))


@command("sectors", zh="查看全部板块", en="List the sectors")
async def cmd_sectors(c: Commands, request: Request, lang: Lang) -> Reply:
    """The catalogue: emoji, name, command and description of each sector."""
    items = []
    for s in c.catalogue:
        cmds = ", ".join(c.prefix + x for x in s.commands)
        items.append(
            ListItem(
                (
                    Run(f"{s.emoji} {s.name(lang)}".strip(), frozenset({"bold"})),
                    Run(f" {cmds} — {s.description(lang)}"),
                )
            )
        )
    doc = Document(
        title=t(lang, "sectors_title"),
        blocks=(ListBlock(tuple(items)),),
        buttons=c.sector_buttons(None, lang=lang),
    )
    return Reply(documents=(doc,))


@command("keywords", zh="本期关键词（点击查看相关段落）", en="Keywords of the issue (tap for passages)")
async def cmd_keywords(c: Commands, request: Request, lang: Lang) -> Reply:
    """The latest issue's keywords; each button carries ``<issue>.<index>`` so old buttons stay right."""
    issue = await c.latest()
    _, public = _split_public(request.args)
    if not issue.briefing.keywords:
        return Reply(notice=t(lang, "no_keywords"))
    doc = compose.keywords_document(issue.briefing, lang)
    rows = tuple(
        tuple(replace(b, value=f"{issue.id}.{b.value}") if b.action == "kw" else b for b in row)
        for row in doc.buttons
    )
    return Reply(documents=(replace(doc, buttons=rows),), ephemeral=not public)


@command("insight", zh="本期核心启示", en="Takeaways of the issue")
async def cmd_insight(c: Commands, request: Request, lang: Lang) -> Reply:
    """The latest issue's closing takeaways."""
    issue = await c.latest()
    _, public = _split_public(request.args)
    if not issue.briefing.takeaways:
        return Reply(notice=t(lang, "no_takeaways"))
    return Reply(documents=(compose.takeaways_document(issue.briefing, lang),), ephemeral=not public)


@command("latest", zh="最新一期概览", en="Overview of the latest issue")
async def cmd_latest(c: Commands, request: Request, lang: Lang) -> Reply:
    """Title, topics, one line per sector, a button per sector."""
    issue = await c.latest()
    _, public = _split_public(request.args)
    doc = compose.overview_document(issue.briefing, lang)
    # a position only names a section within one issue: pin such buttons to this one
    pinned = any(b.value.startswith("#") for row in doc.buttons for b in row)
    doc = replace(
        doc, buttons=c.sector_buttons(issue.briefing, lang=lang, issue_id=issue.id if pinned else None)
    )
    return Reply(documents=(doc,), ephemeral=not public)


@command(
    "issue",
    zh="查看往期简报",
    en="Show a past issue",
    usage_zh="日期|编号",
    usage_en="DATE|ID",
)
async def cmd_issue(c: Commands, request: Request, lang: Lang) -> Reply:
    """A past issue's overview; its sector buttons point at that issue, not the latest."""
    args, public = _split_public(request.args)
    if not args:
        raise UsageError("missing_args")
    ref = args[0]
    issue = published(await c.db(c.store.find_issue, ref))
    if issue is None:
        return Reply(notice=t(lang, "issue_not_found", ref=ref))
    doc = compose.overview_document(issue.briefing, lang)
    doc = replace(doc, buttons=c.sector_buttons(issue.briefing, lang=lang, issue_id=issue.id))
    return Reply(documents=(doc,), ephemeral=not public)


@command(
    "search",
    zh="全文搜索往期内容",
    en="Search the archive",
    usage_zh="关键词",
    usage_en="TEXT",
)
async def cmd_search(c: Commands, request: Request, lang: Lang) -> Reply:
    """Top full-text matches with their issue, sector, snippet and links."""
    args, public = _split_public(request.args)
    query = " ".join(args).strip()
    if not query:
        raise UsageError("missing_args")
    hits = await c.db(c.store.search, query, limit=5)
    if not hits:
        return Reply(notice=t(lang, "search_none", query=query))
    blocks: list[Block] = [_hit_paragraph(c, hit, lang) for hit in hits]
    doc = Document(title=t(lang, "search_title", query=_short(query, 64)), blocks=tuple(blocks))
    return Reply(documents=(doc,), ephemeral=not public)


def _hit_paragraph(c: Commands, hit: SearchHit, lang: Lang) -> Paragraph:
    sector = c.catalogue.get(hit.section_key)
    if hit.section_key == "intro":  # the issue's intro is indexed under this reserved key
        where = compose.intro_label(lang)
    elif sector is not None:
        where = f"{sector.emoji} {sector.name(lang)}".strip()
    else:
        where = hit.section_key
    when = hit.issue_date.isoformat() if hit.issue_date is not None else f"#{hit.issue_id}"
    runs: list[Run] = [
        Run(f"{when} · {where}", frozenset({"bold"})),
        Run("\n"),
        Run(_short(hit.snippet, 300)),
    ]
    for link in _unique_links(hit.links)[:3]:
        runs += [Run("\n"), Run("→ "), Run(_short(link.text or link.url, 80), url=link.url)]
    return Paragraph(tuple(runs))


def _unique_links(links: Sequence[Link]) -> list[Link]:
    seen: set[str] = set()
    out = []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return out


def published(issue: StoredIssue | None) -> StoredIssue | None:
    """Drafts (uploads awaiting an operator's decision) are never shown to chat users."""
    return issue if issue is not None and issue.status == "published" else None
