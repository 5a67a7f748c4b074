"""The fidelity report where operators see it, and the newsletter settings end to end.

One measurement (``briefcast.render.fidelity.report_for``), made once at ingest:
printed by ``briefcast ingest``, returned by ``POST /api/issues`` and stored with
the issue, shown in the preview; the ``[newsletter]`` settings reach the parser;
the intro is searchable and pushed with the first section; long headings keep
working buttons. SQLite and PostgreSQL where a database is involved.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from typer.testing import CliRunner

from briefcast.bot.commands import Commands
from briefcast.cli import app
from briefcast.config import ConfigError, Secret, Settings, load_settings
from briefcast.delivery.engine import DeliveryEngine
from briefcast.delivery.transports import TelegramTransport
from briefcast.emulators.telegram import FakeTelegram, TelegramLimits
from briefcast.ingest.api import issue_routes
from briefcast.ingest.preview import build_preview
from briefcast.ingest.service import IngestService, read_issue
from briefcast.store import Store, outbox
from briefcast.testing.tdlib import check_telegram_payload
from crash_worker import add_subscribers, fast_settings
from factories import private

TOKEN = "tok"
MD = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown; charset=utf-8"}

LOSSY = """# Lossy Weekly

Welcome! Read [the archive](./archive/) too.

## 🤖 AI: agents

Agents shipped. <a href="javascript:alert(1)">Click me</a> for more.
"""

INTRO = """# 能源周报

