"""Operator document upload -> preview -> Publish now / at scheduled times / Discard, end to end.

Telegram: the real PTB Application long-polls the fake Bot API; documents come
from ``make_document_message`` and are fetched with getFile + download.
Slack: the real bolt ``AsyncApp`` behind the project's Starlette app, with
``file_share`` DM events and files served by the fake (``files.info`` +
``url_private`` with a bearer token). Both run on SQLite and PostgreSQL (the
``store`` fixture). The on-publish hook is the real scheduler's
``on_issue_published``, so "publish now" vs "at scheduled times" is checked on
the delivery rows it produces. Every message sent must pass TDLib's parser /
the Block Kit checks (teardown). Waits are on the fakes' recorded traffic.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from briefcast.bot.publish import format_size
from briefcast.bot.slack import DownloadError, SlackBot, download_file
from briefcast.bot.telegram import TelegramBot
from briefcast.briefing.parse import parse_markdown
from briefcast.config import Secret, Settings, SlackSettings, TelegramSettings
from briefcast.emulators.slack import FakeSlack, block_actions_payload, form_body, sign
from briefcast.emulators.telegram import FakeTelegram, SentMessage
from briefcast.ingest import IngestService, recent_events
from briefcast.ingest.preview import build_preview
from briefcast.schedule import Scheduler
from briefcast.store import Store, outbox
from briefcast.store.records import ChatRef
from briefcast.testing.blockkit import check_slack_payload
from briefcast.testing.tdlib import check_telegram_payload
from briefcast.web import create_app

OPERATOR = 7
STRANGER = 8
SECRET = "briefcast-test-signing-secret"
SLACK_OPERATOR = "U0OPER"
SLACK_STRANGER = "U0OTHER"
NOT_UTF8 = b"## \xc3\x28 broken \xff\xfe bytes\n"
NO_SECTIONS = b"just one line, no headings\n"
UNKNOWN_SECTOR = b"# Notes\n\n## Gardening: tomatoes\n\nWater them daily.\n"


@dataclass
class Hook:
    """The on-publish hook: records the ids, then runs the real scheduler's on-publish pass."""

    scheduler: Scheduler
    ids: list[int] = field(default_factory=list)

    async def __call__(self, issue_id: int) -> None:
        self.ids.append(issue_id)
        await self.scheduler.on_issue_published(issue_id)


@pytest.fixture
def hook(store: Store) -> Hook:
    return Hook(Scheduler(Settings(), store))


@pytest.fixture
def ingest(store: Store, hook: Hook) -> IngestService:
    return IngestService(store, on_published=hook)


@pytest.fixture
def sample_en(sample_en_md: Path) -> bytes:
    return sample_en_md.read_bytes()


def subscribers(store: Store) -> tuple[int, int]:
    """An on-publish and a scheduled (08:00) subscription of the AI sector; their ids."""
    instant = store.subscribe(ChatRef("telegram", "5001"), ["ai"], mode="publish")
    daily = store.subscribe(ChatRef("slack", "C0DAILY", workspace="T0FAKE"), ["ai"], time="08:00")
    return instant.id, daily.id


def delivered_to(store: Store, issue_id: int) -> set[int]:
    return {d.subscription_id for d in outbox.list_deliveries(store.engine, issue_id=issue_id, limit=None)}


# ===================================================================== Telegram


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(bot_username="briefcast_test_bot") as fake:
        fake.limits_enabled = False
        fake.add_user(OPERATOR, "Olivia", language_code="en")
        fake.add_user(STRANGER, "Bob", language_code="zh-hans")
        fake.add_chat(OPERATOR, "private")
        fake.add_chat(STRANGER, "private")
        yield fake
        for message in fake.sent_messages:
            check_telegram_payload(message.params)


