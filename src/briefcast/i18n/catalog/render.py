"""The labels composers and renderers put in delivered documents, and correction notices, in zh and en."""

from __future__ import annotations

from typing import Final

from briefcast.i18n.lang import Lang

MESSAGES: Final[dict[str, dict[Lang, str]]] = {
    # ---- renderers and composers (briefcast.render.compose, briefcast.delivery.corrections)
    "source": {
        "zh": "来源：{who}",
        "en": "Source: {who}",
    },
    "links": {
        "zh": "🔗 {n} 个链接",
        "en": "🔗 {n} links",
    },
    "links_one": {
        "zh": "🔗 {n} 个链接",
        "en": "🔗 {n} link",
    },
    "more_groups": {
        "zh": "另有 {n} 个小节未显示",
        "en": "{n} more groups not shown",
    },
    "more_groups_one": {
        "zh": "另有 {n} 个小节未显示",
        "en": "{n} more group not shown",
    },
    "topics": {
        "zh": "主题：",
        "en": "Topics: ",
    },
    "sectors": {
        "zh": "板块",
        "en": "Sectors",
    },
    "keywords_title": {
        "zh": "🔑 今日关键词",
        "en": "🔑 Keywords",
    },
    "keyword_title": {
        "zh": "🔎 关键词：{kw}",
        "en": "🔎 Keyword: {kw}",
    },
    "keyword_none": {
        "zh": "本期没有提到“{kw}”的段落。",
        "en": "No passage in this issue mentions “{kw}”.",
    },
    "keyword_count": {
        "zh": "共 {n} 处提及",
        "en": "{n} mentions",
    },
    "keyword_count_one": {
        "zh": "共 {n} 处提及",
        "en": "{n} mention",
    },
    "takeaways_title": {
        "zh": "💡 核心启示",
        "en": "💡 Takeaways",
    },
    "takeaways_none": {
        "zh": "本期没有总结要点。",
        "en": "This issue has no takeaways.",
    },
    "no_sections": {
        "zh": "本期没有板块内容。",
        "en": "This issue has no sections.",
    },
    "table_links": {
        "zh": "表格链接：",
        "en": "Links in the table: ",
    },
    "read_issue": {
        "zh": "📖 阅读本期全文",
        "en": "📖 Read the whole issue",
    },
    "image": {
        "zh": "图片",
        "en": "image",
    },
    "continued": {
        "zh": "（续）",
        "en": " (continued)",
    },
    "sponsored": {
        "zh": "赞助",
        "en": "Sponsored",
    },
    "intro_title": {
        "zh": "导语",
        "en": "Intro",
    },
    "more_sections": {
        "zh": "另有 {n} 个板块未设按钮（一条消息最多 30 个按钮）",
        "en": "{n} more sections have no button (a message holds at most 30)",
    },
    "more_sections_one": {
        "zh": "另有 {n} 个板块未设按钮（一条消息最多 30 个按钮）",
        "en": "{n} more section has no button (a message holds at most 30)",
    },
    # keyword watches (compose.watch_document)
    "watch_title": {
        "zh": "🔔 关注词：{words}",
        "en": "🔔 Watched words: {words}",
    },
    "watch_intro": {
        "zh": "《{title}》中有 {n} 处提到你关注的词。",
        "en": "{n} passages of “{title}” mention your watched words.",
    },
    "watch_intro_one": {
        "zh": "《{title}》中有 {n} 处提到你关注的词。",
        "en": "{n} passage of “{title}” mentions your watched words.",
    },
    "watch_more": {
        "zh": "另有 {n} 处未显示，发送 {prefix}search {word} 查看。",
        "en": "{n} more passages not shown; send {prefix}search {word} to see them.",
    },
    "watch_more_one": {
        "zh": "另有 {n} 处未显示，发送 {prefix}search {word} 查看。",
        "en": "{n} more passage not shown; send {prefix}search {word} to see it.",
    },
    "watch_section_link": {
        "zh": "→ 查看完整板块",
        "en": "→ Read the whole section",
    },
    "watch_manage": {
        "zh": "发送 {prefix}watches 管理关注词。",
        "en": "Send {prefix}watches to manage your watched words.",
    },
    # corrections in place (delivery.corrections): a reply to a message that cannot be edited
    "corrected_title": {
        "zh": "✏️ 本期已更正",
        "en": "✏️ This issue was corrected",
    },
    "corrected_body": {
        "zh": "《{title}》发布了更正版（第 {revision} 版），上面的消息无法直接修改。",
        "en": "A corrected version (revision {revision}) of “{title}” was published; the message above "
        "could not be edited in place.",
    },
    "corrected_where": {
        "zh": "发送 {prefix}latest 查看更正后的内容。",
        "en": "Send {prefix}latest to read the corrected text.",
    },
}
