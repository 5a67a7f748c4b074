"""The CLI's shared plumbing: the typer apps, the per-invocation context and the one-line error boundary.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from briefcast.config import Settings, load_settings
from briefcast.errors import BriefcastError

if TYPE_CHECKING:
    from briefcast.store import Store

# Heavy modules (parser, renderers, SQLAlchemy/Alembic) are imported inside the
# commands that need them, so `briefcast --help` and `version` start instantly.

P = ParamSpec("P")
R = TypeVar("R")


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


def context_of(ctx: typer.Context) -> Context:
    """This invocation's :class:`Context` (made on the spot for a sub-app invoked on its own)."""
    obj = ctx.find_object(Context)
    if obj is None:  # a command invoked without the callback (tests calling sub-apps)
        obj = Context()
        ctx.obj = obj
    return obj


def debug_enabled() -> bool:
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
            if _is_token_error(exc) and not debug_enabled():
                # the library's message quotes the token: say what is wrong without it
                raise fail(
                    "Telegram refused the bot token (TELEGRAM_BOT_TOKEN): it is revoked or mistyped; "
                    "check it with `briefcast doctor`"
                ) from None
            if debug_enabled() or not (isinstance(exc, BriefcastError | OSError) or _is_db_error(exc)):
                raise
            raise fail(error_message(exc)) from None

    return wrapper


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


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
