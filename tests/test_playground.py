"""The local playground end to end: the real bots, scheduler and engine against the embedded fakes.

``runtime.serve`` runs in the test's event loop on an ephemeral port; the test drives the page's
JSON API over HTTP exactly as the browser does, and waits on the fakes' recorded traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from briefcast.briefing.parse import parse_markdown
from briefcast.config import Secret, Settings, SlackSettings, TelegramSettings
from briefcast.metrics import Metrics, metrics_route
from briefcast.playground import Playground, build_playground, wants_playground
from briefcast.playground.platform import TG_FORUM, TG_GROUP, TG_USER
from briefcast.render.preview import mrkdwn_html, slack_html, telegram_buttons, telegram_html
from briefcast.runtime import serve
from briefcast.store import Store
from briefcast.testing.tdlib import check_telegram_payload

# ------------------------------------------------------------------ rendering (pure)


def test_telegram_html_escapes_and_nests() -> None:
    text = "<b>not a tag</b> Hi bold link 😀 end"
    entities = [
        {"offset": 20, "length": 4, "type": "bold"},
        {"offset": 20, "length": 9, "type": "text_link", "url": "https://example.org/?a=1&b=2"},
        {"offset": 30, "length": 2, "type": "italic"},  # the emoji: 2 UTF-16 units
    ]
    html = telegram_html(text, entities)
    assert html == (
        "&lt;b&gt;not a tag&lt;/b&gt; Hi "
        '<a href="https://example.org/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">'
        "<b>bold</b> link</a>"
        " <i>😀</i> end"
    )


def test_telegram_html_overlap_and_unsafe_links() -> None:
    assert telegram_html(
        "abcdef", [{"offset": 0, "length": 4, "type": "bold"}, {"offset": 2, "length": 4, "type": "italic"}]
    ) == ("<b>ab<i>cd</i></b><i>ef</i>")
    js = telegram_html(
        "click", [{"offset": 0, "length": 5, "type": "text_link", "url": "javascript:alert(1)"}]
    )
    assert js == '<span class="bad-link">click</span>'
    quote = telegram_html("q\nline", [{"offset": 0, "length": 6, "type": "blockquote"}])
    assert quote == "<blockquote>q\nline</blockquote>"
    assert telegram_html("x", [{"offset": 0, "length": 5, "type": "bold"}]) == "x"  # out of range: ignored


def test_mrkdwn_html() -> None:
    html = mrkdwn_html(
        "*核心进展*\n<https://q.io/a?x=1&amp;y=2|宁德 &lt;b&gt;> _it_ ~s~ `c*d*`\n"
        "> quoted *b*\nafter <javascript:x|bad>"
    )
    assert html == (
        "<b>核心进展</b>\n"
        '<a href="https://q.io/a?x=1&amp;y=2" target="_blank" rel="noopener noreferrer">宁德 &lt;b&gt;</a>'
        " <i>it</i> <s>s</s> <code>c*d*</code>"
        "<blockquote>quoted <b>b</b></blockquote>"
        'after <span class="bad-link">bad</span>'
    )
    assert mrkdwn_html("<script>") == '<span class="bad-link">script</span>'  # a "link" to nowhere
    assert mrkdwn_html("2 * 3 * 4") == "2 * 3 * 4"  # not bold: the marks need word boundaries


def test_slack_blocks_and_buttons() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "<Title>"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*b*"},
            "fields": [{"type": "plain_text", "text": "f"}],
        },
        {"type": "divider"},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "_src_"}, {"type": "image", "image_url": "x"}],
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "AI"},
                    "action_id": "sector:ai",
                    "value": "ai",
                },
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Web"},
                    "action_id": "link:#1",
                    "url": "javascript:x",
                },
            ],
        },
    ]
    html, rows = slack_html(blocks)
    assert html == (
        '<div class="sl-header">&lt;Title&gt;</div>'
        '<div class="sl-section"><b>b</b><div class="sl-fields"><div>f</div></div></div>'
        '<hr class="sl-divider"><div class="sl-context"><i>src</i></div>'
    )
    assert rows == [
        [
            {"text": "AI", "action_id": "sector:ai", "value": "ai"},
            {"text": "Web", "action_id": "link:#1", "value": ""},
        ]
    ]
    assert slack_html(None, "plain *b*") == ('<div class="sl-section">plain <b>b</b></div>', [])
    keyboard = {
        "inline_keyboard": [
            [{"text": "AI", "callback_data": "sector:ai"}, {"text": "Go", "url": "https://x.org"}]
        ]
    }
    assert telegram_buttons(keyboard) == [
        [{"text": "AI", "data": "sector:ai"}, {"text": "Go", "url": "https://x.org"}]
    ]


def test_wants_playground_only_without_any_credential() -> None:
    assert wants_playground(Settings())
    assert not wants_playground(Settings(telegram=TelegramSettings(token=Secret("1:x"))))
    assert not wants_playground(Settings(slack=SlackSettings(bot_token=Secret("xoxb-1"))))
    assert not wants_playground(Settings(slack=SlackSettings(client_id="c", client_secret=Secret("s"))))


# ------------------------------------------------------------------ the running app


@dataclass
class Running:
    pg: Playground
    store: Store
    client: httpx.AsyncClient
    metrics: Metrics

    async def send(self, room: str, text: str, **extra: Any) -> httpx.Response:
        return await self.client.post("/playground/api/send", json={"room": room, "text": text, **extra})

    async def feed(self, after: int = 0) -> list[dict[str, Any]]:
        answer = await self.client.get(f"/playground/api/messages?after={after}")
        assert answer.status_code == 200
        messages: list[dict[str, Any]] = answer.json()["messages"]
        return messages

    def bot_messages(self, room: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [m for m in messages if m["room"] == room and m["sender"] == "bot"]


@pytest.fixture
async def running(sqlite_url: str, sample_md: Path) -> AsyncIterator[Running]:
    settings = Settings(database_url=sqlite_url, http_port=0, default_language="zh")
    store = Store.open(sqlite_url, settings=settings)
    raw = sample_md.read_text(encoding="utf-8")
    store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample")
    metrics = Metrics()
    pg = build_playground(settings, store, metrics=metrics)
    stop = asyncio.Event()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            pg.settings,
            store,
            stop_event=stop,
            components=pg.components,
            routes=[*pg.routes, metrics_route(store, metrics)],
            on_ready=port.set_result,
        )
    )
    try:
        bound = await asyncio.wait_for(asyncio.shield(port), 20)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound}", timeout=10) as client:
            yield Running(pg, store, client, metrics)
        for message in pg.platform.telegram.sent_messages:
            check_telegram_payload(message.params)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 20)
        pg.close()
        store.close()


async def test_health_lists_every_part(running: Running) -> None:
    answer = await running.client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["checks"] == {
        "database": True,
        "playground": True,
        "telegram": True,
        "slack": True,
        "delivery": True,
    }
    assert running.pg.settings.telegram.api_url == running.pg.platform.telegram.base_url


async def test_page_and_assets(running: Running) -> None:
    page = await running.client.get("/")
    assert page.status_code == 200
    assert 'data-room="tg-private"' in page.text and 'data-room="slack-channel"' in page.text
    assert "Advance the schedule" in page.text
    assert (await running.client.get("/static/playground/playground.js")).status_code == 200
    assert (await running.client.get("/dashboard")).status_code == 200


async def test_private_command_and_inline_button(running: Running) -> None:
    tg = running.pg.platform.telegram
    assert (await running.send("tg-private", "/energy", lang="en")).json() == {"ok": True}
    await tg.wait_for(lambda: tg.messages_to(TG_USER))
    feed = await running.feed()
    [user] = [m for m in feed if m["sender"] == "user"]
    assert user["html"] == "/energy" and user["room"] == "tg-private"
    [answer] = running.bot_messages("tg-private", feed)
    assert answer["html"].startswith("<b>⚡ 能源基建：储能需求爆发，电网智能化升级</b>")
    assert '<a href="https://quantshark.io/News/6a9faec9dbba545aab8159044b6fc475"' in answer["html"]
    assert "Source:" in answer["html"]  # lang=en from the page's language picker
    ai = next(b for row in answer["buttons"] for b in row if b.get("data") == "sector:ai")
    pressed = await running.client.post(
        "/playground/api/press", json={"room": "tg-private", "id": answer["id"], "data": ai["data"]}
    )
    assert pressed.json() == {"ok": True}
    await tg.wait_for(lambda: len(tg.messages_to(TG_USER)) >= 2 or tg.edits)
    await tg.wait_for(lambda: tg.callback_answers)
    later = await running.feed(max(m["seq"] for m in feed))
    assert any("🤖" in m["html"] for m in running.bot_messages("tg-private", later))
    metrics = await running.client.get("/metrics")
    assert 'briefcast_commands_served_total{command="energy",platform="telegram"} 1.0' in metrics.text
    assert 'briefcast_commands_served_total{command="button:sector",platform="telegram"} 1.0' in metrics.text


async def test_slack_slash_command_and_mention(running: Running) -> None:
    sl = running.pg.platform.slack
    assert (await running.send("slack-channel", "/briefing energy")).json() == {"ok": True}
    await sl.wait_for(lambda: sl.responses)
    [answer] = running.bot_messages("slack-channel", await running.feed())
    assert answer["html"].startswith('<div class="sl-header">⚡ 能源基建：储能需求爆发，电网智能化升级</div>')
    assert answer["note"] == "only visible to you"
    assert any(b["action_id"] == "sector:ai" for row in answer["buttons"] for b in row)
    assert (await running.send("slack-channel", "keywords")).json() == {"ok": True}  # an @mention
    await sl.wait_for(lambda: sl.ephemerals or len(sl.responses) >= 2 or sl.posted)
    wrong = await running.send("slack-channel", "/energy")
    assert wrong.status_code == 400
    assert "/briefing energy" in wrong.json()["error"]


async def test_subscribe_in_group_then_advance_delivers_the_push(running: Running) -> None:
    tg = running.pg.platform.telegram
    assert (await running.send("tg-group", f"/subscribe@{tg.bot_user['username']} energy 08:00")).json()["ok"]
    await tg.wait_for(lambda: tg.messages_to(TG_GROUP))
    confirm = running.bot_messages("tg-group", await running.feed())
    assert "08:00" in confirm[0]["html"]
    before = len(tg.messages_to(TG_GROUP))
    advanced = await running.client.post("/playground/api/advance", json={})
    body = advanced.json()
    assert body["ok"] and body["enqueued"] == 1
    assert body["moved_to"].endswith("+00:00") and "08:00" in body["message"]
    await tg.wait_for(lambda: len(tg.messages_to(TG_GROUP)) > before, timeout=15)
    push = running.bot_messages("tg-group", await running.feed())[-1]
    assert push["html"].startswith("<b>⚡ 能源基建")
    nothing = (await running.client.post("/playground/api/advance", json={})).json()
    assert nothing["enqueued"] == 0 and "Everyone is up to date: 1 subscription" in nothing["message"]
    assert "(ies)" not in body["message"] and "1 delivery queued" in body["message"]


async def test_api_rejects_bad_requests(running: Running) -> None:
    assert (await running.send("nowhere", "/energy")).status_code == 400
    assert (await running.send("tg-private", "   ")).status_code == 400
    form = await running.client.post("/playground/api/send", content="room=tg-private&text=/energy")
    assert form.status_code == 415  # JSON only: other sites cannot post here with a plain form
    bad_press = await running.client.post(
        "/playground/api/press", json={"room": "tg-private", "id": "x", "data": "a"}
    )
    assert bad_press.status_code == 400
    assert (await running.client.get("/playground/api/messages?after=x")).status_code == 400


async def test_playground_on_a_public_address_needs_the_token(sqlite_url: str) -> None:
    """Bound to 0.0.0.0 (Docker without platform tokens), the page follows the dashboard's rule."""
    from briefcast.web import create_app

    settings = Settings(database_url=sqlite_url, http_host="0.0.0.0", api_token=Secret("t0ken"))
    store = Store.open(sqlite_url, settings=settings)
    pg = build_playground(settings, store, dashboard=False)
    try:
        app = create_app(routes=pg.routes)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            page = await client.get("/", headers={"Accept": "text/html"})
            assert page.status_code == 303 and page.headers["location"] == "/dashboard/login"
            assert (await client.post("/playground/api/advance", json={})).status_code == 401
            allowed = await client.get("/playground/api/messages", headers={"Authorization": "Bearer t0ken"})
            assert allowed.status_code == 200
    finally:
        pg.close()
        store.close()


