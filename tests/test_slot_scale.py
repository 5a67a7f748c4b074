"""Issue 14: one slot with many subscribers — linear cost, committed batches, one delivery per identity.

The cost-curve smoke enqueues one slot of 2,000 and one of 20,000 subscriptions on the same
database and fails if the larger costs more than 15× the smaller (10× is linear; the anti-join
PostgreSQL planned as a nested loop showed ~100×). Real figures are in bench/slot_curve.py and
docs/benchmarks.md; this only catches a quadratic path coming back.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from briefcast.briefing.parse import parse_html, parse_markdown
from briefcast.config import Settings
from briefcast.store import Store, outbox
from briefcast.store.tables import ChatRow, DeliveryRow, SubscriptionRow
from crash_worker import add_subscribers, ingest_sample

GRACE = timedelta(hours=6)
SLOT = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 Asia/Shanghai


def _bulk_subscribers(store: Store, n: int, *, at: str, first_chat: int) -> None:
    """``n`` Telegram chats, each with one subscription scheduled at ``at`` UTC (bulk insert)."""
    now = datetime.now(UTC)
    chat_t, sub_t = ChatRow.__table__, SubscriptionRow.__table__  # type: ignore[attr-defined]
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(chat_t),
            [
                {"platform": "telegram", "workspace": "", "external_id": str(first_chat + i),
                 "kind": "private", "title": "", "language": None, "active": True, "deactivated_reason": "",
                 "created_at": now, "updated_at": now}
                for i in range(n)
            ],
        )  # fmt: skip
        low = str(first_chat)
        pks = conn.execute(
            sa.select(chat_t.c.id).where(chat_t.c.external_id >= low).order_by(chat_t.c.id)
        ).scalars()
        conn.execute(
            sa.insert(sub_t),
            [
                {"chat_id": pk, "thread_id": "", "sectors": ["energy"], "mode": "scheduled", "time": at,
                 "timezone": "UTC", "variant": "full", "active": True, "reason": "", "created_by": "test",
                 "created_at": now, "updated_at": now, "last_issue_id": None}
                for pk in pks
            ],
        )  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A factory of empty databases of one backend (each size of the curve starts from scratch,
    as after an import: a planner that sees an empty delivery table is the case that went wrong)."""
    urls: list[str] = []

    def make() -> str:
        if request.param == "sqlite":
            urls.append(f"sqlite:///{tmp_path / f'curve-{len(urls)}.db'}")
        else:
            urls.append(request.getfixturevalue("pg_url") if not urls else _another_schema())
        return urls[-1]

    def _another_schema() -> str:
        import psycopg

        from conftest import PG_URL

        schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        created.append(schema)
        base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        return (
            f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema},public', safe='')}"
        )

    created: list[str] = []
    try:
        yield make
    finally:
        if created:
            import psycopg

            from conftest import PG_URL

            with psycopg.connect(PG_URL, autocommit=True) as conn:
                for schema in created:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _slot_seconds(url: str, n: int) -> float:
    """Seconds ``enqueue_due`` takes for one slot of ``n`` subscriptions on a fresh database."""
    store = Store.open(url, settings=Settings())
    try:
        ingest_sample(store, published_at=SLOT - timedelta(hours=1))
        _bulk_subscribers(store, n, at="00:00", first_chat=50_000_000)
        t0 = time.perf_counter()
        result = outbox.enqueue_due(store.engine, now=SLOT + timedelta(seconds=1), grace=GRACE)
        elapsed = time.perf_counter() - t0
        assert result.pending == n
        assert outbox.count_by_status(store.engine)["pending"] == n
        return elapsed
    finally:
        store.close()


def test_cost_of_a_slot_grows_linearly_not_quadratically(fresh_db: Callable[[], str]) -> None:
    # The best of three fresh runs per size: a neighbour's CPU spike must not fail CI.
    t_small = min(_slot_seconds(fresh_db(), 2_000) for _ in range(3))
    t_large = min(_slot_seconds(fresh_db(), 20_000) for _ in range(3))
    growth = t_large / t_small
    assert growth <= 15, f"2k -> 20k took {t_small:.3f} s -> {t_large:.3f} s ({growth:.0f}x; linear is 10x)"