async def start_telegram(fake: FakeTelegram, store: Store, ingest: IngestService) -> TelegramBot:
    settings = Settings(
        telegram=TelegramSettings(token=Secret(fake.token), api_url=fake.base_url, operators=(str(OPERATOR),))
    )
    bot = TelegramBot(settings, store, ingest=ingest)
    await bot.start()
    return bot


@pytest.fixture
async def tbot(tg: FakeTelegram, store: Store, ingest: IngestService) -> AsyncIterator[TelegramBot]:
    bot = await start_telegram(tg, store, ingest)
    try:
        yield bot
    finally:
        await bot.stop()


def summary_of(fake: FakeTelegram, chat: int) -> SentMessage | None:
    """The upload summary: the message carrying the publish buttons."""
    for m in reversed(fake.messages_to(chat)):
        rows = (m.reply_markup or {}).get("inline_keyboard", [])
        if any(b.get("callback_data", "").startswith("pub:") for row in rows for b in row):
            return m
    return None


async def wait_summary(fake: FakeTelegram, chat: int) -> SentMessage:
    found = await fake.wait_for(lambda: summary_of(fake, chat))
    assert found is not None
    return found


def draft_of(summary: SentMessage) -> int:
    """The draft issue id the summary's buttons carry (``pub:<id>``)."""
    assert summary.reply_markup is not None
    return int(summary.reply_markup["inline_keyboard"][0][0]["callback_data"].split(":")[1])


async def upload_tg(fake: FakeTelegram, user: int, content: bytes, name: str = "issue.md", **kw: Any) -> None:
    fake.push_update(fake.make_document_message(None, user, content=content, file_name=name, **kw))


async def answer(fake: FakeTelegram, chat: int, before: int) -> SentMessage:
    """The one reply after ``before`` messages (an error notice)."""
    await fake.wait_for(lambda: len(fake.messages_to(chat)) > before)
    return fake.messages_to(chat)[before]


async def press(fake: FakeTelegram, chat: int, data: str, message_id: int, user: int | None = None) -> str:
    """Press a button; returns the edited text of the summary message."""
    edits = len(fake.edits)
    fake.push_update(fake.make_callback_query(chat, user or chat, data, message_id=message_id))
    await fake.wait_for(lambda: len(fake.edits) > edits)
    found = fake.message(chat, message_id)
    assert found is not None
    return str(found["text"])


async def test_telegram_operator_upload_preview_then_publish_now(
    tg: FakeTelegram, tbot: TelegramBot, store: Store, hook: Hook, sample_en: bytes
) -> None:
    instant, daily = subscribers(store)
    await upload_tg(tg, OPERATOR, sample_en, "weekly.md")
    summary = await wait_summary(tg, OPERATOR)
    sent = tg.messages_to(OPERATOR)
    preview = build_preview(parse_markdown(sample_en.decode()), platforms=("telegram",), lang="en")
    expected = preview.payloads("telegram")
    # every sector exactly as a subscriber gets it, then the summary
    assert [m.text for m in sent[:-1]] == [p["text"] for p in expected]
    assert sent[0].plain.startswith("🤖 AI")
    assert summary is sent[-1]
    assert summary.plain.startswith("Preview: ")
    assert "A subscriber of every sector receives" in summary.plain
    assert "fidelity: 37/37 items (100.0%), 3/3 links (100.0%)" in summary.plain  # issue #12
    assert summary.reply_markup is not None
    data = [b["callback_data"] for row in summary.reply_markup["inline_keyboard"] for b in row]
    draft = int(data[0].split(":")[1])
    assert data == [f"pub:{draft}", f"pubsched:{draft}", f"discard:{draft}"]
    # a draft until the button: nothing published, nobody enqueued
    stored = store.get_issue(draft)
    assert stored is not None and stored.status == "draft"
    assert store.latest_issue() is None and hook.ids == []

    text = await press(tg, OPERATOR, f"pub:{draft}", summary.message_id)
    assert text.startswith("Published") and "2 subscriptions" in text
    latest = store.latest_issue()
    assert latest is not None and latest.id == draft
    assert hook.ids == [draft]
    assert delivered_to(store, draft) == {instant, daily}  # the scheduled one too: "now"
    # the redrawn summary has no buttons left
    edited = tg.message(OPERATOR, summary.message_id)
    assert edited is not None and "reply_markup" not in edited

    # pressing again (a stale button) publishes nothing twice
    text = await press(tg, OPERATOR, f"pubsched:{draft}", summary.message_id)
    assert "already published" in text
    assert hook.ids == [draft]

    # the same file again is a duplicate of the published issue
    before = len(tg.messages_to(OPERATOR))
    await upload_tg(tg, OPERATOR, sample_en, "weekly-again.md")
    duplicate = await answer(tg, OPERATOR, before)
    assert "already published" in duplicate.plain and f"issue {draft}" in duplicate.plain
    assert len(store.list_issues()) == 1