async def test_forum_room_welcome_topics_and_a_message_in_a_topic(running: Running) -> None:
    tg = running.pg.platform.telegram
    # the bot "joins" the playground forum at start-up and posts its welcome card there
    await tg.wait_for(lambda: tg.messages_to(TG_FORUM))
    [welcome] = running.bot_messages("tg-forum", await running.feed())
    assert welcome["html"].startswith("<b>👋 感谢把我加入「Playground forum」</b>")
    assert welcome["note"] == "# General" and "/topics" in welcome["html"]
    assert any(b.get("data") == "toggle:energy" for row in welcome["buttons"] for b in row)
    page = await running.client.get("/")
    assert 'data-room="tg-forum"' in page.text and 'name="topic"' in page.text

    assert (await running.send("tg-forum", "/topics energy ai", lang="en")).json()["ok"]
    await tg.wait_for(lambda: len(tg.messages_to(TG_FORUM)) >= 2)
    topics = (await running.client.get("/playground/api/messages")).json()["topics"]
    assert [t["name"] for t in topics] == ["🤖 AI", "⚡ Energy"]
    energy = next(t["id"] for t in topics if t["name"] == "⚡ Energy")
    before = len(tg.messages_to(TG_FORUM, energy))
    assert (await running.send("tg-forum", "/settings", topic=energy, lang="en")).json()["ok"]
    await tg.wait_for(lambda: len(tg.messages_to(TG_FORUM, energy)) > before)
    feed = await running.feed()
    mine = [m for m in feed if m["room"] == "tg-forum" and m["sender"] == "user"]
    assert mine[-1]["note"] == "# ⚡ Energy"
    settings = running.bot_messages("tg-forum", feed)[-1]
    assert settings["note"] == "# ⚡ Energy" and "Digest" in settings["html"]
    gone = await running.send("tg-forum", "/help", topic=99999)
    assert gone.status_code == 400 and "topic" in gone.json()["error"]


