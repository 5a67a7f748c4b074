"""What a Slack channel now receives: /briefing settings applied to pushes, keyword-watch alerts,
corrections edited in place (``chat.update``), a notice in the thread where Slack refuses the edit.

Commands go through the real bolt app (``test_slack_app``'s harness: signed slash commands, the
fake Slack Web API); the issue is published through the scheduler's on-publish hook and the real
delivery engine posts through the real Slack transport to the same fake.
"""

# The fixtures are imported from test_slack_app, so test arguments "redefine" them (F811).
# ruff: noqa: F811

from __future__ import annotations

import json

from archive_app import CORRECTED, ORIGINAL, issue_text
from briefcast.briefing.parse import parse_markdown
from briefcast.delivery.engine import DeliveryEngine, EngineStats
from briefcast.delivery.transports import SlackTransport
from briefcast.emulators.slack import SlackMessage
from briefcast.schedule import Scheduler
from briefcast.store import Store, outbox
from crash_worker import fast_settings
from test_slack_app import (  # the real bolt app against the fake Slack
    CHANNEL,
    Harness,
    answer_text,
    fake,  # noqa: F401
    h,  # noqa: F401
    issue,  # noqa: F401
    policy,  # noqa: F401
)

SETTINGS = fast_settings().model_copy(update={"default_language": "en"})


async def publish_and_drain(h: Harness, store: Store, text: str) -> EngineStats:
    result = store.ingest(parse_markdown(text, source="test"), raw=text, source="test")
    await Scheduler(SETTINGS, store).on_issue_published(result.issue_id)
    transport = SlackTransport(h.fake.token, base_url=h.fake.api_url)
    engine = DeliveryEngine(SETTINGS, store, {"slack": transport}, idle_poll=0.02)
    try:
        return await engine.drain(wait_retries=5)
    finally:
        await transport.close()


def blocks_text(m: SlackMessage) -> str:
    return json.dumps(m.blocks, ensure_ascii=False)


async def test_settings_watch_and_correction_on_slack(h: Harness, store: Store) -> None:
    await answer_text(h, "subscribe energy publish")
    await answer_text(h, "settings previews on")
    await answer_text(h, "watch 钠电池")
    await h.fake.wait_for(
        lambda: [m for m in h.fake.messages_in(CHANNEL) if "Watched words" in blocks_text(m)]
    )
    before = len(h.fake.messages_in(CHANNEL))
    stats = await publish_and_drain(h, store, issue_text("2026-11-28"))
    assert stats.delivered == 2 and stats.failed == 0
    pushed = h.fake.messages_in(CHANNEL)[before:]
    [digest] = [m for m in pushed if ORIGINAL in blocks_text(m) and "Watched words" not in blocks_text(m)]
    assert digest.params["unfurl_links"] is True and digest.params["unfurl_media"] is True  # previews on
    [alert] = [m for m in pushed if "Watched words" in blocks_text(m)]
    assert "*钠电池*" in blocks_text(alert) and "/briefing watches" in blocks_text(alert)
    assert {r.kind: r.status for r in outbox.list_deliveries(store.engine, limit=None)} == {
        "digest": "sent",
        "watch": "sent",
    }

    # the revision edits the digest in place: chat.update, no new post
    posted = len(h.fake.messages_in(CHANNEL))
    await publish_and_drain(h, store, issue_text("2026-11-28", corrected=True))
    assert len(h.fake.messages_in(CHANNEL)) == posted
    [update] = [u for u in h.fake.updates if u["ts"] == digest.ts]
    assert CORRECTED in json.dumps(update["blocks"], ensure_ascii=False)
    current = h.fake.message(CHANNEL, digest.ts)
    assert current is not None and "edited" in current

    # past the workspace's edit window: a short notice in the message's thread
    h.fake.lock_message(CHANNEL, digest.ts, "edit_window_closed")
    third = issue_text("2026-11-28", corrected=True).replace("（更正）", "（再次更正）", 1)
    await publish_and_drain(h, store, third)
    [notice] = h.fake.messages_in(CHANNEL)[posted:]
    assert notice.thread_ts == digest.ts
    assert "This issue was corrected" in blocks_text(notice) and "/briefing latest" in blocks_text(notice)
    fixes = [r for r in outbox.list_deliveries(store.engine, limit=None) if r.kind == "correction"]
    assert sorted(r.detail for r in fixes) == [("edited",), ("notice",)]


async def test_deleted_message_gets_a_notice_in_the_channel(h: Harness, store: Store) -> None:
    await answer_text(h, "subscribe energy publish")
    before = len(h.fake.messages_in(CHANNEL))
    await publish_and_drain(h, store, issue_text("2026-11-28"))
    [digest] = h.fake.messages_in(CHANNEL)[before:]
    h.fake.forget_message(CHANNEL, digest.ts)
    await publish_and_drain(h, store, issue_text("2026-11-28", corrected=True))
    [notice] = h.fake.messages_in(CHANNEL)[before + 1 :]
    assert notice.thread_ts is None  # the original is gone: nothing to reply under
    assert "This issue was corrected" in blocks_text(notice)


async def test_quiet_hours_on_slack(h: Harness, store: Store) -> None:
    await answer_text(h, "subscribe energy publish")
    said = await answer_text(h, "quiet 23:00-06:30")
    assert said.startswith("Quiet hours: 23:00–06:30 (Asia/Shanghai).")
    [sub] = store.active_subscriptions()
    assert sub.quiet == "23:00-06:30"
    bad = await answer_text(h, "quiet 23:00")
    assert bad.startswith("“23:00” is not a quiet-hours range")
