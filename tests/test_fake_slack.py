"""The fake Slack Web API must behave like Slack for the real slack-sdk clients and bolt."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.context.ack import Ack
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from briefcast.emulators.limits import ManualClock
from briefcast.emulators.slack import (
    FakeSlack,
    SlackLimits,
    app_mention_event,
    sign,
    url_verification,
)
from briefcast.render.blockkit import validate_blocks

SECRET = "test-signing-secret"


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sl(clock: ManualClock) -> Iterator[FakeSlack]:
    with FakeSlack.in_thread(clock=clock) as fake:
        fake.add_user("U1", "alice", locale="zh-CN")
        fake.add_channel("C1", "energy", members=["U1"])
        fake.add_channel("C2", "outside", bot_member=False)
        fake.add_channel("C3", "old", is_archived=True)
        yield fake


@pytest.fixture
def client(sl: FakeSlack) -> WebClient:
    return WebClient(token=sl.token, base_url=sl.api_url)


@pytest.fixture
async def asl(clock: ManualClock) -> AsyncIterator[FakeSlack]:
    async with FakeSlack(clock=clock) as fake:
        fake.add_user("U1", "alice", locale="zh-CN")
        fake.add_channel("C1", "energy", members=["U1", "U2", "U3"])
        fake.add_channel("C2", "outside", bot_member=False)
        yield fake


def test_post_message_ok(sl: FakeSlack, client: WebClient) -> None:
    response = client.chat_postMessage(channel="C1", text="能源 *brief*", blocks=[section("*能源*")])
    assert response["ok"] and response["channel"] == "C1"
    assert re.fullmatch(r"\d{10}\.\d{6}", response["ts"])
    assert response["message"]["bot_id"] == sl.bot_id
    [posted] = sl.messages_in("C1")
    assert (
        posted.text == "能源 *brief*" and posted.blocks == [section("*能源*")] and posted.ts == response["ts"]
    )


def test_channel_errors(sl: FakeSlack, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C2", text="hi")
    assert info.value.response["error"] == "not_in_channel"
    for channel, error in (("C404", "channel_not_found"), ("C3", "is_archived")):
        with pytest.raises(SlackApiError) as info:
            client.chat_postMessage(channel=channel, text="hi")
        assert info.value.response["error"] == error
    # slack-sdk warns about the missing text itself; the fake must still refuse it
    with pytest.raises(SlackApiError) as info, pytest.warns(UserWarning, match="`text` argument is missing"):
        client.chat_postMessage(channel="C1", text="")
    assert info.value.response["error"] == "no_text"
    assert sl.posted == []


def test_rate_limit_has_retry_after(sl: FakeSlack, client: WebClient, clock: ManualClock) -> None:
    client.chat_postMessage(channel="C1", text="1")
    client.chat_postMessage(channel="C1", text="2")  # the documented burst of one
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C1", text="3")
    assert info.value.response.status_code == 429
    assert info.value.response["error"] == "ratelimited"
    assert info.value.response.headers["Retry-After"] == "1"
    assert sl.rate_limited == 1
    clock.advance(1.0)
    client.chat_postMessage(channel="C1", text="4")
    assert [m.text for m in sl.messages_in("C1")] == ["1", "2", "4"]


def test_workspace_limit_and_switch_off(sl: FakeSlack, client: WebClient) -> None:
    sl.set_limits(SlackLimits(post_burst=100, workspace_per_minute=2))
    sl.add_channel("C9", "nine")
    client.chat_postMessage(channel="C1", text="a")
    client.chat_postMessage(channel="C9", text="b")
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C9", text="c")
    assert info.value.response.headers["Retry-After"] == "60"
    sl.limits_enabled = False
    client.chat_postMessage(channel="C9", text="d")
    assert len(sl.posted) == 3


def test_invalid_blocks(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C1", text="x", blocks=[section("x")] * 51)
    assert info.value.response["error"] == "invalid_blocks"
    assert info.value.response["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    button = {"type": "button", "text": {"type": "plain_text", "text": "go"}, "action_id": "same"}
    actions = {"type": "actions", "elements": [button, dict(button)]}
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C1", text="x", blocks=[header, section("y" * 3001), actions])
    errors = info.value.response["errors"]
    assert "must be less than 151 characters [json-pointer:/blocks/0/text/text]" in errors
    assert "must be less than 3001 characters [json-pointer:/blocks/1/text/text]" in errors
    assert any(e.startswith("duplicate action_id: same") for e in errors)


def test_validate_blocks_accepts_well_formed_messages() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "⚡ 能源"}},
        section("*bold* <https://x.org|link>"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "source"}]},
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "More"}, "action_id": "a1"}
            ],
        },
    ]
    assert validate_blocks(blocks) == []
    assert validate_blocks([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]) == [
        "must be a valid enum value [json-pointer:/blocks/0/text/type]"
    ]


def test_long_text_is_truncated_with_warning(sl: FakeSlack, client: WebClient) -> None:
    response = client.chat_postMessage(channel="C1", text="x" * 40_005)
    assert response["warning"] == "message_truncated"
    assert len(sl.messages_in("C1")[0].text) == 40_000


def test_auth_errors(sl: FakeSlack) -> None:
    for token, error in ((None, "not_authed"), ("xoxb-wrong", "invalid_auth")):
        with pytest.raises(SlackApiError) as info:
            WebClient(token=token, base_url=sl.api_url).auth_test()
        assert info.value.response["error"] == error
    client = WebClient(token=sl.token, base_url=sl.api_url)
    assert client.auth_test()["user_id"] == sl.bot_user_id
    sl.deactivate_token()
    with pytest.raises(SlackApiError) as info:
        client.auth_test()
    assert info.value.response["error"] == "account_inactive"


def test_fault_injection(sl: FakeSlack, client: WebClient) -> None:
    sl.fail_next("chat.postMessage", retry_after=7, channel="C1")
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C1", text="x")
    assert info.value.response.status_code == 429 and info.value.response.headers["Retry-After"] == "7"
    sl.fail_next("chat.postMessage", "internal_error", status=500)
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="C1", text="x")
    assert info.value.response.status_code == 500
    assert client.chat_postMessage(channel="C1", text="x")["ok"]


def test_update_ephemeral_views_and_files(sl: FakeSlack, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="v1")["ts"]
    updated = client.chat_update(channel="C1", ts=ts, text="v2")
    assert updated["text"] == "v2" and sl.message("C1", ts)["text"] == "v2"  # type: ignore[index]
    with pytest.raises(SlackApiError) as info:
        client.chat_update(channel="C1", ts="1.000001", text="v3")
    assert info.value.response["error"] == "message_not_found"
    assert client.chat_postEphemeral(channel="C1", user="U1", text="only you")["message_ts"]
    with pytest.raises(SlackApiError) as info:
        client.chat_postEphemeral(channel="C1", user=sl.add_user("U5")["id"], text="x")
    assert info.value.response["error"] == "user_not_in_channel"
    home = {"type": "home", "blocks": [section("subscriptions")]}
    assert client.views_publish(user_id="U1", view=home)["view"]["type"] == "home"
    assert sl.home_view("U1") is not None
    meta = sl.add_file("F1", b"# issue", "issue.md", "text/markdown")
    info_file = client.files_info(file="F1")["file"]
    assert info_file["url_private"] == meta["url_private"]
    authorised = urllib.request.Request(
        info_file["url_private"], headers={"Authorization": f"Bearer {sl.token}"}
    )
    with urllib.request.urlopen(authorised) as response:
        assert response.read() == b"# issue"
    with urllib.request.urlopen(info_file["url_private"]) as response:  # no token: Slack's sign-in page
        assert response.headers["Content-Type"].startswith("text/html")


async def test_async_client_conversations_and_users(asl: FakeSlack) -> None:
    client = AsyncWebClient(token=asl.token, base_url=asl.api_url)
    info = await client.conversations_info(channel="C1", include_num_members=True)
    assert info["channel"]["name"] == "energy" and info["channel"]["num_members"] == 4
    first = await client.conversations_members(channel="C1", limit=3)
    rest = await client.conversations_members(channel="C1", cursor=first["response_metadata"]["next_cursor"])
    assert first["members"] + rest["members"] == ["U1", "U2", "U3", asl.bot_user_id]
    assert rest["response_metadata"]["next_cursor"] == ""
    user = await client.users_info(user="U1", include_locale=True)
    assert user["user"]["locale"] == "zh-CN"
    assert "locale" not in (await client.users_info(user="U1"))["user"]
    joined = await client.conversations_join(channel="C2")
    assert joined["channel"]["is_member"]
    mine = await client.users_conversations()
    assert {c["id"] for c in mine["channels"]} == {"C1", "C2"}
    assert (await client.team_info())["team"]["id"] == asl.team_id
    posted = await client.chat_postMessage(channel="U1", text="dm")  # a user id opens the app DM
    assert posted["channel"].startswith("D")
    await asl.wait_for(lambda: asl.messages_in(posted["channel"]))


def test_bolt_respond_through_response_url(sl: FakeSlack) -> None:
    app = App(
        client=WebClient(token=sl.token, base_url=sl.api_url),
        signing_secret=SECRET,
    )

    @app.command("/energy")
    def energy(ack: Ack, respond: Respond, command: dict[str, Any]) -> None:
        ack()
        respond(text=f"today: {command['text']}", response_type="ephemeral")

    body, response_url = sl.slash_command("/energy", "latest", user_id="U1", channel_id="C1")
    signed = sign(body, SECRET)
    assert SignatureVerifier(SECRET).is_valid_request(body, signed)
    headers: dict[str, str | Sequence[str]] = {**signed}
    result = app.dispatch(BoltRequest(body=body, headers=headers))
    assert result.status == 200
    [payload] = sl.wait_for_sync(lambda: sl.responses_to(response_url), timeout=5)
    assert payload["text"] == "today: latest" and payload["response_type"] == "ephemeral"


def test_bolt_rejects_bad_signature_and_answers_challenge(sl: FakeSlack) -> None:
    app = App(client=WebClient(token=sl.token, base_url=sl.api_url), signing_secret=SECRET)
    body = json.dumps(url_verification("abc"))
    good = app.dispatch(
        BoltRequest(body=body, headers={**sign(body, SECRET), "Content-Type": "application/json"})
    )
    assert good.status == 200 and json.loads(good.body) == {"challenge": "abc"}
    event_body = json.dumps(sl.event(app_mention_event("U1", "C1", f"<@{sl.bot_user_id}> energy")))
    bad_headers: dict[str, str | Sequence[str]] = {**sign(event_body, "wrong-secret")}
    bad = app.dispatch(BoltRequest(body=event_body, headers=bad_headers))
    assert bad.status == 401


def test_response_url_allows_five_uses(sl: FakeSlack) -> None:
    url = sl.new_response_url()
    statuses = []
    for i in range(6):
        request = urllib.request.Request(url, data=json.dumps({"text": str(i)}).encode(), method="POST")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)
    assert statuses == [200] * 5 + [404]
    assert [p["text"] for p in sl.responses_to(url)] == ["0", "1", "2", "3", "4"]


async def test_latency_is_applied_per_request() -> None:
    async with FakeSlack(latency=0.05) as fake:
        client = AsyncWebClient(token=fake.token, base_url=fake.api_url)
        loop = asyncio.get_running_loop()
        start = loop.time()
        await client.auth_test()
        elapsed = loop.time() - start
    assert elapsed >= 0.05


async def test_a_post_is_stamped_when_it_arrived_not_after_the_simulated_latency(
    asl: FakeSlack, clock: ManualClock
) -> None:
    asl.latency = 0.2
    before, arrived = asl.arrivals, clock()
    client = AsyncWebClient(token=asl.token, base_url=asl.api_url)
    posting = asyncio.create_task(client.chat_postMessage(channel="C1", text="hello"))
    await asl.wait_for(lambda: asl.arrivals > before, timeout=5)
    clock.advance(10.0)  # the call is still inside its latency
    await posting
    assert asl.posted[-1].t == arrived
