"""The playground in a real headless Chromium: type /energy, press a button, subscribe, see the push.

Uses Debian's ``/usr/bin/chromium`` through Playwright (``executable_path``; no browser download).
Skipped with the reason when either is missing, unless ``BRIEFCAST_REQUIRE_BROWSER=1`` (CI), where
that is a failure. Playwright's expectations wait on the DOM (no sleeps).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from briefcast.briefing.parse import parse_markdown
from briefcast.config import Settings
from briefcast.playground import build_playground
from briefcast.runtime import serve
from briefcast.store import Store

CHROMIUM = os.environ.get("BRIEFCAST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


def _missing() -> str | None:
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install playwright)"
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture
def browser_ready() -> None:
    problem = _missing()
    if problem is None:
        return
    if os.environ.get("BRIEFCAST_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{problem} (BRIEFCAST_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(problem)


@pytest.fixture
async def app_url(browser_ready: None, sqlite_url: str, sample_md: Path) -> AsyncIterator[str]:
    """The real app with the playground, serving on an ephemeral loopback port."""
    settings = Settings(database_url=sqlite_url, http_port=0)
    store = Store.open(sqlite_url, settings=settings)
    raw = sample_md.read_text(encoding="utf-8")
    store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample")
    pg = build_playground(settings, store)
    stop = asyncio.Event()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(
            pg.settings,
            store,
            stop_event=stop,
            components=pg.components,
            routes=pg.routes,
            on_ready=port.set_result,
        )
    )
    try:
        yield f"http://127.0.0.1:{await asyncio.wait_for(asyncio.shield(port), 20)}"
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 20)
        pg.close()
        store.close()


@pytest.fixture
async def page(app_url: str) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            tab = await context.new_page()
            tab.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            tab.on("pageerror", lambda e: errors.append(str(e)))
            await tab.goto(app_url)
            yield tab
            assert errors == [], errors
        finally:
            await browser.close()


async def type_into(page: Any, room: str, text: str) -> None:
    box = page.locator(f'form.composer[data-room="{room}"] input[name="text"]')
    await box.fill(text)
    await box.press("Enter")


async def test_energy_button_subscribe_and_scheduled_push(page: Any) -> None:
    from playwright.async_api import expect

    private = page.locator("#messages-tg-private")
    await type_into(page, "tg-private", "/energy")
    answer = private.locator(".message.bot").first
    await expect(answer).to_contain_text("能源基建：储能需求爆发")
    link = answer.locator('a[href="https://quantshark.io/News/6a9faec9dbba545aab8159044b6fc475"]')
    await expect(link).to_have_text("宁德时代宣布2026年钠电池大规模应用")
    await expect(answer.locator("b").first).to_have_text("⚡ 能源基建：储能需求爆发，电网智能化升级")

    # an inline button under the answer: the AI sector arrives
    await answer.locator("button.button", has_text="AI").first.click()
    await expect(private.locator(".message.bot", has_text="🤖")).to_have_count(1)

    # subscribe the group, then advance the schedule and watch the push arrive
    group = page.locator("#messages-tg-group")
    await type_into(page, "tg-group", "/subscribe energy 08:00")
    await expect(group.locator(".message.bot")).to_contain_text("08:00")
    await page.locator("#advance").click()
    await expect(page.locator("#status")).to_contain_text("queued")
    push = group.locator(".message.bot", has_text="能源基建：储能需求爆发")
    await expect(push).to_have_count(1)
    await expect(push.locator('a[href^="https://quantshark.io/"]').first).to_be_visible()


async def test_slack_channel_renders_block_kit(page: Any) -> None:
    from playwright.async_api import expect

    channel = page.locator("#messages-slack-channel")
    await type_into(page, "slack-channel", "/briefing energy")
    answer = channel.locator(".message.bot").first
    await expect(answer.locator(".sl-header")).to_have_text("⚡ 能源基建：储能需求爆发，电网智能化升级")
    await expect(answer.locator(".note")).to_have_text("only visible to you")
    await expect(answer.locator('a[href^="https://quantshark.io/"]').first).to_be_visible()
    await type_into(page, "slack-channel", "/energy")
    await expect(page.locator("#status")).to_contain_text("/briefing energy")


async def test_forum_topics_in_the_picker_and_a_message_into_a_topic(page: Any) -> None:
    from playwright.async_api import expect

    forum = page.locator("#messages-tg-forum")
    await expect(forum.locator(".message.bot").first).to_contain_text("/topics")  # the welcome card
    await type_into(page, "tg-forum", "/topics energy")
    picker = page.locator('form.composer[data-room="tg-forum"] select[name="topic"]')
    await expect(picker.locator("option")).to_have_count(2)  # General + the new topic
    await picker.select_option(label="⚡ 能源基建")
    await type_into(page, "tg-forum", "/watch 钠电池")
    await expect(forum.locator(".message.user .note").last).to_have_text("# ⚡ 能源基建")
    alert = forum.locator(".message.bot", has_text="🔔 关注词：钠电池")
    await expect(alert).to_have_count(1)
    await expect(alert.locator(".note")).to_have_text("# ⚡ 能源基建")
    await expect(alert.locator("b", has_text="钠电池").first).to_be_visible()
