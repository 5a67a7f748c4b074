"""6. Command latency: 2,000 ``/energy`` updates POSTed to the webhook at 200/s.

Latency per update = arrival of the first ``sendMessage`` for that chat at the fake Bot API
minus the moment the update POST was started. Both stamps are ``time.monotonic()``
(``CLOCK_MONOTONIC``, one clock for every process on the machine), taken in this process and in
the fake's process; the fake stamps a request when it reaches the server, before its simulated
40 ms latency. Each update comes from a different private chat and user, so neither the bot's
per-user anti-spam nor Telegram's 1 msg/s per chat is involved. The fake's bot-wide 30 msg/s
limit is lifted for this measurement: 200 replies/s are above it by definition, and what is
measured here is our own response time, not flood control.

Updates not answered within ``GRACE`` seconds of the last POST count as not answered; they and
their latency lower bound enter the percentiles as ``GRACE + (last POST - their POST)``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import aiohttp

from bench import issues
from bench.common import (
    REPO,
    FakeProcess,
    Options,
    Result,
    WorkerSpec,
    _env,
    add_chats,
    database,
    enqueue,
    ingest,
    open_store,
    percentile,
    proc_cpu_seconds,
    start_worker,
)
from bench.fanout import private_chats

NAME = "command_latency_p99"
GRACE = 15.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _update(i: int, chat: int) -> dict[str, Any]:
    user = {"id": chat, "is_bot": False, "first_name": f"U{i}", "language_code": "en"}
    return {
        "update_id": 10_000 + i,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private", "first_name": f"U{i}"},
            "from": user,
            "text": "/energy",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        },
    }


async def _post_all(url: str, secret: str, chats: list[int], rate: float) -> dict[int, float]:
    """POST one update per chat at ``rate``/s on an absolute schedule; returns chat -> POST time."""
    posted: dict[int, float] = {}
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    failures = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(i: int, chat: int) -> None:
            nonlocal failures
            body = json.dumps(_update(i, chat))
            posted[chat] = time.monotonic()
            async with session.post(
                url, data=body, headers={**headers, "Content-Type": "application/json"}
            ) as r:
                if r.status != 200:
                    failures += 1

        tasks = []
        start = time.monotonic()
        for i, chat in enumerate(chats):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, chat)))
        await asyncio.gather(*tasks)
    if failures:
        raise RuntimeError(f"{failures} webhook POSTs were refused")
    return posted


def _measure(opts: Options, n: int, rate: float, profile: str = "", fanout: int = 0) -> dict[str, Any]:
    """``fanout`` > 0: that many subscribers get the issue pushed, and a worker (paid broadcast,
    1000/s) delivers it through the same fake while the commands are posted (issue 14)."""
    worker: subprocess.Popen[str] | None = None
    with database("sqlite", opts.workdir) as url:
        store = open_store(url)
        issue_id = ingest(store, issues.sample())
        if fanout:
            add_chats(store, "telegram", private_chats(fanout, base=9_000_000), kind="private",
                      sectors=("energy",))  # fmt: skip
            enqueue(store, issue_id)
        store.close()
        with FakeProcess("telegram", latency=opts.latency, per_bot=1_000_000) as fake:
            if fanout:
                spec = WorkerSpec(db_url=url, base_url=fake.base_url, token=fake.token, paid=True)
                worker = start_worker(spec)
                fake.wait(min(fanout, 3000), timeout=120)  # the fan-out is in full flow
            port, secret = _free_port(), secrets.token_urlsafe(16)
            cfg = {"db_url": url, "api_url": fake.base_url, "token": fake.token, "port": port,
                   "secret": secret, "profile": profile}  # fmt: skip
            app = subprocess.Popen(
                [sys.executable, "-m", "bench.webhook_app", json.dumps(cfg)],
                cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                assert app.stdout is not None
                line = app.stdout.readline()
                if not line:
                    raise RuntimeError(
                        f"webhook app did not start: {app.stderr.read() if app.stderr else ''}"
                    )
                chats = [7_000_000 + i for i in range(n)]
                baseline = fake.stats()["count"]
                cpu0 = proc_cpu_seconds(app.pid)
                posted = asyncio.run(
                    _post_all(f"http://127.0.0.1:{port}/telegram/webhook", secret, chats, rate)
                )
                last_post = max(posted.values())
                if not fanout:
                    fake.wait(baseline + n, timeout=GRACE)
                    stats = fake.stats(since=baseline)
                else:  # the fan-out's messages count too: wait for every command's chat instead
                    wanted, until = set(chats), time.monotonic() + GRACE
                    while True:
                        stats = fake.stats(since=baseline)
                        if wanted <= {int(c) for c, _, _ in stats["log"]} or time.monotonic() > until:
                            break
                        time.sleep(0.5)
                app_cpu = proc_cpu_seconds(app.pid) - cpu0
                fanout_sent = fake.stats(since=10**9).get("count", 0) if fanout else 0
            finally:
                if worker is not None:
                    worker.send_signal(signal.SIGTERM)
                    worker.communicate(timeout=120)
                # A backlog of unprocessed updates would make a graceful stop wait for all of them.
                app.terminate()
                try:
                    _out, err = app.communicate(timeout=10)
                except subprocess.TimeoutExpired:
                    app.kill()
                    _out, err = app.communicate()
    fanout_during = 0
    first: dict[int, float] = {}
    for chat, t, _ in stats["log"]:
        if int(chat) >= 9_000_000:
            fanout_during += 1
        c = int(chat)
        if c in posted and c not in first:
            first[c] = float(t)
    latencies = [(first[c] - posted[c]) * 1000 for c in chats if c in first]
    unanswered = [c for c in chats if c not in first]
    bounds = [(GRACE + last_post - posted[c]) * 1000 for c in unanswered]
    everything = latencies + bounds
    return {
        "p50_ms": round(percentile(everything, 50), 1),
        "p99_ms": round(percentile(everything, 99), 1),
        "max_ms": round(max(everything), 1),
        "answered": len(latencies),
        "unanswered_within_grace": len(unanswered),
        "http_429": int(stats["rate_limited"]),
        "app_cpu_ms_per_command": round(1000 * app_cpu / max(1, n), 2),
        "fanout_subscribers": fanout,
        "fanout_messages_while_measuring": fanout_during,
        "fanout_messages_total": fanout_sent,
        "errors_tail": err[-500:] if not latencies else "",
    }


def run(opts: Options) -> Result:
    n = opts.size(2000, 40)
    rate = 200.0
    profile = str(opts.workdir / "profile-command_latency.txt") if opts.profile else ""
    shipped = _measure(opts, n, rate, profile)
    details: dict[str, Any] = {
        "updates": n,
        "rate_per_s": rate,
        "fake_latency_ms": opts.latency * 1000,
        **shipped,
    }
    if profile:
        details["profile"] = profile
    p99 = float(shipped["p99_ms"])
    ok = p99 <= 50.0 and shipped["unanswered_within_grace"] == 0
    return Result(NAME, p99, "ms", "p99 <= 50 ms (POST -> sendMessage at the fake)", ok, details)
