"""The delivery commands: ``push``, ``deliveries``, ``retry-failed`` and ``worker``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from briefcast.cli.base import app, context_of, fail, friendly
from briefcast.config import Settings
from briefcast.errors import ConfigError
from briefcast.i18n import counted

if TYPE_CHECKING:
    from briefcast.store import Store


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

    state = context_of(ctx)
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

    rows = ops.list_deliveries(context_of(ctx).open_store(), status=status, issue_id=issue, limit=limit)
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

    n = ops.retry_failed(context_of(ctx).open_store(), issue_id=issue)
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

    state = context_of(ctx)
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
