"""The bot's /settings and /topics replies and its welcome card in a new group, in zh and en."""

from __future__ import annotations

from typing import Final

from briefcast.i18n.lang import Lang

MESSAGES: Final[dict[str, dict[Lang, str]]] = {
    # /settings
    "settings_title": {
        "zh": "⚙️ 推送设置",
        "en": "⚙️ Delivery settings",
    },
    "settings_variant": {
        "zh": "摘要",
        "en": "Digest",
    },
    "settings_silent": {
        "zh": "提醒",
        "en": "Notifications",
    },
    "settings_previews": {
        "zh": "链接预览",
        "en": "Link previews",
    },
    "variant_full": {
        "zh": "完整",
        "en": "full",
    },
    "variant_compact": {
        "zh": "精简",
        "en": "compact",
    },
    "silent_on": {
        "zh": "静音推送",
        "en": "silent",
    },
    "silent_off": {
        "zh": "有声提醒",
        "en": "with sound",
    },
    "previews_on": {
        "zh": "显示链接预览",
        "en": "show link previews",
    },
    "previews_off": {
        "zh": "不显示预览",
        "en": "no link previews",
    },
    "on": {
        "zh": "开",
        "en": "on",
    },
    "off": {
        "zh": "关",
        "en": "off",
    },
    "colon": {
        "zh": "：",
        "en": ": ",
    },
    "badge_compact": {
        "zh": "精简摘要",
        "en": "compact",
    },
    "badge_silent": {
        "zh": "🔕 静音",
        "en": "🔕 silent",
    },
    "badge_previews": {
        "zh": "🔗 链接预览",
        "en": "🔗 link previews",
    },
    "settings_hint": {
        "zh": "点按钮修改，或发送 {prefix}settings compact、{prefix}settings silent on、"
        "{prefix}settings previews on。",
        "en": "Tap a button, or send {prefix}settings compact, {prefix}settings silent on, "
        "{prefix}settings previews on.",
    },
    "settings_hint_slack": {
        "zh": "点按钮修改，或发送 {prefix}settings compact、{prefix}settings previews on。",
        "en": "Tap a button, or send {prefix}settings compact, {prefix}settings previews on.",
    },
    "settings_saved": {
        "zh": "已更新{where}的推送设置：{summary}。",
        "en": "Updated the delivery settings{where}: {summary}.",
    },
    "settings_no_silent": {
        "zh": "Slack 没有静音推送：每个人在 Slack 里自行设置通知。",
        "en": "Slack has no silent messages: each member chooses their own notifications in Slack.",
    },
    # welcome card in a group the bot was added to
    "welcome_group_title": {
        "zh": "👋 感谢把我加入「{title}」",
        "en": "👋 Thanks for adding me to \u201c{title}\u201d",
    },
    "welcome_group_body": {
        "zh": "我会把每期行业简报按板块推送到这里。管理员点下面的板块即可订阅（每天 {time}，{tz}）；"
        "发送 {prefix}help 查看全部命令。",
        "en": "I deliver each briefing issue by sector. An administrator can tap a sector below to subscribe "
        "this group (daily at {time}, {tz}); send {prefix}help for every command.",
    },
    "welcome_group_forum": {
        "zh": "这是论坛群组：管理员发送 {prefix}topics 可以为每个板块建一个话题，分别推送。",
        "en": "This group has topics: an administrator can send {prefix}topics to get one topic per sector, "
        "each with its own digest.",
    },
    # /topics
    "topics_not_group": {
        "zh": "请在论坛群组里发送这个命令（群组需开启「话题」）。",
        "en": "Send this command in a forum group (a group with Topics enabled).",
    },
    "topics_not_forum": {
        "zh": "这个群组没有开启「话题」。请在群组设置中开启话题后再试。",
        "en": "This group does not have Topics enabled. Turn on Topics in the group settings, then try "
        "again.",
    },
    "topics_no_rights": {
        "zh": "我需要「管理话题」的管理员权限才能创建话题。请在群组设置中授予后再试。",
        "en": "I need the \u201cManage topics\u201d administrator right to create topics. "
        "Grant it in the group settings, then try again.",
    },
    "topics_other": {
        "zh": "Telegram 没有接受话题请求，请稍后再试。",
        "en": "Telegram refused the topic request; please try again later.",
    },
    "topics_created": {
        "zh": "已为这些板块建立话题：{sectors}。",
        "en": "Topics are ready for: {sectors}.",
    },
    "topics_kept": {
        "zh": "这些板块已有话题：{sectors}。",
        "en": "These sectors already have topics: {sectors}.",
    },
    "topics_schedule": {
        "zh": "每个话题只接收自己板块的推送，{schedule}。发送 {prefix}topics off 取消。",
        "en": "Each topic receives only its own sector, {schedule}. Send {prefix}topics off to undo.",
    },
    "topics_general_kept": {
        "zh": "群组原有的订阅（General 话题）保持不变；如不需要，请在 General 中发送 {prefix}unsubscribe。",
        "en": "The group's own subscription (General topic) is unchanged; send {prefix}unsubscribe in "
        "General "
        "if you no longer want it.",
    },
    "topics_none": {
        "zh": "这个群组没有由我创建的板块话题。发送 {prefix}topics 创建。",
        "en": "This group has no sector topics of mine. Send {prefix}topics to create them.",
    },
    "topics_closed": {
        "zh": "已关闭这些板块话题并停止推送：{sectors}。话题中的消息仍然保留；"
        "发送 {prefix}topics 可重新开启。",
        "en": "Closed the topics of {sectors} and stopped their deliveries. Their messages stay; "
        "send {prefix}topics to reopen them.",
    },
    "topics_close_failed": {
        "zh": "推送已停止，但我没能关闭这些话题（需要「管理话题」权限）：{sectors}。",
        "en": "Deliveries stopped, but I could not close these topics "
        "(I need \u201cManage topics\u201d): {sectors}.",
    },
}
