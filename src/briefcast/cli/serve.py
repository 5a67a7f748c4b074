"""``briefcast run``: the bundled sample issue, then the bots, deliveries, pollers and web app served."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from briefcast.cli.base import app, context_of, friendly
from briefcast.cli.issues import briefing_text
from briefcast.config import Settings
from briefcast.errors import ConfigError

if TYPE_CHECKING:
    from briefcast.store import Store, StoredIssue

REPO_ROOT = Path(__file__).resolve().parents[3]
SAMPLE_NAME = "sample-issue.md"


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
    state = context_of(ctx)
    code = run_app(state.settings, state.open_store(), serve=not no_serve)
    if code:
        raise typer.Exit(code)
