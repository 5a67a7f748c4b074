"""What every measurement shares: results, databases, fixtures in bulk, and the child processes.

Process layout of a measurement (so that only the engine's own CPU is charged to the engine)::

    python -m bench            (this process: sets up data, drives, reads results)
      ├── python -m bench.fakeserver   the fake Telegram/Slack (limits, latency, arrival log)
      └── python -m bench.worker       the real DeliveryEngine + transports (or the bot / PTB loop)

Both children report times on ``time.monotonic()``, which on Linux is ``CLOCK_MONOTONIC`` and
therefore the same clock in every process of the machine.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import sqlalchemy as sa

from briefcast.briefing.parse import parse_markdown
from briefcast.config import Settings
from briefcast.store import Store, outbox
from briefcast.store.tables import ChatRow, SubscriptionRow
from briefcast.testing.postgres import postgres_problem

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("BRIEFCAST_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
TELEGRAM_TOKEN = "123456789:AAFakeTokenForBriefcastBench_012345"
SLACK_TOKEN = "xoxb-0000000000-0000000000000-FakeBriefcastToken"

NAMES = (
    "telegram_ceiling_utilisation",
    "telegram_paid_utilisation",
    "group_limits",
    "slack_channels",
    "engine_sqlite",
    "engine_postgres",
    "vs_ptb_ratelimiter",
    "command_latency_p99",
    "memory_100k",
    "crash_recovery",
    "scheduler_first_message",
    "slot_cost_curve",
    "slot_1m",
    "command_latency_fanout",
)


class BenchError(RuntimeError):
    """A measurement could not be carried out (a child died, a database is unreachable...)."""


@dataclass
class Result:
    """One line of ``bench/results.json``."""

    name: str
    value: float
    unit: str
    target: str
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object; a value that is not a finite number (no measurement) becomes null."""
        value: float | int | None = self.value
        if isinstance(value, float):
            value = round(value, 4) if math.isfinite(value) else None
        return {
            "name": self.name,
            "value": value,
            "unit": self.unit,
            "target": self.target,
            "pass": bool(self.passed),
            "details": self.details,
        }


@dataclass(frozen=True)
class Options:
    """Run-wide choices: ``smoke`` shrinks every size so the whole suite takes seconds."""

    smoke: bool = False
    workdir: Path = Path(tempfile.gettempdir())
    profile: bool = False
    latency: float = 0.040
    variants: bool = True  # also run the side experiments (telegram_ceiling: a wider rate margin)

    def size(self, full: int, smoke: int) -> int:
        return smoke if self.smoke else full


def machine() -> dict[str, Any]:
    """Cores and CPU model, recorded with every run (the figures mean little without them)."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count() or 0,
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


# ------------------------------------------------------------------------------------------- databases


@contextlib.contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """An empty database URL: a fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm", "-journal"):
                with contextlib.suppress(OSError):
                    Path(f"{path}{suffix}").unlink()
        return
    import psycopg

    problem = postgres_problem(PG_URL)
    if problem:
        raise BenchError(problem)
    schema = f"bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    options = quote(f"-csearch_path={schema},public", safe="")
    base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}{'&' if '?' in base else '?'}options={options}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


_MIGRATE = threading.Lock()


def open_store(url: str) -> Store:
    """Open (and migrate) a database. Serialised: Alembic keeps per-process global state, so
    measurements running concurrently in threads must not migrate at the same time."""
    with _MIGRATE:
        return Store.open(url, settings=Settings(database_url=url))


def ingest(store: Store, markdown: str) -> int:
    """Store and publish an issue; returns its id."""
    return store.ingest(parse_markdown(markdown), raw=markdown, source="bench").issue_id


def add_chats(
    store: Store,
    platform_name: str,
    chat_ids: Sequence[str],
    *,
    kind: str,
    sectors: Sequence[str],
    mode: str = "publish",
    at: str = "08:00",
    timezone: str = "UTC",
    workspace: str = "",
) -> int:
    """Chats and one subscription each, inserted in bulk (100k rows in seconds, not minutes)."""
    now = datetime.now(UTC)
    chat_t, sub_t = ChatRow.__table__, SubscriptionRow.__table__  # type: ignore[attr-defined]
    chunk = 5000
    with store.engine.begin() as conn:
        for i in range(0, len(chat_ids), chunk):
            conn.execute(
                sa.insert(chat_t),
                [
                    {"platform": platform_name, "workspace": workspace, "external_id": str(c), "kind": kind,
                     "title": "", "language": None, "active": True, "deactivated_reason": "",
                     "created_at": now, "updated_at": now}
                    for c in chat_ids[i : i + chunk]
                ],
            )  # fmt: skip
        wanted = {str(c) for c in chat_ids}
        pks = [
            pk
            for pk, ext in conn.execute(
                sa.select(chat_t.c.id, chat_t.c.external_id).where(chat_t.c.platform == platform_name)
            )
            if ext in wanted
        ]
        for i in range(0, len(pks), chunk):
            conn.execute(
                sa.insert(sub_t),
                [
                    {"chat_id": pk, "thread_id": "", "sectors": list(sectors), "mode": mode, "time": at,
                     "timezone": timezone, "variant": "full", "active": True, "reason": "",
                     "created_by": "bench", "created_at": now, "updated_at": now, "last_issue_id": None}
                    for pk in pks[i : i + chunk]
                ],
            )  # fmt: skip
    return len(pks)


