"""The real bolt ``AsyncApp`` over HTTP, through the project's Starlette app, against the fake Slack.

Requests are signed like Slack signs them (``briefcast.emulators.slack.sign``)
and sent with httpx's ASGI transport to ``POST /slack/events``; the app's Web
API client and every ``response_url`` point at the fake. Tests wait on the
fake's recorded traffic (``wait_for``), never on time. Every message, response
and Home view the app produced must pass the Block Kit checks (teardown).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.web.async_client import AsyncWebClient

import briefcast.bot.slack.app as slack_module
from briefcast.bot.slack import BOT_SCOPES, SlackBot, split_command
from briefcast.briefing.parse import parse_markdown
from briefcast.config import Secret, Settings, SlackSettings
from briefcast.emulators.slack import (
    FakeSlack,
    app_home_opened_event,
    app_mention_event,
    block_actions_payload,
    form_body,
    message_im_event,
    sign,
    slash_command_body,
    url_verification,
)
from briefcast.store import Store
from briefcast.testing.blockkit import check_slack_payload
from briefcast.web import create_app

SECRET = "briefcast-test-signing-secret"
CHANNEL = "C0CHAN"
QUIET = "C0QUIET"  # the bot is not a member
USER = "U0USER"  # en-US, member of CHANNEL
ZH = "U0ZH"  # zh-CN, member of CHANNEL
ADMIN = "U0ADMIN"  # workspace admin, member of CHANNEL
OUTSIDER = "U0OUT"  # not in CHANNEL
TEAM = "T0FAKE"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(team_id=TEAM) as sl:
        sl.limits_enabled = False  # interactive replies; flood handling is the delivery engine's tests
        sl.add_user(USER, "alice", locale="en-US")
        sl.add_user(ZH, "li", locale="zh-CN")
        sl.add_user(ADMIN, "root", locale="en-US", is_admin=True)
        sl.add_user(OUTSIDER, "olga", locale="en-US")
        sl.add_channel(CHANNEL, "general", members=[USER, ZH, ADMIN])
        sl.add_channel(QUIET, "quiet", members=[USER], bot_member=False)
        yield sl
        for message in sl.posted:
            check_slack_payload(message.params)
        for response in sl.responses:
            check_slack_payload(response.payload)
        for ephemeral in sl.ephemerals:
            check_slack_payload(ephemeral)
        for view in sl.views:
            check_slack_payload({"text": "home", "blocks": view["view"]["blocks"]})


@pytest.fixture
def issue(store: Store, sample_md: Path) -> int:
    raw = sample_md.read_text(encoding="utf-8")
    return store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample").issue_id


@pytest.fixture
def policy() -> tuple[str, tuple[str, ...]]:
    """``(subscribe_permission, subscribe_users)``; tests override it with parametrize."""
    return "anyone", ()


@dataclass
class Harness:
    fake: FakeSlack
    bot: SlackBot
    http: httpx.AsyncClient

    async def post(
        self, body: str, *, content_type: str, secret: str = SECRET, ts: int | None = None
    ) -> httpx.Response:
        headers = {**sign(body, secret, ts), "Content-Type": content_type}
        return await self.http.post("/slack/events", content=body, headers=headers)

    async def slash(
        self, text: str, *, user: str = USER, channel: str = CHANNEL
    ) -> tuple[httpx.Response, str]:
        body, url = self.fake.slash_command("/briefing", text, user_id=user, channel_id=channel)
        return await self.post(body, content_type="application/x-www-form-urlencoded"), url

    async def ask(self, text: str, *, user: str = USER, channel: str = CHANNEL) -> dict[str, Any]:
        """A slash command answered through its response_url: the first response payload."""
        response, url = await self.slash(text, user=user, channel=channel)
        assert response.status_code == 200
        found = await self.fake.wait_for(lambda: self.fake.responses_to(url))
        return found[0]

    async def event(self, event: dict[str, Any]) -> httpx.Response:
        return await self.post(json.dumps(self.fake.event(event)), content_type="application/json")

    async def action(self, payload: dict[str, Any]) -> httpx.Response:
        return await self.post(form_body(payload), content_type="application/x-www-form-urlencoded")


@pytest.fixture
async def h(
    fake: FakeSlack, store: Store, issue: int, policy: tuple[str, tuple[str, ...]]
) -> AsyncIterator[Harness]:
    settings = Settings(
        default_language="en",
        slack=SlackSettings(
            bot_token=Secret(fake.token),
            signing_secret=Secret(SECRET),
            api_url=fake.api_url,
            subscribe_permission=policy[0],
            subscribe_users=policy[1],
        ),
    )
    bot = SlackBot(settings, store)
    await bot.start()
    app = create_app(routes=bot.routes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://briefcast.test"
    ) as http:
        yield Harness(fake, bot, http)
    await bot.stop()


def text_of(payload: dict[str, Any]) -> str:
    return payload["text"] + json.dumps(payload.get("blocks", []), ensure_ascii=False)


def action_ids(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


# ------------------------------------------------------------------ pure parsing


def test_split_command() -> None:
    assert split_command("<@U0BOT> Energy public") == ("energy", ("public",))
    assert split_command("") == ("help", ())
    assert split_command("/briefing 能源") == ("能源", ())
    assert split_command("subscribe <#C0CHAN|general> ai") == ("subscribe", ("@C0CHAN", "ai"))
    assert split_command("search R&amp;D") == ("search", ("R&D",))


# ------------------------------------------------------------------ HTTP mode, signatures


async def test_slash_command_answers_ephemerally_with_the_section(h: Harness) -> None:
    payload = await h.ask("energy")
    assert payload["response_type"] == "ephemeral"
    assert payload["blocks"][0]["type"] == "header"
    assert payload["blocks"][0]["text"]["text"].startswith("⚡ 能源基建")
    assert "Source:" in text_of(payload)  # en-US user -> English footer
    assert {"sector:ai", "sector:web3", "sector:signals"} <= set(action_ids(payload["blocks"]))
    assert not h.fake.posted  # nothing public


async def test_chinese_alias_and_chinese_user(h: Harness) -> None:
    payload = await h.ask("能源", user=ZH)
    assert payload["blocks"][0]["text"]["text"].startswith("⚡ 能源基建")
    assert "来源：" in text_of(payload)


async def test_bad_or_stale_signatures_get_401(h: Harness) -> None:
    body, url = h.fake.slash_command("/briefing", "energy")
    bad = await h.post(body, content_type="application/x-www-form-urlencoded", secret="not-the-secret")
    stale = await h.post(body, content_type="application/x-www-form-urlencoded", ts=int(time.time()) - 600)
    unsigned = await h.http.post("/slack/events", content=body)
    assert (bad.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    # a good request afterwards is answered, and the rejected ones never were
    await h.ask("help")
    assert h.fake.responses_to(url) == []


async def test_url_verification_challenge(h: Harness) -> None:
    response = await h.post(json.dumps(url_verification("c-123")), content_type="application/json")
    assert response.status_code == 200 and response.json() == {"challenge": "c-123"}


async def test_public_posts_in_the_channel(h: Harness) -> None:
    response, url = await h.slash("energy public")
    assert response.status_code == 200
    [message] = await h.fake.wait_for(lambda: h.fake.messages_in(CHANNEL))
    assert message.blocks is not None and message.blocks[0]["text"]["text"].startswith("⚡ 能源基建")
    assert h.fake.responses_to(url) == []


async def test_public_where_the_bot_is_not_a_member_uses_the_response_url(h: Harness) -> None:
    payload = await h.ask("insight public", channel=QUIET)
    assert payload["response_type"] == "in_channel"
    assert "技术-能源-金融" in text_of(payload)
    assert h.fake.calls("chat.postMessage")  # it tried the channel first


@pytest.mark.parametrize(
    ("text", "user", "expected"),
    [
        ("subscribe 25:00", USER, ["\u201c25:00\u201d is not a valid time", "Usage: /briefing subscribe"]),
        ("subscribe 25:00", ZH, ["时间「25:00」无效", "用法：/briefing subscribe"]),
        ("subscribe mars", USER, ["Unknown sector \u201cmars\u201d"]),
        ("issue", ZH, ["缺少参数", "用法：/briefing issue 日期|编号"]),
        ("frobnicate", USER, ["Unknown command. Send /briefing help"]),
        ("frobnicate", ZH, ["未知命令"]),
    ],
)
async def test_bad_arguments_get_a_usage_reply(h: Harness, text: str, user: str, expected: list[str]) -> None:
    payload = await h.ask(text, user=user)
    assert payload["response_type"] == "ephemeral"
    for part in expected:
        assert part in payload["text"]
    assert "Traceback" not in payload["text"]


async def test_help_lists_slack_syntax(h: Harness) -> None:
    payload = await h.ask("")
    assert "/briefing subscribe" in text_of(payload) and "/briefing energy" in text_of(payload)


# ------------------------------------------------------------------ subscriptions and permissions


async def answer_text(h: Harness, text: str, *, user: str = USER, channel: str = CHANNEL) -> str:
    """A command whose answer is public (posted in ``channel``) or ephemeral (response_url): its text."""
    before = len(h.fake.messages_in(channel))
    response, url = await h.slash(text, user=user, channel=channel)
    assert response.status_code == 200
    await h.fake.wait_for(lambda: h.fake.responses_to(url) or len(h.fake.messages_in(channel)) > before)
    found = h.fake.responses_to(url) or [m.params for m in h.fake.messages_in(channel)[before:]]
    return str(found[0]["text"])


async def subscribe_as(h: Harness, user: str) -> str:
    """``/briefing subscribe energy 09:30`` in CHANNEL; the reply text (public or ephemeral)."""
    return await answer_text(h, "subscribe energy 09:30", user=user)


@pytest.mark.parametrize(
    ("policy", "allowed", "refused"),
    [
        (("anyone", ()), USER, OUTSIDER),
        (("admins", ()), ADMIN, USER),
        (("users", (ZH,)), ZH, ADMIN),
    ],
    ids=["anyone", "admins", "users"],
)
async def test_channel_subscription_permission_policies(
    h: Harness, store: Store, allowed: str, refused: str
) -> None:
    refusal = await subscribe_as(h, refused)
    assert "You are not allowed to change this channel's subscriptions" in refusal or "你没有权限" in refusal
    assert store.subscriptions_for_chat("slack", CHANNEL, TEAM) == []
    assert h.fake.messages_in(CHANNEL) == []

    confirmation = await subscribe_as(h, allowed)
    assert "09:30" in confirmation
    [message] = h.fake.messages_in(CHANNEL)  # confirmations are public
    [sub] = store.subscriptions_for_chat("slack", CHANNEL, TEAM)
    assert sub.chat.workspace == TEAM and sub.sectors == ("energy",) and sub.time == "09:30"
    assert sub.created_by == allowed and sub.chat_title == "general"
    assert message.channel == CHANNEL


async def test_subscribe_list_unsubscribe_in_a_channel(h: Harness, store: Store) -> None:
    await subscribe_as(h, USER)
    listing = await h.ask("list")
    assert "Subscriptions" in text_of(listing) and "09:30" in text_of(listing)
    assert "toggle:energy" in action_ids(listing["blocks"])
    response, _ = await h.slash("unsubscribe all")
    assert response.status_code == 200
    await h.fake.wait_for(lambda: len(h.fake.messages_in(CHANNEL)) == 2)
    assert "Removed every subscription" in h.fake.messages_in(CHANNEL)[1].text
    assert not [s for s in store.subscriptions_for_chat("slack", CHANNEL, TEAM) if s.active]


# ------------------------------------------------------------------ events


async def test_app_mention_answers_the_user_ephemerally(h: Harness) -> None:
    response = await h.event(app_mention_event(USER, CHANNEL, f"<@{h.fake.bot_user_id}> energy"))
    assert response.status_code == 200
    [ephemeral] = await h.fake.wait_for(lambda: h.fake.ephemerals)
    assert ephemeral["user"] == USER and ephemeral["channel"] == CHANNEL
    assert "能源基建" in ephemeral["text"]
    assert h.fake.posted == []


async def test_app_mention_public_replies_in_the_thread(h: Harness) -> None:
    event = app_mention_event(
        USER, CHANNEL, f"<@{h.fake.bot_user_id}> 能源 public", thread_ts="1700000000.000100"
    )
    await h.event(event)
    [message] = await h.fake.wait_for(lambda: h.fake.messages_in(CHANNEL))
    assert message.thread_ts == "1700000000.000100"


async def test_message_im_answers_in_the_dm(h: Harness) -> None:
    opened = await h.bot.app.client.conversations_open(users=USER)
    channel = opened["channel"]["id"]
    await h.event(message_im_event(USER, channel, "能源"))
    [answer] = await h.fake.wait_for(lambda: h.fake.messages_in(channel))
    assert answer.blocks is not None and answer.blocks[0]["text"]["text"].startswith("⚡ 能源基建")
    await h.event(message_im_event(USER, channel, "hello there"))
    await h.fake.wait_for(lambda: len(h.fake.messages_in(channel)) == 2)
    assert "sector name" in h.fake.messages_in(channel)[1].text
    # the bot's own messages (bot_id) are not answered: a help request afterwards is the only new reply
    own = {**message_im_event(h.fake.bot_user_id, channel, "energy"), "bot_id": h.fake.bot_id}
    await h.event(own)
    await h.event(message_im_event(USER, channel, "help"))
    await h.fake.wait_for(lambda: len(h.fake.messages_in(channel)) >= 3)
    assert len(h.fake.messages_in(channel)) == 3
    assert "Commands" in h.fake.messages_in(channel)[2].text


async def test_app_home_shows_overview_and_channel_subscriptions(h: Harness, store: Store) -> None:
    await subscribe_as(h, USER)
    response = await h.event(app_home_opened_event(USER))
    assert response.status_code == 200
    view = await h.fake.wait_for(lambda: h.fake.home_view(USER))
    blocks = view["blocks"]
    assert view["type"] == "home"
    assert blocks[0]["text"]["text"] == "硅谷关键赛道周观察"
    assert {f"sector:{k}" for k in ("ai", "energy", "web3", "signals")} <= set(action_ids(blocks))
    home = json.dumps(blocks, ensure_ascii=False)
    assert "Subscriptions of your channels" in home and "#general" in home and "09:30" in home


async def test_app_home_without_subscriptions_in_chinese(h: Harness) -> None:
    await h.event(app_home_opened_event(ZH))
    view = await h.fake.wait_for(lambda: h.fake.home_view(ZH))
    assert "还没有订阅" in json.dumps(view["blocks"], ensure_ascii=False)


# ------------------------------------------------------------------ interactivity


async def test_sector_button_answers_the_presser(h: Harness, issue: int) -> None:
    url = h.fake.new_response_url()
    payload = block_actions_payload("sector:ai", "ai", user_id=USER, channel_id=CHANNEL, response_url=url)
    response = await h.action(payload)
    assert response.status_code == 200
    [answer] = await h.fake.wait_for(lambda: h.fake.responses_to(url))
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"].startswith("🤖")
    # a button of a past issue (value "key.<id>", action_id shortened to "#index") still routes
    url2 = h.fake.new_response_url()
    past = block_actions_payload(
        "sector:#3", f"web3.{issue}", user_id=USER, channel_id=CHANNEL, response_url=url2
    )
    await h.action(past)
    [answer2] = await h.fake.wait_for(lambda: h.fake.responses_to(url2))
    assert answer2["blocks"][0]["text"]["text"].startswith("🌐")


async def test_toggle_button_redraws_the_list(h: Harness, store: Store) -> None:
    await subscribe_as(h, USER)
    url = h.fake.new_response_url()
    await h.action(
        block_actions_payload("toggle:ai", "ai", user_id=USER, channel_id=CHANNEL, response_url=url)
    )
    [redrawn] = await h.fake.wait_for(lambda: h.fake.responses_to(url))
    assert redrawn["replace_original"] is True
    assert set(store.subscriptions_for_chat("slack", CHANNEL, TEAM)[0].sectors) == {"energy", "ai"}


async def test_home_tab_button_answers_in_the_dm(h: Harness) -> None:
    payload = block_actions_payload("sector:energy", "energy", user_id=USER)
    payload["container"] = {"type": "view", "view_id": "V1"}
    del payload["channel"]
    payload["response_url"] = ""
    await h.action(payload)
    [message] = await h.fake.wait_for(lambda: h.fake.posted)
    assert message.channel.startswith("D") and message.blocks is not None
    assert message.blocks[0]["text"]["text"].startswith("⚡")


# ------------------------------------------------------------------ OAuth (multi-workspace)


def oauth_settings(fake: FakeSlack) -> Settings:
    """A distributable app (client id and secret, no bot token) talking to the fake."""
    return Settings(
        slack=SlackSettings(
            client_id="111.222",
            client_secret=Secret("oauth-secret"),
            signing_secret=Secret(SECRET),
            api_url=fake.api_url,
        )
    )


async def test_oauth_install_redirects_and_creates_the_tables(fake: FakeSlack, store: Store) -> None:
    bot = SlackBot(oauth_settings(fake), store)
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"slack_bots", "slack_installations", "slack_oauth_states"} <= tables
    paths = {getattr(r, "path", "") for r in bot.routes()}
    assert paths == {"/slack/events", "/slack/install", "/slack/oauth_redirect"}
    app = create_app(routes=bot.routes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://briefcast.test"
    ) as http:
        install = await http.get("/slack/install")
        assert install.status_code == 302
        location = urlparse(install.headers["location"])
        query = parse_qs(location.query)
        assert location.netloc == "slack.com" and location.path == "/oauth/v2/authorize"
        assert query["client_id"] == ["111.222"]
        assert set(query["scope"][0].split(",")) >= {"commands", "chat:write", "app_mentions:read"}
        state = query["state"][0]
        with store.engine.connect() as conn:
            saved = conn.execute(sa.text("SELECT state FROM slack_oauth_states")).scalars().all()
        assert state in saved
        # a redirect with a forged state is refused
        forged = await http.get("/slack/oauth_redirect", params={"code": "x", "state": "forged"})
        assert forged.status_code == 400


async def test_oauth_install_completes_and_deliveries_use_the_installed_token(
    fake: FakeSlack, store: Store
) -> None:
    """The whole install: /slack/install -> Slack's "Allow" -> /slack/oauth_redirect -> code
    exchange (oauth.v2.access, client credentials as HTTP Basic) -> installation stored; then a
    delivery to that workspace authenticates with the installed bot token (no SLACK_BOT_TOKEN)."""
    from briefcast.delivery.engine import Target
    from briefcast.delivery.transports import SlackTransport, installation_token_lookup

    fake.add_oauth_app("111.222", "oauth-secret")
    bot = SlackBot(oauth_settings(fake), store)
    app = create_app(routes=bot.routes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://briefcast.test"
    ) as http:
        # bolt's state cookie is Secure: the browser only returns it over https
        install = await http.get("/slack/install")
        state = parse_qs(urlparse(install.headers["location"]).query)["state"][0]
        code = fake.approve_install("111.222")
        done = await http.get("/slack/oauth_redirect", params={"code": code, "state": state})
        assert done.status_code == 200, done.text
        # the code was spent: replaying the redirect installs nothing more
        again = await http.get("/slack/oauth_redirect", params={"code": code, "state": state})
        assert again.status_code != 200
    [exchange] = fake.calls("oauth.v2.access")
    assert exchange.params["code"] == code and "client_secret" not in exchange.params  # Basic auth
    [token] = fake.installed_tokens
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT team_id, bot_token, bot_id FROM slack_bots")).all()
    assert [tuple(r) for r in rows] == [(TEAM, token, fake.bot_id)]

    fake.add_channel("C0NEWS", "news", [fake.bot_user_id])
    transport = SlackTransport(
        "", base_url=fake.api_url, token_for=installation_token_lookup(store.engine, "111.222")
    )
    try:
        section = {"type": "section", "text": {"type": "mrkdwn", "text": "*⚡ Energy digest*"}}
        payload = {"text": "⚡ Energy digest", "blocks": [section]}
        ts = await transport.send(Target("C0NEWS", workspace=TEAM), payload)
    finally:
        await transport.close()
    [message] = fake.messages_in("C0NEWS")
    assert message.ts == ts and message.text == "⚡ Energy digest"


async def test_oauth_code_exchange_errors_are_slacks() -> None:
    """Wrong secret, unknown client, a code that was never issued: Slack's error codes, no token."""
    from slack_sdk.errors import SlackApiError
    from slack_sdk.web.async_client import AsyncWebClient

    async with FakeSlack() as sl:
        sl.add_oauth_app("111.222", "right")
        client = AsyncWebClient(base_url=sl.api_url)
        cases = [
            (
                {"client_id": "111.222", "client_secret": "wrong", "code": sl.approve_install("111.222")},
                "bad_client_secret",
            ),
            ({"client_id": "999.999", "client_secret": "right", "code": "1.x"}, "invalid_client_id"),
            ({"client_id": "111.222", "client_secret": "right", "code": "never-issued"}, "invalid_code"),
        ]
        for kwargs, error in cases:
            with pytest.raises(SlackApiError) as info:
                await client.oauth_v2_access(**kwargs)
            assert info.value.response["error"] == error
        code = sl.approve_install("111.222", redirect_uri="https://briefcast.example/slack/oauth_redirect")
        with pytest.raises(SlackApiError) as info:
            await client.oauth_v2_access(client_id="111.222", client_secret="right", code=code)
        assert info.value.response["error"] == "bad_redirect_uri"
        assert sl.installed_tokens == []


