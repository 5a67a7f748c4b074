"""The issue commands (``parse``, ``render``, ``ingest``, ``issues``, ``show``) and the output they share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from briefcast.cli.base import (
    Lang,
    Platform,
    app,
    context_of,
    debug_enabled,
    error_message,
    fail,
    friendly,
    print_json,
)
from briefcast.errors import BriefcastError

if TYPE_CHECKING:
    from briefcast.briefing.model import Briefing
    from briefcast.briefing.sectors import SectorCatalogue
    from briefcast.render.document import Document
    from briefcast.store import StoredIssue


def resolve_sector(briefing: Briefing, name: str, catalogue: SectorCatalogue) -> str:
    """The key of the section ``name`` refers to (key, alias, Chinese name, emoji); usage error if none."""
    keys = briefing.sector_keys
    if name in keys:
        return name
    sector = catalogue.get(name) or catalogue.lookup(name)
    if sector is None:
        raise typer.BadParameter(f"unknown sector {name!r} (this issue has: {', '.join(keys)})")
    if sector.key not in keys:
        raise typer.BadParameter(f"this issue has no {sector.key!r} section (it has: {', '.join(keys)})")
    return sector.key


def render_documents(docs: Sequence[Document], platform: Platform) -> list[Any]:
    """Platform payloads for ``docs`` in order: dicts for chats, one string per document for text."""
    from briefcast.render import slack as slack_render
    from briefcast.render import telegram as telegram_render
    from briefcast.render import text as text_render

    if platform is Platform.text:
        return [text_render.render(d) for d in docs]
    renderer = telegram_render.render if platform is Platform.telegram else slack_render.render
    return [payload for d in docs for payload in renderer(d)]


def emit(docs: Sequence[Document], platform: Platform, *, as_json: bool) -> None:
    """Print rendered documents: JSON for chat platforms (or --json), plain text otherwise."""
    out = render_documents(docs, platform)
    if as_json or platform is not Platform.text:
        print_json(out)
    else:
        typer.echo("\n".join(str(t).rstrip("\n") + "\n" for t in out).rstrip("\n"))


def briefing_text(
    briefing: Briefing, *, lang: str | None = None, sectors: Sequence[str] | None = None
) -> str:
    """Every (or the chosen) sector digest of an issue as plain text, separated by blank lines."""
    from briefcast.render import compose
    from briefcast.render import text as text_render

    docs = compose.issue_documents(briefing, sectors=sectors, lang=lang or briefing.language)
    return "\n".join(text_render.render(d) for d in docs)


# ------------------------------------------------------------------- commands


@app.command()
@friendly
def parse(
    source: Annotated[
        str, typer.Argument(metavar="FILE_OR_URL", help="A Markdown/HTML file or an http(s) URL.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the parsed model as JSON.")] = False,
) -> None:
    """Parse a briefing and print its model (JSON) or its plain-text rendering."""
    from briefcast.ingest.read import parse_source

    briefing = parse_source(source)
    if as_json:
        print_json(briefing.to_dict())
    else:
        typer.echo(briefing_text(briefing).rstrip("\n"))


@app.command()
@friendly
def render(
    source: Annotated[str, typer.Argument(metavar="FILE_OR_URL")],
    platform: Annotated[Platform, typer.Option("--platform", "-p", help="Payload format.")] = Platform.text,
    sector: Annotated[str, typer.Option("--sector", "-s", help="A sector key/name, or 'all'.")] = "all",
    compact: Annotated[bool, typer.Option("--compact", help="The short digest variant.")] = False,
    lang: Annotated[
        Lang | None, typer.Option("--lang", help="Interface language (default: the issue's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list (strings for text).")] = False,
) -> None:
    """Render a briefing's sector digests as Telegram / Slack payloads or plain text."""
    from briefcast.briefing.sectors import default_catalogue
    from briefcast.ingest.read import parse_source
    from briefcast.render import compose

    briefing = parse_source(source)
    keys = None if sector.lower() == "all" else [resolve_sector(briefing, sector, default_catalogue())]
    language = lang.value if lang else briefing.language
    docs = compose.issue_documents(briefing, sectors=keys, lang=language, compact=compact)
    emit(docs, platform, as_json=as_json)


