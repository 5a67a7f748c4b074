"""Polled sources against a real HTTP server on 127.0.0.1 and real folders, on SQLite and PostgreSQL.

Time is an injected clock: backoff and the folder settle time are tested by
moving it, never by sleeping. The only real waits are the sub-second HTTP
timeouts the timeout tests are about.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from briefcast.errors import ConfigError
from briefcast.ingest import IngestService, recent_events
from briefcast.ingest.sources import (
    SourceConfig,
    SourcePoller,
    build_pollers,
    enable_source,
    load_source_configs,
    sources_status,
)
from briefcast.store import Store
from factories import Clock

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Server:
    """A loopback HTTP server whose routes tests set; it records every request's path and headers."""

    base: str = ""
    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.requests if p == path]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        handler = self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="not found")
        return await handler(request)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    srv = Server()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", srv.handle)
    runner = web.AppRunner(app, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    srv.base = f"http://127.0.0.1:{port}"
    try:
        yield srv
    finally:
        srv.release.set()  # let any "slow" handler finish
        await runner.cleanup()


def static(
    body: bytes, content_type: str = "text/markdown", *, etag: str = "", last_modified: str = ""
) -> Handler:
    """A resource honouring If-None-Match / If-Modified-Since like a real web server."""

    async def handler(request: web.Request) -> web.StreamResponse:
        headers = {}
        if etag:
            headers["ETag"] = etag
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=headers)
        if last_modified:
            headers["Last-Modified"] = last_modified
            if request.headers.get("If-Modified-Since") == last_modified:
                return web.Response(status=304, headers=headers)
        return web.Response(body=body, headers={"Content-Type": content_type, **headers})

    return handler


def status(code: int) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=code, text="boom")

    return handler


@pytest.fixture
def clock() -> Clock:
    return Clock(1_800_000_000.0)


@pytest.fixture
def service(store: Store) -> IngestService:
    return IngestService(store)


def poller(service: IngestService, clock: Clock, alerts: list[str] | None = None, **raw: Any) -> SourcePoller:
    config = SourceConfig.from_mapping({"name": "src", "interval": 60, **raw})

    def alert(name: str, message: str) -> None:
        if alerts is not None:
            alerts.append(f"{name}: {message}")

    return SourcePoller.create(config, service, clock=clock, alert=alert)


def status_of(store: Store, name: str = "src") -> Any:
    [row] = [s for s in sources_status(store) if s.name == name]
    return row


# ------------------------------------------------------------------------ URL


async def test_url_conditional_get(
    server: Server, service: IngestService, store: Store, clock: Clock, sample_en_md: Path
) -> None:
    server.routes["/issue.md"] = static(
        sample_en_md.read_bytes(), etag='"v1"', last_modified="Sat, 28 Nov 2026 08:00:00 GMT"
    )
    p = poller(service, clock, kind="url", url=server.url("/issue.md"))

    first = await p.poll_once()
    assert first.status == "ok"
    assert [o.status for o in first.ingested] == ["new"]
    row = status_of(store)
    assert (row.status, row.failures) == ("ok", 0) and row.last_success_at is not None

    second = await p.poll_once()
    assert second.status == "not-modified" and second.outcomes == ()
    sent = server.hits("/issue.md")[-1]
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Sat, 28 Nov 2026 08:00:00 GMT"
    assert len(store.list_issues()) == 1
    assert [e.status for e in recent_events(store, source=server.url("/issue.md"))] == ["new"]


async def test_url_new_content_is_a_revision(
    server: Server, service: IngestService, store: Store, clock: Clock, sample_en_md: Path
) -> None:
    body = sample_en_md.read_bytes()
    server.routes["/issue.md"] = static(body, etag='"v1"')
    p = poller(service, clock, kind="url", url=server.url("/issue.md"))
    assert (await p.poll_once()).ingested[0].status == "new"
    server.routes["/issue.md"] = static(body.replace(b"60%", b"61%"), etag='"v2"')
    [rev] = (await p.poll_once()).ingested
    assert rev.status == "revision" and rev.revision == 2