async def test_telegram_publish_at_scheduled_times_only_pushes_on_publish_subscribers(
    tg: FakeTelegram, tbot: TelegramBot, store: Store, hook: Hook, sample_md: Path
) -> None:
    instant, _daily = subscribers(store)
    await upload_tg(tg, OPERATOR, sample_md.read_bytes(), "简报.md")
    summary = await wait_summary(tg, OPERATOR)
    draft = draft_of(summary)
    text = await press(tg, OPERATOR, f"pubsched:{draft}", summary.message_id)
    assert "On-publish subscribers receive it now" in text
    assert hook.ids == [draft]
    latest = store.latest_issue()
    assert latest is not None and latest.id == draft
    assert delivered_to(store, draft) == {instant}  # the 08:00 subscriber waits for its slot


async def test_telegram_revision_is_flagged_and_stale_buttons_expire(
    tg: FakeTelegram, tbot: TelegramBot, store: Store, hook: Hook, sample_en: bytes
) -> None:
    first = store.ingest(parse_markdown(sample_en.decode()), raw=sample_en.decode(), source="api")
    revised = sample_en.replace(b"storage demand surges", b"storage demand surges again")
    await upload_tg(tg, OPERATOR, revised, "weekly-v2.md")
    summary = await wait_summary(tg, OPERATOR)
    assert "This is revision 2" in summary.plain and "earlier revision" in summary.plain
    draft = draft_of(summary)
    assert draft != first.issue_id
    latest = store.latest_issue()
    assert latest is not None and latest.id == first.issue_id  # the draft does not replace it yet
    # a button for an issue that does not exist is answered, not crashed on
    tg.push_update(
        tg.make_callback_query(OPERATOR, OPERATOR, "discard:999999", message_id=summary.message_id)
    )
    await tg.wait_for(lambda: tg.callback_answers)
    assert "no longer exists" in tg.callback_answers[-1].get("text", "")
    await press(tg, OPERATOR, f"pubsched:{draft}", summary.message_id)
    latest = store.latest_issue()
    assert latest is not None and latest.id == draft and latest.revision == 2
    assert hook.ids == [draft]


async def test_telegram_discard_publishes_nothing(
    tg: FakeTelegram, tbot: TelegramBot, store: Store, hook: Hook, sample_en: bytes
) -> None:
    subscribers(store)
    await upload_tg(tg, OPERATOR, sample_en)
    summary = await wait_summary(tg, OPERATOR)
    draft = draft_of(summary)
    text = await press(tg, OPERATOR, f"discard:{draft}", summary.message_id)
    assert text.startswith("Discarded")
    assert store.latest_issue() is None
    assert store.get_issue(draft) is None  # the draft itself is deleted, not left behind
    assert hook.ids == [] and delivered_to(store, draft) == set()
    # sending the discarded file again shows its preview again (it never went out)
    await upload_tg(tg, OPERATOR, sample_en)
    await tg.wait_for(
        lambda: (s := summary_of(tg, OPERATOR)) is not None and s.message_id != summary.message_id
    )
    assert store.latest_issue() is None


