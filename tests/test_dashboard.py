"""The operator dashboard: every page renders real data, escapes it, and is closed when it must be."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from briefcast.config import Secret, Settings
from briefcast.dashboard import dashboard_routes
from briefcast.dashboard.auth import COOKIE, DashboardAuth, is_loopback
from briefcast.ingest import IngestService
from briefcast.ingest.sources import SourceConfig, sync_source
from briefcast.store import ChatRef, Store, outbox
from briefcast.store.schema import deliveries
from briefcast.web import create_app

TOKEN = "dash-token-123"
EVIL = '<script>alert("x")</script>'


def client_for(settings: Settings, store: Store, *, home: bool = True) -> httpx.AsyncClient:
    app = create_app(routes=dashboard_routes(settings, store, ingest=IngestService(store), home=home))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def open_client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(Settings(), store) as c:
        yield c


async def publish(client: httpx.AsyncClient, text: str, **extra: str) -> httpx.Response:
    page = await client.get("/dashboard/publish")
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    body = urlencode({"csrf": csrf, "markdown": text, "kind": "", "publish": "1", **extra})
    return await client.post(
        "/dashboard/publish", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


@pytest.fixture
async def populated(open_client: httpx.AsyncClient, store: Store, sample_md: Path) -> Store:
    """The sample published through the form, two subscriptions, a failed and a sent delivery, a source."""
    answer = await publish(open_client, sample_md.read_text(encoding="utf-8"), name="weekly")
    assert answer.status_code == 200, answer.text
    issue = store.latest_issue()
    assert issue is not None
    tg, sl = ChatRef("telegram", "-1001"), ChatRef("slack", "C9", workspace="T1")
    store.upsert_chat(tg, kind="supergroup", title=f"Team {EVIL}")
    store.upsert_chat(sl, kind="slack_channel", title="energy-desk")
    store.subscribe(tg, ["energy", "ai"])
    store.subscribe(sl, ["energy"])
    outbox.enqueue_now(store.engine, issue.id, now=datetime.now(UTC))
    with store.engine.begin() as conn:
        sub = store.subscriptions_for_chat("telegram", "-1001")[0].id
        conn.execute(
            deliveries.update()
            .where(deliveries.c.subscription_id == sub)
            .values(status="failed", attempts=8, last_error=f"Forbidden: bot was kicked {EVIL}")
        )
        conn.execute(deliveries.update().where(deliveries.c.subscription_id != sub).values(status="sent"))
    sync_source(store, SourceConfig(name="inbox", kind="folder", location="/srv/briefings"))
    return store


async def test_publish_form_ingests_and_reports(
    open_client: httpx.AsyncClient, store: Store, sample_md: Path
) -> None:
    answer = await publish(open_client, sample_md.read_text(encoding="utf-8"))
    assert answer.status_code == 200
    assert "New: issue" in answer.text and ", published." in answer.text
    issue = store.latest_issue()
    assert issue is not None and issue.source == "dashboard"
    again = await publish(open_client, sample_md.read_text(encoding="utf-8"))
    assert "Duplicate: issue" in again.text
    bad = await publish(open_client, "just a line of text")
    assert bad.status_code == 422 and "Not published:" in bad.text


async def test_publish_requires_the_csrf_token(open_client: httpx.AsyncClient, store: Store) -> None:
    body = urlencode({"csrf": "forged", "markdown": "# T\n\n## ⚡ 能源：x\n\ntext"})
    answer = await open_client.post(
        "/dashboard/publish", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 403
    assert store.latest_issue() is None


async def test_issue_pages_show_previews_per_platform(
    open_client: httpx.AsyncClient, populated: Store
) -> None:
    issues = await open_client.get("/dashboard/issues")
    assert issues.status_code == 200
    issue = populated.latest_issue()
    assert issue is not None
    assert f'href="/dashboard/issues/{issue.id}"' in issues.text
    page = await open_client.get(f"/dashboard/issues/{issue.id}")
    assert page.status_code == 200
    html = page.text
    assert 'id="sector-energy"' in html and 'id="sector-ai"' in html
    assert "Telegram · 1 message<" in html and "Slack · 1 message<" in html  # "1 message", not "message(s)"
    # Telegram preview: the entities TDLib parsed, rendered as safe tags
    assert "<b>⚡ 能源基建：储能需求爆发，电网智能化升级</b>" in html
    assert 'href="https://quantshark.io/News/6a9faec9dbba545aab8159044b6fc475"' in html
    # Slack preview: Block Kit header and mrkdwn bold
    assert '<div class="sl-header">⚡ 能源基建：储能需求爆发，电网智能化升级</div>' in html
    assert "<b>核心进展</b>" in html
    english = await open_client.get(f"/dashboard/issues/{issue.id}?lang=en")
    assert "Source:" in english.text
    missing = await open_client.get("/dashboard/issues/999")
    assert missing.status_code == 404


async def test_subscriptions_page(open_client: httpx.AsyncClient, populated: Store) -> None:
    page = await open_client.get("/dashboard/subscriptions")
    assert page.status_code == 200
    assert "2 active" in page.text
    assert '<a href="?sector=energy">energy</a></th><td>1</td><td>1</td>' in page.text
    assert EVIL not in page.text and "Team &lt;script&gt;" in page.text
    only_slack = await open_client.get("/dashboard/subscriptions?platform=slack")
    assert (
        "energy-desk" in only_slack.text
        and "Team &lt;script&gt;" not in only_slack.text.split("<h2>Chats")[1]
    )


async def test_deliveries_page_counts_and_reasons(open_client: httpx.AsyncClient, populated: Store) -> None:
    page = await open_client.get("/dashboard/deliveries")
    assert page.status_code == 200
    html = page.text
    assert 'status=failed">1</a>' in html and 'status=sent">1</a>' in html
    assert "Forbidden: bot was kicked &lt;script&gt;" in html
    assert EVIL not in html
    failed = await open_client.get("/dashboard/deliveries?status=failed")
    rows = failed.text.split("<h2>Failed")[1]
    assert "energy-desk" not in rows and "Team &lt;script&gt;" in rows


async def test_sources_and_overview(open_client: httpx.AsyncClient, populated: Store) -> None:
    sources = await open_client.get("/dashboard/sources")
    assert sources.status_code == 200
    assert "inbox" in sources.text and "/srv/briefings" in sources.text
    assert "dashboard:weekly" in sources.text  # the ingest event of the published issue
    overview = await open_client.get("/")
    assert overview.status_code == 200
    assert "Latest issue" in overview.text and '<p class="big">2</p>' in overview.text
    assert "No worker has sent yet." in overview.text


async def test_overview_names_the_sending_worker(open_client: httpx.AsyncClient, populated: Store) -> None:
    from datetime import UTC, datetime, timedelta

    from briefcast.store.outbox import senders

    now = datetime.now(UTC)
    assert senders.acquire(populated.engine, "telegram", "worker-a1", now=now, ttl=timedelta(minutes=5))
    assert senders.acquire(
        populated.engine, "slack", "worker-b2", now=now - timedelta(hours=1), ttl=timedelta(seconds=15)
    )
    page = (await open_client.get("/")).text
    assert "sending</span> telegram: worker <code>worker-a1</code>" in page
    assert "none</span> slack: no live sender" in page and "<code>worker-b2</code>" in page


async def test_a_dead_worker_is_not_shown_as_sending(
    open_client: httpx.AsyncClient, populated: Store
) -> None:
    """Issue #13, case 3: a stopped playground's lease (stamped 20 h ahead) showed it "sending"."""
    import subprocess
    import sys
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from briefcast.store.outbox import liveness, senders
    from briefcast.store.tables import WorkerRow

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    liveness.register(populated.engine, "playground:1:x")
    table = WorkerRow.__table__  # type: ignore[attr-defined]
    with populated.engine.begin() as conn:
        conn.execute(sa.update(table).values(pid=gone.pid, pid_start="1"))
    far = datetime.now(UTC) + timedelta(hours=20)
    assert senders.acquire(populated.engine, "telegram", "playground:1:x", now=far, ttl=timedelta(seconds=15))
    page = (await open_client.get("/")).text
    assert "sending</span> telegram" not in page
    assert "stopped</span> worker <code>playground:1:x</code> stopped without handing back its work" in page
    from briefcast.metrics import database_gauges

    gauges = {name: values for name, _help, values in database_gauges(populated)}
    assert dict(gauges["briefcast_workers"])[(("state", "dead"),)] == 1.0
    assert all(v == 0.0 for _labels, v in gauges["briefcast_sender_lease"])


