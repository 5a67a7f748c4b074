"""Black-box fault suite (issue #13): the real ``briefcast`` processes with DEFAULT settings
(120 s claim lease, 15 s sender lease), SIGKILLed mid-way, facing outages and refused tokens.

Each test fails on the code before issue #13: a re-run push found the dead push's claims held for
the full 120 s lease and exited 0 with rows undelivered; an outage ended a push with rows pending;
a refused token was retried like a network error and the push exited 0.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from datetime import UTC, datetime

import pytest

from briefcast.emulators.telegram import FakeTelegram
from briefcast.store import Store, outbox
from crash_worker import add_subscribers_bulk, ingest_sample
from fault_harness import briefcast_env, run, start

# default settings: the send concurrency bounds the duplicates a SIGKILL can cause
CONCURRENCY = 16
CHATS = list(range(700_000, 700_150))


def _setup(store: Store, tg: FakeTelegram) -> int:
    issue_id = ingest_sample(store)
    add_subscribers_bulk(store, CHATS)
    for c in CHATS:
        tg.add_chat(c)
    return issue_id


def _kill_after(proc_args: list[str], env: dict[str, str], tg: FakeTelegram, n: int) -> None:
    proc = start(proc_args, env)
    try:
        tg.wait_for_sync(lambda: len(tg.sent_messages) >= n, timeout=90)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def _assert_all_once(store: Store, tg: FakeTelegram, issue_id: int) -> None:
    received = Counter(m.chat_id for m in tg.sent_messages)
    assert set(received) == set(CHATS)  # nobody lost
    assert sum(n - 1 for n in received.values()) <= CONCURRENCY
    counts = outbox.count_by_status(store.engine, issue_id=issue_id)
    assert counts["sent"] == len(CHATS) and counts["claimed"] == counts["pending"] == 0


@pytest.mark.parametrize("first", [["push"], ["worker"]], ids=["push", "worker"])
def test_sigkill_then_push_takes_over_the_dead_owners_work(
    store: Store, db_url: str, first: list[str]
) -> None:
    with FakeTelegram.in_thread() as tg:  # real flood limits (30/s): the kill lands mid-way
        issue_id = _setup(store, tg)
        env = briefcast_env(db_url, tg)
        if first == ["worker"]:
            outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC))
        _kill_after(first, env, tg, 40)
        assert outbox.count_by_status(store.engine, issue_id=issue_id)["claimed"] > 0
        again = run(["push"], env, timeout=200)
        assert again.returncode == 0, again.stderr[-2000:]
        assert "stopped without handing back their work" in again.stderr
        assert "holds the sender lease" not in again.stdout  # the dead owner is not named as live
        _assert_all_once(store, tg, issue_id)


def test_push_waits_out_an_outage_and_delivers_everything(store: Store, db_url: str) -> None:
    with FakeTelegram.in_thread() as tg:
        issue_id = _setup(store, tg)
        tg.fail_next("sendMessage", 502, "Bad Gateway", count=300)  # every send fails for a while
        done = run(["push"], briefcast_env(db_url, tg), timeout=200)
        assert done.returncode == 0, done.stderr[-2000:]
        _assert_all_once(store, tg, issue_id)


def test_refused_telegram_token_pauses_and_keeps_every_subscription(store: Store, db_url: str) -> None:
    with FakeTelegram.in_thread() as tg:
        issue_id = _setup(store, tg)
        wrong = "123456:SECRET-not-the-real-token"
        env = briefcast_env(db_url, tg, TELEGRAM_BOT_TOKEN=wrong)
        done = run(["push"], env, timeout=200)
        assert done.returncode == 1
        assert "telegram: paused, the bot token is refused" in done.stderr
        assert "SECRET" not in done.stdout + done.stderr  # the token is never printed
        assert len(store.active_subscriptions()) == len(CHATS)
        rows = outbox.list_deliveries(store.engine, issue_id=issue_id, limit=None)
        assert {d.status for d in rows} == {"pending"} and {d.attempts for d in rows} == {0}
        # the token works again: the next push delivers everything
        again = run(["push"], briefcast_env(db_url, tg), timeout=200)
        assert again.returncode == 0, again.stderr[-2000:]
        _assert_all_once(store, tg, issue_id)


def test_refused_token_at_start_up_is_one_line_without_the_token(db_url: str, tmp_path: object) -> None:
    with FakeTelegram.in_thread() as tg:
        env = briefcast_env(
            db_url, tg, TELEGRAM_BOT_TOKEN="123456:SECRETSECRET", BRIEFCAST_HTTP_PORT=str(_free_port())
        )
        done = run(["run"], env, timeout=120)
    assert done.returncode == 1
    assert "SECRET" not in done.stdout + done.stderr  # printed in clear before issue #13
    assert "error: Telegram refused the bot token (TELEGRAM_BOT_TOKEN)" in done.stderr
    assert "Traceback" not in done.stderr


def test_uncaught_tracebacks_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    import sys
    import threading

    from briefcast.logs import Redactor, install_excepthooks

    old, old_thread = sys.excepthook, threading.excepthook
    try:
        install_excepthooks(Redactor(["s3cr3t-token-value"]))
        try:
            raise RuntimeError("The token `s3cr3t-token-value` was rejected by the server.")
        except RuntimeError as e:
            sys.excepthook(type(e), e, e.__traceback__)
        t = threading.Thread(target=lambda: (_ for _ in ()).throw(ValueError("xoxb-1234-abcd leaked")))
        t.start()
        t.join()
    finally:
        sys.excepthook, threading.excepthook = old, old_thread
    err = capsys.readouterr().err
    assert "RuntimeError" in err and "ValueError" in err
    assert "s3cr3t-token-value" not in err and "xoxb-1234-abcd" not in err and "[REDACTED]" in err


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_refused_slack_token_pauses_the_workspace_and_unsubscribes_nobody(store: Store, db_url: str) -> None:
    from briefcast.emulators.slack import FakeSlack
    from briefcast.store.records import ChatRef

    ingest_sample(store)
    with FakeSlack.in_thread() as sl:
        for ch in ("C1", "C2", "C3"):
            sl.add_channel(ch, ch.lower())
            ref = ChatRef("slack", ch, workspace="T0FAKE")
            store.upsert_chat(ref, kind="channel")
            store.subscribe(ref, ["energy"], mode="publish")
        env = briefcast_env(
            db_url,
            None,
            SLACK_BOT_TOKEN="xoxb-revoked-0000",
            SLACK_SIGNING_SECRET="s3cret",
            BRIEFCAST_SLACK_API_URL=sl.api_url,
        )
        done = run(["push"], env, timeout=200)
        # before issue #13: exit 0, failed=3 and every Slack subscription of the workspace deactivated
        assert done.returncode == 1
        assert "slack:T0FAKE: paused, the bot token is refused (invalid_auth)" in done.stderr
        assert "xoxb-revoked-0000" not in done.stdout + done.stderr
        assert len(store.active_subscriptions("slack")) == 3
        assert sl.messages_in("C1") == []


def test_sigkill_of_run_then_restart_resumes_within_seconds(store: Store, db_url: str) -> None:
    """``briefcast run`` (bots + engine) SIGKILLed mid-broadcast and started again: the restarted
    process takes the dead one's claims over at once (before issue #13: ~125 s later, when the
    120 s lease lapsed)."""
    with FakeTelegram.in_thread() as tg:
        issue_id = _setup(store, tg)
        env = briefcast_env(db_url, tg, BRIEFCAST_HTTP_PORT=str(_free_port()))
        first = start(["run"], env)
        outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC))
        try:
            tg.wait_for_sync(lambda: len(tg.sent_messages) >= 40, timeout=90)
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        assert outbox.count_by_status(store.engine, issue_id=issue_id)["claimed"] > 0
        env["BRIEFCAST_HTTP_PORT"] = str(_free_port())
        second = start(["run"], env)
        try:
            # well inside the 120 s claim lease: only liveness can explain the takeover
            tg.wait_for_sync(lambda: {m.chat_id for m in tg.sent_messages} >= set(CHATS), timeout=60)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=60)
        assert second.returncode == 0
        _assert_all_once(store, tg, issue_id)