async def test_telegram_non_operator_is_refused_and_nothing_is_stored(
    tg: FakeTelegram, tbot: TelegramBot, store: Store, sample_en: bytes
) -> None:
    await upload_tg(tg, STRANGER, sample_en)
    refusal = await answer(tg, STRANGER, 0)
    assert "只有运营人员" in refusal.plain  # the stranger's language (zh-hans)
    assert store.list_issues() == [] and recent_events(store) == []
    assert tg.calls("getFile") == []  # not even downloaded
    # a forged button press is refused too
    stored = store.ingest(parse_markdown(sample_en.decode()), raw=sample_en.decode(), publish=False)
    tg.push_update(tg.make_callback_query(STRANGER, STRANGER, f"pub:{stored.issue_id}", message_id=1))
    await tg.wait_for(lambda: tg.callback_answers)
    assert "只有运营人员" in tg.callback_answers[-1].get("text", "")
    assert store.latest_issue() is None


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (NOT_UTF8, "broken.md", "is not UTF-8 text"),
        (b"", "empty.md", "is empty"),
        (b"   \n\n", "blank.md", "is empty"),
        (b"%PDF-1.7 binary", "issue.pdf", "Please send a .md (Markdown) or .html file"),
        (NO_SECTIONS, "notes.md", "No publishable issue was found"),
    ],
)
async def test_telegram_bad_files_get_a_polite_error(
    tg: FakeTelegram, tbot: TelegramBot, store: Store, content: bytes, name: str, expected: str
) -> None:
    mime = "application/pdf" if name.endswith(".pdf") else "text/markdown"
    await upload_tg(tg, OPERATOR, content, name, mime_type=mime)
    reply = await answer(tg, OPERATOR, 0)
    assert expected in reply.plain and name in reply.plain
    assert "Traceback" not in reply.plain
    assert store.list_issues() == []
    assert summary_of(tg, OPERATOR) is None


async def test_telegram_unknown_sector_is_previewed_with_a_warning(
    tg: FakeTelegram, tbot: TelegramBot, store: Store
) -> None:
    await upload_tg(tg, OPERATOR, UNKNOWN_SECTOR, "notes.md")
    summary = await wait_summary(tg, OPERATOR)
    assert "Please check:" in summary.plain and "matches no configured sector" in summary.plain
    assert tg.messages_to(OPERATOR)[0].plain.startswith("Gardening")


async def test_telegram_too_large_is_refused_before_download(
    tg: FakeTelegram, store: Store, hook: Hook
) -> None:
    small = IngestService(store, on_published=hook, max_bytes=1000)
    bot = await start_telegram(tg, store, small)
    try:
        await upload_tg(tg, OPERATOR, b"## x\n" * 500, "big.md")
        reply = await answer(tg, OPERATOR, 0)
    finally:
        await bot.stop()
    assert "is too large (2.5 KB); the limit is 1 KB" in reply.plain
    assert tg.calls("getFile") == []
    assert store.list_issues() == []


async def test_telegram_documents_in_groups_are_ignored(
    tg: FakeTelegram, tbot: TelegramBot, store: Store, sample_en: bytes
) -> None:
    tg.add_chat(-100555, "supergroup", title="Team")
    tg.push_update(tg.make_document_message(-100555, OPERATOR, content=sample_en, file_name="i.md"))
    tg.push_update(tg.make_message_update(None, OPERATOR, "/help"))  # barrier: updates run in order
    await tg.wait_for(lambda: tg.messages_to(OPERATOR))
    assert tg.messages_to(-100555) == [] and store.list_issues() == []


# ======================================================================== Slack


