"""The housekeeping commands: ``db upgrade``, ``sources``, ``doctor`` and ``version``."""

from __future__ import annotations

from typing import Annotated

import typer

from briefcast import __version__
from briefcast.cli.base import app, context_of, db_app, fail, friendly


@db_app.command("upgrade")
@friendly
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database schema to the latest revision (safe to repeat)."""
    from briefcast.store.db import current_revision, redacted_url

    state = context_of(ctx)
    store = state.open_store()
    url = state.db_url or state.settings.database_url
    typer.echo(f"database {redacted_url(url)} is at revision {current_revision(store.engine)}")


@app.command()
@friendly
def sources(
    ctx: typer.Context,
    enable: Annotated[str | None, typer.Option("--enable", help="Re-enable a disabled source.")] = None,
) -> None:
    """Show every source's status, last success and last error."""
    from briefcast.ingest import enable_source, sources_status

    store = context_of(ctx).open_store()
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

    state = context_of(ctx)
    settings = state.settings
    if state.db_url:  # --db is the database to check (it was ignored before)
        settings = settings.model_copy(update={"database_url": state.db_url})
    if not format_results(run_checks(settings), echo=typer.echo):
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"briefcast {__version__}")
