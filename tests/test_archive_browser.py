"""The public archive in a real headless Chromium: a phone screen, links, the language switch, a
newsletter carrying a script, and the playground's pushed "read the whole issue" button.

Same set-up as ``test_browser.py`` (Debian's ``/usr/bin/chromium`` through Playwright; skipped
without it unless ``BRIEFCAST_REQUIRE_BROWSER=1``). Playwright's expectations wait on the DOM.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from archive_app import SAMPLE_TITLE, en_issue_text, free_port, issue_text, served
from briefcast.app import assemble
from briefcast.archive import archive_routes
from briefcast.briefing.parse import parse_markdown
from briefcast.config import Settings
from briefcast.ingest.service import IngestService
from briefcast.store import Store
from test_browser import ARGS, CHROMIUM, TIMEOUT_MS, browser_ready, type_into  # noqa: F401

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
LONG_WORD = "https://example.com/" + "a" * 180  # an unbreakable string, as text
EVIL = issue_text(
    "2026-11-30", title="硅谷周报 &lt;/title&gt;&lt;script&gt;window.pwned=1&lt;/script&gt;"
).replace(
    "**核心进展**",
    "**核心进展**\n\n注意 &lt;script&gt;window.pwned=2&lt;/script&gt; 与 `<img src=x onerror=window.pwned=3>`"
    f' 和 [点我](javascript:window.pwned=4) 和 <a href="javascript:window.pwned=5">链接</a> {LONG_WORD}\n\n'
    "| 公司 | 产品 | 价格 | 性能 | 上市 | 备注 |\n|---|---|---|---|---|---|\n"
    "| 谷歌 | Gemini 3 Flash | 0.50美元/百万tokens | 推理速度提升3倍 | 2026年 | 多模态推理测试81.2% |\n",
    1,
)


@pytest.fixture
async def archive(browser_ready: None, sqlite_url: str) -> AsyncIterator[str]:  # noqa: F811
    """The web app with the archive, three issues published through the ingest service."""
    port = free_port()
    settings = Settings(database_url=sqlite_url, http_port=port, public_url=f"http://127.0.0.1:{port}")
    store = Store.open(sqlite_url, settings=settings)
    ingest = IngestService(store)
    for text in (issue_text("2026-11-28"), en_issue_text("2026-11-29"), EVIL):
        assert (await ingest.ingest_text(text, origin="test", kind="markdown")).ok
    try:
        async with served(settings, store, routes=archive_routes(settings, store)) as url:
            yield url
    finally:
        store.close()


@pytest.fixture
async def chromium(browser_ready: None) -> AsyncIterator[Any]:  # noqa: F811
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def _tab(browser: Any, **options: Any) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context(**options)
    tab = await context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
    return context, tab, errors


async def _no_horizontal_scroll(tab: Any) -> None:
    widths = await tab.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[2] and widths[1] <= widths[2], f"the page scrolls sideways: {widths}"


async def test_pages_fit_a_phone_screen(chromium: Any, archive: str) -> None:
    from playwright.async_api import expect

    context, tab, errors = await _tab(chromium, **PHONE)
    try:
        for path in (
            "/issues",
            "/issues/2026-11-28",
            "/issues/2026-11-29",
            "/issues/2026-11-30",
            "/issues/404",
        ):
            response = await tab.goto(archive + path)
            assert response is not None and response.status == (404 if path.endswith("404") else 200)
            await expect(tab.locator("h1")).to_be_visible()
            assert await tab.evaluate("() => window.innerWidth") == 390  # the viewport meta took effect
            await _no_horizontal_scroll(tab)
        # the table scrolls inside its own box instead of widening the page
        table = tab.locator("div.table").first
        await tab.goto(archive + "/issues/2026-11-30")
        box = await table.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        # body text is readable without zooming
        size = await tab.evaluate(
            "() => parseFloat(getComputedStyle(document.querySelector('section.sector p')).fontSize)"
        )
        assert size >= 15
        assert errors == []
    finally:
        await context.close()


async def test_links_and_the_language_switch(chromium: Any, archive: str) -> None:
    from playwright.async_api import expect

    context, tab, errors = await _tab(chromium, **PHONE, locale="zh-CN")
    try:
        await tab.goto(archive + "/issues")
        await expect(tab.locator("html")).to_have_attribute(
            "lang", "zh-CN"
        )  # Accept-Language from the locale
        await expect(tab.locator("h1")).to_have_text("全部简报")
        # newest first; open the Chinese issue from the index
        await expect(tab.locator("ol.issues a.title")).to_have_count(3)
        await tab.locator("a.title", has_text=SAMPLE_TITLE).first.click()
        await expect(tab).to_have_url(archive + "/issues/2026-11-28")
        await expect(tab.locator("h1")).to_have_text(SAMPLE_TITLE)
        # the table of contents jumps to a section
        await tab.locator("nav.toc a", has_text="能源基建").click()
        await expect(tab).to_have_url(archive + "/issues/2026-11-28#energy")
        await expect(tab.locator("section#energy h2")).to_be_in_viewport()
        # switch to English and back: the page around the issue changes, the issue does not
        await tab.locator("a.lang").click()
        await expect(tab).to_have_url(archive + "/issues/2026-11-28?lang=en")
        await expect(tab.locator("html")).to_have_attribute("lang", "en")
        await expect(tab.locator("nav.toc h2")).to_have_text("Contents")
        await expect(tab.locator("h1")).to_have_text(SAMPLE_TITLE)
        await expect(tab.locator("a.lang")).to_have_text("中文")
        # a link back to the index keeps the chosen language
        await tab.locator("p.back a").click()
        await expect(tab).to_have_url(archive + "/issues?lang=en")
        await expect(tab.locator("h1")).to_have_text("All issues")
        await tab.locator("a.lang").click()
        await expect(tab.locator("h1")).to_have_text("全部简报")
        # a sector chip filters the index; the feed links answer Atom
        await tab.locator("nav.chips a", has_text="能源基建").click()
        await expect(tab).to_have_url(archive + "/issues?sector=energy&lang=zh")  # the language picked
        feed_href = await tab.locator("footer a", has_text="能源基建").get_attribute("href")
        assert feed_href == "/feeds/energy.xml"
        feed = await tab.request.get(archive + feed_href)
        assert feed.status == 200 and feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
        # every link on the issue page points somewhere real: in-page anchors exist, outside links are http(s)
        await tab.goto(archive + "/issues/2026-11-28")
        hrefs = await tab.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        for href in hrefs:
            if href.startswith("#"):
                assert await tab.locator(f"[id='{href[1:]}']").count() == 1, href
            else:
                assert href.startswith(("/", "https://", "http://")), href
        local = {h.split("#")[0] for h in hrefs if h.startswith("/")}
        for href in local:
            answer = await tab.request.get(archive + href)
            assert answer.status == 200, href
        assert errors == []
    finally:
        await context.close()


async def test_a_script_in_a_newsletter_does_not_run(chromium: Any, archive: str) -> None:
    from playwright.async_api import expect

    context, tab, errors = await _tab(chromium, viewport={"width": 1200, "height": 900})
    try:
        await tab.goto(archive + "/issues/2026-11-30")
        assert await tab.evaluate("() => 1 + 1") == 2  # JavaScript is on: the check below means something
        await expect(tab.locator("section#ai p").first).to_contain_text("<script>window.pwned=2</script>")
        await expect(tab.locator("section#ai code").first).to_have_text("<img src=x onerror=window.pwned=3>")
        assert (await tab.title()).startswith("硅谷周报 </title><script>window.pwned=1</script> · ")
        await expect(tab.locator("section#ai p").first).to_contain_text("[点我](javascript:window.pwned=4)")
        assert await tab.locator("a[href^='javascript']").count() == 0
        assert await tab.locator("script, img, iframe").count() == 0
        assert await tab.evaluate("() => typeof window.pwned") == "undefined"
        await tab.goto(archive + "/issues")
        assert await tab.evaluate("() => typeof window.pwned") == "undefined"
        assert errors == []
    finally:
        await context.close()


async def test_playground_push_ends_with_a_working_archive_link(chromium: Any, sqlite_url: str) -> None:
    """``make run`` without tokens: the public URL defaults to the playground's own address."""
    from playwright.async_api import expect

    port = free_port()
    settings = Settings(database_url=sqlite_url, http_port=port)
    store = Store.open(sqlite_url, settings=settings)
    raw = issue_text("2026-11-28")
    issue_id = store.ingest(parse_markdown(raw, source="sample"), raw=raw, source="sample").issue_id
    built = assemble(settings, store)
    try:
        assert built.playground and built.settings.public_url == f"http://127.0.0.1:{port}"
        async with served(built.settings, store, routes=built.routes, components=built.components) as url:
            context, tab, errors = await _tab(chromium, viewport={"width": 1400, "height": 900})
            await tab.goto(url)
            await expect(tab.locator("header nav a", has_text="Public archive")).to_have_attribute(
                "href", "/issues"
            )
            await type_into(tab, "tg-group", "/subscribe energy 08:00")
            group = tab.locator("#messages-tg-group")
            await expect(group.locator(".message.bot")).to_contain_text("08:00")
            await type_into(tab, "slack-channel", "/briefing subscribe ai 08:00")
            channel = tab.locator("#messages-slack-channel")
            await expect(channel.locator(".message.bot")).to_contain_text("08:00")
            await tab.locator("#advance").click()
            push = group.locator(".message.bot", has_text="能源基建：储能需求爆发")
            await expect(push).to_have_count(1)
            link = push.locator("a.button.link", has_text="阅读本期全文")
            await expect(link).to_have_attribute("href", f"{url}/issues/{issue_id}?lang=zh#energy")
            slack_push = channel.locator(".message.bot", has_text="AI新能力：推理成本下降")
            await expect(slack_push.locator("a.button.link")).to_have_count(1)
            # the button opens the issue's page at the pushed section
            async with context.expect_page() as opened:
                await link.click()
            page = await opened.value
            await page.wait_for_load_state()
            await expect(page.locator("h1")).to_have_text(SAMPLE_TITLE)
            await expect(page.locator("section#energy h2")).to_be_in_viewport()
            await context.close()
            assert errors == []
    finally:
        built.close()
        store.close()