def enqueue(store: Store, issue_id: int) -> int:
    """Operator push: one pending delivery per active subscription."""
    return outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC))


def status_counts(url: str) -> dict[str, int]:
    store = open_store(url)
    try:
        return outbox.count_by_status(store.engine)
    finally:
        store.close()


# ------------------------------------------------------------------------------------- child processes


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def proc_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) of a live process, from ``/proc/PID/stat``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class FakeProcess:
    """``python -m bench.fakeserver`` as a context manager, with its control routes as methods."""

    def __init__(
        self,
        platform_name: str = "telegram",
        *,
        latency: float = 0.040,
        limits: str = "real",
        per_bot: int = 30,
    ) -> None:
        self.platform = platform_name
        self.args = [
            sys.executable, "-m", "bench.fakeserver", "--platform", platform_name, "--latency", str(latency),
            "--limits", limits, "--per-bot", str(per_bot),
        ]  # fmt: skip
        self.proc: subprocess.Popen[str] | None = None
        self._stderr: Any = None
        self.url = self.base_url = self.token = ""
        self._http = httpx.Client(timeout=120.0)

    def __enter__(self) -> FakeProcess:
        # stderr goes to a file, never an undrained pipe: a SIGKILLed client makes the server log
        # a traceback per dropped request, and a full 64 KiB pipe would block the fake forever.
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            self.args, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self._stderr.seek(0)
            err = self._stderr.read()
            raise BenchError(f"fake {self.platform} did not start: {err[-2000:]}")
        info = json.loads(line)
        self.url, self.base_url, self.token = info["url"], info["base_url"], info["token"]
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()

    def cpu_seconds(self) -> float:
        """User + system CPU time the fake has used so far (``/proc/PID/stat``)."""
        return proc_cpu_seconds(self.proc.pid) if self.proc is not None else 0.0

    def stats(self, since: int = 0) -> dict[str, Any]:
        """Counters and the arrival log ``[[chat, monotonic arrival, crc32(text)], ...]`` from ``since``."""
        r = self._http.get(f"{self.url}/_bench/stats", params={"since": since})
        r.raise_for_status()
        data: dict[str, Any] = r.json()
        return data

    def wait(self, count: int, timeout: float) -> int:
        """Block until the fake accepted ``count`` messages (or ``timeout``); returns the count."""
        r = self._http.get(f"{self.url}/_bench/wait", params={"count": count, "timeout": timeout})
        r.raise_for_status()
        return int(r.json()["count"])


@dataclass
class WorkerSpec:
    """What ``python -m bench.worker`` runs (serialised to JSON on its command line)."""

    db_url: str
    platform: str = "telegram"
    base_url: str = ""
    token: str = TELEGRAM_TOKEN
    concurrency: int = 32
    paid: bool = False
    engine_limits: str = "real"  # real | off
    lease: float = 30.0
    mode: str = "drain"  # drain | serve (engine + scheduler until SIGTERM)
    profile: str = ""  # write a pyinstrument HTML profile here
    batch_size: int = 0
    wait_retries: float = 5.0
    rate_margin: float | None = None  # DeliveryEngine(rate_margin=...); None = the engine's default
    max_seconds: float = 0.0  # > 0: stop after this long even if the outbox is not empty

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "bench.worker", json.dumps(asdict(self))]


def start_worker(spec: WorkerSpec) -> subprocess.Popen[str]:
    return subprocess.Popen(
        spec.argv(), cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish_worker(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    """Wait for a worker and parse its JSON report (the last stdout line)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise BenchError(f"worker did not finish within {timeout:.0f} s: {err[-2000:]}") from None
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise BenchError(f"worker failed (exit {proc.returncode}): {err[-3000:]}")
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def run_worker(spec: WorkerSpec, timeout: float) -> dict[str, Any]:
    return finish_worker(start_worker(spec), timeout)


def run_module(module: str, config: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run ``python -m module JSON`` and return its JSON report (PTB loop, webhook app...)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module, json.dumps(config)],
        cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    return finish_worker(proc, timeout)


# ------------------------------------------------------------------------------------------- analysis


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def per_chat(log: Sequence[Sequence[Any]]) -> dict[str, list[tuple[float, int]]]:
    """Arrival log -> ``{chat: [(arrival, crc), ...]}`` in arrival order."""
    out: dict[str, list[tuple[float, int]]] = {}
    for chat, t, crc in log:
        out.setdefault(str(chat), []).append((float(t), int(crc)))
    for items in out.values():
        items.sort()
    return out


def now_mono() -> float:
    return time.monotonic()
