"""The archive's own words in Chinese and English, and which of the two a reader gets.

The issue itself is shown as written (a Chinese issue stays Chinese); these strings are the page
around it: headings, navigation, dates, the 404 page, feed titles.
"""

from __future__ import annotations

from typing import Final

from briefcast.archive.urls import lang_tag

_STRINGS: Final[dict[str, dict[str, str]]] = {
    "archive": {"zh": "简报存档", "en": "Briefing archive"},
    "all_issues": {"zh": "全部简报", "en": "All issues"},
    "no_issues": {"zh": "还没有发布的简报。", "en": "No issue has been published yet."},
    "no_issues_sector": {
        "zh": "还没有包含“{sector}”板块的简报。",
        "en": "No published issue has the {sector} sector yet.",
    },
    "page_of": {"zh": "第 {n} 页，共 {total} 页", "en": "Page {n} of {total}"},
    "newer": {"zh": "← 较新", "en": "← Newer"},
    "older": {"zh": "较旧 →", "en": "Older →"},
    "contents": {"zh": "目录", "en": "Contents"},
    "topics": {"zh": "主题", "en": "Topics"},
    "keywords": {"zh": "关键词", "en": "Keywords"},
    "takeaways": {"zh": "核心启示", "en": "Takeaways"},
    "links": {"zh": "本期链接", "en": "Links in this issue"},
    "sectors": {"zh": "板块", "en": "Sectors"},
    "undated": {"zh": "无日期", "en": "undated"},
    "published": {"zh": "发布于 {when}", "en": "Published {when}"},
    "revised": {"zh": "第 {n} 版，{when} 更正", "en": "Revision {n}, corrected {when}"},
    "feeds": {"zh": "订阅源（Atom）：", "en": "Feeds (Atom):"},
    "feed_all": {"zh": "全部板块", "en": "All sectors"},
    "sector_filter": {"zh": "板块：{sector}", "en": "Sector: {sector}"},
    "other_language": {"zh": "English", "en": "中文"},
    "back": {"zh": "← 返回简报存档", "en": "← Back to the archive"},
    "not_found": {"zh": "找不到这一页", "en": "Page not found"},
    "no_such_issue": {"zh": "没有这一期简报：{ref}", "en": "There is no issue {ref}."},
    "no_such_sector": {"zh": "没有这个板块：{ref}", "en": "There is no sector {ref}."},
    "no_such_page": {"zh": "没有第 {ref} 页。", "en": "There is no page {ref}."},
    "not_found_hint": {
        "zh": "它可能还没有发布，或者地址有误。",
        "en": "It may not be published yet, or the address is wrong.",
    },
    "feed_title": {"zh": "{sector} · 简报存档", "en": "{sector} · Briefing archive"},
}


def t(key: str, lang: str, /, **values: object) -> str:
    """The string ``key`` in ``lang`` (anything not Chinese is English), formatted with ``values``."""
    return _STRINGS[key][lang_tag(lang)].format(**values)


def languages_complete() -> bool:
    """Every string has both a Chinese and an English form (checked by the tests)."""
    return all({"zh", "en"} == set(v) for v in _STRINGS.values())


def negotiate(query: str | None, accept_language: str | None, fallback: str) -> str:
    """``zh`` or ``en`` for a reader: ``?lang=``, else the best of Accept-Language, else ``fallback``.

    Accept-Language is read with its q-values (RFC 9110 §12.5.4): the highest-weighted tag that is
    Chinese or English wins; other languages, ``*`` and q=0 are skipped.
    """
    if query and lang_tag(query) == query.lower():  # only "zh" or "en" exactly; junk is ignored
        return query.lower()
    best: tuple[float, int, str] | None = None
    for pos, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-", 1)[0]
        if q <= 0 or primary not in ("zh", "en"):
            continue
        key = (-q, pos, primary)
        if best is None or key < best:
            best = key
    return best[2] if best is not None else lang_tag(fallback)