def test_a_slot_is_enqueued_in_committed_batches_each_announced(store: Store) -> None:
    ingest_sample(store, published_at=SLOT - timedelta(hours=1))
    _bulk_subscribers(store, 25, at="00:00", first_chat=70_000_000)
    seen: list[tuple[int, int, str]] = []

    def on_batch(n: int) -> None:
        # Another connection (another thread, as the engine would be) already sees the batch.
        counts: dict[str, int] = {}
        reader = threading.Thread(target=lambda: counts.update(outbox.count_by_status(store.engine)))
        reader.start()
        reader.join(timeout=30)
        seen.append((n, counts["pending"], threading.current_thread().name))

    result = outbox.enqueue_due(store.engine, now=SLOT, grace=GRACE, batch_size=10, on_batch=on_batch)
    assert result.pending == 25
    assert [(n, visible) for n, visible, _ in seen] == [(10, 10), (10, 20), (5, 25)]
    # Idempotent: the next tick of the same slot adds nothing and announces nothing.
    seen.clear()
    assert outbox.enqueue_due(
        store.engine, now=SLOT + timedelta(minutes=1), grace=GRACE, on_batch=on_batch
    ) == (outbox.EnqueueResult(0, 0, result.issue_id))
    assert seen == []


def test_inactive_chat_or_subscription_in_a_batch_is_left_out(store: Store) -> None:
    ingest_sample(store, published_at=SLOT - timedelta(hours=1))
    _bulk_subscribers(store, 6, at="00:00", first_chat=80_000_000)
    subs = SubscriptionRow.__table__  # type: ignore[attr-defined]
    chats = ChatRow.__table__  # type: ignore[attr-defined]
    with store.engine.begin() as conn:
        ids = list(conn.execute(sa.select(subs.c.id, subs.c.chat_id).order_by(subs.c.id)))
        conn.execute(sa.update(chats).where(chats.c.id == ids[1].chat_id).values(active=False))
        conn.execute(sa.update(subs).where(subs.c.id == ids[4].id).values(active=False))
    result = outbox.enqueue_due(store.engine, now=SLOT, grace=GRACE, batch_size=4)
    assert result.pending == 4
    got = {d.subscription_id for d in outbox.list_deliveries(store.engine, limit=None)}
    assert got == {int(ids[i].id) for i in (0, 2, 3, 5)}


# ------------------------------------------------------- a revision is not delivered again (#13 case 6)


def test_corrected_html_twin_is_not_pushed_to_readers_who_have_the_issue(
    store: Store, sample_md: Path, sample_html: Path
) -> None:
    md = sample_md.read_text(encoding="utf-8")
    first = store.ingest(parse_markdown(md), raw=md, source="sample-issue.md")
    reader = add_subscribers(store, [1001])[0]
    assert outbox.enqueue_now(store.engine, first.issue_id, now=datetime.now(UTC)) == 1

    html = sample_html.read_text(encoding="utf-8")
    twin = store.ingest(parse_html(html), raw=html, source="sample-issue.html")
    assert twin.status == "revision" and twin.issue_id != first.issue_id
    newcomer = add_subscribers(store, [1002])[0]

    # briefcast push of the revision: only the reader who does not have the issue gets it.
    assert outbox.enqueue_now(store.engine, twin.issue_id, now=datetime.now(UTC)) == 1
    assert (
        outbox.enqueue_now(store.engine, twin.issue_id, now=datetime.now(UTC), subscription_ids=[reader]) == 0
    )
    rows = outbox.list_deliveries(store.engine, limit=None)
    assert sorted((d.subscription_id, d.issue_id) for d in rows) == [
        (reader, first.issue_id),
        (newcomer, twin.issue_id),
    ]
    # The on-publish hook and the store's single enqueue agree.
    assert (
        outbox.enqueue_due(store.engine, now=datetime.now(UTC), grace=GRACE, issue_id=twin.issue_id).pending
        == 0
    )
    assert store.enqueue_delivery(twin.issue_id, reader).issue_id == first.issue_id
    with store.engine.connect() as conn:
        table = DeliveryRow.__table__  # type: ignore[attr-defined]
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 2


