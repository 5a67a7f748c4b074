"""The ``briefcast`` command line (typer).

Every command catches :class:`~briefcast.errors.BriefcastError` and ``OSError``
at this boundary and prints ONE line, ``error: <message>``, to stderr with exit
code 1 (usage errors exit 2, as click does). ``BRIEFCAST_DEBUG=1`` lets the
exception through with its traceback, for bug reports.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from briefcast import __version__
from briefcast.config import Settings, load_settings
from briefcast.errors import BriefcastError, ConfigError
from briefcast.i18n import counted

if TYPE_CHECKING:
    from briefcast.briefing.model import Briefing
    from briefcast.briefing.sectors import SectorCatalogue
    from briefcast.render.document import Document
    from briefcast.store import Store, StoredIssue

# Heavy modules (parser, renderers, SQLAlchemy/Alembic) are imported inside the
# commands that need them, so `briefcast --help` and `version` start instantly.

P = ParamSpec("P")
R = TypeVar("R")

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_NAME = "sample-issue.md"


class Platform(StrEnum):
    telegram = "telegram"
    slack = "slack"
    text = "text"


class Lang(StrEnum):
    zh = "zh"
    en = "en"


app = typer.Typer(
    name="briefcast",
    help="Parse sector briefings and push per-sector digests to Telegram and Slack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")


# ------------------------------------------------------------------- plumbing


@dataclass
class Context:
    """Per-invocation state: global options, lazily loaded settings and store."""

    db_url: str | None = None
    config: str | None = None
    _settings: Settings | None = None
    _stores: list[Store] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(config_file=self.config)
        return self._settings

    def open_store(self) -> Store:
        from briefcast.store import Store

        store = Store.open(self.db_url or self.settings.database_url, settings=self.settings)
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()
        self._stores.clear()


def _ctx(ctx: typer.Context) -> Context:
    obj = ctx.find_object(Context)
    if obj is None:  # a command invoked without the callback (tests calling sub-apps)
        obj = Context()
        ctx.obj = obj
    return obj


def _debug() -> bool:
    return os.environ.get("BRIEFCAST_DEBUG", "") not in ("", "0", "false", "no")


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "unknown error"


def _is_db_error(exc: BaseException) -> bool:
    """A database driver error (server down, bad credentials) - without importing SQLAlchemy early."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    return sa_exc is not None and isinstance(exc, sa_exc.DBAPIError)


def error_message(exc: BaseException) -> str:
    """The one line shown for an error we expect (bad input, missing file, database down)."""
    if isinstance(exc, BriefcastError):
        return _one_line(str(exc))
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return _one_line(f"{exc.strerror or type(exc).__name__}{where}")
    if _is_db_error(exc):
        orig = getattr(exc, "orig", None) or exc
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        return _one_line(f"database error: {first}")
    return _one_line(str(exc))


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _is_token_error(exc: BaseException) -> bool:
    """python-telegram-bot's ``InvalidToken`` (checked by name: the CLI does not import telegram)."""
    return type(exc).__name__ == "InvalidToken" and type(exc).__module__.startswith("telegram")


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn expected exceptions into ``error: …`` on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if _is_token_error(exc) and not _debug():
                # the library's message quotes the token: say what is wrong without it
                raise fail(
                    "Telegram refused the bot token (TELEGRAM_BOT_TOKEN): it is revoked or mistyped; "
                    "check it with `briefcast doctor`"
                ) from None
            if _debug() or not (isinstance(exc, BriefcastError | OSError) or _is_db_error(exc)):
                raise
            raise fail(error_message(exc)) from None

    return wrapper


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<invalid url>"


@app.callback()
def _main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Database URL (default: $BRIEFCAST_DATABASE_URL or sqlite:///./data/briefcast.db)."
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option("--config", help="Settings file (default: $BRIEFCAST_CONFIG or config/briefcast.toml)."),
    ] = None,
) -> None:
    """Parse sector briefings and push per-sector digests to Telegram and Slack."""
    state = Context(db_url=db, config=config)
    ctx.obj = state
    ctx.call_on_close(state.close)


