"""The engine through the Slack transport against the fake Slack Web API."""

from __future__ import annotations

from datetime import UTC, datetime

from briefcast.delivery import outbox
from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import SlackTransport
from briefcast.store import Store
from briefcast.store.records import ChatRef
from briefcast.testing.fake_slack import FakeSlack, SlackLimits
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