@pytest.fixture
async def sl() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(team_id="T0FAKE") as fake:
        fake.limits_enabled = False
        fake.add_user(SLACK_OPERATOR, "olivia", locale="en-US")
        fake.add_user(SLACK_STRANGER, "li", locale="zh-CN")
        yield fake
        for message in fake.posted:
            check_slack_payload(message.params)
        for response in fake.responses:
            check_slack_payload(response.payload)


@dataclass
class SlackHarness:
    fake: FakeSlack
    bot: SlackBot
    http: httpx.AsyncClient

    async def dm(self, user: str) -> str:
        opened = await self.bot.app.client.conversations_open(users=user)
        return str(opened["channel"]["id"])

    async def share(self, user: str, channel: str, file_id: str, data: bytes, name: str, mime: str) -> None:
        shared = self.fake.add_file(file_id, data, name=name, mimetype=mime)
        stamp = f"{time.time():.6f}"
        event = {
            "type": "message",
            "subtype": "file_share",
            "channel_type": "im",
            "channel": channel,
            "user": user,
            "text": "",
            "upload": False,
            "files": [shared],
            "ts": stamp,
            "event_ts": stamp,
        }
        body = json.dumps(self.fake.event(event))
        headers = {**sign(body, SECRET), "Content-Type": "application/json"}
        response = await self.http.post("/slack/events", content=body, headers=headers)
        assert response.status_code == 200

    async def press(self, user: str, channel: str, action_id: str, value: str) -> dict[str, Any]:
        url = self.fake.new_response_url()
        payload = block_actions_payload(action_id, value, user_id=user, channel_id=channel, response_url=url)
        body = form_body(payload)
        headers = {**sign(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
        await self.http.post("/slack/events", content=body, headers=headers)
        [first, *_] = await self.fake.wait_for(lambda: self.fake.responses_to(url))
        return first


@pytest.fixture
async def sh(sl: FakeSlack, store: Store, ingest: IngestService) -> AsyncIterator[SlackHarness]:
    settings = Settings(
        default_language="en",
        slack=SlackSettings(
            bot_token=Secret(sl.token),
            signing_secret=Secret(SECRET),
            api_url=sl.api_url,
            operators=(SLACK_OPERATOR,),
        ),
    )
    bot = SlackBot(settings, store, ingest=ingest)
    await bot.start()
    app = create_app(routes=bot.routes())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://briefcast.test"
    ) as http:
        yield SlackHarness(sl, bot, http)
    await bot.stop()


def slack_buttons(fake: FakeSlack, channel: str) -> list[dict[str, Any]] | None:
    """The buttons of the latest upload summary in ``channel`` (one actions block per row)."""
    for m in reversed(fake.messages_in(channel)):
        elements = [e for b in m.blocks or [] if b["type"] == "actions" for e in b["elements"]]
        if any(e["action_id"].startswith("pub:") for e in elements):
            return elements
    return None


async def wait_buttons(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    found = await fake.wait_for(lambda: slack_buttons(fake, channel))
    assert found is not None
    return found


async def test_slack_operator_upload_preview_then_publish_now(
    sh: SlackHarness, store: Store, hook: Hook, sample_en: bytes
) -> None:
    instant, daily = subscribers(store)
    channel = await sh.dm(SLACK_OPERATOR)
    await sh.share(SLACK_OPERATOR, channel, "F0ISSUE", sample_en, "weekly.md", "text/markdown")
    buttons = await wait_buttons(sh.fake, channel)
    posted = sh.fake.messages_in(channel)
    expected = build_preview(parse_markdown(sample_en.decode()), platforms=("slack",), lang="en")
    assert [m.params["blocks"] for m in posted[:-1]] == [p["blocks"] for p in expected.payloads("slack")]
    assert posted[0].text.startswith("🤖 AI")
    ids = sorted(b["action_id"] for b in buttons)
    draft = int(buttons[0]["value"])
    assert ids == sorted([f"pub:{draft}", f"pubsched:{draft}", f"discard:{draft}"])
    assert store.latest_issue() is None

    redrawn = await sh.press(SLACK_OPERATOR, channel, f"pub:{draft}", str(draft))
    assert redrawn["replace_original"] is True and redrawn["text"].startswith("Published")
    latest = store.latest_issue()
    assert latest is not None and latest.id == draft
    assert hook.ids == [draft]
    assert delivered_to(store, draft) == {instant, daily}


async def test_slack_discard_and_html_upload(
    sh: SlackHarness, store: Store, hook: Hook, sample_html: Path
) -> None:
    channel = await sh.dm(SLACK_OPERATOR)
    await sh.share(SLACK_OPERATOR, channel, "F0HTML", sample_html.read_bytes(), "issue.html", "text/html")
    buttons = await wait_buttons(sh.fake, channel)
    draft = int(buttons[0]["value"])
    redrawn = await sh.press(SLACK_OPERATOR, channel, f"discard:{draft}", str(draft))
    assert redrawn["text"].startswith("Discarded")
    assert store.latest_issue() is None and hook.ids == []


async def test_slack_non_operator_is_refused_and_nothing_is_stored(
    sh: SlackHarness, store: Store, sample_en: bytes
) -> None:
    channel = await sh.dm(SLACK_STRANGER)
    await sh.share(SLACK_STRANGER, channel, "F0NOPE", sample_en, "weekly.md", "text/markdown")
    [refusal] = await sh.fake.wait_for(lambda: sh.fake.messages_in(channel))
    assert "只有运营人员" in refusal.text
    assert store.list_issues() == [] and recent_events(store) == []
    assert sh.fake.calls("files.info") == []
    stored = store.ingest(parse_markdown(sample_en.decode()), raw=sample_en.decode(), publish=False)
    answer = await sh.press(SLACK_STRANGER, channel, f"pub:{stored.issue_id}", str(stored.issue_id))
    assert "只有运营人员" in answer["text"]
    assert store.latest_issue() is None


@pytest.mark.parametrize(
    ("content", "name", "mime", "expected"),
    [
        (NOT_UTF8, "broken.md", "text/markdown", "is not UTF-8 text"),
        (b"", "empty.md", "text/markdown", "is empty"),
        (b"%PDF-1.7", "issue.pdf", "application/pdf", "Please send a .md (Markdown) or .html file"),
        (NO_SECTIONS, "notes.md", "text/markdown", "No publishable issue was found"),
    ],
)
async def test_slack_bad_files_get_a_polite_error(
    sh: SlackHarness, store: Store, content: bytes, name: str, mime: str, expected: str
) -> None:
    channel = await sh.dm(SLACK_OPERATOR)
    await sh.share(SLACK_OPERATOR, channel, "F0BAD", content, name, mime)
    [reply] = await sh.fake.wait_for(lambda: sh.fake.messages_in(channel))
    assert expected in reply.text
    assert store.list_issues() == []


async def test_slack_download_rejects_the_sign_in_page(sl: FakeSlack) -> None:
    """A bad token gets Slack's sign-in page with status 200: the size check catches it."""
    shared = sl.add_file(
        "F0TOKEN", b"## \xf0\x9f\xa4\x96 AI: x\n\ntext\n", name="a.md", mimetype="text/markdown"
    )
    data = await download_file(shared["url_private"], sl.token, expected=shared["size"], max_bytes=1000)
    assert data.startswith(b"## ")
    with pytest.raises(DownloadError):
        await download_file(shared["url_private"], "xoxb-wrong", expected=shared["size"], max_bytes=1000)
    with pytest.raises(DownloadError):
        await download_file(shared["url_private"], sl.token, expected=None, max_bytes=5)


def test_format_size() -> None:
    assert [format_size(n) for n in (999, 1000, 2500, 10_000_000, 1_536_000)] == [
        "999 B",
        "1 KB",
        "2.5 KB",
        "10 MB",
        "1.5 MB",
    ]