async def test_url_500_backs_off_doubling_and_disables(
    server: Server,
    service: IngestService,
    store: Store,
    clock: Clock,
    sample_en_md: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = await service.ingest_bytes(sample_en_md.read_bytes(), origin="earlier", source="earlier.md")
    server.routes["/issue.md"] = status(500)
    alerts: list[str] = []
    p = poller(
        service, clock, alerts, kind="url", url=server.url("/issue.md"), max_failures=3, backoff_max=150
    )

    r1 = await p.poll_once()
    assert r1.status == "failed" and "HTTP 500" in r1.reason
    row = status_of(store)
    assert (row.status, row.failures) == ("error", 1) and "HTTP 500" in row.last_error
    assert p.next_attempt_at == clock.now + 60

    # Within the backoff window nothing is fetched.
    clock.advance(20)
    assert (await p.poll_once()).status == "backoff"
    assert len(server.hits("/issue.md")) == 1

    clock.advance(40)
    assert (await p.poll_once()).status == "failed"
    assert status_of(store).failures == 2
    assert p.next_attempt_at == clock.now + 120  # doubled

    clock.advance(120)
    with caplog.at_level(logging.ERROR, logger="briefcast.ingest.sources"):
        r3 = await p.poll_once()
    assert r3.status == "disabled"
    assert p.backoff_delay(3) == 150 and p.backoff_delay(10) == 150  # capped
    row = status_of(store)
    assert (row.status, row.failures) == ("disabled", 3)
    assert len(alerts) == 1 and "disabled after 3 consecutive failures" in alerts[0]
    assert any(r.levelno == logging.ERROR and "disabled" in r.getMessage() for r in caplog.records)
    failed = [e for e in recent_events(store, source=server.url("/issue.md")) if e.status == "failed"]
    assert len(failed) == 3

    # Disabled: no more requests, whatever the clock says; the earlier issue is intact.
    clock.advance(10_000)
    assert (await p.poll_once()).status == "disabled"
    assert len(server.hits("/issue.md")) == 3
    latest = store.latest_issue()
    assert latest is not None and latest.id == good.issue_id

    # The operator fixes the URL and re-enables the source.
    server.routes["/issue.md"] = static(sample_en_md.read_bytes().replace(b"60%", b"62%"))
    assert enable_source(store, "src")
    r = await p.poll_once()
    assert r.status == "ok" and r.ingested[0].status == "revision"
    assert (status_of(store).status, status_of(store).failures) == ("ok", 0)


async def test_url_timeout_is_recorded(
    server: Server, service: IngestService, store: Store, clock: Clock
) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await server.release.wait()
        return web.Response(text="too late")

    server.routes["/slow"] = slow
    p = poller(service, clock, kind="url", url=server.url("/slow"), timeout=0.2)
    r = await p.poll_once()
    assert r.status == "failed" and "timed out after 0.2 s" in r.reason
    row = status_of(store)
    assert (row.status, row.failures) == ("error", 1) and "timed out" in row.last_error


async def test_url_trickling_body_hits_the_total_timeout(
    server: Server, service: IngestService, store: Store, clock: Clock
) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/markdown"})
        await resp.prepare(request)
        await resp.write(b"# Title\n")
        await server.release.wait()
        return resp

    server.routes["/trickle"] = trickle
    p = poller(service, clock, kind="url", url=server.url("/trickle"), timeout=0.3)
    r = await p.poll_once()
    assert r.status == "failed" and "timed out" in r.reason


async def test_url_size_cap_streams_and_stops(
    server: Server, service: IngestService, store: Store, clock: Clock
) -> None:
    async def endless(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/markdown"})  # chunked: no Content-Length
        await resp.prepare(request)
        for _ in range(100):
            await resp.write(b"x" * 1000)
        return resp

    server.routes["/big"] = endless
    server.routes["/declared"] = static(b"y" * 5000)
    p = poller(service, clock, kind="url", url=server.url("/big"), max_bytes=2000)
    r = await p.poll_once()
    assert r.status == "failed" and "2,000-byte limit (stopped reading)" in r.reason

    q = SourcePoller.create(
        SourceConfig.from_mapping(
            {"name": "declared", "kind": "url", "url": server.url("/declared"), "max_bytes": 2000}
        ),
        service,
        clock=clock,
    )
    r = await q.poll_once()
    assert r.status == "failed" and "5,000 bytes" in r.reason


async def test_url_page_that_is_not_a_briefing(
    server: Server, service: IngestService, store: Store, clock: Clock
) -> None:
    server.routes["/page"] = static(b"<html><body><nav></nav></body></html>", "text/html", etag='"x"')
    p = poller(service, clock, kind="url", url=server.url("/page"))
    r = await p.poll_once()
    assert r.status == "failed" and "empty" in r.reason
    # Validators of bad content are not kept: the next poll fetches in full again.
    clock.advance(60)
    await p.poll_once()
    assert "If-None-Match" not in server.hits("/page")[-1]
    events = recent_events(store, source=server.url("/page"))
    assert [e.status for e in events] == ["failed", "failed"]  # recorded once per poll, not twice


async def test_unreachable_url(service: IngestService, store: Store, clock: Clock) -> None:
    p = poller(service, clock, kind="url", url="http://127.0.0.1:9/nothing", timeout=2)
    r = await p.poll_once()
    assert r.status == "failed" and "could not fetch" in r.reason


# ----------------------------------------------------------------------- feed


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Weekly</title>'
        "<link>http://example.test/</link><description>d</description>" + "".join(items) + "</channel></rss>"
    ).encode()


def item(guid: str, *, link: str = "", content: str = "", summary: str = "") -> str:
    parts = [f'<guid isPermaLink="false">{guid}</guid><title>{guid}</title>']
    if link:
        parts.append(f"<link>{link}</link>")
    if content:
        parts.append(f"<content:encoded><![CDATA[{content}]]></content:encoded>")
    if summary:
        parts.append(f"<description>{summary}</description>")
    return "<item>" + "".join(parts) + "</item>"


async def test_feed_entries_content_and_links(
    server: Server, service: IngestService, store: Store, clock: Clock, sample_html: Path, sample_en_md: Path
) -> None:
    html = sample_html.read_text(encoding="utf-8")
    article = html[html.index("<article>") : html.index("</article>") + len("</article>")]
    server.routes["/linked.md"] = static(sample_en_md.read_bytes())
    feed_v1 = rss(
        item("zh-1", content=article),
        item(
            "en-1", link="/linked.md", summary="A short teaser."
        ),  # relative link, resolved against the feed
    )
    server.routes["/feed.xml"] = static(feed_v1, "application/rss+xml", etag='"f1"')
    p = poller(service, clock, kind="feed", url=server.url("/feed.xml"))

    r = await p.poll_once()
    assert r.status == "ok"
    assert sorted(o.status for o in r.ingested) == ["new", "new"]
    assert len(server.hits("/linked.md")) == 1
    titles = {i.title for i in store.list_issues()}
    assert "Key Sectors Weekly" in titles and len(titles) == 2

    r = await p.poll_once()
    assert r.status == "not-modified"
    assert server.hits("/feed.xml")[-1]["If-None-Match"] == '"f1"'

    # The feed changes: the embedded entry gets new content; the linked entry is unchanged and not re-fetched.
    feed_v2 = rss(
        item("zh-1", content=article.replace("3倍", "4倍")),
        item("en-1", link="/linked.md", summary="A short teaser."),
    )
    server.routes["/feed.xml"] = static(feed_v2, "application/rss+xml", etag='"f2"')
    r = await p.poll_once()
    assert [o.status for o in r.outcomes] == ["revision"]
    assert len(server.hits("/linked.md")) == 1


async def test_feed_broken_xml_is_a_failure(
    server: Server, service: IngestService, store: Store, clock: Clock
) -> None:
    server.routes["/feed.xml"] = static(b"this is <<< not a feed", "application/rss+xml")
    p = poller(service, clock, kind="feed", url=server.url("/feed.xml"))
    r = await p.poll_once()
    assert r.status == "failed" and "not a valid RSS/Atom feed" in r.reason
    assert status_of(store).status == "error"


async def test_feed_entry_link_failure_is_retried(
    server: Server, service: IngestService, store: Store, clock: Clock, sample_en_md: Path
) -> None:
    server.routes["/issue"] = status(503)
    server.routes["/feed.xml"] = static(rss(item("a", link="/issue")), "application/rss+xml", etag='"f"')
    p = poller(service, clock, kind="feed", url=server.url("/feed.xml"))
    r = await p.poll_once()
    assert r.status == "ok"  # the feed itself is fine
    assert r.outcomes[0].status == "failed" and "HTTP 503" in r.outcomes[0].reason
    assert "HTTP 503" in status_of(store).last_error

    server.routes["/issue"] = static(sample_en_md.read_bytes(), "text/markdown; charset=utf-8")
    r = await p.poll_once()
    # The feed's ETag was not kept, so the feed is fetched in full and the entry retried.
    assert "If-None-Match" not in server.hits("/feed.xml")[-1]
    assert [o.status for o in r.ingested] == ["new"]


async def test_feed_entry_without_content_or_link(
    server: Server, service: IngestService, store: Store, clock: Clock
) -> None:
    server.routes["/feed.xml"] = static(rss(item("lonely", summary="tiny")), "application/rss+xml")
    p = poller(service, clock, kind="feed", url=server.url("/feed.xml"))
    r = await p.poll_once()
    assert r.status == "ok" and r.outcomes[0].status == "failed"
    assert "has no content and no link" in r.outcomes[0].reason


# --------------------------------------------------------------------- folder


def write(path: Path, data: bytes, mtime: float) -> None:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


async def test_folder_new_changed_and_unchanged(
    tmp_path: Path, service: IngestService, store: Store, clock: Clock, sample_en_md: Path, sample_md: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write(inbox / "en.md", sample_en_md.read_bytes(), clock.now - 60)
    write(inbox / "zh.md", sample_md.read_bytes(), clock.now - 60)
    write(inbox / "notes.pdf", b"%PDF", clock.now - 60)  # not an issue file: ignored
    write(inbox / ".en.md.swp", b"x", clock.now - 60)  # editor temp file: ignored
    p = poller(service, clock, kind="folder", path=str(inbox))

    r = await p.poll_once()
    assert r.status == "ok" and sorted(o.status for o in r.ingested) == ["new", "new"]
    assert len(r.outcomes) == 2

    r = await p.poll_once()
    assert r.outcomes == ()  # unchanged files are not read again

    write(inbox / "en.md", sample_en_md.read_bytes().replace(b"60%", b"63%"), clock.now - 30)
    r = await p.poll_once()
    assert [(o.status, o.revision) for o in r.outcomes] == [("revision", 2)]


async def test_folder_half_written_file_waits(
    tmp_path: Path, service: IngestService, store: Store, clock: Clock, sample_en_md: Path
) -> None:
    full = sample_en_md.read_bytes()
    path = tmp_path / "issue.md"
    write(path, full[:200], clock.now - 1)  # being written right now
    p = poller(service, clock, kind="folder", path=str(tmp_path), settle_seconds=5)

    r = await p.poll_once()
    assert r.pending == 1 and r.outcomes == ()

    write(path, full[:900], clock.now - 0.5)  # still growing
    clock.advance(1)
    r = await p.poll_once()
    assert r.pending == 1 and r.outcomes == ()

    write(path, full, clock.now)  # done
    clock.advance(1)
    assert (await p.poll_once()).pending == 1  # first sight of the final size
    clock.advance(1)
    r = await p.poll_once()  # unchanged across two polls: read, complete
    assert [o.status for o in r.outcomes] == ["new"]
    issue = store.latest_issue()
    assert issue is not None and len(issue.briefing.sections) >= 3
    assert len(store.list_issues()) == 1


async def test_folder_bad_files_are_recorded_not_fatal(
    tmp_path: Path, service: IngestService, store: Store, clock: Clock, sample_en_md: Path
) -> None:
    old = clock.now - 600
    write(tmp_path / "a-good.md", sample_en_md.read_bytes(), old)
    write(tmp_path / "b-binary.md", b"\x89PNG\r\n\x1a\n\xff\xfe\xfd", old)
    write(tmp_path / "c-empty.html", b"", old)
    write(tmp_path / "d-huge.md", b"#" * 30_000, old)
    p = poller(service, clock, kind="folder", path=str(tmp_path), max_bytes=20_000)

    r = await p.poll_once()
    assert r.status == "ok"
    by_status = sorted((o.status, o.reason.split(" ")[0]) for o in r.outcomes)
    assert by_status[-1] == ("new", "")
    failed = [o.reason for o in r.outcomes if o.status == "failed"]
    assert len(failed) == 3
    assert any("b-binary.md is not valid UTF-8" in f for f in failed)
    assert any("c-empty.html" in f and "empty" in f for f in failed)
    assert any("d-huge.md" in f and "20,000-byte limit" in f for f in failed)
    row = status_of(store)
    assert (
        row.status == "ok" and row.failures == 0 and row.last_error
    )  # the folder is healthy, the files are not
    assert {e.source.rsplit("/", 1)[-1] for e in recent_events(store) if e.status == "failed"} == {
        "b-binary.md",
        "c-empty.html",
        "d-huge.md",
    }
    assert (await p.poll_once()).outcomes == ()  # bad files are not retried until they change


async def test_missing_folder_is_a_failure(
    tmp_path: Path, service: IngestService, store: Store, clock: Clock
) -> None:
    p = poller(service, clock, kind="folder", path=str(tmp_path / "nope"))
    r = await p.poll_once()
    assert r.status == "failed" and "does not exist" in r.reason
    assert status_of(store).failures == 1


# ------------------------------------------------------------- config, status


def test_source_config_validation(tmp_path: Path) -> None:
    [c] = load_source_configs([{"name": "w", "kind": "url", "url": "https://x.test/a.md", "interval": 90}])
    assert (c.kind, c.location, c.interval, c.enabled) == ("url", "https://x.test/a.md", 90.0, True)
    bad: list[tuple[dict[str, Any], str]] = [
        ({"kind": "url", "url": "https://x"}, "needs a name"),
        ({"name": "a", "kind": "ftp", "url": "ftp://x"}, "kind must be"),
        ({"name": "a", "kind": "folder"}, "set path"),
        ({"name": "a", "kind": "feed", "url": "x.test/feed"}, "http:// or https://"),
        ({"name": "a", "kind": "url", "url": "https://x", "interval": "soon"}, "interval must be a float"),
        ({"name": "a", "kind": "url", "url": "https://x", "interval": 0}, "must be positive"),
        ({"name": "a", "kind": "url", "url": "https://x", "enabled": "yes"}, "true or false"),
        ({"name": "a", "kind": "url", "url": "https://x", "intervall": 5}, "unknown setting(s) intervall"),
    ]
    for raw, message in bad:
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_source_configs([raw])
    with pytest.raises(ConfigError, match="unique"):
        load_source_configs([{"name": "a", "kind": "folder", "path": "x"}] * 2)


async def test_build_pollers_and_status(tmp_path: Path, service: IngestService, store: Store) -> None:
    raw: list[dict[str, Any]] = [
        {"name": "inbox", "kind": "folder", "path": str(tmp_path)},
        {"name": "off", "kind": "url", "url": "https://x.test/a.md", "enabled": False},
    ]
    pollers = build_pollers(raw, service)
    assert [p.name for p in pollers] == ["inbox"]
    statuses = {s.name: s for s in sources_status(store)}
    assert statuses["inbox"].status == "new" and statuses["off"].status == "paused"
    assert statuses["inbox"].kind == "folder" and statuses["off"].location == "https://x.test/a.md"

    # Moving a source elsewhere resets its state.
    pollers = build_pollers([{**raw[0], "path": str(tmp_path / "missing")}], service)
    await pollers[0].poll_once()
    assert status_of(store, "inbox").failures == 1
    build_pollers([raw[0]], service)
    assert (status_of(store, "inbox").failures, status_of(store, "inbox").status) == (0, "new")
    assert not enable_source(store, "nobody")


async def test_register_with_apscheduler(
    tmp_path: Path, service: IngestService, store: Store, sample_en_md: Path
) -> None:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    from briefcast.jobs import Jobs

    (tmp_path / "issue.md").write_bytes(sample_en_md.read_bytes())
    os.utime(tmp_path / "issue.md", (1, 1))
    [p] = build_pollers(
        [{"name": "inbox", "kind": "folder", "path": str(tmp_path), "interval": 3600}], service
    )
    ran = asyncio.Event()
    jobs = Jobs()
    jobs.aps.add_listener(lambda _e: ran.set(), EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    p.register(jobs)
    job = jobs.aps.get_job("source:inbox")
    assert job is not None and job.trigger.interval.total_seconds() == 3600
    jobs.start()
    try:
        await asyncio.wait_for(ran.wait(), timeout=10)
    finally:
        jobs.stop()
    assert not jobs.running
    assert status_of(store, "inbox").status == "ok"
    assert len(store.list_issues()) == 1
