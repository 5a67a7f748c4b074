"""Worker liveness: claims that survive their owner's death by seconds, not by a lease.

A claim lease (``delivery.lease_seconds``, 120 s) is long on purpose: a slow send or a long wait
for a group's flood limit must not let another worker take a row that is still being sent. But a
lease alone means the work of a SIGKILLed process waits the whole lease. So every engine also
registers a ``worker`` row and renews its ``heartbeat_at`` every :data:`HEARTBEAT_EVERY` seconds
from its own thread (a busy event loop cannot starve it), always on the real clock.

An owner is **dead** when

* it runs on this host (same host name, boot id and pid namespace) and its PID is gone, or the
  PID now belongs to another process (a different start time) — known at once; or
* its heartbeat is older than :data:`DEAD_AFTER` seconds (another host, a frozen process).

:func:`reap` (every engine calls it every :data:`REAP_EVERY` seconds) hands a dead owner's claimed
deliveries back to ``pending`` (the crash counts as an attempt), expires its sender leases and
deletes its row. A live owner's claims are never touched, whatever their lease says; an owner
without a worker row (an older version) still falls back to the lease.

Synchronous functions on an SQLAlchemy ``Engine`` (run them in a worker thread), like the rest
of :mod:`briefcast.store.outbox`; the :class:`Heartbeat` thread and the process identity it
records (host, boot id, pid namespace, start time) live here with the rows they write.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from briefcast.store import schema
from briefcast.store.db import writer
from briefcast.store.outbox.common import back_to_pending
from briefcast.store.tables import as_utc

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 2.0
DEAD_AFTER = 10.0
REAP_EVERY = 2.0


def real_now() -> datetime:
    """Liveness and leases are on the real clock only (never a test's or the playground's)."""
    return datetime.now(UTC)


def host_name() -> str:
    return (socket.gethostname().split(".")[0] or "host")[:128]


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except OSError:
        return ""


@cache
def boot_id() -> str:
    return _read("/proc/sys/kernel/random/boot_id")[:64]


@cache
def pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")[:64]
    except OSError:
        return ""


def process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (``/proc/PID/stat`` field 22), or ""."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return ""
    # the command name (field 2) may contain spaces and parentheses: split after its last ")"
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def pid_alive(pid: int, start: str) -> bool:
    """Whether ``pid`` still runs this host's process that started at ``start``."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    now_start = process_start(pid)
    if start and now_start and now_start != start:
        return False  # the PID was reused
    if now_start:
        stat = _read(f"/proc/{pid}/stat")
        state = stat.rsplit(")", 1)[-1].split()[:1]
        if state == ["Z"]:  # a zombie has stopped running: its claims are nobody's
            return False
    return True


@dataclass(frozen=True, slots=True)
class Worker:
    owner: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    status: str
    alive: bool


def _same_machine(row: sa.Row[object] | object) -> bool:
    r: object = row
    return (
        getattr(r, "host", "") == host_name()
        and bool(getattr(r, "boot_id", ""))
        and getattr(r, "boot_id", "") == boot_id()
        and getattr(r, "pid_ns", "") == pid_namespace()
    )


def is_alive(row: object, now: datetime) -> bool:
    """Alive: on this machine its process still runs; elsewhere its heartbeat is recent."""
    if _same_machine(row):
        return pid_alive(int(getattr(row, "pid", 0)), str(getattr(row, "pid_start", "")))
    beat = as_utc(getattr(row, "heartbeat_at"))  # noqa: B009
    return beat > now - timedelta(seconds=DEAD_AFTER)


def register(engine: Engine, owner: str, *, status: str = "") -> None:
    """Insert (or refresh) this process's worker row."""
    now = real_now()
    pid = os.getpid()
    row = {
        "owner": owner, "host": host_name(), "pid": pid, "boot_id": boot_id(), "pid_ns": pid_namespace(),
        "pid_start": process_start(pid), "started_at": now, "heartbeat_at": now, "status": status[:1000],
    }  # fmt: skip
    with writer(engine).begin() as conn:
        conn.execute(sa.delete(schema.workers).where(schema.workers.c.owner == owner))
        conn.execute(sa.insert(schema.workers).values(**row))


