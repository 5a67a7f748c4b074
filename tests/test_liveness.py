"""Worker liveness (issue #13): heartbeats, dead-owner detection, takeover, real-clock leases."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram, TelegramLimits
from briefcast.store import Store, outbox
from briefcast.store.outbox import liveness, senders
from briefcast.store.tables import DeliveryRow, WorkerRow
from crash_worker import add_subscribers, fast_settings, ingest_sample

W = WorkerRow.__table__  # type: ignore[attr-defined]
D = DeliveryRow.__table__  # type: ignore[attr-defined]


def _now() -> datetime:
    return datetime.now(UTC)


def _claim_all(store: Store, owner: str) -> list[int]:
    rows = outbox.claim(store.engine, owner, now=_now(), lease=timedelta(seconds=120), limit=100)
    return [r.id for r in rows]


def _dead_process_owner(store: Store) -> str:
    """Register a worker row for a process that has exited (its PID is gone)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    owner = f"{liveness.host_name()}:{proc.pid}:dead"
    liveness.register(store.engine, owner)
    with store.engine.begin() as conn:
        conn.execute(sa.update(W).where(W.c.owner == owner).values(pid=proc.pid, pid_start="1"))
    return owner


def test_a_dead_local_owner_is_reaped_at_once_and_its_claims_and_lease_freed(store: Store) -> None:
    issue_id = ingest_sample(store)
    add_subscribers(store, [1, 2, 3])
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    owner = _dead_process_owner(store)
    assert len(_claim_all(store, owner)) == 3
    assert senders.acquire(store.engine, "telegram", owner, now=_now(), ttl=timedelta(seconds=15))
    # its heartbeat is fresh, but its process is gone: no need to wait for any lease
    reaped = liveness.reap(store.engine)
    assert reaped.owners == (owner,) and reaped.deliveries == 3 and reaped.sender_leases == 1
    counts = outbox.count_by_status(store.engine, issue_id=issue_id)
    assert counts["pending"] == 3 and counts["claimed"] == 0
    rows = outbox.list_deliveries(store.engine, limit=None)
    assert {d.attempts for d in rows} == {1} and all("died" in d.last_error for d in rows)
    assert not senders.holders(store.engine)[0].live(_now())
    assert liveness.workers(store.engine) == []


def test_a_live_owner_is_never_reaped(store: Store) -> None:
    issue_id = ingest_sample(store)
    add_subscribers(store, [1, 2])
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    hb = liveness.Heartbeat(store.engine, "me:live")
    hb.start()
    try:
        _claim_all(store, "me:live")
        assert liveness.reap(store.engine).owners == ()
        assert outbox.count_by_status(store.engine, issue_id=issue_id)["claimed"] == 2
        assert [w.alive for w in liveness.workers(store.engine)] == [True]
    finally:
        hb.stop()
    assert liveness.workers(store.engine) == []  # a clean stop removes its row


def test_an_owner_on_another_host_is_dead_once_its_heartbeat_lapses(store: Store) -> None:
    liveness.register(store.engine, "elsewhere:1:a")
    liveness.register(store.engine, "elsewhere:2:b")
    old = _now() - timedelta(seconds=liveness.DEAD_AFTER + 1)
    with store.engine.begin() as conn:
        conn.execute(sa.update(W).values(host="other-host", boot_id="other-boot"))
        conn.execute(sa.update(W).where(W.c.owner == "elsewhere:1:a").values(heartbeat_at=old))
    assert {w.owner: w.alive for w in liveness.workers(store.engine)} == {
        "elsewhere:1:a": False,
        "elsewhere:2:b": True,
    }
    assert liveness.reap(store.engine).owners == ("elsewhere:1:a",)


def test_a_reused_pid_does_not_keep_a_dead_owner_alive(store: Store) -> None:
    import os

    liveness.register(store.engine, "me:reused")
    with store.engine.begin() as conn:  # our own PID, but another process start time
        conn.execute(sa.update(W).values(pid=os.getpid(), pid_start="12345"))
    assert liveness.reap(store.engine).owners == ("me:reused",)


async def test_leases_are_on_the_real_clock_even_when_the_engine_clock_is_ahead(store: Store) -> None:
    """The playground moves its clock ~20 h ahead: leases written on it outlived the process."""
    issue_id = ingest_sample(store)
    add_subscribers(store, [5001])
    outbox.enqueue_now(store.engine, issue_id, now=_now())
    ahead = timedelta(hours=20)
    async with FakeTelegram(limits=TelegramLimits(enabled=False)) as tg:
        tg.add_chat(5001)
        transport = TelegramTransport(tg.token, base_url=tg.base_url, concurrency=4)
        engine = DeliveryEngine(fast_settings(), store, {"telegram": transport}, clock=lambda: _now() + ahead)
        rows = await __import__("asyncio").to_thread(
            engine._claims.claim, 10, ("telegram",)
        )  # claim as the engine does
        await engine._leases.refresh()
        await transport.close()
    limit = _now() + timedelta(seconds=fast_settings().delivery.lease_seconds + 60)
    with store.engine.connect() as conn:
        lease_until = conn.execute(sa.select(D.c.lease_until)).scalar_one()
    assert rows[0] and lease_until is not None
    assert liveness.real_now() - timedelta(minutes=1) < _as_utc(lease_until) < limit
    expires = senders.holders(store.engine)[0].expires_at
    assert expires < _now() + timedelta(minutes=5)


def _as_utc(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)
