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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from briefcast import __version__
from briefcast.config import Settings, load_settings
from briefcast.errors import BriefcastError, ConfigError

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


def friendly(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn expected exceptions into ``error: …`` on stderr and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
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
    from briefcast.briefing.parse import parse_source

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
    from briefcast.briefing.parse import parse_source
    from briefcast.briefing.sectors import default_catalogue
    from briefcast.render import compose

    briefing = parse_source(source)
    keys = None if sector.lower() == "all" else [resolve_sector(briefing, sector, default_catalogue())]
    language = lang.value if lang else briefing.language
    docs = compose.issue_documents(briefing, sectors=keys, lang=language, compact=compact)
    emit(docs, platform, as_json=as_json)


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
    from briefcast.briefing.parse import parse_text, read_source

    store = _ctx(ctx).open_store()
    failed = 0
    for src in sources:
        try:
            text = read_source(src)
            briefing = parse_text(text.text, kind=text.kind, source=text.name)
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


def run_app(settings: Settings, store: Store, *, echo: Callable[[str], None] = typer.echo) -> int:
    """What ``briefcast run`` does; returns the exit status.

    Today: ingest the bundled sample into the configured database and print
    every sector digest as plain text. The bots, scheduler and web app hook in
    here as they land.
    """
    from briefcast.briefing.parse import parse_text, read_source

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
    echo("")
    echo(briefing_text(issue.briefing).rstrip("\n"))
    return 0


@app.command()
@friendly
def run(ctx: typer.Context) -> None:
    """Run briefcast: for now, ingest the bundled sample issue and print every sector digest."""
    state = _ctx(ctx)
    code = run_app(state.settings, state.open_store())
    if code:
        raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"briefcast {__version__}")


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point (``briefcast``)."""
    app(args=list(argv) if argv is not None else sys.argv[1:], prog_name="briefcast")
