"""Every push ends with "read the whole issue": the real engine to the fake Telegram and Slack.

Payloads are checked the way the platforms would (TDLib's parser and link check for Telegram,
slack-sdk's Block Kit models for Slack). The last test runs ``briefcast run``'s own assembly
(bots, delivery, issue API, archive) over HTTP: an issue is published through the API, the
on-publish push arrives at both fakes, and the button's URL opens the issue's page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from archive_app import TOKEN, free_port, issue_text, served
from briefcast.app import assemble
from briefcast.config import Secret, Settings, SlackSettings, TelegramSettings
from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import SlackTransport, TelegramTransport
from briefcast.emulators.slack import FakeSlack, SlackLimits
from briefcast.emulators.telegram import FakeTelegram, TelegramLimits
from briefcast.ingest.service import IngestService
from briefcast.store import Store, outbox
from briefcast.store.records import ChatRef
from briefcast.testing.blockkit import check_slack_payload
from briefcast.testing.tdlib import check_telegram_payload
from crash_worker import fast_settings

PUBLIC = "https://briefing.example.com"
WORKSPACE = "T0FAKE"
LONG = "宁德时代宣布2026年钠电池大规模应用，覆盖换电、乘用车、商用车及储能领域。" * 160  # > 4,096: two parts


def _url_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = (markup or {}).get("inline_keyboard") or []
    return [b for row in rows for b in row if "url" in b]


def _slack_url_buttons(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [
        el for b in blocks or [] if b.get("type") == "actions" for el in b.get("elements", []) if "url" in el
    ]


async def _subscribe(store: Store, ref: ChatRef, kind: str, sectors: tuple[str, ...], language: str) -> None:
    store.upsert_chat(ref, kind=kind, language=language)
    store.subscribe(ref, sectors, mode="publish")


async def _push(store: Store, settings: Settings, tg: FakeTelegram, slack: FakeSlack, issue_id: int) -> None:
    outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC))
    transports = {
        "telegram": TelegramTransport(tg.token, base_url=tg.base_url, concurrency=4),
        "slack": SlackTransport(slack.token, base_url=slack.api_url),
    }
    engine = DeliveryEngine(settings, store, transports, idle_poll=0.02)
    try:
        stats = await engine.drain()
        assert stats.failed == 0 and stats.delivered > 0
    finally:
        for t in transports.values():
            await t.close()


async def test_every_push_ends_with_the_issue_link(store: Store) -> None:
    ingest = IngestService(store)
    long_issue = issue_text("2026-11-28").replace("**技术/进展**", f"{LONG}\n\n**技术/进展**", 1)
    outcome = await ingest.ingest_text(long_issue, origin="api", kind="markdown")
    assert outcome.ok and outcome.issue_id is not None
    issue_id = outcome.issue_id
    await _subscribe(store, ChatRef("telegram", "5001"), "private", ("ai", "energy"), "zh")
    await _subscribe(store, ChatRef("telegram", "5002"), "private", ("web3",), "en")
    await _subscribe(store, ChatRef("slack", "C1", workspace=WORKSPACE), "channel", ("energy",), "en")
    await _subscribe(store, ChatRef("slack", "C2", workspace=WORKSPACE), "channel", ("signals",), "zh")
    settings = fast_settings().model_copy(update={"public_url": PUBLIC})
    async with (
        FakeTelegram(limits=TelegramLimits(enabled=False)) as tg,
        FakeSlack(limits=SlackLimits(enabled=False)) as slack,
    ):
        for chat in (5001, 5002):
            tg.add_chat(chat)
        slack.add_channel("C1", "energy")
        slack.add_channel("C2", "signals")
        await _push(store, settings, tg, slack, issue_id)
        for call in tg.calls("sendMessage"):
            check_telegram_payload(call.params)  # TDLib parses the HTML and accepts the button's URL
        for call in slack.calls("chat.postMessage"):
            check_slack_payload(call.params)

        # zh, two sectors: each sector's message ends with the button to its place on the page;
        # the energy sector is long (two parts) and only its last part carries the button
        zh = tg.messages_to(5001)
        assert [m.plain.split("\n", 1)[0][:2] for m in zh] == ["🤖 ", "⚡ ", "⚡ "]  # ai, energy (1/2), (2/2)
        assert [len(_url_buttons(m.reply_markup)) for m in zh] == [1, 0, 1]
        links = [b for m in zh for b in _url_buttons(m.reply_markup)]
        assert links == [
            {"text": "📖 阅读本期全文", "url": f"{PUBLIC}/issues/{issue_id}?lang=zh#ai"},
            {"text": "📖 阅读本期全文", "url": f"{PUBLIC}/issues/{issue_id}?lang=zh#energy"},
        ]
        assert _url_buttons(zh[-1].reply_markup) == [links[-1]]  # the push's very last part
        assert zh[-1].reply_markup is not None
        assert zh[-1].reply_markup["inline_keyboard"][-1] == [links[-1]]  # the last row
        [en] = tg.messages_to(5002)
        assert _url_buttons(en.reply_markup) == [
            {"text": "📖 Read the whole issue", "url": f"{PUBLIC}/issues/{issue_id}?lang=en#web3"}
        ]

        # Slack: the last message's last block is the actions block with the link button
        for channel, lang, sector, label in (
            ("C1", "en", "energy", "📖 Read the whole issue"),
            ("C2", "zh", "signals", "📖 阅读本期全文"),
        ):
            messages = slack.messages_in(channel)
            assert messages
            last = messages[-1].blocks or []
            assert last[-1]["type"] == "actions"
            [button] = _slack_url_buttons(last)
            assert button["text"]["text"] == label
            assert button["url"] == f"{PUBLIC}/issues/{issue_id}?lang={lang}#{sector}"
            assert all(not _slack_url_buttons(m.blocks) for m in messages[:-1])


async def test_no_link_without_a_public_url(store: Store) -> None:
    ingest = IngestService(store)
    outcome = await ingest.ingest_text(issue_text("2026-11-28"), origin="api", kind="markdown")
    assert outcome.issue_id is not None
    await _subscribe(store, ChatRef("telegram", "6001"), "private", ("energy",), "zh")
    await _subscribe(store, ChatRef("slack", "C9", workspace=WORKSPACE), "channel", ("energy",), "zh")
    async with (
        FakeTelegram(limits=TelegramLimits(enabled=False)) as tg,
        FakeSlack(limits=SlackLimits(enabled=False)) as slack,
    ):
        tg.add_chat(6001)
        slack.add_channel("C9", "energy")
        await _push(store, fast_settings(), tg, slack, outcome.issue_id)
        [message] = tg.messages_to(6001)
        assert message.reply_markup is None
        [posted] = slack.messages_in("C9")
        assert not _slack_url_buttons(posted.blocks)


async def test_published_issue_reaches_both_platforms_and_the_link_opens_its_page(db_url: str) -> None:
    """``briefcast run``'s assembly end to end: API publish -> on-publish push -> the page."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    async with (
        FakeTelegram(limits=TelegramLimits(enabled=False)) as tg,
        FakeSlack(limits=SlackLimits(enabled=False)) as slack,
    ):
        settings = Settings(
            database_url=db_url,
            http_port=port,
            api_token=Secret(TOKEN),
            public_url=public,
            telegram=TelegramSettings(token=Secret(tg.token), api_url=tg.base_url),
            slack=SlackSettings(
                bot_token=Secret(slack.token), signing_secret=Secret("s"), api_url=slack.api_url
            ),
        )
        store = Store.open(db_url, settings=settings)
        built = assemble(settings, store)
        try:
            assert built.playground is False
            tg.add_chat(7001)
            slack.add_channel("C7", "briefing")
            await _subscribe(store, ChatRef("telegram", "7001"), "private", ("energy",), "en")
            await _subscribe(store, ChatRef("slack", "C7", workspace=WORKSPACE), "channel", ("ai",), "zh")
            async with (
                served(built.settings, store, routes=built.routes, components=built.components) as url,
                httpx.AsyncClient(base_url=url, timeout=20) as http,
            ):
                assert url == public
                r = await http.post(
                    "/api/issues",
                    content=issue_text("2026-11-28").encode("utf-8"),
                    headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown"},
                )
                assert r.status_code == 201, r.text
                issue_id = r.json()["id"]
                [message] = await tg.wait_for(lambda: tg.messages_to(7001), timeout=20)
                check_telegram_payload(message.params)
                [button] = _url_buttons(message.reply_markup)
                assert button == {
                    "text": "📖 Read the whole issue",
                    "url": f"{public}/issues/{issue_id}?lang=en#energy",
                }
                [posted] = await slack.wait_for(lambda: slack.messages_in("C7"), timeout=20)
                check_slack_payload(posted.params)
                [sl_button] = _slack_url_buttons(posted.blocks)
                assert sl_button["url"] == f"{public}/issues/{issue_id}?lang=zh#ai"

                page = await http.get(button["url"])
                assert page.status_code == 200
                assert '<section class="sector" id="energy">' in page.text and '<html lang="en">' in page.text
                zh_page = await http.get(sl_button["url"])
                assert (
                    '<section class="sector" id="ai">' in zh_page.text
                    and '<html lang="zh-CN">' in zh_page.text
                )
                # the operator dashboard links the archive
                dashboard = await http.get("/dashboard")
                assert '<a href="/issues">Public archive</a>' in dashboard.text
                issue_page = await http.get(f"/dashboard/issues/{issue_id}")
                assert f'<a href="/issues/{issue_id}">public page</a>' in issue_page.text
        finally:
            built.close()
            store.close()
