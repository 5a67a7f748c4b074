"""Store behaviour on SQLite and PostgreSQL (every test that takes ``store`` runs on both)."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from briefcast.briefing.model import Briefing, Link, ListBlock, ListItem, Paragraph, Run, Section
from briefcast.config import Settings
from briefcast.errors import ConfigError
from briefcast.ingest.read import parse_source
from briefcast.store import (
    ChatRef,
    InvalidMode,
    InvalidTime,
    InvalidTimezone,
    Store,
    UnknownSector,
    content_hash,
    normalise_raw,
    parse_time,
    parse_timezone,
)
from briefcast.store.db import alembic_config, current_revision, include_object, normalise_url
from briefcast.store.tables import METADATA

DAY = date(2026, 11, 28)
TG = ChatRef("telegram", "-1001")


def briefing(title: str = "周观察", day: date | None = DAY, ai: str = "Gemini 3 Flash is fast.") -> Briefing:
    energy = Section(
        key="energy",
        emoji="⚡",
        name="能源基建",
        headline="储能需求爆发",
        blocks=(
            Paragraph(
                (
                    Run("宁德时代宣布2026年钠电池大规模应用", url="https://example.com/catl"),
                    Run("，覆盖换电及储能领域。蔚来换电站突破200座。"),
                )
            ),
            ListBlock((ListItem((Run("瑞银预测2026年全球储能装机增速超60%"),)),)),
        ),
    )
    ai_section = Section("ai", "🤖", "AI", "Inference gets cheaper", (Paragraph((Run(ai),)),))
    return Briefing(title=title, date=day, sections=(ai_section, energy), keywords=("储能",))


# ---------------------------------------------------------------- ingest


def test_ingest_new_duplicate_revision(store: Store) -> None:
    first = store.ingest(briefing(), raw="# 周观察\n\nbody\n", source="a.md")
    assert (first.revision, first.status, first.sectors) == (1, "new", ("ai", "energy"))

    # CRLF, trailing blanks and NFD vs NFC do not make a different issue
    same = store.ingest(briefing(), raw="# 周观察  \r\n\r\nbody\t\r\n", source="b.md")
    assert (same.issue_id, same.revision, same.status) == (first.issue_id, 1, "duplicate")
    assert len(store.list_issues()) == 1

    rev = store.ingest(briefing(ai="Gemini 4 is out."), raw="# 周观察\n\nbody v2\n", source="a.md")
    assert (rev.revision, rev.status) == (2, "revision")
    assert rev.issue_id != first.issue_id

    other = store.ingest(briefing(title="另一期"), raw="# 另一期\n")
    assert (other.revision, other.status) == (1, "new")
    assert [i.id for i in store.list_issues()] == [other.issue_id, rev.issue_id, first.issue_id]


def test_ingest_round_trips_the_model(store: Store) -> None:
    b = briefing()
    r = store.ingest(b, raw="raw text", source="sample.md")
    got = store.get_issue(r.issue_id)
    assert got is not None
    assert got.briefing == b
    assert (got.title, got.date, got.revision, got.source) == ("周观察", DAY, 1, "sample.md")
    assert got.identity == "2026-11-28:周观察"
    assert got.content_hash == content_hash("raw text")
    assert got.created_at.tzinfo is not None and got.published_at is not None


def test_drafts_are_not_latest_or_searchable_until_published(store: Store) -> None:
    pub = store.ingest(briefing(day=date(2026, 11, 20)), raw="old")
    draft = store.ingest(briefing(title="草稿", ai="Draft-only phrase."), raw="draft", publish=False)
    latest = store.latest_issue()
    assert latest is not None and latest.id == pub.issue_id
    assert store.search("draft-only") == []
    assert [i.status for i in store.list_issues()] == ["draft", "published"]

    published = store.publish_issue(draft.issue_id)
    assert published is not None and published.status == "published" and published.published_at
    latest = store.latest_issue()
    assert latest is not None and latest.id == draft.issue_id
    assert [h.issue_id for h in store.search("draft-only")] == [draft.issue_id]


def test_discard_draft_deletes_only_drafts(store: Store) -> None:
    pub = store.ingest(briefing(day=date(2026, 11, 20)), raw="old")
    draft = store.ingest(briefing(title="草稿", ai="Draft-only phrase."), raw="draft", publish=False)
    assert store.discard_draft(pub.issue_id) is False  # a published issue is never deleted
    assert store.discard_draft(draft.issue_id) is True
    assert store.get_issue(draft.issue_id) is None
    assert [i.id for i in store.list_issues()] == [pub.issue_id]
    assert store.discard_draft(draft.issue_id) is False  # already gone
    again = store.ingest(briefing(title="草稿", ai="Draft-only phrase."), raw="draft", publish=False)
    assert again.status == "new"  # its content hash went with it


def test_find_issue_by_id_date_and_latest(store: Store) -> None:
    assert store.find_issue("latest") is None
    old = store.ingest(briefing(day=date(2026, 11, 21)), raw="old")
    r1 = store.ingest(briefing(), raw="v1")
    r2 = store.ingest(briefing(ai="v2 text"), raw="v2")

    by_id = store.find_issue(str(r1.issue_id))
    assert by_id is not None and by_id.revision == 1
    by_hash = store.find_issue(f"#{old.issue_id}")
    assert by_hash is not None and by_hash.date == date(2026, 11, 21)
    by_date = store.find_issue("2026-11-28")
    assert by_date is not None and by_date.id == r2.issue_id
    latest = store.find_issue("latest")
    assert latest is not None and latest.id == r2.issue_id
    assert store.find_issue("9999") is None
    assert store.find_issue("2020-01-01") is None
    assert store.find_issue("yesterday") is None


def test_an_undated_issue_published_after_dated_ones_is_the_latest(store: Store) -> None:
    """An issue that states no date counts as of the day it was published: one ingested today is
    newer than one dated in the past, and an old dated issue ingested later does not overtake it."""
    past = store.ingest(briefing(title="上周", day=date(2020, 1, 6)), raw="dated, long ago")
    undated = store.ingest(briefing(title="无日期", day=None), raw="undated, published now")
    latest = store.latest_issue()
    assert latest is not None and latest.id == undated.issue_id
    assert [i.id for i in store.list_issues()] == [undated.issue_id, past.issue_id]
    hits = store.search("Gemini")
    assert hits and hits[0].issue_id == undated.issue_id
    store.ingest(briefing(title="更早", day=date(2019, 5, 1)), raw="dated, even older")
    latest = store.latest_issue()
    assert latest is not None and latest.id == undated.issue_id


def test_concurrent_ingest_of_the_same_text_stores_it_once(store: Store) -> None:
    barrier = threading.Barrier(4)
    statuses: list[str] = []

    def worker() -> None:
        barrier.wait()
        statuses.append(store.ingest(briefing(), raw="same text").status)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == ["duplicate", "duplicate", "duplicate", "new"]
    assert len(store.list_issues()) == 1


# ---------------------------------------------------------------- search


def test_search_sample_issue_chinese_and_english(store: Store, sample_md: Path) -> None:
    b = parse_source(str(sample_md))
    r = store.ingest(b, raw=sample_md.read_text(encoding="utf-8"), source=str(sample_md))

    two = store.search("储能", limit=10)  # 2 characters: below the trigram size
    assert two and {h.section_key for h in two} >= {"energy"}
    for hit in two:
        assert hit.issue_id == r.issue_id and "储能" in hit.snippet and len(hit.snippet) <= 202

    four = store.search("推理成本")
    assert four[0].section_key == "ai"
    assert "推理成本" in four[0].snippet

    sodium = store.search("钠电池")
    assert sodium[0].section_key == "energy"
    catl = Link(
        "宁德时代宣布2026年钠电池大规模应用", "https://quantshark.io/News/6a9faec9dbba545aab8159044b6fc475"
    )
    assert catl in sodium[0].links

    english = store.search("gemini flash")
    assert english and english[0].section_key == "ai"
    assert "Gemini 3 Flash" in english[0].snippet

    assert store.search("量子计算机不存在") == []
    assert store.search("   ") == []


def test_search_snippet_is_the_matching_sentence(store: Store) -> None:
    store.ingest(briefing(), raw="x")
    [hit] = store.search("蔚来")
    assert hit.section_key == "energy"
    assert hit.snippet.startswith("宁德时代宣布") or hit.snippet.startswith("蔚来")
    assert "蔚来换电站突破200座。" in hit.snippet
    [ups] = store.search("瑞银")
    assert ups.snippet == "瑞银预测2026年全球储能装机增速超60%"
    assert ups.links == ()
    [both] = store.search("储能 瑞银")  # a passage with every term beats one with some
    assert both.snippet == ups.snippet


def test_search_long_sentence_is_cut_around_the_match(store: Store) -> None:
    long = "甲" * 300 + "关键字" + "乙" * 300
    store.ingest(briefing(ai=long), raw="long")
    [hit] = store.search("关键字")
    assert "关键字" in hit.snippet
    assert len(hit.snippet) <= 200
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")


def test_search_only_newest_revision_latest_first(store: Store) -> None:
    store.ingest(briefing(ai="Obsolete wording here."), raw="v1")
    newest = store.ingest(briefing(ai="Fresh wording here."), raw="v2")
    older_issue = store.ingest(briefing(title="上周", day=date(2026, 11, 21)), raw="w")
    assert store.search("obsolete") == []
    assert [h.issue_id for h in store.search("wording")] == [newest.issue_id]
    energy_hits = store.search("钠电池")
    assert [h.issue_id for h in energy_hits] == [newest.issue_id, older_issue.issue_id]


def test_search_treats_wildcards_and_quotes_literally(store: Store) -> None:
    store.ingest(briefing(ai='Costs fell 60% with "batching" in 2026.'), raw="q")
    assert store.search("%") != [] and all("%" in h.snippet for h in store.search("%"))
    assert store.search("_") == []
    assert [h.section_key for h in store.search('"batching"')] == ["ai"]
    assert [h.section_key for h in store.search('60% with "batching')] == ["ai"]


# ---------------------------------------------------------- subscriptions


def test_subscribe_defaults_and_merge(store: Store) -> None:
    store.upsert_chat(TG, kind="supergroup", title="Team", language="zh")
    sub = store.subscribe(TG, ["能源"], created_by="42")
    assert sub.sectors == ("energy",)
    assert (sub.time, sub.timezone, sub.mode, sub.variant) == ("08:00", "Asia/Shanghai", "scheduled", "full")
    assert (sub.active, sub.created_by, sub.chat_kind, sub.chat_title, sub.language) == (
        True,
        "42",
        "supergroup",
        "Team",
        "zh",
    )

    merged = store.subscribe(TG, ["ai", "energy"], time="7:30", timezone="europe/london", mode="publish")
    assert merged.id == sub.id
    assert merged.sectors == ("ai", "energy")  # catalogue order, no duplicates
    assert (merged.time, merged.timezone, merged.mode) == ("07:30", "Europe/London", "publish")

    topic = store.subscribe(ChatRef("telegram", "-1001", thread_id="7"), [])
    assert topic.id != sub.id and topic.chat.thread_id == "7"
    assert topic.sectors == ("ai", "energy", "web3", "signals")
    assert [s.id for s in store.subscriptions_for_chat("telegram", "-1001")] == [sub.id, topic.id]
    assert [s.id for s in store.subscriptions_created_by("telegram", "42")] == [sub.id]
    assert [s.id for s in store.active_subscriptions("telegram")] == [sub.id, topic.id]
    assert store.active_subscriptions("slack") == []


def test_slack_workspaces_are_separate_chats(store: Store) -> None:
    a = store.subscribe(ChatRef("slack", "C1", workspace="T1"), ["web3"])
    b = store.subscribe(ChatRef("slack", "C1", workspace="T2"), ["ai"])
    assert a.id != b.id
    assert [s.sectors for s in store.subscriptions_for_chat("slack", "C1", "T1")] == [("web3",)]


def test_subscribe_rejects_invalid_time(store: Store) -> None:
    for bad in ["24:00", "8:60", "8", "noon", "", "08:00:00", "-1:00"]:
        with pytest.raises(InvalidTime) as err:
            store.subscribe(TG, ["ai"], time=bad)
        assert isinstance(err.value, ValueError)
        assert "HH:MM" in str(err.value) and err.value.value == bad
    assert store.subscriptions_for_chat("telegram", "-1001") == []


def test_subscribe_rejects_invalid_timezone_sector_and_mode(store: Store) -> None:
    with pytest.raises(InvalidTimezone, match="Mars/Olympus"):
        store.subscribe(TG, ["ai"], timezone="Mars/Olympus")
    with pytest.raises(InvalidTimezone):
        store.subscribe(TG, ["ai"], timezone="../../etc/passwd")
    with pytest.raises(UnknownSector, match="biotech") as err:
        store.subscribe(TG, ["ai", "biotech"])
    assert "energy" in err.value.known
    with pytest.raises(InvalidMode):
        store.subscribe(TG, ["ai"], mode="hourly")
    assert store.subscriptions_for_chat("telegram", "-1001") == []


def test_unsubscribe_some_then_all(store: Store) -> None:
    assert store.unsubscribe(TG) is None
    store.subscribe(TG, ["ai", "energy", "web3"])
    left = store.unsubscribe(TG, ["能源"])
    assert left is not None and left.sectors == ("ai", "web3") and left.active
    gone = store.unsubscribe(TG, ["ai", "web3"])
    assert gone is not None and gone.sectors == () and not gone.active
    assert store.active_subscriptions() == []
    again = store.subscribe(TG, ["signals"])
    assert again.active and again.sectors == ("signals",)  # old sectors do not come back
    off = store.unsubscribe(TG)
    assert off is not None and not off.active and off.reason == "unsubscribed"


def test_set_schedule(store: Store) -> None:
    assert store.set_schedule(TG, time="09:00") is None
    store.subscribe(TG, ["ai"])
    sub = store.set_schedule(TG, time="21:15", timezone="America/New_York", mode="publish", variant="compact")
    assert sub is not None
    assert (sub.time, sub.timezone, sub.mode, sub.variant, sub.sectors) == (
        "21:15",
        "America/New_York",
        "publish",
        "compact",
        ("ai",),
    )
    with pytest.raises(InvalidTime):
        store.set_schedule(TG, time="25:00")
    with pytest.raises(InvalidTimezone):
        store.set_schedule(TG, timezone="Nowhere")
    kept = store.subscriptions_for_chat("telegram", "-1001")[0]
    assert (kept.time, kept.timezone) == ("21:15", "America/New_York")


def test_a_new_time_makes_on_publish_scheduled_and_keeps_weekly_weekly(store: Store) -> None:
    store.subscribe(TG, ["ai"], mode="publish")
    moved = store.set_schedule(TG, time="07:30")
    assert moved is not None and (moved.mode, moved.time) == ("scheduled", "07:30")
    zone_only = store.set_schedule(TG, timezone="Europe/Berlin")
    assert zone_only is not None and zone_only.mode == "scheduled"
    store.subscribe(TG, ["ai"], mode="weekly")
    weekly = store.set_schedule(TG, time="18:00")
    assert weekly is not None and (weekly.mode, weekly.time) == ("weekly", "18:00")
    store.set_schedule(TG, mode="publish")
    tz = store.set_schedule(TG, timezone="Asia/Tokyo")  # no time: the mode is left alone
    assert tz is not None and tz.mode == "publish"


def test_deactivate_chat_and_come_back(store: Store) -> None:
    store.subscribe(TG, ["ai"])
    store.subscribe(ChatRef("telegram", "-1001", "3"), ["energy"])
    store.subscribe(ChatRef("telegram", "555"), ["web3"])
    assert store.deactivate_chat("telegram", "-1001", "Forbidden: bot was kicked") == 2
    assert store.deactivate_chat("telegram", "nope", "x") == 0
    assert [s.chat.chat_id for s in store.active_subscriptions()] == ["555"]
    stopped = store.subscriptions_for_chat("telegram", "-1001")
    assert all(not s.active and s.reason == "Forbidden: bot was kicked" for s in stopped)
    chat = store.upsert_chat(TG, kind="group")
    assert chat.active and chat.deactivated_reason == ""
    back = store.subscribe(TG, ["ai"])
    assert back.active


def test_migrate_chat_to_unknown_id_renames(store: Store) -> None:
    store.upsert_chat(ChatRef("telegram", "-42"), kind="group", title="G")
    store.subscribe(ChatRef("telegram", "-42"), ["ai"])
    assert store.migrate_chat("telegram", "-42", "-10042") == 1
    assert store.subscriptions_for_chat("telegram", "-42") == []
    [moved] = store.subscriptions_for_chat("telegram", "-10042")
    assert moved.sectors == ("ai",) and moved.active and moved.chat_title == "G"
    assert store.migrate_chat("telegram", "-42", "-10042") == 0  # already done


def test_migrate_chat_into_existing_chat_merges(store: Store) -> None:
    old, new = ChatRef("telegram", "-42"), ChatRef("telegram", "-10042")
    store.subscribe(old, ["energy"], time="07:00")
    store.subscribe(ChatRef("telegram", "-42", "9"), ["web3"])
    target = store.subscribe(new, ["ai"], time="10:00")
    assert store.migrate_chat("telegram", "-42", "-10042") == 2
    subs = {s.chat.thread_id: s for s in store.subscriptions_for_chat("telegram", "-10042")}
    assert subs[None].id == target.id
    assert subs[None].sectors == ("ai", "energy") and subs[None].time == "10:00"
    assert subs["9"].sectors == ("web3",) and subs["9"].active
    old_chat = store.get_chat("telegram", "-42")
    assert old_chat is not None and not old_chat.active and "-10042" in old_chat.deactivated_reason
    assert {s.chat.chat_id for s in store.active_subscriptions()} == {"-10042"}


# ------------------------------------------------------------- deliveries


def test_enqueue_delivery_is_idempotent(store: Store) -> None:
    issue = store.ingest(briefing(), raw="d")
    sub = store.subscribe(TG, ["ai"])
    first = store.enqueue_delivery(issue.issue_id, sub.id)
    again = store.enqueue_delivery(issue.issue_id, sub.id)
    assert first.id == again.id and first.status == "pending" and first.attempts == 0
    assert [d.id for d in store.list_deliveries(status="pending")] == [first.id]
    assert store.list_deliveries(status="sent") == []
    assert store.list_deliveries(issue_id=issue.issue_id + 1) == []


# --------------------------------------------------------------- schema


def test_upgrade_is_idempotent_and_matches_the_tables(store: Store, db_url: str) -> None:
    from briefcast.bot.slack import oauth_stores

    oauth_stores(store.engine, "client-id")  # slack-sdk's own tables in the same database
    store.upgrade()
    store.upgrade()
    reopened = Store.open(db_url, settings=Settings())
    try:
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert head is not None and head >= "0006"
        assert current_revision(reopened.engine) == head
    finally:
        reopened.close()
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": include_object, "compare_type": True, "target_metadata": METADATA}
        )
        assert compare_metadata(ctx, METADATA) == []
        names = set(sa.inspect(conn).get_table_names())
    assert {"issue", "section", "chat", "subscription", "delivery", "source", "ingest_event"} <= names
    assert {"watcher", "watch", "forum_topic"} <= names
    assert {"slack_bots", "slack_installations", "slack_oauth_states"} <= names  # ignored, not dropped
    if store.dialect == "sqlite":
        assert "section_fts" in names
    else:
        with store.engine.connect() as conn:
            idx = conn.exec_driver_sql(
                "SELECT indexdef FROM pg_indexes"
                " WHERE schemaname = current_schema() AND indexname = 'ix_section_text_trgm'"
            ).scalar_one()
        assert "gin_trgm_ops" in idx


# ------------------------------------------------------------ pure helpers


def test_normalise_raw_and_hash() -> None:
    assert normalise_raw("a  \r\nb\t\r\n\r\n") == "a\nb"
    assert normalise_raw("e\u0301") == "\u00e9"
    assert content_hash("x \n") == content_hash("x")
    assert content_hash("x") != content_hash("y")


def test_time_and_timezone_parsing() -> None:
    assert parse_time("0:00") == "00:00"
    assert parse_time("23:59") == "23:59"
    assert parse_time("８：３０") == "08:30"
    assert parse_timezone("UTC") == "UTC"
    assert parse_timezone("asia/shanghai") == "Asia/Shanghai"


def test_normalise_url() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ConfigError, match="sqlite"):
        normalise_url("mysql://u@h/db")