def beat(engine: Engine, owner: str, *, status: str = "") -> None:
    """Renew the heartbeat; re-register if another process reaped us while we were frozen (our
    old claims are gone then, and every write of ours is guarded by ``lease_owner``)."""
    with writer(engine).begin() as conn:
        done = conn.execute(
            sa.update(schema.workers)
            .where(schema.workers.c.owner == owner)
            .values(heartbeat_at=real_now(), status=status[:1000])
        ).rowcount
    if not done:
        register(engine, owner, status=status)


def unregister(engine: Engine, owner: str) -> None:
    with writer(engine).begin() as conn:
        conn.execute(sa.delete(schema.workers).where(schema.workers.c.owner == owner))


def workers(engine: Engine) -> list[Worker]:
    """Every registered worker with its liveness (dashboard, metrics, doctor)."""
    now = real_now()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.workers).order_by(schema.workers.c.started_at)).all()
    return [
        Worker(
            owner=str(r.owner),
            host=str(r.host),
            pid=int(r.pid),
            started_at=as_utc(r.started_at),
            heartbeat_at=as_utc(r.heartbeat_at),
            status=str(r.status or ""),
            alive=is_alive(r, now),
        )
        for r in rows
    ]


def live_owners(engine: Engine) -> set[str]:
    return {w.owner for w in workers(engine) if w.alive}


@dataclass(frozen=True, slots=True)
class Reaped:
    owners: tuple[str, ...] = ()
    deliveries: int = 0
    sender_leases: int = 0


def reap(engine: Engine) -> Reaped:
    """Free everything held by dead owners: their claims go back to pending, their sender
    leases expire, their worker rows go. Cheap when nobody died (one read of a small table)."""
    now = real_now()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schema.workers)).all()
    dead = sorted(str(r.owner) for r in rows if not is_alive(r, now))
    if not dead:
        return Reaped()
    with writer(engine).begin() as conn:
        freed = conn.execute(
            sa.update(schema.deliveries)
            .where(schema.deliveries.c.status == schema.CLAIMED, schema.deliveries.c.lease_owner.in_(dead))
            .values(**back_to_pending(now, "the worker that claimed it died mid-delivery"))
        ).rowcount
        leases = conn.execute(
            sa.update(schema.sender_leases)
            .where(schema.sender_leases.c.owner.in_(dead), schema.sender_leases.c.expires_at > now)
            .values(expires_at=now)
        ).rowcount
        conn.execute(sa.delete(schema.workers).where(schema.workers.c.owner.in_(dead)))
    result = Reaped(tuple(dead), int(freed or 0), int(leases or 0))
    log.warning(
        "worker(s) %s stopped without handing back their work: %d deliveries and %d sender "
        "lease(s) taken over",
        ", ".join(dead),
        result.deliveries,
        result.sender_leases,
    )
    return result


class Heartbeat:
    """Renews one owner's heartbeat every :data:`HEARTBEAT_EVERY` s from a daemon thread.

    ``status`` is called on each beat for the text stored with it (the engine's faults).
    """

    def __init__(self, engine: Engine, owner: str, status: Callable[[], str] = lambda: "") -> None:
        self.engine = engine
        self.owner = owner
        self.status = status
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        register(self.engine, self.owner, status=self.status())
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{self.owner}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        failed = False
        while not self._stop.wait(HEARTBEAT_EVERY):
            try:
                beat(self.engine, self.owner, status=self.status())
            except Exception:  # the database is away: keep trying, say so once
                if not failed:
                    log.warning("heartbeat of %s failed; retrying", self.owner, exc_info=True)
                failed = True
            else:
                failed = False

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            unregister(self.engine, self.owner)
        except Exception:
            log.warning("could not remove worker row %s (it will be reaped)", self.owner, exc_info=True)