async def test_non_loopback_requires_login(store: Store) -> None:
    settings = Settings(http_host="0.0.0.0", api_token=Secret(TOKEN))
    async with client_for(settings, store) as c:
        anon = await c.get("/dashboard/issues", headers={"Accept": "text/html"})
        assert anon.status_code == 303 and anon.headers["location"] == "/dashboard/login"
        assert (await c.get("/dashboard/issues")).status_code == 401
        wrong = await c.post(
            "/dashboard/login",
            content="token=nope",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert wrong.status_code == 401 and COOKIE not in wrong.cookies
        bearer = await c.get("/dashboard/issues", headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status_code == 200
        login = await c.post(
            "/dashboard/login",
            content=f"token={TOKEN}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert login.status_code == 303
        cookie = login.cookies[COOKIE]
        assert TOKEN not in cookie
        assert "httponly" in login.headers["set-cookie"].lower()
        assert "samesite=strict" in login.headers["set-cookie"].lower()
        c.cookies.set(COOKIE, cookie)
        assert (await c.get("/dashboard/deliveries")).status_code == 200
        c.cookies.set(COOKIE, "forged")
        assert (await c.get("/dashboard/deliveries")).status_code == 401


async def test_non_loopback_without_token_stays_closed(store: Store) -> None:
    async with client_for(Settings(http_host="0.0.0.0"), store) as c:
        page = await c.get("/dashboard")
    assert page.status_code == 503
    assert "BRIEFCAST_API_TOKEN" in page.text


async def test_playground_mode_leaves_root_alone(store: Store) -> None:
    async with client_for(Settings(), store, home=False) as c:
        assert (await c.get("/")).status_code == 404
        assert (await c.get("/dashboard")).status_code == 200
        css = await c.get("/static/dashboard/dashboard.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]


@pytest.mark.parametrize(
    ("host", "loop"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
    ],
)
def test_loopback_detection(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop
    assert DashboardAuth(Settings(http_host=host)).open is loop


async def test_subscriptions_page_shows_settings_and_watched_words(
    open_client: httpx.AsyncClient, populated: Store
) -> None:
    tg = ChatRef("telegram", "-1001")
    populated.set_options(tg, variant="compact", silent=True)
    populated.add_watches(tg, ["钠电池", f"x{EVIL}"[:40]], mode="publish")
    page = await open_client.get("/dashboard/subscriptions")
    assert page.status_code == 200
    assert '<td class="settings">compact · silent</td>' in page.text
    assert '<td class="settings">full</td>' in page.text
    watches = page.text.split('<h2 id="watches">', 1)[1].split("<h2>", 1)[0]
    assert "1 chat watching 2 words" in watches and "钠电池" in watches and "on publish" in watches
    assert "<script>" not in watches and "&lt;script&gt;" in watches


async def test_favicon_is_served_without_login(store: Store) -> None:
    settings = Settings(http_host="0.0.0.0", api_token=Secret(TOKEN))  # a public address: pages need login
    async with client_for(settings, store) as c:
        icon = await c.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/vnd.microsoft.icon"
        assert icon.content[:4] == b"\x00\x00\x01\x00" and b"PNG" in icon.content[:40]
        page = await c.get("/dashboard/login")
        assert '<link rel="icon" href="/favicon.ico"' in page.text
