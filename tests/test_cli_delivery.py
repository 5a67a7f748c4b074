"""Operator commands (subs, push, deliveries, retry-failed, sources, doctor) against the fake Telegram API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from briefcast.cli import app
from briefcast.emulators.telegram import DEFAULT_TOKEN, FakeTelegram, TelegramLimits
from briefcast.store import outbox


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram.in_thread(limits=TelegramLimits(enabled=False)) as tg:
        tg.add_chat(42, "private", first_name="Ada")
        tg.add_chat(-100777, "supergroup", title="Energy desk")
        yield tg


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeTelegram) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("BRIEFCAST_", "TELEGRAM_", "SLACK_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", DEFAULT_TOKEN)
    monkeypatch.setenv("BRIEFCAST_TELEGRAM_API_URL", fake.base_url)
    return CliRunner()


def test_subs_push_and_deliveries(
    runner: CliRunner, db_url: str, sample_md: Path, fake: FakeTelegram
) -> None:
    def cli(*args: str) -> str:
        result = runner.invoke(app, ["--db", db_url, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "status=new" in cli("ingest", str(sample_md))
    assert cli("subs", "add", "telegram:42", "energy", "--time", "07:30", "--tz", "Europe/Berlin").startswith(
        "subscription 1: energy at 07:30 Europe/Berlin"
    )
    cli("subs", "add", "telegram:-100777", "ai", "web3", "--kind", "supergroup", "--on-publish")
    listing = cli("subs", "list")
    assert "telegram:42  energy  07:30 Europe/Berlin" in listing
    assert "telegram:-100777  ai,web3  on publish" in listing

    dry = cli("push", "--dry-run")
    assert "2 subscriptions would be pushed" in dry
    assert fake.sent_messages == []  # a dry run sends nothing

    out = cli("push")
    assert "enqueued 2; sent=2" in out
    assert [m.chat_id for m in fake.messages_to(42)] == [42]
    assert fake.messages_to(42)[0].plain.startswith("⚡ 能源基建")
    group = [m.plain.splitlines()[0] for m in fake.messages_to(-100777)]
    assert group[0].startswith("🤖") and group[-1].startswith("🌐")

    again = cli("push")  # the outbox row exists: nobody is pushed twice
    assert "enqueued 0" in again
    assert len(fake.messages_to(42)) == 1
    rows = cli("deliveries", "--status", "sent")
    assert rows.count(" sent ") == 2


def test_push_waits_for_a_dead_workers_sender_lease_then_sends(
    runner: CliRunner, db_url: str, sample_md: Path, fake: FakeTelegram
) -> None:
    """A worker died holding the Telegram sender lease: push stands by until it lapses, then
    delivers itself (nothing is sent while the lease is live, nothing is lost)."""
    from briefcast.metrics import database_gauges
    from briefcast.store import Store
    from briefcast.store.outbox import senders

    assert runner.invoke(app, ["--db", db_url, "ingest", str(sample_md)]).exit_code == 0
    assert runner.invoke(app, ["--db", db_url, "subs", "add", "telegram:42", "energy"]).exit_code == 0
    store = Store.open(db_url)
    try:
        start = datetime.now(UTC)
        assert senders.acquire(store.engine, "telegram", "worker-dead", now=start, ttl=timedelta(seconds=1))
        gauges = {name: samples for name, _help, samples in database_gauges(store, now=start)}
        assert gauges["briefcast_sender_lease"] == [
            ((("platform", "telegram"), ("owner", "worker-dead")), 1.0)
        ]
        out = runner.invoke(app, ["--db", db_url, "push"])
        assert out.exit_code == 0, out.output
        assert "enqueued 1; sent=1" in out.stdout and "holds the sender lease" not in out.stdout
        assert len(fake.messages_to(42)) == 1
        (row,) = [d for d in outbox.list_deliveries(store.engine, limit=None)]
        assert row.sent_at is not None and row.sent_at >= start + timedelta(seconds=1)
    finally:
        store.close()


def test_blocked_chat_is_deactivated_and_retry_failed(
    runner: CliRunner, db_url: str, sample_md: Path, fake: FakeTelegram
) -> None:
    assert runner.invoke(app, ["--db", db_url, "ingest", str(sample_md)]).exit_code == 0
    assert runner.invoke(app, ["--db", db_url, "subs", "add", "telegram:42", "energy"]).exit_code == 0
    fake.block(42)
    out = runner.invoke(app, ["--db", db_url, "push"])
    # something was left undelivered: exit 1 with the reason (issue #13, it used to exit 0)
    assert out.exit_code == 1, out.output
    assert "failed=1: Forbidden: bot was blocked by the user" in out.stderr
    failed = runner.invoke(app, ["--db", db_url, "deliveries", "--status", "failed"]).stdout
    assert "blocked" in failed.lower()
    assert runner.invoke(app, ["--db", db_url, "subs", "list"]).stdout.strip() == "no active subscriptions"
    # the subscription is inactive, so there is nothing to re-queue
    retry = runner.invoke(app, ["--db", db_url, "retry-failed"])
    assert retry.stdout.strip() == "0 failed deliveries re-queued"


def test_operator_errors_are_one_line(runner: CliRunner, db_url: str) -> None:
    bad_chat = runner.invoke(app, ["--db", db_url, "subs", "add", "whatsapp:1", "energy"])
    assert bad_chat.exit_code == 2 and bad_chat.stderr.startswith("error: CHAT must be")
    bad_time = runner.invoke(app, ["--db", db_url, "subs", "add", "telegram:42", "energy", "--time", "25:00"])
    assert bad_time.exit_code == 1 and bad_time.stderr.count("\n") == 1 and "25:00" in bad_time.stderr
    nothing = runner.invoke(app, ["--db", db_url, "push"])
    assert nothing.exit_code == 1 and nothing.stderr.strip() == "error: there is no issue to push"
    status = runner.invoke(app, ["--db", db_url, "deliveries", "--status", "lost"])
    assert status.exit_code == 1 and "status must be one of" in status.stderr
    assert runner.invoke(app, ["--db", db_url, "sources"]).stdout.startswith("no sources have been polled")


def test_doctor_checks_the_token(runner: CliRunner, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = runner.invoke(app, ["--db", db_url, "doctor"])
    assert ok.exit_code == 0, ok.output
    assert "briefcast_test_bot" in ok.stdout
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "999:wrong")
    bad = runner.invoke(app, ["--db", db_url, "doctor"])
    assert bad.exit_code == 1
    assert "999:wrong" not in bad.output  # secrets never printed


def test_operator_tools_are_honest(
    runner: CliRunner, db_url: str, sample_md: Path, fake: FakeTelegram
) -> None:
    """Issue #13, case 11: attempts counted, ids validated, `subs remove` takes the listed id,
    `doctor` checks the --db it is given."""
    assert runner.invoke(app, ["--db", db_url, "ingest", str(sample_md)]).exit_code == 0
    bad = runner.invoke(app, ["--db", db_url, "subs", "add", "telegram:abc", "energy"])
    assert bad.exit_code == 2 and "'telegram:abc' is not a valid chat id" in bad.stderr
    assert runner.invoke(app, ["--db", db_url, "subs", "add", "telegram:42", "energy"]).exit_code == 0
    pushed = runner.invoke(app, ["--db", db_url, "push"])
    assert pushed.exit_code == 0, pushed.output
    sent = runner.invoke(app, ["--db", db_url, "deliveries", "--status", "sent"]).stdout
    assert "attempts 1" in sent  # it was tried once (it said "attempts 0")
    sub_id = runner.invoke(app, ["--db", db_url, "subs", "list"]).stdout.split()[0]
    removed = runner.invoke(app, ["--db", db_url, "subs", "remove", sub_id])
    assert removed.exit_code == 0 and f"subscription {sub_id} is now inactive" in removed.stdout
    missing = runner.invoke(app, ["--db", db_url, "subs", "remove", "999"])
    assert missing.exit_code == 1 and "there is no active subscription 999" in missing.stderr
    doctor = runner.invoke(app, ["--db", "foo://bar", "doctor"])
    assert doctor.exit_code == 1 and "database: cannot use foo://bar" in doctor.stdout
