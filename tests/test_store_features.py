"""Store: keyword watches, forum topics and subscription settings, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from briefcast.briefing.watch import MAX_WATCHES_PER_CHAT
from briefcast.config import Settings
from briefcast.store import ChatRef, Store
from briefcast.store.db import upgrade
from briefcast.store.errors import InvalidVariant, InvalidWatch, InvalidWatchMode, WatchLimitReached

TG = ChatRef("telegram", "-100111")
TOPIC = ChatRef("telegram", "-100111", thread_id="55")
SLACK = ChatRef("slack", "C01", workspace="T01")


def test_add_watches_dedupes_by_normalised_form_and_keeps_the_typed_spelling(store: Store) -> None:
    first = store.add_watches(TG, ["钠电池", "Solid  State"], created_by="7")
    assert first.added == ("钠电池", "Solid State") and first.existing == ()
    assert first.watcher.mode == "publish"  # the default
    again = store.add_watches(TG, ["钠 电池", "SOLID STATE", "ＡＩ芯片"], created_by="8")
    assert again.added == ("ＡＩ芯片",) and again.existing == ("钠电池", "Solid State")
    watcher = store.watcher_for_chat(TG)
    assert watcher is not None
    assert watcher.phrases == ("钠电池", "Solid State", "ＡＩ芯片")
    assert [w.needle for w in watcher.words] == ["钠电池", "solid state", "ai芯片"]
    assert watcher.words[2].created_by == "8"
    assert store.watcher_for_chat(TOPIC) is None  # a topic watches on its own
    assert store.add_watches(SLACK, ["储能"]).watcher.chat == SLACK


def test_watch_limits_are_checked_before_anything_is_written(store: Store) -> None:
    with pytest.raises(InvalidWatch):
        store.add_watches(TG, ["储能", "钠"])
    assert store.watcher_for_chat(TG) is None
    store.add_watches(TG, [f"词{i:02d}" for i in range(MAX_WATCHES_PER_CHAT - 1)])
    with pytest.raises(WatchLimitReached) as full:
        store.add_watches(TG, ["多一个", "再一个"])
    assert full.value.limit == MAX_WATCHES_PER_CHAT
    watcher = store.watcher_for_chat(TG)
    assert watcher is not None and len(watcher.words) == MAX_WATCHES_PER_CHAT - 1
    assert store.add_watches(TG, ["多一个"]).added == ("多一个",)  # exactly at the limit is fine
    assert store.add_watches(TG, ["词00"]).existing == ("词00",)  # re-adding at the limit is not an error


def test_remove_watches_by_word_id_and_all(store: Store) -> None:
    store.add_watches(TG, ["钠电池", "储能", "光伏"])
    removed, left = store.remove_watches(TG, ["钠 电池", "没有这个"])
    assert removed == ("钠电池",) and left == 2
    watcher = store.watcher_for_chat(TG)
    assert watcher is not None
    other = store.add_watches(SLACK, ["储能"]).watcher.words[0].id
    assert store.remove_watch_by_id(TG, other) is None  # another chat's word: untouched
    assert store.remove_watch_by_id(TG, watcher.words[0].id) == "储能"
    assert store.remove_watches(TG) == (("光伏",), 0)
    assert store.remove_watches(ChatRef("telegram", "404")) == ((), 0)
    assert store.watchers() == [w for w in store.watchers() if w.chat == SLACK]


def test_watch_mode_and_watchers_listing(store: Store) -> None:
    assert store.set_watch_mode(TG, "daily") is None  # nothing watched yet
    store.add_watches(TG, ["储能"], mode="daily")
    store.add_watches(TOPIC, ["光伏"])
    store.add_watches(SLACK, ["稳定币"])
    assert store.watcher_for_chat(TG).mode == "daily"  # type: ignore[union-attr]
    changed = store.set_watch_mode(TG, "publish")
    assert changed is not None and changed.mode == "publish"
    with pytest.raises(InvalidWatchMode):
        store.set_watch_mode(TG, "hourly")
    assert [w.chat for w in store.watchers()] == [TG, TOPIC, SLACK]
    assert [w.chat for w in store.watchers("slack")] == [SLACK]
    store.deactivate_chat("telegram", TG.chat_id, "kicked")
    assert [w.chat for w in store.watchers()] == [SLACK]  # a sender skips chats the bot left
    inactive = [w for w in store.watchers(active_only=False) if not w.chat_active]
    assert {w.chat for w in inactive} == {TG, TOPIC}
    store.remove_watches(SLACK)
    assert SLACK not in [w.chat for w in store.watchers(active_only=False)]  # no words: not listed


def test_watches_and_topics_follow_a_group_migration(store: Store) -> None:
    store.add_watches(ChatRef("telegram", "-5"), ["储能", "钠电池"])
    store.save_forum_topic(ChatRef("telegram", "-5"), "energy", "7", name="⚡ Energy")
    store.subscribe(ChatRef("telegram", "-1005"), ["ai"])  # the supergroup is already known
    store.add_watches(ChatRef("telegram", "-1005"), ["储能", "光伏"])
    store.migrate_chat("telegram", "-5", "-1005")
    watcher = store.watcher_for_chat(ChatRef("telegram", "-1005"))
    assert watcher is not None and sorted(watcher.phrases) == sorted(["储能", "光伏", "钠电池"])
    assert store.watcher_for_chat(ChatRef("telegram", "-5")) is None
    [topic] = store.forum_topics(ChatRef("telegram", "-1005"))
    assert (topic.sector, topic.thread_id) == ("energy", "7")


def test_subscription_settings(store: Store) -> None:
    assert store.set_options(TG, variant="compact") is None  # no subscription yet
    sub = store.subscribe(TG, ["energy"])
    assert (sub.variant, sub.silent, sub.previews) == ("full", False, False)
    sub2 = store.set_options(TG, variant="compact", silent=True)
    assert sub2 is not None and (sub2.variant, sub2.silent, sub2.previews) == ("compact", True, False)
    sub3 = store.set_options(TG, previews=True)
    assert sub3 is not None and (sub3.variant, sub3.silent, sub3.previews) == ("compact", True, True)
    with pytest.raises(InvalidVariant):
        store.set_options(TG, variant="tiny")
    again = store.subscribe(TG, ["ai"])  # subscribing more sectors keeps the settings
    assert (again.variant, again.silent, again.previews) == ("compact", True, True)
    [listed] = store.active_subscriptions()
    assert listed.silent and listed.previews


def test_forum_topics(store: Store) -> None:
    forum = ChatRef("telegram", "-1009")
    assert store.forum_topics(forum) == []
    store.save_forum_topic(forum, "web3", "12", name="🌐 Web3", created_by="7")
    store.save_forum_topic(forum, "ai", "11", name="🤖 AI")
    assert [(t.sector, t.thread_id, t.state) for t in store.forum_topics(forum)] == [
        ("ai", "11", "open"),
        ("web3", "12", "open"),
    ]  # catalogue order
    closed = store.set_forum_topic_state(forum, "ai", "closed")
    assert closed is not None and closed.state == "closed"
    assert store.set_forum_topic_state(forum, "energy", "closed") is None
    replaced = store.save_forum_topic(forum, "ai", "31", name="🤖 AI")  # re-created after a deletion
    assert (replaced.thread_id, replaced.state) == ("31", "open")
    with pytest.raises(ValueError):
        store.set_forum_topic_state(forum, "ai", "archived")


def test_migration_0006_keeps_existing_subscriptions_and_downgrades(db_url: str) -> None:
    """Upgrade a 0003 database with a subscription in it: the new columns are false, the tables new."""
    engine = sa.create_engine(db_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        upgrade(engine, "0003")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO chat (platform, workspace, external_id, kind, title, active,"
                    " deactivated_reason, created_at, updated_at) VALUES ('telegram', '', '42',"
                    " 'private', '', true, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO subscription (chat_id, thread_id, sectors, mode, time, timezone,"
                    " variant, active, reason, created_by, created_at, updated_at) SELECT id, '',"
                    " '[\"ai\"]', 'scheduled', '08:00', 'UTC', 'compact', true, '', '',"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM chat"
                )
            )
        upgrade(engine)
        store = Store(engine, settings=Settings())
        [sub] = store.active_subscriptions()
        assert (sub.variant, sub.silent, sub.previews) == ("compact", False, False)
        store.add_watches(sub.chat, ["储能"])
        from alembic import command

        from briefcast.store.db import alembic_config

        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0003")
        names = set(sa.inspect(engine).get_table_names())
        assert "watch" not in names and "forum_topic" not in names
        assert "silent" not in {c["name"] for c in sa.inspect(engine).get_columns("subscription")}
    finally:
        engine.dispose()
