"""Socket Mode: Slack's envelopes (slash_commands, events_api, interactive) through the real bolt app.

Two levels: envelopes fed to slack-sdk's Socket Mode listener pipeline
(``run_message_listeners`` -> bolt's socket-mode handler -> dispatch -> ack),
with a client that records what it would write to the socket; and one
end-to-end run over a real WebSocket served on 127.0.0.1 by a tiny server
in this file. Web API calls and response_urls go to the fake Slack server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from aiohttp import WSMsgType, web
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient

from briefcast.bot.slack import SlackBot
from briefcast.briefing.parse import parse_markdown
from briefcast.config import Secret, Settings, SlackSettings
from briefcast.emulators.slack import (
    FakeSlack,
    app_mention_event,
    block_actions_payload,
)
from briefcast.errors import ConfigError
from briefcast.store import Store
from briefcast.testing.blockkit import check_slack_payload

CHANNEL = "C0CHAN"
USER = "U0USER"


class RecordingSocketClient(AsyncBaseSocketModeClient):
    """A Socket Mode client whose socket is a list: ``send_message`` records the JSON frames."""

    def __init__(self) -> None:
        self.logger = logging.getLogger("test.socket")
        self.message_listeners = []
        self.socket_mode_request_listeners = []
        self.closed = False
        self.frames: list[dict[str, Any]] = []

    async def send_message(self, message: str) -> None:
        self.frames.append(json.loads(message))


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as sl:
        sl.limits_enabled = False
        sl.add_user(USER, "alice", locale="en-US")
        sl.add_channel(CHANNEL, "general", members=[USER])
        yield sl
        for response in sl.responses:
            check_slack_payload(response.payload)
        for ephemeral in sl.ephemerals:
            check_slack_payload(ephemeral)


@pytest.fixture
def issue(store: Store, sample_md: Path) -> int:
    raw = sample_md.read_text(encoding="utf-8")
    return store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample").issue_id


def socket_settings(fake: FakeSlack) -> Settings:
    """Socket Mode: an app-level token and no signing secret (Socket Mode needs none)."""
    return Settings(
        slack=SlackSettings(
            bot_token=Secret(fake.token), app_token=Secret("xapp-1-A0FAKE-1-fake"), api_url=fake.api_url
        )
    )


@pytest.fixture
async def bot(fake: FakeSlack, store: Store, issue: int) -> AsyncIterator[SlackBot]:
    b = SlackBot(socket_settings(fake), store)
    yield b
    await b.stop()


def envelope(kind: str, payload: dict[str, Any], *, accepts: bool) -> dict[str, Any]:
    return {
        "envelope_id": str(uuid.uuid4()),
        "type": kind,
        "payload": payload,
        "accepts_response_payload": accepts,
        "retry_attempt": 0,
        "retry_reason": "",
    }


def slash_envelope(fake: FakeSlack, text: str) -> tuple[dict[str, Any], str]:
    body, url = fake.slash_command("/briefing", text, user_id=USER, channel_id=CHANNEL)
    return envelope("slash_commands", dict(parse_qsl(body)), accepts=True), url


async def feed(bot: SlackBot, message: dict[str, Any]) -> dict[str, Any]:
    """Run one envelope through slack-sdk's listener pipeline into the bot; return the ack frame."""
    client = RecordingSocketClient()
    assert bot.socket is not None
    client.socket_mode_request_listeners.append(bot.socket.handle)
    await client.run_message_listeners(message, json.dumps(message))
    [ack] = client.frames
    return ack


async def test_socket_mode_needs_no_signing_secret_and_serves_no_events_route(
    bot: SlackBot, fake: FakeSlack
) -> None:
    assert bot.socket is not None and bot.routes() == []
    http_only = Settings(slack=SlackSettings(bot_token=Secret(fake.token), api_url=fake.api_url))
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        SlackBot(http_only, bot.store)


async def test_slash_command_envelope_is_acked_then_answered(bot: SlackBot, fake: FakeSlack) -> None:
    message, url = slash_envelope(fake, "energy")
    ack = await feed(bot, message)
    assert ack == {"envelope_id": message["envelope_id"]}
    [payload] = await fake.wait_for(lambda: fake.responses_to(url))
    assert payload["response_type"] == "ephemeral"
    assert payload["blocks"][0]["text"]["text"].startswith("⚡ 能源基建")


async def test_events_api_envelope(bot: SlackBot, fake: FakeSlack) -> None:
    event = fake.event(app_mention_event(USER, CHANNEL, f"<@{fake.bot_user_id}> insight"))
    message = envelope("events_api", event, accepts=False)
    assert await feed(bot, message) == {"envelope_id": message["envelope_id"]}
    [ephemeral] = await fake.wait_for(lambda: fake.ephemerals)
    assert ephemeral["user"] == USER and "技术-能源-金融" in json.dumps(ephemeral, ensure_ascii=False)


async def test_interactive_envelope(bot: SlackBot, fake: FakeSlack) -> None:
    url = fake.new_response_url()
    payload = block_actions_payload("sector:web3", "web3", user_id=USER, channel_id=CHANNEL, response_url=url)
    message = envelope("interactive", payload, accepts=False)
    assert await feed(bot, message) == {"envelope_id": message["envelope_id"]}
    [answer] = await fake.wait_for(lambda: fake.responses_to(url))
    assert answer["blocks"][0]["text"]["text"].startswith("🌐")


async def test_envelope_without_payload_is_ignored(bot: SlackBot) -> None:
    client = RecordingSocketClient()
    assert bot.socket is not None
    client.socket_mode_request_listeners.append(bot.socket.handle)
    await client.run_message_listeners({"type": "hello", "num_connections": 1}, '{"type": "hello"}')
    assert client.frames == []


# ------------------------------------------------------------------ a real WebSocket


class SocketServer:
    """Slack's side of a Socket Mode connection: says hello, sends envelopes, collects acks."""

    def __init__(self) -> None:
        self.acks: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.ws: web.WebSocketResponse | None = None
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self.link)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"ws://127.0.0.1:{port}/link"

    async def link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.ws = ws
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        self.connected.set()
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.acks.put_nowait(json.loads(msg.data))
        return ws

    async def send(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.ws is not None
        await self.ws.send_json(message)
        return await asyncio.wait_for(self.acks.get(), 5)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.runner is not None:
            await self.runner.cleanup()


async def test_over_a_real_websocket(bot: SlackBot, fake: FakeSlack) -> None:
    server = SocketServer()
    await server.start()
    assert bot.socket is not None
    # Slack hands out the URL through apps.connections.open; the fake has none, so give it directly
    bot.socket.client.wss_uri = server.url
    try:
        await bot.start()
        await asyncio.wait_for(server.connected.wait(), 5)
        assert bot.started
        message, url = slash_envelope(fake, "latest")
        ack = await server.send(message)
        assert ack == {"envelope_id": message["envelope_id"]}
        [payload] = await fake.wait_for(lambda: fake.responses_to(url))
        assert payload["blocks"][0]["text"]["text"] == "硅谷关键赛道周观察"
    finally:
        await bot.stop()
        await server.close()
    assert not bot.started
