"""The public archive over real HTTP: issues published through the issue API, pages and feeds read back.

Every test runs the project's web app (``briefcast.runtime.serve``, uvicorn on a loopback port)
with the issue API and the archive mounted, on SQLite and PostgreSQL. Issues go in the way an
operator publishes them (``POST /api/issues``, drafts with ``?publish=false``), so the ingest
path, the store and the archive are all the real ones.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest

from archive_app import (
    CORRECTED,
    EN_TITLE,
    ORIGINAL,
    SAMPLE_TITLE,
    TOKEN,
    en_issue_text,
    issue_text,
    served,
)
from briefcast.archive import archive_routes
from briefcast.archive.html import inline_html
from briefcast.briefing.model import Run
from briefcast.config import Secret, Settings, load_settings
from briefcast.errors import ConfigError
from briefcast.i18n import languages_complete, negotiate
from briefcast.ingest.api import issue_routes
from briefcast.ingest.service import IngestService
from briefcast.store import Store

PUBLIC = "https://briefing.example.com"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ZH_PAGE = {"Accept-Language": "zh-CN,zh;q=0.9"}


@dataclass
class Site:
    http: httpx.AsyncClient
    store: Store
    ingest: IngestService

    async def publish(self, text: str, *, draft: bool = False) -> dict[str, Any]:
        """``POST /api/issues`` as an operator's script does; returns the API's answer."""
        r = await self.http.post(
            "/api/issues" + ("?publish=false" if draft else ""),
            content=text.encode("utf-8"),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/markdown; charset=utf-8"},
        )
        assert r.status_code in (200, 201), r.text
        answer: dict[str, Any] = r.json()
        return answer


@pytest.fixture
async def site(db_url: str) -> AsyncIterator[Site]:
    settings = Settings(database_url=db_url, http_port=0, api_token=Secret(TOKEN), public_url=PUBLIC + "/")
    store = Store.open(db_url, settings=settings)
    service = IngestService(store)
    routes = [*issue_routes(service, api_token=settings.api_token), *archive_routes(settings, store)]
    try:
        async with (
            served(settings, store, routes=routes) as url,
            httpx.AsyncClient(base_url=url, timeout=20) as http,
        ):
            yield Site(http, store, service)
    finally:
        store.close()


def issue_items(html: str) -> list[str]:
    """The titles listed on an index page, in order."""
    return re.findall(r'<a class="title" href="[^"]*">([^<]*)</a>', html)


# ------------------------------------------------------------------------- Atom checks


def _one(parent: ET.Element, name: str) -> ET.Element:
    found = parent.findall(ATOM_NS + name)
    assert len(found) == 1, f"{parent.tag} must have exactly one atom:{name}, has {len(found)}"
    return found[0]


def check_atom(body: bytes, self_url: str) -> ET.Element:
    """Assert the RFC 4287 rules a feed must meet (§4.1.1 feed, §4.1.2 entry, §3.3 dates), and that
    feedparser reads it without a bozo error. Returns the root element."""
    parsed = feedparser.parse(body)
    assert not parsed.bozo, f"feedparser: {parsed.get('bozo_exception')}"
    root = ET.fromstring(body)
    assert root.tag == ATOM_NS + "feed"
    assert root.get(XML_LANG) in ("zh", "en")
    feed_id = _one(root, "id").text or ""
    assert urlsplit(feed_id).scheme in ("https", "http", "urn", "tag"), feed_id
    assert (_one(root, "title").text or "").strip()
    assert RFC3339.match(_one(root, "updated").text or ""), "atom:updated is not an RFC 3339 date-time"
    selfs = [link for link in root.findall(ATOM_NS + "link") if link.get("rel") == "self"]
    assert len(selfs) == 1 and selfs[0].get("href") == self_url
    assert selfs[0].get("type") == "application/atom+xml"
    feed_author = root.findall(ATOM_NS + "author")
    ids: set[str] = set()
    for entry in root.findall(ATOM_NS + "entry"):
        entry_id = _one(entry, "id").text or ""
        assert urlsplit(entry_id).scheme, f"atom:id {entry_id!r} is not an IRI"
        assert entry_id not in ids, "two entries share an atom:id"
        ids.add(entry_id)
        assert (_one(entry, "title").text or "").strip()
        assert RFC3339.match(_one(entry, "updated").text or "")
        assert feed_author or entry.findall(ATOM_NS + "author"), "an entry without an author"
        assert entry.get(XML_LANG) in ("zh", "en")
        content = _one(entry, "content")
        assert content.get("type") == "html"
        assert "<" in (content.text or ""), "content is escaped HTML: it decodes to markup"
        alternates = [link for link in entry.findall(ATOM_NS + "link") if link.get("rel") == "alternate"]
        assert len(alternates) == 1 and (alternates[0].get("href") or "").startswith(PUBLIC + "/issues/")
        assert len(entry.findall(ATOM_NS + "summary")) <= 1
    return root


def entries(root: ET.Element) -> list[ET.Element]:
    return root.findall(ATOM_NS + "entry")


def text_of(entry: ET.Element, name: str) -> str:
    return _one(entry, name).text or ""


# ------------------------------------------------------------------------------ tests


async def test_drafts_never_appear_and_only_the_newest_revision_is_shown(site: Site) -> None:
    http = site.http
    first = await site.publish(issue_text("2026-11-28"))
    assert first["status"] == "new"
    draft = await site.publish(issue_text("2026-11-29", title="内部草稿周报"), draft=True)
    assert draft["published"] is False

    index = await http.get("/issues", headers=ZH_PAGE)
    assert index.status_code == 200
    assert issue_items(index.text) == [SAMPLE_TITLE]
    assert "内部草稿周报" not in index.text
    # the draft's id, its date, and every feed: nothing
    for path in (f"/issues/{draft['id']}", "/issues/2026-11-29"):
        r = await http.get(path, headers=ZH_PAGE)
        assert r.status_code == 404 and "内部草稿周报" not in r.text
    for feed in ("/feeds/all.xml", "/feeds/energy.xml"):
        assert "内部草稿周报" not in (await http.get(feed)).text

    before = check_atom((await http.get("/feeds/all.xml")).content, PUBLIC + "/feeds/all.xml")
    [entry_before] = entries(before)
    energy_before = entries(
        check_atom((await http.get("/feeds/energy.xml")).content, PUBLIC + "/feeds/energy.xml")
    )

    # a correction: the same issue with one sentence changed
    revision = await site.publish(issue_text("2026-11-28", corrected=True))
    assert revision["status"] == "revision" and revision["revision"] == 2
    # then a draft of a third revision, which must stay invisible
    third = await site.publish(issue_text("2026-11-28", corrected=True) + "\n\n草稿中的修改。\n", draft=True)
    assert third["status"] == "revision" and third["published"] is False

    for path in (f"/issues/{first['id']}", f"/issues/{revision['id']}", "/issues/2026-11-28"):
        page = await http.get(path, headers=ZH_PAGE)
        assert page.status_code == 200, path
        assert CORRECTED in page.text and ORIGINAL not in page.text and "草稿中的修改" not in page.text
        assert "第 2 版" in page.text
        assert f'<link rel="canonical" href="{PUBLIC}/issues/2026-11-28">' in page.text
    assert (await http.get(f"/issues/{third['id']}")).status_code == 404
    assert issue_items((await http.get("/issues")).text) == [SAMPLE_TITLE]  # still one issue

    after = check_atom((await http.get("/feeds/all.xml")).content, PUBLIC + "/feeds/all.xml")
    [entry_after] = entries(after)
    # the entry is the same one (same atom:id), updated, with the corrected text
    assert text_of(entry_after, "id") == text_of(entry_before, "id")
    assert text_of(entry_after, "updated") >= text_of(entry_before, "updated")
    assert CORRECTED in text_of(entry_after, "content") and ORIGINAL not in text_of(entry_after, "content")
    energy_after = entries(
        check_atom((await http.get("/feeds/energy.xml")).content, PUBLIC + "/feeds/energy.xml")
    )
    assert [text_of(e, "id") for e in energy_after] == [text_of(e, "id") for e in energy_before]
    assert CORRECTED in text_of(energy_after[0], "content")

    # publishing the draft (the bots' "Publish" button) makes it appear
    assert await site.ingest.publish(draft["id"])
    assert (await http.get("/issues/2026-11-29")).status_code == 200
    assert issue_items((await http.get("/issues")).text) == ["内部草稿周报", SAMPLE_TITLE]


async def test_the_issue_page_has_every_part_of_the_issue(site: Site) -> None:
    issue = await site.publish(issue_text("2026-11-28"))
    page = await site.http.get(f"/issues/{issue['id']}", headers=ZH_PAGE)
    assert page.status_code == 200
    briefing = site.store.get_issue(issue["id"])
    assert briefing is not None
    b = briefing.briefing
    html = page.text
    assert f"<h1>{SAMPLE_TITLE}</h1>" in html
    for topic in b.topics:
        assert topic in html
    assert "本报告由量子鲨鱼生成" in html  # the intro's attribution
    for s in b.sections:
        assert f'<section class="sector" id="{s.key}">' in html
        assert f'<a href="#{s.key}">' in html  # table of contents
    for kw in b.keywords:
        assert f"<li>{kw}</li>" in html
    for x in b.takeaways:
        assert x.replace('"', "&#34;") in html
    for link in b.links:
        assert f'href="{link.url}"' in html
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


async def test_atom_feeds_are_valid_and_per_sector(site: Site) -> None:
    http = site.http
    # an empty archive still has valid feeds
    empty = await http.get("/feeds/all.xml")
    assert empty.status_code == 200 and entries(check_atom(empty.content, PUBLIC + "/feeds/all.xml")) == []

    zh = await site.publish(issue_text("2026-11-28"))
    en = await site.publish(en_issue_text("2026-11-29"))
    r = await http.get("/feeds/all.xml")
    assert r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    root = check_atom(r.content, PUBLIC + "/feeds/all.xml")
    got = entries(root)
    titles = [text_of(e, "title") for e in got]
    assert titles[0].startswith(EN_TITLE) and titles[1] == SAMPLE_TITLE  # newest first
    assert [e.get(XML_LANG) for e in got] == ["en", "zh"]
    links = [e.find(ATOM_NS + "link").get("href") for e in got]  # type: ignore[union-attr]
    assert links == [f"{PUBLIC}/issues/2026-11-29", f"{PUBLIC}/issues/2026-11-28"]

    energy = await http.get("/feeds/energy.xml")
    eroot = check_atom(energy.content, PUBLIC + "/feeds/energy.xml")
    titles = [text_of(e, "title") for e in entries(eroot)]
    assert len(titles) == 2 and titles[1].startswith("⚡ 能源基建：储能需求爆发")
    content = text_of(entries(eroot)[1], "content")
    assert "宁德时代宣布2026年钠电池大规模应用" in content and "Gemini 3 Flash" not in content
    link = entries(eroot)[1].find(ATOM_NS + "link")
    assert link is not None and link.get("href") == f"{PUBLIC}/issues/2026-11-28#energy"
    parsed = feedparser.parse(energy.content)
    assert parsed.feed.title.startswith("⚡ 能源基建") and len(parsed.entries) == 2
    assert {e.id for e in parsed.entries}.isdisjoint({e.id for e in feedparser.parse(r.content).entries})

    # an alias is sent to the key's feed; an unknown sector is a 404 page
    alias = await http.get("/feeds/能源.xml", follow_redirects=False)
    assert alias.status_code == 301 and alias.headers["location"] == "/feeds/energy.xml"
    missing = await http.get("/feeds/gardening.xml", headers={"Accept-Language": "en"})
    assert missing.status_code == 404 and "There is no sector gardening." in missing.text
    assert zh["id"] != en["id"]


async def test_conditional_get_and_cache_headers(site: Site) -> None:
    http = site.http
    await site.publish(issue_text("2026-11-28"))
    for path, max_age in (("/issues", 60), ("/issues/2026-11-28", 60), ("/feeds/all.xml", 300)):
        first = await http.get(path)
        assert first.status_code == 200
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert first.headers["cache-control"] == f"public, max-age={max_age}"
        assert re.match(r'^"[0-9a-f]{32}"$', etag)
        assert datetime.strptime(modified, "%a, %d %b %Y %H:%M:%S GMT")
        again = await http.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert (
            again.headers["etag"] == etag and again.headers["cache-control"] == first.headers["cache-control"]
        )
        assert (await http.get(path, headers={"If-None-Match": f'"other", W/{etag}'})).status_code == 304
        assert (await http.get(path, headers={"If-Modified-Since": modified})).status_code == 304
        stale = await http.get(path, headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
        assert stale.status_code == 200 and stale.content == first.content
        # If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2)
        both = await http.get(path, headers={"If-None-Match": '"other"', "If-Modified-Since": modified})
        assert both.status_code == 200
    page = await http.get("/issues/2026-11-28")
    assert page.headers["vary"] == "Accept-Language"
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none': no script
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    # a correction changes the page, so the old ETag no longer matches
    await site.publish(issue_text("2026-11-28", corrected=True))
    changed = await http.get("/issues/2026-11-28", headers={"If-None-Match": page.headers["etag"]})
    assert changed.status_code == 200 and CORRECTED in changed.text
    # languages are different representations: different tags
    en = await http.get("/issues/2026-11-28?lang=en")
    assert en.headers["etag"] != changed.headers["etag"]
    # errors are not cached
    gone = await http.get("/issues/1999-01-01")
    assert (
        gone.status_code == 404 and gone.headers["cache-control"] == "no-store" and "etag" not in gone.headers
    )


async def test_language_from_query_accept_language_or_the_issue(site: Site) -> None:
    http = site.http
    await site.publish(issue_text("2026-11-28"))
    await site.publish(en_issue_text("2026-11-29"))

    async def lang_of(path: str, **headers: str) -> str:
        r = await http.get(path, headers=headers)
        m = re.search(r'<html lang="([^"]+)">', r.text)
        assert m is not None
        return m.group(1)

    assert await lang_of("/issues/2026-11-28") == "zh-CN"  # the issue's language
    assert await lang_of("/issues/2026-11-29") == "en"
    assert await lang_of("/issues/2026-11-28", **{"Accept-Language": "en-GB,en;q=0.9"}) == "en"
    assert await lang_of("/issues/2026-11-29", **{"Accept-Language": "de-DE,zh-TW;q=0.5"}) == "zh-CN"
    assert await lang_of("/issues/2026-11-29", **{"Accept-Language": "fr"}) == "en"  # neither: the issue's
    assert await lang_of("/issues/2026-11-28?lang=en", **{"Accept-Language": "zh"}) == "en"
    assert await lang_of("/issues/2026-11-28?lang=klingon") == "zh-CN"
    en = await http.get("/issues/2026-11-28?lang=en")
    assert ">Contents<" in en.text and ">Keywords<" in en.text and "Published 20" in en.text
    assert '<a class="lang" href="/issues/2026-11-28?lang=zh"' in en.text  # the switch back
    zh = await http.get("/issues/2026-11-28?lang=zh")
    assert ">目录<" in zh.text and ">关键词<" in zh.text
    assert '<a class="lang" href="/issues/2026-11-28?lang=en"' in zh.text
    # the index: Accept-Language, else the configured default (zh)
    assert await lang_of("/issues") == "zh-CN"
    assert await lang_of("/issues", **{"Accept-Language": "en-US"}) == "en"
    # 404 pages in the reader's language
    r = await http.get("/issues/2099-01-01", headers={"Accept-Language": "en-US,en;q=0.8"})
    assert r.status_code == 404 and "There is no issue 2099-01-01." in r.text and '<html lang="en">' in r.text
    r = await http.get("/issues/12345", headers=ZH_PAGE)
    assert r.status_code == 404 and "没有这一期简报：12345" in r.text
    r = await http.get("/issues/99999999999999999999", headers=ZH_PAGE)  # beyond an INTEGER id
    assert r.status_code == 404 and "没有这一期简报" in r.text
    r = await http.get("/issues/not-a-date?lang=en")
    assert r.status_code == 404 and "There is no issue not-a-date." in r.text
    r = await http.get("/issues?sector=gardening", headers=ZH_PAGE)
    assert r.status_code == 404 and "没有这个板块：gardening" in r.text


async def test_untrusted_content_is_escaped(site: Site) -> None:
    evil = issue_text(
        "2026-11-28", title="硅谷周报 &lt;/title&gt;&lt;script&gt;window.pwned=1&lt;/script&gt;"
    ).replace(
        "**核心进展**",
        "**核心进展**\n\n注意 &lt;script&gt;window.pwned=2&lt;/script&gt; 与 `<img src=x onerror=alert(1)>`"
        ' 和 [点我](javascript:alert(3)) 和 <a href="javascript:alert(4)">链接</a> "引号" \' &amp; 符号\n',
        1,
    )
    issue = await site.publish(evil)
    page = await site.http.get(f"/issues/{issue['id']}")
    html = page.text
    assert page.status_code == 200
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert 'href="javascript' not in html.lower() and "href='javascript" not in html.lower()
    assert "&lt;script&gt;window.pwned=2&lt;/script&gt;" in html
    assert "<code>&lt;img src=x onerror=alert(1)&gt;</code>" in html
    assert "&lt;/title&gt;&lt;script&gt;" in html.split("</title>", 1)[0]  # inside <title>, as text
    for path in ("/issues", "/feeds/all.xml", "/feeds/ai.xml"):
        body = (await site.http.get(path)).text
        assert "<script" not in body.lower(), path
    root = check_atom((await site.http.get("/feeds/ai.xml")).content, PUBLIC + "/feeds/ai.xml")
    content = text_of(entries(root)[0], "content")  # the entry's HTML, once unescaped from XML
    assert "&lt;script&gt;window.pwned=2&lt;/script&gt;" in content and "<script" not in content


def test_the_html_renderer_links_only_safe_urls() -> None:
    runs = (
        Run("a", url="javascript:alert(1)"),
        Run("b", url='https://example.com/"onmouseover="x'),
        Run("c", url="data:text/html,<script>x</script>"),
        Run("d", url="https://example.com/?a=1&b=<2>"),
        Run("<e>", frozenset({"bold"}), url="mailto:x@example.com"),
        Run("f", url="https://example.com/img.png", image=True),
    )
    html = str(inline_html(runs))
    assert html.startswith("abc")  # unsafe targets: plain text
    assert (
        '<a href="mailto:x@example.com" rel="noopener noreferrer nofollow ugc"><strong>&lt;e&gt;</strong></a>'
        in html
    )
    assert "<script" not in html and "onmouseover" not in html and "data:" not in html
    assert "<img" not in html and "🖼 f</a>" in html  # images are links, never loaded


async def test_index_pages_newest_first(site: Site) -> None:
    for day in range(1, 26):
        outcome = await site.ingest.ingest_text(
            issue_text(f"2026-10-{day:02d}", title=f"第{day}期周报"), origin="test", kind="markdown"
        )
        assert outcome.ok
    http = site.http
    first = await http.get("/issues")
    assert issue_items(first.text) == [f"第{d}期周报" for d in range(25, 5, -1)]
    assert '<link rel="next" href="/issues?page=2">' in first.text and "第 1 页，共 2 页" in first.text
    second = await http.get("/issues?page=2")
    assert issue_items(second.text) == [f"第{d}期周报" for d in range(5, 0, -1)]
    assert '<link rel="prev" href="/issues">' in second.text
    for bad in ("3", "0", "abc", "-1"):
        assert (await http.get(f"/issues?page={bad}")).status_code == 404, bad
    # links on the index lead to the pages
    assert 'href="/issues/2026-10-25"' in first.text
    assert (await http.get("/issues/2026-10-25")).status_code == 200
    # the sector filter (every sample issue has the energy sector)
    energy = await http.get("/issues?sector=energy")
    assert len(issue_items(energy.text)) == 20
    assert (await http.get("/issues?sector=能源", follow_redirects=False)).headers["location"] == (
        "/issues?sector=energy"
    )
    feed = check_atom((await http.get("/feeds/all.xml")).content, PUBLIC + "/feeds/all.xml")
    assert len(entries(feed)) == 20  # the newest 20


async def test_two_issues_on_one_date(site: Site) -> None:
    a = await site.publish(issue_text("2026-11-28", title="早报"))
    b = await site.publish(issue_text("2026-11-28", title="晚报"))
    http = site.http
    page = await http.get("/issues/2026-11-28")
    assert "<h1>早报</h1>" in page.text  # the date belongs to the first issue published with it
    index = (await http.get("/issues")).text
    assert f'href="/issues/{b["id"]}">晚报' in index and 'href="/issues/2026-11-28">早报' in index
    later = await http.get(f"/issues/{b['id']}")
    assert "<h1>晚报</h1>" in later.text and f'href="{PUBLIC}/issues/{b["id"]}"' in later.text
    # a correction of the later issue keeps the date's owner
    await site.publish(issue_text("2026-11-28", title="晚报", corrected=True))
    assert "<h1>早报</h1>" in (await http.get("/issues/2026-11-28")).text
    assert a["id"] != b["id"]


async def test_archive_is_off_without_a_public_url(db_url: str) -> None:
    settings = Settings(database_url=db_url, http_port=0)
    store = Store.open(db_url, settings=settings)
    try:
        assert archive_routes(settings, store) == []
        async with (
            served(settings, store, routes=archive_routes(settings, store)) as url,
            httpx.AsyncClient(base_url=url) as http,
        ):
            assert (await http.get("/issues")).status_code == 404
            assert (await http.get("/feeds/all.xml")).status_code == 404
    finally:
        store.close()


def test_public_url_setting(tmp_path: Any) -> None:
    assert load_settings({"BRIEFCAST_PUBLIC_URL": "https://b.example.com/briefing/"}).public_url == (
        "https://b.example.com/briefing"
    )
    toml = tmp_path / "briefcast.toml"
    toml.write_text('[briefcast]\npublic_url = "http://10.0.0.5:8080"\n', encoding="utf-8")
    assert load_settings({}, config_file=toml).public_url == "http://10.0.0.5:8080"
    assert load_settings({}, config_file=toml).public_url == "http://10.0.0.5:8080"
    assert load_settings(
        {"BRIEFCAST_CONFIG": str(toml), "BRIEFCAST_PUBLIC_URL": "https://x.example"}
    ).public_url == ("https://x.example")
    for bad in (
        "briefing.example.com",
        "ftp://x.example",
        "http://localhost:8080",
        "https://x.example/?a=1",
        "https://user:pw@x.example",
        "https://x.example:port",
    ):
        with pytest.raises(ConfigError, match="public_url"):
            load_settings({"BRIEFCAST_PUBLIC_URL": bad})
    assert load_settings({}).public_url == ""


def test_language_negotiation_and_strings() -> None:
    assert languages_complete()
    assert negotiate("en", "zh-CN", "zh") == "en"
    assert negotiate(None, "zh-CN,zh;q=0.9,en;q=0.8", "en") == "zh"
    assert negotiate(None, "en;q=0.4, zh-Hant;q=0.7", "en") == "zh"
    assert negotiate(None, "ja, fr;q=0.9", "en") == "en"
    assert negotiate(None, "ja, fr;q=0.9", "zh-CN") == "zh"
    assert negotiate(None, "zh;q=0, en;q=0.1", "zh") == "en"
    assert negotiate(None, "*", "zh") == "zh"
    assert negotiate("EN", None, "zh") == "en"
    assert negotiate("english", "", "zh") == "zh"
    assert negotiate(None, "en;q=abc, zh", "en") == "zh"


def test_run_assembles_the_archive_where_a_public_url_is_known(store: Store) -> None:
    from briefcast.app import assemble
    from briefcast.playground import own_url

    def paths(built: Any) -> set[str]:
        return {str(getattr(r, "path", "")) for r in built.routes}

    # the playground (no tokens) defaults the public URL to its own address
    for settings, public in (
        (Settings(http_port=8080), "http://127.0.0.1:8080"),
        (Settings(http_host="0.0.0.0", http_port=9000), "http://127.0.0.1:9000"),
        (Settings(http_port=8080, public_url="https://b.example.com"), "https://b.example.com"),
        (Settings(http_port=0), ""),  # port not known before binding: no archive
    ):
        built = assemble(settings, store)
        try:
            assert built.playground and built.settings.public_url == public
            assert ({"/issues", "/issues/{ref}", "/feeds/{name}.xml"} <= paths(built)) is bool(public)
        finally:
            built.close()
    assert own_url("::", 8080) == "http://[::1]:8080"
    assert own_url("localhost", 8080) == "http://127.0.0.1:8080"  # Telegram refuses dot-less hosts
    assert own_url("192.168.1.2", 8080) == "http://192.168.1.2:8080"
    assert (
        load_settings({"BRIEFCAST_PUBLIC_URL": own_url("fe80::1", 8080)}).public_url
        == "http://[fe80::1]:8080"
    )
