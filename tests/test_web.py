"""The ASGI app (health, Telegram webhook route) and ``runtime.serve`` end to end."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from briefcast.app import default_components
from briefcast.bot.telegram import SECRET_HEADER, TelegramBot
from briefcast.briefing.parse import parse_markdown
from briefcast.config import Secret, Settings, TelegramSettings
from briefcast.emulators.telegram import FakeTelegram
from briefcast.runtime import serve
from briefcast.store import Store
from briefcast.testing.tdlib import check_telegram_payload
from briefcast.web import create_app

USER = 7
SECRET = "s3cret-token_value"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as tg:
        tg.limits_enabled = False
        tg.add_user(USER, "Alice", language_code="en")
        tg.add_chat(USER, "private")
        yield tg
        for message in tg.sent_messages:
            check_telegram_payload(message.params)


@pytest.fixture
def issue(store: Store, sample_md: Path) -> int:
    raw = sample_md.read_text(encoding="utf-8")
    return store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample").issue_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def webhook_settings(fake: FakeTelegram, port: int) -> Settings:
    return Settings(
        http_port=port,
        telegram=TelegramSettings(
            token=Secret(fake.token),
            api_url=fake.base_url,
            webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
            webhook_secret=Secret(SECRET),
        ),
    )


async def test_healthz_reports_each_check() -> None:
    async def slow_ok() -> bool:
        return True

    def broken() -> bool:
        raise RuntimeError("down")

    extra = Route("/ping", lambda request: PlainTextResponse("pong"))
    good = create_app(routes=[extra], health_checks={"database": slow_ok, "telegram": lambda: True})
    bad = create_app(health_checks={"database": broken, "telegram": lambda: False})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=good), base_url="http://t") as client:
        ok = await client.get("/healthz")
        assert ok.status_code == 200
        assert ok.json() == {"status": "ok", "checks": {"database": True, "telegram": True}}
        assert (await client.get("/ping")).text == "pong"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bad), base_url="http://t") as client:
        failing = await client.get("/healthz")
        assert failing.status_code == 503
        assert failing.json() == {"status": "failing", "checks": {"database": False, "telegram": False}}


async def test_webhook_route_checks_the_secret(fake: FakeTelegram, store: Store, issue: int) -> None:
    bot = TelegramBot(webhook_settings(fake, free_port()), store)
    await bot.start()
    try:
        [hook] = fake.calls("setWebhook")
        assert hook.params["secret_token"] == SECRET
        assert hook.params["url"].endswith("/telegram/webhook")
        app = create_app(routes=bot.routes())
        update = {"update_id": 1, **fake.make_message_update(None, USER, "/energy")}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            missing = await client.post("/telegram/webhook", json=update)
            wrong = await client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: "nope"})
            assert (missing.status_code, wrong.status_code) == (403, 403)
            assert fake.messages_to(USER) == []
            bad_json = await client.post("/telegram/webhook", content=b"{", headers={SECRET_HEADER: SECRET})
            assert bad_json.status_code == 400
            # issue #13: a JSON array or string was a 500; a huge body was read whole
            for odd in (b"[1,2,3]", b'"update"', b'{"update_id": "x"}', b"\xff\xfe"):
                got = await client.post("/telegram/webhook", content=odd, headers={SECRET_HEADER: SECRET})
                assert got.status_code == 400, odd
            huge = b"{" + b" " * (2 * 1024 * 1024) + b"}"
            too_big = await client.post("/telegram/webhook", content=huge, headers={SECRET_HEADER: SECRET})
            assert too_big.status_code == 413
            good = await client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET})
            assert good.status_code == 200
        [reply] = await fake.wait_for(lambda: fake.messages_to(USER))
        assert reply.plain.startswith("⚡ 能源基建")
    finally:
        await bot.stop()


async def test_serve_runs_webhook_bot_and_health_then_stops(
    fake: FakeTelegram, store: Store, issue: int
) -> None:
    port = free_port()
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(
        serve(
            settings := webhook_settings(fake, port),
            store,
            stop_event=stop,
            components=default_components(settings, store),
            on_ready=lambda p: ready.set(),
        )
    )
    try:
        await asyncio.wait_for(ready.wait(), 10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json()["checks"] == {"database": True, "telegram": True}
        # the fake delivers the update to the webhook over real HTTP, with the secret header
        fake.push_update(fake.make_message_update(None, USER, "/latest"))
        [reply] = await fake.wait_for(lambda: fake.messages_to(USER))
        assert reply.plain.startswith("硅谷关键赛道周观察")
        assert fake.webhook_deliveries and fake.webhook_deliveries[0][1] == 200
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await client.get("/healthz")


async def test_serve_without_bots_is_web_only(store: Store) -> None:
    stop = asyncio.Event()
    ports: list[int] = []

    def on_ready(port: int) -> None:
        ports.append(port)
        stop.set()

    await asyncio.wait_for(serve(Settings(http_port=0), store, stop_event=stop, on_ready=on_ready), 10)
    assert ports and ports[0] > 0


async def test_connections_of_the_bound_socket_send_without_nagle_delay() -> None:
    """asyncio disables Nagle only on sockets created with ``IPPROTO_TCP``: without it, a keep-alive
    response's body waited ~40 ms for the client's delayed ACK of its headers (Telegram and Slack
    reuse connections for webhooks; browsers for pages)."""
    from briefcast.runtime import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    nodelay: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = writer.get_extra_info("socket")
        nodelay.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(accepted, sock=sock)
    try:
        port = sock.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(nodelay, 5) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
