"""The bot's replies to an operator publishing an issue by sending a file, in zh and en."""

from __future__ import annotations

from typing import Final

from briefcast.i18n.lang import Lang

MESSAGES: Final[dict[str, dict[Lang, str]]] = {
    # operator document upload (briefcast.bot.publish)
    "upload_not_operator": {
        "zh": "抱歉，只有运营人员可以通过发送文件来发布简报。你发送的文件没有被保存。",
        "en": "Sorry, only operators can publish an issue by sending a file. Your file was not stored.",
    },
    "upload_wrong_type": {
        "zh": "「{name}」不是可以发布的文件。请发送 .md（Markdown）或 .html 文件。",
        "en": "\u201c{name}\u201d cannot be published. Please send a .md (Markdown) or .html file.",
    },
    "upload_too_large": {
        "zh": "「{name}」太大了（{size}），上限是 {limit}。请发送更小的文件。",
        "en": "\u201c{name}\u201d is too large ({size}); the limit is {limit}. Please send a smaller file.",
    },
    "upload_empty": {
        "zh": "「{name}」是空文件，没有可以发布的内容。",
        "en": "\u201c{name}\u201d is empty: there is nothing to publish.",
    },
    "upload_undecodable": {
        "zh": "无法读取「{name}」：它不是 UTF-8 文本。请另存为 UTF-8 编码后再发送。",
        "en": "\u201c{name}\u201d could not be read: it is not UTF-8 text. "
        "Please save it as UTF-8 and send it again.",
    },
    "upload_unparseable": {
        "zh": "「{name}」里没有找到可以发布的简报：{reason}",
        "en": "No publishable issue was found in \u201c{name}\u201d: {reason}",
    },
    "upload_download_failed": {
        "zh": "抱歉，没能下载「{name}」，请稍后重新发送。",
        "en": "Sorry, \u201c{name}\u201d could not be downloaded. Please send it again in a moment.",
    },
    "upload_duplicate": {
        "zh": "这份简报已经发布过了（第 {id} 期：《{title}》），无需再次发布。",
        "en": "This issue was already published (issue {id}: \u201c{title}\u201d); "
        "there is nothing new to publish.",
    },
    "upload_preview_title": {
        "zh": "预览：{title}",
        "en": "Preview: {title}",
    },
    "upload_preview_intro": {
        "zh": "上面是订阅者将看到的每个板块。",
        "en": "Above is every sector exactly as subscribers will receive it.",
    },
    "upload_date": {
        "zh": "日期：{date}",
        "en": "Date: {date}",
    },
    "upload_no_date": {
        "zh": "日期：无",
        "en": "Date: none",
    },
    "upload_sectors": {
        "zh": "{count} 个板块：{names}",
        "en": "{count} sectors: {names}",
    },
    "upload_sectors_one": {
        "zh": "{count} 个板块：{names}",
        "en": "{count} sector: {names}",
    },
    "upload_messages": {
        "zh": "每位全板块订阅者收到 {count} 条消息。",
        "en": "A subscriber of every sector receives {count} messages.",
    },
    "upload_messages_one": {
        "zh": "每位全板块订阅者收到 {count} 条消息。",
        "en": "A subscriber of every sector receives {count} message.",
    },
    "upload_revision": {
        "zh": "这是已存简报的第 {revision} 版（日期和标题相同、内容不同）。",
        "en": "This is revision {revision} of an issue already stored (same date and title, new content).",
    },
    "upload_revision_push": {
        "zh": "「立即发布」会把它再发给已收到旧版的订阅者；「按计划时间发布」只发给还没收到的订阅者。",
        "en": "\u201cPublish now\u201d also sends it to subscribers who received an earlier revision; "
        "\u201cPublish at scheduled times\u201d only reaches those who have not had it.",
    },
    "upload_warnings": {
        "zh": "请注意：",
        "en": "Please check:",
    },
    "upload_choose": {
        "zh": "「立即发布」：现在就推送给所有订阅者。「按计划时间发布」：每位订阅者按自己的设置收到"
        "（即时订阅者立即收到，其他人在各自的推送时间）。「放弃」：不发布。",
        "en": "\u201cPublish now\u201d: every subscriber receives it right away. \u201cPublish at scheduled "
        "times\u201d: each subscriber receives it as they chose (on-publish subscribers now, the others at "
        "their delivery time). \u201cDiscard\u201d: nothing is published.",
    },
    "btn_publish_now": {
        "zh": "立即发布",
        "en": "Publish now",
    },
    "btn_publish_scheduled": {
        "zh": "按计划时间发布",
        "en": "Publish at scheduled times",
    },
    "btn_discard": {
        "zh": "放弃",
        "en": "Discard",
    },
    "upload_published_now": {
        "zh": "已发布《{title}》（第 {id} 期），正在推送给 {count} 个订阅。",
        "en": "Published \u201c{title}\u201d (issue {id}); it is being sent to {count} subscriptions now.",
    },
    "upload_published_now_one": {
        "zh": "已发布《{title}》（第 {id} 期），正在推送给 {count} 个订阅。",
        "en": "Published \u201c{title}\u201d (issue {id}); it is being sent to {count} subscription now.",
    },
    "upload_published_scheduled": {
        "zh": "已发布《{title}》（第 {id} 期）。即时订阅者马上收到，其他订阅者在各自的推送时间收到。",
        "en": "Published \u201c{title}\u201d (issue {id}). On-publish subscribers receive it now, "
        "the others at their delivery time.",
    },
    "upload_discarded": {
        "zh": "已放弃《{title}》，没有发布。",
        "en": "Discarded \u201c{title}\u201d; nothing was published.",
    },
    "upload_already_published": {
        "zh": "《{title}》（第 {id} 期）已经发布，不能再放弃或重复发布。",
        "en": "\u201c{title}\u201d (issue {id}) is already published; it cannot be discarded or published "
        "again.",
    },
    "upload_gone": {
        "zh": "这份待发布的简报已不存在（可能已被放弃）。请重新发送文件。",
        "en": "This pending issue no longer exists (it may have been discarded). Please send the file again.",
    },
    "upload_preview_rejected": {
        "zh": "注意：{platform} 拒绝了 {count} 条预览消息（{reason}）。"
        "订阅者也会收不到这些消息，请先修改文件。",
        "en": "Warning: {platform} rejected {count} preview messages ({reason}). Subscribers would not "
        "receive them either; please fix the file first.",
    },
    "upload_preview_rejected_one": {
        "zh": "注意：{platform} 拒绝了 {count} 条预览消息（{reason}）。"
        "订阅者也会收不到这条消息，请先修改文件。",
        "en": "Warning: {platform} rejected {count} preview message ({reason}). Subscribers would not "
        "receive it either; please fix the file first.",
    },
    "upload_not_operator_action": {
        "zh": "只有运营人员可以发布或放弃简报。",
        "en": "Only operators can publish or discard an issue.",
    },
}
