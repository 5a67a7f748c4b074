"""``briefcast doctor``: configuration, database and token checks, against the fake platforms."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from briefcast.config import Secret, Settings, SlackSettings, TelegramSettings
from briefcast.doctor import (
    CheckResult,
    check_configuration,
    check_database,
    check_slack,
    check_telegram,
    format_results,
    run_checks,
)
from briefcast.emulators.slack import FakeSlack
from briefcast.emulators.telegram import FakeTelegram
from briefcast.store import Store


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_telegram_good_and_bad_token() -> None:
    async with FakeTelegram(bot_username="acme_brief_bot") as tg:
        good = Settings(telegram=TelegramSettings(token=Secret(tg.token), api_url=tg.base_url))
        bad = Settings(telegram=TelegramSettings(token=Secret("123:wrong"), api_url=tg.base_url))
        ok = await check_telegram(good)
        wrong = await check_telegram(bad)
    assert ok == CheckResult("telegram", "ok", "token valid: bot @acme_brief_bot (id 123456789)")
    assert wrong.status == "fail"
    assert "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized)" in wrong.message
    assert "@BotFather" in wrong.message
    assert "123:wrong" not in wrong.message


async def test_telegram_unreachable_and_unset() -> None:
    url = f"http://127.0.0.1:{closed_port()}/bot"
    down = await check_telegram(Settings(telegram=TelegramSettings(token=Secret("1:x"), api_url=url)))
    assert down.status == "fail"
    assert down.message.startswith("cannot reach the Bot API at 127.0.0.1:")
    assert "1:x" not in down.message
    skipped = await check_telegram(Settings())
    assert skipped.status == "skip" and skipped.ok


async def test_slack_good_bad_and_inactive_token() -> None:
    async with FakeSlack(team_name="Acme") as sl:
        good = Settings(slack=SlackSettings(bot_token=Secret(sl.token), api_url=sl.api_url))
        bad = Settings(slack=SlackSettings(bot_token=Secret("xoxb-nope"), api_url=sl.api_url))
        ok = await check_slack(good)
        wrong = await check_slack(bad)
        sl.deactivate_token()
        inactive = await check_slack(good)
    assert ok.status == "ok"
    assert ok.message == "token valid: briefcast in workspace Acme (T0FAKE)"
    assert wrong.status == "fail" and "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in wrong.message
    assert inactive.status == "fail" and "account_inactive" in inactive.message
    assert "xoxb-nope" not in wrong.message


def test_database_states(tmp_path: Path) -> None:
    empty = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    result = check_database(empty)
    assert result.status == "warn" and "run `briefcast db upgrade`" in result.message
    url = f"sqlite:///{tmp_path / 'ready.db'}"
    Store.open(url).close()
    ready = check_database(Settings(database_url=url))
    assert ready.status == "ok" and "schema at revision" in ready.message
    port = closed_port()
    down = check_database(Settings(database_url=f"postgresql://u:hunter2@127.0.0.1:{port}/db"))
    assert down.status == "fail" and down.message.startswith("cannot connect to postgresql")
    assert "hunter2" not in down.message


def test_configuration_warnings() -> None:
    results = {r.name: r for r in check_configuration(Settings(http_host="0.0.0.0"))}
    assert results["configuration"].status == "ok"
    assert results["api token"].status == "warn"
    assert "playground" in results["platforms"].message
    broken = Settings(
        telegram=TelegramSettings(token=Secret("1:x"), webhook_url="http://example.org/hook"),
        slack=SlackSettings(bot_token=Secret("xoxb-1")),
    )
    found = {r.name: r for r in check_configuration(broken)}
    assert found["telegram webhook"].status == "fail"
    assert found["slack mode"].status == "fail"
    assert "platforms" not in found
    assert check_configuration(Settings(default_time="25:00"))[0].status == "fail"


async def test_run_checks_and_format(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'd.db'}",
            telegram=TelegramSettings(token=Secret(tg.token), api_url=tg.base_url),
        )
        results = await run_checks(settings)
    names = [r.name for r in results]
    assert names[0] == "configuration" and names[-2:] == ["telegram", "slack"]
    lines: list[str] = []
    assert format_results(results, echo=lines.append) is True  # warnings do not fail the doctor
    assert any(line.startswith("✔ telegram: token valid") for line in lines)
    assert any(line.startswith("! database:") for line in lines)
    assert format_results([CheckResult("x", "fail", "no")], echo=lines.append) is False


@pytest.mark.parametrize("status", ["ok", "warn", "skip"])
def test_only_failures_fail(status: str) -> None:
    assert CheckResult("x", status, "").ok  # type: ignore[arg-type]


def test_a_database_url_is_shown_without_its_password_even_when_it_does_not_parse() -> None:
    from briefcast.store.db import redacted_url

    assert redacted_url("postgresql+psycopg://bob:s3cret@db.example:5432/briefcast") == (
        "postgresql+psycopg://bob:***@db.example:5432/briefcast"
    )
    broken = "postgresql://bob:pa@ss:word@db.example:notaport/x"
    shown = redacted_url(broken)
    assert "pa@ss" not in shown and "ss:word" not in shown and "db.example" in shown
