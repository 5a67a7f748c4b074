"""The public archive's page and feed texts, in zh and en."""

from __future__ import annotations

from typing import Final

from briefcast.i18n.lang import Lang

MESSAGES: Final[dict[str, dict[Lang, str]]] = {
    # ---- the public archive's pages and feeds (briefcast.archive)
    "archive": {
        "zh": "简报存档",
        "en": "Briefing archive",
    },
    "all_issues": {
        "zh": "全部简报",
        "en": "All issues",
    },
    "no_issues": {
        "zh": "还没有发布的简报。",
        "en": "No issue has been published yet.",
    },
    "no_issues_sector": {
        "zh": "还没有包含“{sector}”板块的简报。",
        "en": "No published issue has the {sector} sector yet.",
    },
    "page_of": {
        "zh": "第 {n} 页，共 {total} 页",
        "en": "Page {n} of {total}",
    },
    "newer": {
        "zh": "← 较新",
        "en": "← Newer",
    },
    "older": {
        "zh": "较旧 →",
        "en": "Older →",
    },
    "contents": {
        "zh": "目录",
        "en": "Contents",
    },
    "archive_topics": {
        "zh": "主题",
        "en": "Topics",
    },
    "keywords": {
        "zh": "关键词",
        "en": "Keywords",
    },
    "takeaways": {
        "zh": "核心启示",
        "en": "Takeaways",
    },
    "archive_links": {
        "zh": "本期链接",
        "en": "Links in this issue",
    },
    "undated": {
        "zh": "无日期",
        "en": "undated",
    },
    "published": {
        "zh": "发布于 {when}",
        "en": "Published {when}",
    },
    "revised": {
        "zh": "第 {n} 版，{when} 更正",
        "en": "Revision {n}, corrected {when}",
    },
    "feeds": {
        "zh": "订阅源（Atom）：",
        "en": "Feeds (Atom):",
    },
    "feed_all": {
        "zh": "全部板块",
        "en": "All sectors",
    },
    "sector_filter": {
        "zh": "板块：{sector}",
        "en": "Sector: {sector}",
    },
    "other_language": {
        "zh": "English",
        "en": "中文",
    },
    "back": {
        "zh": "← 返回简报存档",
        "en": "← Back to the archive",
    },
    "not_found": {
        "zh": "找不到这一页",
        "en": "Page not found",
    },
    "no_such_issue": {
        "zh": "没有这一期简报：{ref}",
        "en": "There is no issue {ref}.",
    },
    "no_such_sector": {
        "zh": "没有这个板块：{ref}",
        "en": "There is no sector {ref}.",
    },
    "no_such_page": {
        "zh": "没有第 {ref} 页。",
        "en": "There is no page {ref}.",
    },
    "not_found_hint": {
        "zh": "它可能还没有发布，或者地址有误。",
        "en": "It may not be published yet, or the address is wrong.",
    },
    "feed_title": {
        "zh": "{sector} · 简报存档",
        "en": "{sector} · Briefing archive",
    },
}