# ------------------------------------------------------------------ rendering


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
        _print_json(out)
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
        _print_json(briefing.to_dict())
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

    context = _ctx(ctx)
    store = context.open_store()
    options = context.settings.newsletter.parse_options()
    failed = 0
    for src in sources:
        try:
            text = read_source(src)
            briefing = read_issue(text.text, kind=text.kind, source=text.name, options=options)
            r = store.ingest(briefing, raw=text.text, source=text.name, publish=not draft)
        except (BriefcastError, OSError) as exc:
            if _debug():
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
    rows = _ctx(ctx).open_store().list_issues(limit=limit)
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

    found = _ctx(ctx).open_store().find_issue(issue)
    if found is None:
        raise fail(f"no issue matches {issue!r} (list them with: briefcast issues)")
    language = lang.value if lang else found.briefing.language
    emit(_show_documents(found, what, language, default_catalogue()), platform, as_json=as_json)


@db_app.command("upgrade")
@friendly
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database schema to the latest revision (safe to repeat)."""
    from briefcast.store.db import current_revision

    state = _ctx(ctx)
    store = state.open_store()
    url = state.db_url or state.settings.database_url
    typer.echo(f"database {_safe_url(url)} is at revision {current_revision(store.engine)}")


# ------------------------------------------------------------------------ run


def find_sample(settings: Settings) -> Path:
    """The bundled sample issue: settings, ./examples, the source checkout, or the packaged copy."""
    candidates = [Path(settings.sample_issue)] if settings.sample_issue else []
    candidates += [Path.cwd() / "examples" / SAMPLE_NAME, REPO_ROOT / "examples" / SAMPLE_NAME]
    packaged = resources.files("briefcast").joinpath(f"data/examples/{SAMPLE_NAME}")
    candidates.append(Path(str(packaged)))
    for path in candidates:
        if path.is_file():
            return path
    raise ConfigError(f"the sample issue {SAMPLE_NAME} was not found (set sample_issue in the settings)")


def ingest_sample(
    settings: Settings, store: Store, *, echo: Callable[[str], None] = typer.echo
) -> StoredIssue:
    """Store the bundled sample issue (a no-op when it is already stored) and say so."""
    from briefcast.briefing.parse import parse_text
    from briefcast.ingest.read import read_source

    sample = find_sample(settings)
    text = read_source(str(sample))
    briefing = parse_text(text.text, kind=text.kind, source=text.name)
    result = store.ingest(briefing, raw=text.text, source=text.name)
    echo(
        f"issue {result.issue_id} (revision {result.revision}, {result.status}) from {sample.name}: "
        f"{', '.join(result.sectors)}"
    )
    issue = store.get_issue(result.issue_id)
    assert issue is not None
    return issue


def run_app(
    settings: Settings, store: Store, *, serve: bool = True, echo: Callable[[str], None] = typer.echo
) -> int:
    """What ``briefcast run`` does; returns the exit status.

    ``serve=False``: ingest the bundled sample and print every sector digest as
    plain text. Otherwise serve the bots, the delivery service, the source
    pollers and the web app. With no Telegram or Slack credential that is the
    embedded playground, and the sample is ingested first so there is something
    to ask for; with real credentials the sample is left alone, since it would
    be pushed to real subscribers.
    """
    from briefcast.playground import wants_playground

    if not serve:
        issue = ingest_sample(settings, store, echo=echo)
        echo("")
        echo(briefing_text(issue.briefing).rstrip("\n"))
        return 0
    if wants_playground(settings):
        # the demo needs an issue; a real deployment must never push the sample to subscribers
        ingest_sample(settings, store, echo=echo)

    import asyncio

    from briefcast.app import assemble
    from briefcast.logs import configure_logging
    from briefcast.runtime import serve as serve_forever

    assembly = assemble(settings, store)
    configure_logging(assembly.settings)  # after the overlay, so its tokens are redacted too
    host, port = assembly.settings.http_host, assembly.settings.http_port
    if assembly.playground:
        echo(f"no Telegram/Slack token configured: local playground at http://{host}:{port}/")
    else:
        echo(f"serving {', '.join(c.name for c in assembly.components)} on http://{host}:{port}/")
    try:
        asyncio.run(
            serve_forever(assembly.settings, store, components=assembly.components, routes=assembly.routes)
        )
    finally:
        assembly.close()
    return 0


@app.command()
@friendly
def run(
    ctx: typer.Context,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Only ingest the sample and print its digests, then exit.")
    ] = False,
) -> None:
    """Serve the bots, scheduled deliveries, source polling and the web app.

    With no TELEGRAM_BOT_TOKEN / SLACK_BOT_TOKEN, the bundled sample is ingested and the
    bots run against the embedded local platform: the chat page at http://127.0.0.1:8080/
    shows them working.
    """
    state = _ctx(ctx)
    code = run_app(state.settings, state.open_store(), serve=not no_serve)
    if code:
        raise typer.Exit(code)


# ------------------------------------------------------------------ delivery


def _transports(settings: Settings, store: Store) -> dict[str, Any]:
    from briefcast.delivery.transports import build_transports

    transports = build_transports(settings, engine=store.engine)
    if not transports:
        raise ConfigError("no platform is configured: set TELEGRAM_BOT_TOKEN and/or SLACK_BOT_TOKEN")
    return dict(transports)


@app.command()
@friendly
def push(
    ctx: typer.Context,
    issue: Annotated[int | None, typer.Option("--issue", help="Issue id (default: the latest).")] = None,
    sector: Annotated[str | None, typer.Option("--sector", help="Only subscribers of this sector.")] = None,
    to: Annotated[int | None, typer.Option("--to", help="Only this subscription id.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show who would receive it.")] = False,
    wait: Annotated[
        float,
        typer.Option("--wait", min=0, help="Seconds to wait out retries (an outage) and other workers."),
    ] = 300.0,
) -> None:
    """Enqueue an issue now, ignoring schedules, and deliver it in the foreground.

    Exits 1, with one line per reason, when anything is left undelivered."""
    import asyncio

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from briefcast.delivery import ops

    state = _ctx(ctx)
    settings, store = state.settings, state.open_store()
    key = None
    if sector is not None:
        from briefcast.briefing.sectors import default_catalogue

        found = default_catalogue().lookup(sector)
        if found is None:
            raise fail(f"unknown sector {sector!r}", code=2)
        key = found.key
    if dry_run:
        result = asyncio.run(
            ops.push(settings, store, {}, issue_id=issue, sector=key, to_subscription=to, dry_run=True)
        )
        for p in result.planned:
            note = f" (already {p.already})" if p.already else ""
            typer.echo(
                f"subscription {p.subscription_id}: {p.chat.platform}:{p.chat.chat_id} "
                f"{','.join(p.sectors)}{note}"
            )
        typer.echo(f"issue {result.issue_id}: {counted(len(result.planned), 'subscription')} would be pushed")
        return
    transports = _transports(settings, store)

    async def go() -> ops.PushResult:
        with Progress(TextColumn("delivering"), BarColumn(), MofNCompleteColumn(), transient=True) as bar:
            task = bar.add_task("push", total=None)

            def progress(stats: Any) -> None:
                bar.update(task, completed=stats.finished)

            def on_plan(total: int) -> None:
                bar.update(task, total=total)

            try:
                result = await ops.push(
                    settings,
                    store,
                    transports,
                    issue_id=issue,
                    sector=key,
                    to_subscription=to,
                    progress=progress,
                    wait=wait,
                    on_plan=on_plan,
                )
            finally:
                for t in transports.values():
                    await t.close()
            return result

    result = asyncio.run(go())
    counts = ", ".join(f"{k}={v}" for k, v in sorted(result.counts.items()) if v) or "nothing to send"
    typer.echo(f"issue {result.issue_id}: enqueued {result.enqueued}; {counts}")
    for platform, owner in sorted(result.delivered_by.items()):
        typer.echo(
            f"{platform}: a running worker ({owner}) holds the sender lease and delivers these; "
            f"follow them with `briefcast deliveries --issue {result.issue_id}`"
        )
    for line in result.problems:
        typer.echo(line, err=True)
    if result.problems:
        raise typer.Exit(1)


@app.command()
@friendly
def deliveries(
    ctx: typer.Context,
    status: Annotated[
        str | None, typer.Option("--status", help="pending|claimed|sent|failed|skipped")
    ] = None,
    issue: Annotated[int | None, typer.Option("--issue", help="Only this issue id.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1)] = 50,
) -> None:
    """List deliveries, newest first, with attempts and the last error."""
    from briefcast.delivery import ops

    rows = ops.list_deliveries(_ctx(ctx).open_store(), status=status, issue_id=issue, limit=limit)
    if not rows:
        typer.echo("no deliveries")
        return
    for d in rows:
        when = (d.sent_at or d.updated_at).strftime("%Y-%m-%d %H:%M:%S")
        err = f"  {d.last_error}" if d.last_error else ""
        whom = f"sub {d.subscription_id:<5}" if d.subscription_id is not None else f"watch {d.watcher_id:<3}"
        kind = "" if d.kind == "digest" else f" {d.kind}"
        did = f" ({', '.join(d.detail)})" if d.detail else ""
        typer.echo(
            f"{d.id:>6}  issue {d.issue_id:<4} {whom} {d.status:<8} "
            f"parts {d.parts_sent}/{d.parts_total} attempts {d.attempts}  {when}{kind}{did}{err}"
        )


@app.command("retry-failed")
@friendly
def retry_failed(
    ctx: typer.Context,
    issue: Annotated[int | None, typer.Option("--issue", help="Only this issue id.")] = None,
) -> None:
    """Re-queue failed deliveries of still-active subscriptions."""
    from briefcast.delivery import ops

    n = ops.retry_failed(_ctx(ctx).open_store(), issue_id=issue)
    typer.echo(f"{n} failed deliver{'y' if n == 1 else 'ies'} re-queued")


@app.command()
@friendly
def worker(ctx: typer.Context) -> None:
    """Run delivery workers only (scale out several on one PostgreSQL database)."""
    import asyncio
    import signal

    from briefcast.delivery import ops
    from briefcast.logs import configure_logging
    from briefcast.metrics import instrument_transports

    state = _ctx(ctx)
    settings, store = state.settings, state.open_store()
    configure_logging(settings)
    transports = instrument_transports(_transports(settings, store))

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await ops.run_worker(settings, store, stop, transports=transports)
        finally:
            for t in transports.values():
                await t.close()

    typer.echo("delivery worker running (Ctrl-C to stop)")
    asyncio.run(go())


subs_app = typer.Typer(help="Operator view of subscriptions.", no_args_is_help=True)
app.add_typer(subs_app, name="subs")


def _chat_ref(chat: str, thread: str | None) -> Any:
    import re

    from briefcast.store.records import ChatRef

    platform, sep, rest = chat.partition(":")
    usage = "CHAT must be telegram:CHAT_ID or slack:TEAM/CHANNEL (e.g. telegram:-1001234, slack:T01/C02)"
    if not sep or platform not in ("telegram", "slack") or not rest:
        raise fail(usage, code=2)
    workspace, _, chat_id = rest.rpartition("/") if platform == "slack" else ("", "", rest)
    # a Telegram chat id is an integer (or @channelusername); a Slack id is letters and digits
    ok = (
        re.fullmatch(r"-?\d{1,18}|@[A-Za-z][A-Za-z0-9_]{3,31}", chat_id)
        if platform == "telegram"
        else re.fullmatch(r"[A-Z0-9]{2,32}", chat_id)
        and (not workspace or re.fullmatch(r"[A-Z0-9]{2,32}", workspace))
    )
    if not ok:
        raise fail(f"{chat!r} is not a valid chat id; {usage}", code=2)
    return ChatRef(platform, chat_id, thread, workspace)


def _on_days(days: int) -> str:
    """`` mon,wed,fri`` for a weekday schedule; nothing for every day (as before weekday schedules)."""
    from briefcast.store.validate import days_key

    key = days_key(days)
    return "" if key == "daily" else f" {key}"


@subs_app.command("list")
@friendly
def subs_list(
    ctx: typer.Context,
    platform: Annotated[str | None, typer.Option("--platform", help="telegram|slack")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="at most this many (one page)")] = 1000,
    after: Annotated[int, typer.Option("--after", min=0, help="start after this subscription id")] = 0,
) -> None:
    """List active subscriptions, a page at a time (--limit, --after ID for the next page)."""
    from briefcast.delivery import ops

    rows = ops.subs_list(_ctx(ctx).open_store(), platform=platform, after=after, limit=limit + 1)
    if not rows:
        typer.echo("no active subscriptions" + (f" after id {after}" if after else ""))
        return
    more = len(rows) > limit
    rows = rows[:limit]
    for s in rows:
        where = f"{s.chat.platform}:{s.chat.workspace + '/' if s.chat.workspace else ''}{s.chat.chat_id}"
        thread = f" thread {s.chat.thread_id}" if s.chat.thread_id else ""
        when = _when(s.mode, s.time, s.timezone, s.days)
        options = f"{s.variant}{' silent' if s.silent else ''}{' previews' if s.previews else ''}"
        options += f" quiet {s.quiet}" if s.quiet else ""
        typer.echo(f"{s.id:>5}  {where}{thread}  {','.join(s.sectors)}  {when}  {options}  {s.chat_title}")
    if more:
        extra = f" --platform {platform}" if platform else ""
        typer.echo(f"(more: briefcast subs list{extra} --after {rows[-1].id})", err=True)


@app.command("watches")
@friendly
def watches(
    ctx: typer.Context,
    platform: Annotated[str | None, typer.Option("--platform", help="telegram|slack")] = None,
) -> None:
    """List the chats that watch keywords, with their words and when they get the matches."""
    store = _ctx(ctx).open_store()
    rows = store.watchers(platform, active_only=False)
    if not rows:
        typer.echo("no watched words")
        return
    for w in rows:
        where = f"{w.chat.platform}:{w.chat.workspace + '/' if w.chat.workspace else ''}{w.chat.chat_id}"
        thread = f" thread {w.chat.thread_id}" if w.chat.thread_id else ""
        state = "" if w.chat_active else "  (inactive chat)"
        words = ", ".join(w.phrases)
        typer.echo(
            f"{w.id:>5}  {where}{thread}  {w.mode:<7}  {len(w.words):>2}  {words}  {w.chat_title}{state}"
        )


@subs_app.command("add")
@friendly
def subs_add(
    ctx: typer.Context,
    chat: Annotated[str, typer.Argument(help="telegram:CHAT_ID or slack:TEAM/CHANNEL")],
    sectors: Annotated[list[str] | None, typer.Argument(help="Sectors (default: all).")] = None,
    time: Annotated[str | None, typer.Option("--time", help="HH:MM local time.")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="IANA time zone, e.g. Asia/Shanghai.")] = None,
    days: Annotated[
        str | None, typer.Option("--days", help="Weekdays: mon,wed,fri | weekdays | daily (default daily).")
    ] = None,
    on_publish: Annotated[
        bool, typer.Option("--on-publish", help="Push as soon as an issue is published.")
    ] = False,
    weekly: Annotated[
        bool,
        typer.Option(
            "--weekly", help="One roll-up of the issues since the last one, on --days (default mon)."
        ),
    ] = False,
    thread: Annotated[str | None, typer.Option("--thread", help="Forum topic (message_thread_id).")] = None,
    kind: Annotated[str, typer.Option("--kind", help="private|group|supergroup|channel")] = "",
) -> None:
    """Subscribe a chat (created if unknown)."""
    from briefcast.delivery import ops

    sub = ops.subs_add(
        _ctx(ctx).open_store(),
        _chat_ref(chat, thread),
        sectors or [],
        kind=kind,
        time=time,
        timezone=tz,
        mode="publish" if on_publish else "weekly" if weekly else None,
        days=days,
    )
    typer.echo(
        f"subscription {sub.id}: {','.join(sub.sectors)} at "
        f"{_when(sub.mode, sub.time, sub.timezone, sub.days)}"
    )


def _when(mode: str, time: str, tz: str, days: int) -> str:
    """``on publish``, ``08:00 Asia/Shanghai on mon,wed,fri`` or ``weekly roll-up 09:00 UTC on mon``."""
    if mode == "publish":
        return "on publish"
    when = f"{time} {tz}{_on_days(days)}"
    return f"weekly roll-up {when}" if mode == "weekly" else when


@subs_app.command("remove")
@friendly
def subs_remove(
    ctx: typer.Context,
    chat: Annotated[
        str, typer.Argument(help="telegram:CHAT_ID, slack:TEAM/CHANNEL or the id `subs list` shows")
    ],
    sectors: Annotated[list[str] | None, typer.Argument(help="Sectors (default: all).")] = None,
    thread: Annotated[str | None, typer.Option("--thread")] = None,
) -> None:
    """Unsubscribe a chat from some or all sectors."""
    from briefcast.delivery import ops

    store = _ctx(ctx).open_store()
    if chat.isdigit():  # the subscription id of `briefcast subs list`
        found = next((s for s in ops.subs_list(store) if s.id == int(chat)), None)
        if found is None:
            raise fail(f"there is no active subscription {chat} (see `briefcast subs list`)")
        ref = found.chat
    else:
        ref = _chat_ref(chat, thread)
    sub = ops.subs_remove(store, ref, sectors or None)
    if sub is None:
        raise fail(f"{chat} has no subscription")
    state = "active: " + ",".join(sub.sectors) if sub.active else "inactive"
    typer.echo(f"subscription {sub.id} is now {state}")


# --------------------------------------------------------------- operations


@app.command()
@friendly
def sources(
    ctx: typer.Context,
    enable: Annotated[str | None, typer.Option("--enable", help="Re-enable a disabled source.")] = None,
) -> None:
    """Show every source's status, last success and last error."""
    from briefcast.ingest import enable_source, sources_status

    store = _ctx(ctx).open_store()
    if enable is not None:
        if not enable_source(store, enable):
            raise fail(f"no source named {enable!r}")
        typer.echo(f"source {enable} enabled")
        return
    rows = sources_status(store)
    if not rows:
        typer.echo("no sources have been polled yet (configure [[source]] in config/briefcast.toml)")
        return
    for r in rows:
        ok = r.last_success_at.strftime("%Y-%m-%d %H:%M") if r.last_success_at else "never"
        err = f"  last error: {r.last_error}" if r.last_error else ""
        typer.echo(
            f"{r.name:<16} {r.kind:<6} {r.status:<8} last success {ok}  failures {r.failures}  "
            f"{r.location}{err}"
        )


@app.command()
@friendly
def doctor(ctx: typer.Context) -> None:
    """Check configuration, database and platform tokens (getMe / auth.test)."""
    from briefcast.doctor import doctor as run_checks
    from briefcast.doctor import format_results

    state = _ctx(ctx)
    settings = state.settings
    if state.db_url:  # --db is the database to check (it was ignored before)
        settings = settings.model_copy(update={"database_url": state.db_url})
    if not format_results(run_checks(settings), echo=typer.echo):
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"briefcast {__version__}")


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (``briefcast``)."""
    app(args=list(argv) if argv is not None else sys.argv[1:], prog_name="briefcast")