async def test_subscribe_a_channel_from_a_dm(h: Harness, store: Store) -> None:
    opened = await h.bot.app.client.conversations_open(users=USER)
    dm = opened["channel"]["id"]
    confirmation = await answer_text(h, "subscribe <#C0CHAN|general> web3 publish", channel=dm)
    assert "Subscribed \u201cgeneral\u201d" in confirmation
    [sub] = store.subscriptions_for_chat("slack", CHANNEL, TEAM)
    assert sub.sectors == ("web3",) and sub.mode == "publish" and sub.created_by == USER
    # someone outside the channel cannot manage it remotely
    outsider_dm = (await h.bot.app.client.conversations_open(users=OUTSIDER))["channel"]["id"]
    refused = await answer_text(h, "unsubscribe <#C0CHAN|general>", user=OUTSIDER, channel=outsider_dm)
    assert "not an administrator" in refused
    assert store.subscriptions_for_chat("slack", CHANNEL, TEAM)[0].active


def test_manifest_matches_the_app() -> None:
    import yaml

    from briefcast.bot.slack import BOT_SCOPES, SLASH_COMMAND

    manifest = yaml.safe_load(
        (Path(__file__).parents[1] / "config" / "slack-manifest.yaml").read_text("utf-8")
    )
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == [SLASH_COMMAND]
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_mention",
        "message.im",
        "app_home_opened",
        "member_joined_channel",
    }
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