def fidelity_lines(report: Mapping[str, Any], limit: int = 10) -> list[str]:
    """The ingest report as printed lines: the summary, crashes, losses (line, text, why), warnings."""
    if not report:
        return []
    out = [str(report.get("summary", {}).get("en", ""))]
    seen: set[tuple[str, str, int]] = set()
    for p in report.get("platforms", ()):
        out.extend(f"render failure: {c}" for c in p.get("crashes", ()))
        for x in p.get("lost", ()):
            k = (x["kind"], x["text"], x["line"])
            if k in seen:
                continue
            seen.add(k)
            if len(seen) <= limit:
                why = f": {x['reason']}" if x.get("reason") else ""
                out.append(f"lost {x['kind']} at line {x['line']}: {x['text'][:120]}{why}")
    if len(seen) > limit:
        out.append(f"… {len(seen) - limit} more losses (GET /api/issues/ID lists them)")
    out.extend(f"leaked markup: {x[:80]!r}" for x in report.get("leaks", ()))
    out.extend(f"note: {w}" for w in report.get("warnings", ()))
    return out


@app.command()
@friendly
def ingest(
    ctx: typer.Context,
    sources: Annotated[list[str], typer.Argument(metavar="FILE_OR_URL...", help="Files or URLs to store.")],
    draft: Annotated[
        bool, typer.Option("--draft", help="Store as drafts (not delivered until published).")
    ] = False,
) -> None:
    """Parse and store issues; prints id, revision, status and sectors per source.

    Every source is tried; the exit status is 1 if any of them failed.
    """
    from briefcast.ingest.read import read_source
    from briefcast.ingest.service import read_issue

    context = context_of(ctx)
    store = context.open_store()
    options = context.settings.newsletter.parse_options()
    failed = 0
    for src in sources:
        try:
            text = read_source(src)
            briefing = read_issue(text.text, kind=text.kind, source=text.name, options=options)
            r = store.ingest(briefing, raw=text.text, source=text.name, publish=not draft)
        except (BriefcastError, OSError) as exc:
            if debug_enabled():
                raise
            failed += 1
            message = error_message(exc)
            typer.echo(f"error: {message if src in message else f'{src}: {message}'}", err=True)
            continue
        typer.echo(
            f"{src}: id={r.issue_id} revision={r.revision} status={r.status} sectors={','.join(r.sectors)}"
        )
        for line in fidelity_lines(briefing.fidelity):
            typer.echo(f"  {line}")
    if failed:
        raise typer.Exit(1)


@app.command()
@friendly
def issues(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many to list.")] = 20,
) -> None:
    """List stored issues (newest first): id, date, revision, status, sectors, title."""
    rows = context_of(ctx).open_store().list_issues(limit=limit)
    if not rows:
        typer.echo("no issues stored yet (add one with: briefcast ingest FILE)")
        return
    for i in rows:
        day = i.date.isoformat() if i.date else "undated"
        typer.echo(f"{i.id:>5}  {day}  r{i.revision}  {i.status:<9}  {','.join(i.sectors):<24}  {i.title}")


def _show_documents(
    issue: StoredIssue, what: str | None, lang: str, catalogue: SectorCatalogue
) -> list[Document]:
    from briefcast.render import compose

    b = issue.briefing
    key = (what or "").strip().lower()
    if not key:
        return [compose.overview_document(b, lang)]
    if key in ("keywords", "keyword", "kw", "关键词"):
        return [compose.keywords_document(b, lang)]
    if key in ("insight", "insights", "takeaways", "启示", "核心启示"):
        return [compose.takeaways_document(b, lang)]
    if key == "all":
        return compose.issue_documents(b, lang=lang)
    return [compose.section_document(b, resolve_sector(b, what or "", catalogue), lang=lang)]


@app.command()
@friendly
def show(
    ctx: typer.Context,
    what: Annotated[
        str | None,
        typer.Argument(metavar="[SECTOR|keywords|insight|all]", help="Default: the issue overview."),
    ] = None,
    issue: Annotated[
        str, typer.Option("--issue", "-i", help="Issue id, date (YYYY-MM-DD) or 'latest'.")
    ] = "latest",
    platform: Annotated[Platform, typer.Option("--platform", "-p")] = Platform.text,
    lang: Annotated[Lang | None, typer.Option("--lang")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a stored issue: its overview, one sector, its keywords or its insights."""
    from briefcast.briefing.sectors import default_catalogue

    found = context_of(ctx).open_store().find_issue(issue)
    if found is None:
        raise fail(f"no issue matches {issue!r} (list them with: briefcast issues)")
    language = lang.value if lang else found.briefing.language
    emit(_show_documents(found, what, language, default_catalogue()), platform, as_json=as_json)
