"""The engine through the Slack transport against the fake Slack Web API."""

from __future__ import annotations

from datetime import UTC, datetime

from briefcast.config import Secret
from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import SlackTransport
from briefcast.emulators.slack import FakeSlack, SlackLimits
from briefcast.store import Store, outbox
from briefcast.store.records import ChatRef
from crash_worker import fast_settings, ingest_sample


async def test_slack_posts_retries_after_429_and_deactivates_archived(store: Store) -> None:
    issue_id = ingest_sample(store)
    subs = {}
    for ch in ("C1", "C2", "C3"):
        ref = ChatRef("slack", ch, workspace="T0FAKE")
        store.upsert_chat(ref, kind="channel")
        subs[ch] = store.subscribe(ref, ["energy", "web3"], mode="publish").id
    async with FakeSlack(limits=SlackLimits(enabled=False)) as slack:
        for ch in ("C1", "C2", "C3"):
            slack.add_channel(ch, ch.lower())
        slack.archive("C3")
        slack.fail_next("chat.postMessage", channel="C2", retry_after=1)
        outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC))
        transport = SlackTransport(slack.token, base_url=slack.api_url)
        engine = DeliveryEngine(fast_settings(), store, {"slack": transport}, idle_poll=0.02)
        await engine.drain(wait_retries=5)
        await transport.close()
        assert len(slack.messages_in("C1")) == 2
        assert len(slack.messages_in("C2")) == 2
        calls = [c for c in slack.calls("chat.postMessage") if c.params.get("channel") == "C2"]
        assert calls[1].t - calls[0].t >= 1.0
        assert slack.messages_in("C3") == []
    rows = {d.subscription_id: d for d in outbox.list_deliveries(store.engine, limit=None)}
    assert rows[subs["C1"]].status == rows[subs["C2"]].status == "sent"
    assert rows[subs["C1"]].message_ids == tuple(m.ts for m in slack.messages_in("C1"))
    assert rows[subs["C3"]].status == "failed" and rows[subs["C3"]].last_error == "is_archived"
    (c3,) = store.subscriptions_for_chat("slack", "C3", "T0FAKE")
    assert not c3.active and c3.reason == "is_archived"


async def test_oauth_installs_post_with_each_workspace_token(store: Store) -> None:
    """Multi-workspace mode: every delivery uses the bot token installed for its workspace."""
    from slack_sdk.oauth.installation_store import Installation
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    from briefcast.bot.slack import oauth_stores
    from briefcast.config import Settings, SlackSettings
    from briefcast.delivery.transports import build_transports
    from briefcast.store.tables import now

    issue_id = ingest_sample(store)
    oauth_stores(store.engine, "cid")  # creates slack-sdk's tables in our database

    installs = SQLAlchemyInstallationStore(client_id="cid", engine=store.engine)
    for team, token in (("T1", "xoxb-team-one"), ("T2", "xoxb-team-two")):
        installs.save(
            Installation(
                app_id="A1",
                team_id=team,
                user_id="U1",
                bot_token=token,
                bot_id="B1",
                bot_user_id="UB",
                installed_at=now().timestamp(),
            )
        )
    for team, ch in (("T1", "C1"), ("T2", "C2"), ("T3", "C3")):  # T3 never installed the app
        ref = ChatRef("slack", ch, workspace=team)
        store.upsert_chat(ref, kind="channel")
        store.subscribe(ref, ["energy"], mode="publish")
    async with FakeSlack(limits=SlackLimits(enabled=False)) as slack:
        slack.add_token("xoxb-team-one")  # T2's token is unknown to the server: invalid_auth
        for ch in ("C1", "C2", "C3"):
            slack.add_channel(ch, ch.lower())
        settings = Settings(
            delivery=fast_settings().delivery,
            slack=SlackSettings(client_id="cid", client_secret=Secret("s"), api_url=slack.api_url),
        )
        transports = build_transports(settings, engine=store.engine)
        outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC))
        engine = DeliveryEngine(settings, store, transports, idle_poll=0.02)
        await engine.drain()
        await transports["slack"].close()
        assert len(slack.messages_in("C1")) == 1  # T1's own token was accepted
        assert slack.messages_in("C2") == [] and slack.messages_in("C3") == []
    rows = {d.subscription_id: d for d in outbox.list_deliveries(store.engine, limit=None)}
    by_chat = {
        s.chat.chat_id: rows[s.id]
        for s in store.subscriptions_for_chat("slack", "C1", "T1")
        + store.subscriptions_for_chat("slack", "C2", "T2")
        + store.subscriptions_for_chat("slack", "C3", "T3")
    }
    assert by_chat["C1"].status == "sent"
    # T2's token is refused: the bot's fault, not the channel's — T2 is paused, its row waits
    # for the next probe and its subscription stays active (issue #13)
    assert by_chat["C2"].status == "pending" and by_chat["C2"].last_error.startswith("paused: slack:T2")
    assert by_chat["C2"].attempts == 0
    assert store.subscriptions_for_chat("slack", "C2", "T2")[0].active
    assert engine.stats.paused == {"slack:T2": "invalid_auth"}
    assert by_chat["C3"].status == "failed" and "no Slack installation" in by_chat["C3"].last_error