def test_migration_0008_backfills_identity_and_platform_and_keeps_old_revision_rows(
    db_url: str, sample_md: Path, sample_html: Path
) -> None:
    """A 0006 database where a revision was already pushed to a reader who had the issue (two rows,
    one identity): the upgrade keeps both rows, the later one under a distinct identity."""
    from alembic import command

    from briefcast.store.db import alembic_config, upgrade

    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        upgrade(engine, "0006")
        store = Store(engine, settings=Settings())
        md, html = sample_md.read_text(encoding="utf-8"), sample_html.read_text(encoding="utf-8")
        first = store.ingest(parse_markdown(md), raw=md, source="md").issue_id
        twin = store.ingest(parse_html(html), raw=html, source="html").issue_id
        with engine.begin() as conn:
            for ext in ("1", "2"):
                conn.execute(
                    sa.text(
                        "INSERT INTO chat (platform, workspace, external_id, kind, title, active,"
                        " deactivated_reason, created_at, updated_at) VALUES ('telegram', '', :ext,"
                        " 'private', '', true, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"ext": ext},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO subscription (chat_id, thread_id, sectors, mode, time, timezone, variant,"
                    " active, reason, created_by, created_at, updated_at) SELECT id, '', '[\"energy\"]',"
                    " 'publish', '08:00', 'UTC', 'full', true, '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP"
                    " FROM chat"
                )
            )
            subs = list(conn.execute(sa.text("SELECT id FROM subscription ORDER BY id")).scalars())
            for issue_id, sub in ((first, subs[0]), (twin, subs[0]), (twin, subs[1])):
                conn.execute(
                    sa.text(
                        "INSERT INTO delivery (issue_id, subscription_id, status, attempts, lease_owner,"
                        " parts_total, parts_sent, message_ids, last_error, created_at, updated_at)"
                        " VALUES (:i, :s, 'sent', 1, '', 1, 1, '[]', '',"
                        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    ),
                    {"i": issue_id, "s": sub},
                )
        upgrade(engine)
        with engine.connect() as conn:
            identity = conn.execute(
                sa.text("SELECT identity FROM issue WHERE id = :i"), {"i": first}
            ).scalar_one()
            rows = conn.execute(
                sa.text("SELECT subscription_id, issue_id, identity, platform FROM delivery ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [
            (subs[0], first, identity, "telegram"),
            (subs[0], twin, f"{identity}#{twin}", "telegram"),
            (subs[1], twin, identity, "telegram"),
        ]
        # From now on the constraint holds: neither revision is enqueued again for anyone.
        assert outbox.enqueue_now(engine, twin, now=datetime.now(UTC)) == 0
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0006")
        assert "identity" not in {c["name"] for c in sa.inspect(engine).get_columns("delivery")}
    finally:
        engine.dispose()


def test_subs_list_is_paged_by_id(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from briefcast.cli import app

    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("BRIEFCAST_", "TELEGRAM_", "SLACK_")):
            monkeypatch.delenv(name)
    store = Store.open(db_url, settings=Settings())
    try:
        ids = add_subscribers(store, [501, 502, 503, 504, 505])
    finally:
        store.close()
    runner = CliRunner()

    def page(*args: str) -> tuple[list[int], str]:
        result = runner.invoke(app, ["--db", db_url, "subs", "list", *args])
        assert result.exit_code == 0, result.output
        return [int(line.split()[0]) for line in result.stdout.splitlines()], result.stderr

    first, hint = page("--limit", "2")
    assert first == ids[:2] and hint.strip() == f"(more: briefcast subs list --after {ids[1]})"
    second, _ = page("--limit", "2", "--after", str(ids[1]))
    last, hint = page("--limit", "2", "--after", str(ids[3]))
    assert (second, last, hint) == (ids[2:4], ids[4:], "")
    assert page()[0] == ids  # the default page holds them all
    empty = runner.invoke(app, ["--db", db_url, "subs", "list", "--after", str(ids[4])])
    assert empty.stdout.strip() == f"no active subscriptions after id {ids[4]}"