本周导语：假期期间暂停一期，[订阅](https://e.com/sub)。

## ⚡ 能源：储能

储能需求爆发。

## 🤖 AI：推理

推理成本下降。
"""


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    service = IngestService(store)
    api = Starlette(routes=issue_routes(service, api_token=Secret(TOKEN)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://t") as c:
        yield c


async def test_api_answers_with_the_report_and_keeps_it_with_the_issue(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/issues", content=LOSSY.encode(), headers=MD)
    assert r.status_code == 201, r.text
    fid = r.json()["fidelity"]
    assert fid["complete"] is False
    assert fid["links"] == {"total": 2, "kept": 1, "percent": 50.0}
    assert fid["items"]["kept"] == fid["items"]["total"]
    [lost] = [x for x in fid["platforms"][0]["lost"] if x["kind"] == "link"]
    assert (lost["text"], lost["reason"], lost["line"]) == (
        "javascript:alert(1)",
        "link scheme not supported",
        7,
    )
    assert any("relative link" in w for w in fid["warnings"])
    stored = (await client.get(f"/api/issues/{r.json()['id']}", headers=MD)).json()
    assert stored["fidelity"]["links"]["kept"] == 1
    preview = (await client.get(f"/api/issues/{r.json()['id']}/preview?lang=en", headers=MD)).json()
    assert preview["fidelity"]["complete"] is False
    assert preview["warnings"][1].startswith("fidelity: ")
    assert any("lost link at line 7" in w and "scheme not supported" in w for w in preview["warnings"])


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("BRIEFCAST_", "TELEGRAM_", "SLACK_")):
            monkeypatch.delenv(name)
    return CliRunner()


def test_cli_ingest_prints_the_report_and_uses_the_newsletter_settings(
    runner: CliRunner, tmp_path: Path
) -> None:
    issue = tmp_path / "lossy.md"
    issue.write_text(LOSSY, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'b.db'}"
    out = runner.invoke(app, ["--db", db, "ingest", str(issue)])
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[1] == "  fidelity: 6/6 items (100.0%), 1/2 links (50.0%)"
    assert "  lost link at line 7: javascript:alert(1): link scheme not supported" in lines
    assert any("relative link" in line for line in lines)
    # with a base URL configured the relative link resolves and the note goes away
    config = tmp_path / "briefcast.toml"
    config.write_text('[newsletter]\nbase_url = "https://news.example.com/weekly/"\n', encoding="utf-8")
    again = runner.invoke(app, ["--config", str(config), "--db", db, "ingest", str(issue)])
    assert again.exit_code == 0, again.output
    assert not any("relative link" in line for line in again.stdout.splitlines())
    with Store.open(db, settings=Settings()) as store:
        latest = store.get_issue(1)
        assert latest is not None
        runs = [r for s in latest.briefing.preamble for r in getattr(s, "runs", ())]
    assert "./archive/" in {r.url for r in runs}  # the first ingest kept the path, shown as text


def test_newsletter_settings_from_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[newsletter]\nintro = "separate"\nsponsor_headings = ["presented by"]\n', "utf-8")
    s = load_settings({}, config_file=config)
    assert s.newsletter.intro == "separate" and s.newsletter.sponsor_headings == ("presented by",)
    s = load_settings(
        {"BRIEFCAST_INTRO": "off", "BRIEFCAST_BASE_URL": "https://x.example/"}, config_file=config
    )
    opts = s.newsletter.parse_options()
    assert (opts.intro, opts.base_url) == ("off", "https://x.example/")
    with pytest.raises(ConfigError, match=r"newsletter\.intro"):
        load_settings({"BRIEFCAST_INTRO": "sometimes"}, config_file=config)
    with pytest.raises(ConfigError, match="base_url"):
        load_settings({"BRIEFCAST_BASE_URL": "news.example.com"}, config_file=config)
    b = read_issue(
        "# W\n\n## Presented by Acme\n\nBuy.\n\n## News\n\nx\n", options=s.newsletter.parse_options()
    )
    assert [s.kind for s in b.sections] == ["sponsor", "content"]


def test_preview_shows_the_intro_with_the_first_sector_and_the_fidelity_line() -> None:
    b = read_issue(INTRO, source="w.md")
    preview = build_preview(b, platforms=("telegram",), lang="zh")
    assert [s.key for s in preview.sectors] == ["energy", "ai"]
    first = preview.sectors[0].payloads["telegram"][0]["text"]
    assert "假期期间暂停一期" in first and "储能需求爆发" in first
    assert "假期期间暂停一期" not in preview.sectors[1].payloads["telegram"][0]["text"]
    assert preview.fidelity_line("zh").startswith("保真度：") and "100.0%" in preview.fidelity_line("zh")
    for p in preview.payloads("telegram"):
        check_telegram_payload(p)


def test_the_intro_is_searchable(store: Store) -> None:
    b = read_issue(INTRO, source="w.md")
    store.ingest(b, raw=INTRO, source="w.md")
    [hit] = store.search("假期期间暂停")
    assert hit.section_key == "intro"


LONG = (
    "AI日报\n\n## 全球人工智能产业发展与监管政策的最新动态深度观察报告\n\n内容一。\n\n"
    "## 全球人工智能产业发展与监管政策的最新动态深度观察报告\n\n内容二。\n"
)


class _Ops:
    async def is_admin(self, chat_id: str, user_id: str) -> bool:
        return True

    async def resolve_channel(self, ref: str) -> None:
        return None

    async def bot_can_post(self, chat_id: str) -> bool:
        return True


async def test_latest_with_long_chinese_headings_has_working_short_buttons(store: Store) -> None:
    # synthetic: a 19+ CJK character heading made /latest raise "callback_data … is 75 bytes" for everyone
    issue_id = store.ingest(read_issue(LONG, source="l.md"), raw=LONG, source="l.md").issue_id
    commands = Commands(store=store, ops=_Ops(), platform="telegram")  # type: ignore[arg-type]
    latest = await commands.handle(private("latest", lang="zh"))
    [doc] = latest.documents
    values = [b.value for row in doc.buttons for b in row]
    assert values == [f"#0.{issue_id}", f"#1.{issue_id}"]
    assert len({b.text for row in doc.buttons for b in row}) == 2
    from briefcast.render import telegram as telegram_render

    for p in telegram_render.render(doc):
        check_telegram_payload(p)
    second = await commands.handle_action(private(lang="zh"), "sector", values[1])
    assert "内容二" in str(second.documents[0].blocks)
    # the section's own "other sections" buttons stay short too
    for p in telegram_render.render(second.documents[0]):
        check_telegram_payload(p)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(limits=TelegramLimits(enabled=False)) as fake:
        yield fake


async def test_a_push_carries_the_intro_with_its_first_section_only(store: Store, tg: FakeTelegram) -> None:
    issue_id = store.ingest(read_issue(INTRO, source="w.md"), raw=INTRO, source="w.md").issue_id
    tg.add_chat(501)
    tg.add_chat(502)
    add_subscribers(store, [501], ("energy", "ai"))
    add_subscribers(store, [502], ("ai",))
    assert outbox.enqueue_now(store.engine, issue_id, now=datetime.now(UTC)) == 2
    transport = TelegramTransport(tg.token, base_url=tg.base_url, concurrency=4, timeout=10.0)
    engine = DeliveryEngine(fast_settings(), store, {"telegram": transport}, idle_poll=0.02)
    try:
        stats = await engine.drain()
    finally:
        await transport.close()
    assert stats.delivered == 2
    both = tg.messages_to(501)
    assert len(both) == 2
    assert "假期期间暂停一期" in both[0].plain and "储能需求爆发" in both[0].plain
    assert "假期期间暂停一期" not in both[1].plain and "推理成本下降" in both[1].plain
    [ai_only] = tg.messages_to(502)
    assert "假期期间暂停一期" in ai_only.plain and "推理成本下降" in ai_only.plain
