"""IngestService: dedupe, revisions, the on-publish hook and bad input, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefcast.ingest import recent_events
from briefcast.ingest.service import IngestService, charset_of, decode, kind_for
from briefcast.store import Store


@pytest.fixture
def published() -> list[int]:
    return []


@pytest.fixture
def service(store: Store, published: list[int]) -> IngestService:
    async def hook(issue_id: int) -> None:
        published.append(issue_id)

    return IngestService(store, on_published=hook)


async def test_new_duplicate_revision(
    service: IngestService, store: Store, sample_en_md: Path, published: list[int]
) -> None:
    data = sample_en_md.read_bytes()
    first = await service.ingest_bytes(data, origin="test", source="weekly.md")
    assert (first.status, first.revision, first.published) == ("new", 1, True)
    assert first.sectors[:3] == ("ai", "energy", "web3")
    assert first.title == "Key Sectors Weekly"

    again = await service.ingest_bytes(data, origin="test", source="weekly.md")
    assert (again.status, again.issue_id) == ("duplicate", first.issue_id)

    changed = await service.ingest_bytes(data.replace(b"60%", b"65%"), origin="test", source="weekly.md")
    assert changed.status == "revision" and changed.is_revision
    assert changed.revision == 2 and changed.issue_id != first.issue_id

    # The hook ran for the new issue and the revision, never for the duplicate.
    assert published == [first.issue_id, changed.issue_id]
    statuses = [e.status for e in recent_events(store, source="weekly.md")]
    assert statuses == ["revision", "duplicate", "new"]


async def test_draft_is_not_announced_until_published(
    service: IngestService, store: Store, sample_md: Path, published: list[int]
) -> None:
    draft = await service.ingest_bytes(sample_md.read_bytes(), origin="test", source="s.md", publish=False)
    assert draft.status == "new" and not draft.published
    assert published == []
    assert draft.issue_id is not None
    stored = store.get_issue(draft.issue_id)
    assert stored is not None and stored.status == "draft"

    assert await service.publish(draft.issue_id)
    assert published == [draft.issue_id]
    assert await service.publish(draft.issue_id)  # already published: no second announcement
    assert published == [draft.issue_id]
    assert not await service.publish(999_999)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"\xff\xfe\xfa not utf-8 \x81", "not valid"),
        (b"# T\n\x00\x01\x02", "not a text file"),
        (b"<html><body><script>var x = 1;</script></body></html>", "empty"),
        (b"# Only a title\n", "no sections"),
    ],
)
async def test_bad_input_is_recorded_and_loses_nothing(
    service: IngestService, store: Store, sample_en_md: Path, data: bytes, reason: str
) -> None:
    good = await service.ingest_bytes(sample_en_md.read_bytes(), origin="test", source="good.md")
    bad = await service.ingest_bytes(data, origin="test", source="bad.md", name="bad.md")
    assert bad.status == "failed" and not bad.ok
    assert reason in bad.reason
    [event] = recent_events(store, source="bad.md")
    assert (event.status, event.issue_id) == ("failed", None)
    assert reason in event.reason
    latest = store.latest_issue()
    assert latest is not None and latest.id == good.issue_id


async def test_size_cap(store: Store, sample_en_md: Path) -> None:
    service = IngestService(store, max_bytes=100)
    out = await service.ingest_bytes(sample_en_md.read_bytes(), origin="test", source="big.md")
    assert out.status == "failed" and "100-byte limit" in out.reason
    out = await service.ingest_text(sample_en_md.read_text(), origin="test", source="big.md")
    assert out.status == "failed" and "100-byte limit" in out.reason
    assert store.latest_issue() is None


async def test_failing_hook_does_not_fail_the_ingest(store: Store, sample_md: Path) -> None:
    calls: list[int] = []

    def hook(issue_id: int) -> None:  # synchronous hooks are accepted too
        calls.append(issue_id)
        raise RuntimeError("delivery engine down")

    service = IngestService(store, on_published=hook)
    out = await service.ingest_bytes(sample_md.read_bytes(), origin="test", source="s.md")
    assert out.status == "new" and calls == [out.issue_id]
    assert out.issue_id is not None and store.get_issue(out.issue_id) is not None


async def test_html_issue(service: IngestService, sample_html: Path) -> None:
    out = await service.ingest_bytes(sample_html.read_bytes(), origin="test", source="s.html", kind="html")
    assert out.status == "new"
    assert "ai" in out.sectors and "energy" in out.sectors


def test_kind_and_charset_helpers() -> None:
    assert kind_for("a/b/Issue.HTML") == "html"
    assert kind_for("https://x.test/issue.md?x=1") == "markdown"
    assert kind_for("https://x.test/issue", "text/html; charset=utf-8") == "html"
    assert kind_for("notes.txt", "text/plain") is None
    assert charset_of('text/html; charset="GBK"') == "GBK"
    assert charset_of("text/html") is None
    assert decode("标题".encode("gbk"), charset="gbk") == "标题"
    assert decode(b"\xef\xbb\xbfhi") == "hi"


def test_preview_is_what_subscribers_get(sample_md: Path) -> None:
    from briefcast.briefing.parse import parse_text
    from briefcast.ingest.preview import build_preview
    from briefcast.render import slack, telegram
    from briefcast.render.compose import section_document
    from briefcast.testing.blockkit import check_slack_payload
    from briefcast.testing.tdlib import check_telegram_payload

    briefing = parse_text(sample_md.read_text(encoding="utf-8"), kind="markdown")
    preview = build_preview(briefing)
    assert [s.key for s in preview.sectors] == list(briefing.sector_keys)
    ai = briefing.sections[0]
    assert list(preview.sectors[0].payloads["telegram"]) == telegram.render(section_document(briefing, ai))
    assert list(preview.sectors[0].payloads["slack"]) == slack.render(section_document(briefing, ai))
    for payload in preview.payloads("telegram"):
        check_telegram_payload(payload)
    for payload in preview.payloads("slack"):
        check_slack_payload(payload)
    assert f"{len(briefing.sections)} 个板块" in preview.summary("zh")
    assert preview.to_dict()["sectors"][0]["key"] == ai.key

    compact = build_preview(briefing, platforms=["telegram"], compact=True, lang="en")
    assert list(compact.sectors[0].payloads) == ["telegram"]
    assert len(compact.payloads("telegram")[0]["text"]) < len(preview.payloads("telegram")[0]["text"])
    with pytest.raises(ValueError, match="unknown platform"):
        build_preview(briefing, platforms=["fax"])
