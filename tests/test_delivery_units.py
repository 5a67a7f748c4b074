"""Pure parts of delivery: token buckets with an injected clock, error classification."""

from __future__ import annotations

from briefcast.config import DeliverySettings
from briefcast.delivery.errors import FailureKind, classify_slack, classify_telegram
from briefcast.delivery.ratelimit import ChatLimit, RateLimits, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_bucket_spaces_sends_and_pause_restarts_empty() -> None:
    b = TokenBucket(2.0, now=0.0)  # one every 0.5 s
    assert b.ready_at(0.0) == 0.0
    b.take(0.0)
    assert b.ready_at(0.0) == 0.5
    assert b.ready_at(0.5) == 0.5
    b.take(0.5)
    b.pause(3.0)
    assert b.ready_at(1.0) == 3.0
    assert b.ready_at(3.0) == 3.0
    assert not b.idle(2.9) and b.idle(3.0)


def test_margin_stretches_the_interval() -> None:
    b = TokenBucket(30.0, now=0.0, margin=0.02)
    b.take(0.0)
    assert abs(b.ready_at(0.0) - 0.034) < 1e-9


def test_chat_buckets_are_independent_and_groups_also_count_per_minute() -> None:
    clock = Clock()
    limits = RateLimits(DeliverySettings(), clock=clock, margin=0.0)
    alice = ChatLimit("telegram", "alice", group=False)
    bob = ChatLimit("telegram", "bob", group=False)
    group = ChatLimit("telegram", "g", group=True)
    limits.take(alice)
    # Alice waits a second; Bob only the global 1/30 s.
    assert limits.ready_at(alice) == clock.t + 1.0
    assert abs(limits.ready_at(bob) - (clock.t + 1 / 30)) < 1e-9
    limits.take(group, clock.t + 1.0)
    clock.t += 1.0
    assert abs(limits.ready_at(group) - (clock.t + 3.0)) < 1e-9  # 20 per minute


def test_pauses_and_memory_sweep() -> None:
    clock = Clock()
    limits = RateLimits(DeliverySettings(), clock=clock, margin=0.0)
    alice = ChatLimit("telegram", "alice", group=False)
    bob = ChatLimit("telegram", "bob", group=False)
    limits.pause_chat(alice, 5.0)
    assert limits.ready_at(alice) == clock.t + 5.0
    assert limits.ready_at(bob) == clock.t
    limits.pause_platform("telegram", 2.0)
    assert limits.ready_at(bob) == clock.t + 2.0
    limits.pause_platform("slack", 1.0)
    assert limits.platform_ready_at("slack") == clock.t + 1.0
    for i in range(100):
        limits.take(ChatLimit("telegram", i, group=False))
    clock.t += 60.0
    limits.take(bob)  # triggers the sweep of idle buckets
    assert len(limits) == 1


def test_paid_broadcast_raises_the_global_rate() -> None:
    clock = Clock()
    limits = RateLimits(DeliverySettings(), paid_broadcast=True, clock=clock, margin=0.0)
    limits.take(ChatLimit("telegram", 1, group=False))
    assert abs(limits.platform_ready_at("telegram") - (clock.t + 0.001)) < 1e-9


def test_telegram_classification() -> None:
    assert classify_telegram(429, "Too Many Requests", {"retry_after": 7}).retry_after == 7.0
    m = classify_telegram(400, "Bad Request: group chat was upgraded", {"migrate_to_chat_id": -100123})
    assert m.kind is FailureKind.MIGRATED and m.new_chat_id == "-100123"
    assert classify_telegram(403, "Forbidden: bot was blocked by the user").kind is FailureKind.PERMANENT
    assert classify_telegram(400, "Bad Request: chat not found").kind is FailureKind.PERMANENT
    assert classify_telegram(400, "Bad Request: can't parse entities").kind is FailureKind.REJECTED
    assert classify_telegram(502, "Bad Gateway").kind is FailureKind.TRANSIENT


def test_slack_classification() -> None:
    r = classify_slack("ratelimited", status=429, retry_after=3)
    assert r.kind is FailureKind.RETRY_AFTER and r.retry_after == 3
    for code in ("not_in_channel", "channel_not_found", "is_archived", "account_inactive", "invalid_auth"):
        assert classify_slack(code).kind is FailureKind.PERMANENT
    assert classify_slack("invalid_blocks").kind is FailureKind.REJECTED
    assert classify_slack("internal_error", status=500).kind is FailureKind.TRANSIENT