async def test_watch_in_the_playground_shows_the_latest_issues_matches(running: Running) -> None:
    tg = running.pg.platform.telegram
    assert (await running.send("tg-private", "/watch 钠电池", lang="en")).json()["ok"]
    await tg.wait_for(lambda: len(tg.messages_to(TG_USER)) >= 2)
    answers = running.bot_messages("tg-private", await running.feed())
    assert answers[0]["html"].startswith("Now watching: “钠电池”.")
    assert answers[1]["html"].startswith("<b>🔔 Watched words: 钠电池</b>")
    assert "<b>钠电池</b>" in answers[1]["html"]


async def test_playground_watch_publish_alert_then_a_correction_in_place(running: Running) -> None:
    """Watch a word, publish an issue (as the dashboard's publish page does), see the alert; publish
    a revision and see the pushed digest edited in place instead of a second copy."""
    from archive_app import CORRECTED, issue_text

    tg = running.pg.platform.telegram
    assert (await running.send("tg-private", "/watch 钠电池", lang="en")).json()["ok"]
    await tg.wait_for(lambda: len(tg.messages_to(TG_USER)) >= 2)
    assert (await running.send("tg-private", "/subscribe energy publish", lang="en")).json()["ok"]
    await tg.wait_for(lambda: len(tg.messages_to(TG_USER)) >= 3)
    before = len(tg.messages_to(TG_USER))
    outcome = await running.pg.ingest.ingest_text(issue_text("2026-11-28"), origin="test")
    assert outcome.ok
    await tg.wait_for(lambda: len(tg.messages_to(TG_USER)) >= before + 2, timeout=15)  # digest + alert
    pushed = running.bot_messages("tg-private", await running.feed())[-2:]
    assert any(m["html"].startswith("<b>🔔 Watched words: 钠电池</b>") for m in pushed)
    digest = next(m for m in tg.messages_to(TG_USER)[before:] if "Watched words" not in m.plain)
    sends = len(tg.messages_to(TG_USER))
    fixed = await running.pg.ingest.ingest_text(issue_text("2026-11-28", corrected=True), origin="test")
    assert fixed.ok and fixed.is_revision
    await tg.wait_for(
        lambda: any(int(e.get("message_id", 0)) == digest.message_id for e in tg.edits), timeout=15
    )
    feed = running.bot_messages("tg-private", await running.feed())
    assert feed[-1]["note"] == "edited" and CORRECTED in feed[-1]["html"]
    assert len(tg.messages_to(TG_USER)) == sends  # no second copy