# ------------------------------------------------------------------ robustness (issue #13)


async def test_malformed_bodies_get_400_or_401_never_500(h: Harness) -> None:
    """The signature is checked on the raw bytes before anything is parsed."""
    json_ct = "application/json"
    for body in ('{"type": "event_callback",}', "[1,2,3]", '"just a string"'):
        signed = await h.post(body, content_type=json_ct)
        unsigned = await h.http.post("/slack/events", content=body, headers={"Content-Type": json_ct})
        assert (signed.status_code, unsigned.status_code) == (400, 401), body
    raw = b'{"type": "\xff\xfe"}'
    headers = {**sign(raw.decode("latin-1"), SECRET), "Content-Type": json_ct}
    not_utf8 = await h.http.post("/slack/events", content=raw, headers=headers)
    assert not_utf8.status_code in (400, 401)
    odd_ts = await h.http.post(
        "/slack/events",
        content="{}",
        headers={"Content-Type": json_ct, "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"},
    )
    assert odd_ts.status_code == 401


async def test_a_huge_body_is_refused_before_it_is_read(h: Harness) -> None:
    huge = "x" * (2 * 1024 * 1024)
    response = await h.http.post("/slack/events", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413


async def test_a_slack_retry_of_the_same_event_is_answered_once(h: Harness) -> None:
    envelope = h.fake.event(app_mention_event(USER, CHANNEL, f"<@{h.fake.bot_user_id}> energy"))
    body = json.dumps(envelope)
    first = await h.post(body, content_type="application/json")
    retry_headers = {**sign(body, SECRET), "Content-Type": "application/json", "X-Slack-Retry-Num": "1"}
    retry = await h.http.post("/slack/events", content=body, headers=retry_headers)
    assert first.status_code == retry.status_code == 200
    await h.fake.wait_for(lambda: h.fake.ephemerals)
    await h.ask("help")  # everything before it has been handled
    assert len(h.fake.ephemerals) == 1


async def test_two_workspaces_concurrently_each_use_their_own_token(
    fake: FakeSlack, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two installed workspaces subscribe the same channel id at once; each permission check
    (conversations.members) goes through the client bolt authorised for that team, handed to
    the command layer by the one global middleware: no listener binds a client, and the
    adapter keeps no per-request global (ContextVar) at all."""
    assert not [n for n, v in vars(slack_module).items() if isinstance(v, ContextVar)]
    tokens = {"T0AAA": "xoxb-team-a", "T0BBB": "xoxb-team-b"}
    bot = SlackBot(oauth_settings(fake), store)
    assert bot.oauth_stores is not None
    for team, token in tokens.items():
        fake.add_token(token)
        await bot.oauth_stores.installations.async_save(
            Installation(
                app_id="A0FAKE",
                team_id=team,
                bot_token=token,
                bot_id=fake.bot_id,
                bot_user_id=fake.bot_user_id,
                bot_scopes=",".join(BOT_SCOPES),
                user_id=USER,
            )
        )

    seen: list[tuple[str | None, str]] = []
    b_checked = asyncio.Event()
    members = AsyncWebClient.conversations_members

    async def spy(self: AsyncWebClient, **kwargs: Any) -> Any:
        seen.append((self.token, str(kwargs.get("channel"))))
        if self.token == tokens["T0BBB"]:
            b_checked.set()
        else:  # team A's check is still in flight while team B's request is handled
            await asyncio.wait_for(b_checked.wait(), 10)
        return await members(self, **kwargs)

    monkeypatch.setattr(AsyncWebClient, "conversations_members", spy)

    app = create_app(routes=bot.routes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://briefcast.test"
    ) as http:

        async def subscribe(team: str) -> httpx.Response:
            body = slash_command_body(
                "/briefing",
                "subscribe energy 09:30",
                user_id=USER,
                channel_id=CHANNEL,
                team_id=team,
                response_url=fake.new_response_url(),
            )
            headers = {**sign(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
            return await http.post("/slack/events", content=body, headers=headers)

        answers = await asyncio.gather(subscribe("T0AAA"), subscribe("T0BBB"))
        assert [a.status_code for a in answers] == [200, 200]
        await fake.wait_for(lambda: len(fake.messages_in(CHANNEL)) == 2)

    assert sorted(seen) == [(tokens["T0AAA"], CHANNEL), (tokens["T0BBB"], CHANNEL)]
    for team in tokens:
        [sub] = store.subscriptions_for_chat("slack", CHANNEL, team)
        assert sub.chat.workspace == team and sub.sectors == ("energy",)
