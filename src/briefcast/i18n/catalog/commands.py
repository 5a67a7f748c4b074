"""The bot's replies to readers' commands (help, subscriptions, schedules, watches), in zh and en."""

from __future__ import annotations

from typing import Final

from briefcast.i18n.lang import Lang

MESSAGES: Final[dict[str, dict[Lang, str]]] = {
    # ---- bot replies (briefcast.bot.commands, .publish, .slack)
    "welcome_title": {
        "zh": "欢迎使用行业简报机器人",
        "en": "Welcome to the sector briefing bot",
    },
    "welcome_body": {
        "zh": "我会把每期简报按板块推送给你。点下面的按钮查看最新一期的板块，"
        "或发送 {prefix}help 查看全部命令。"
        "用 {prefix}subscribe 订阅每日推送。",
        "en": "I deliver each briefing issue by sector. Tap a button below to read a sector of the latest "
        "issue, or send {prefix}help for every command. Use {prefix}subscribe for a daily digest.",
    },
    "help_title": {
        "zh": "命令列表",
        "en": "Commands",
    },
    "help_footer": {
        "zh": "私聊中直接发送板块名（如「能源」）也可以查看。群组中只有管理员可以修改订阅。",
        "en": "In a private chat you can also just send a sector name (e.g. \u201cenergy\u201d). "
        "In groups only administrators can change subscriptions.",
    },
    "help_footer_slack": {
        "zh": "在与我的私信中直接发送板块名（如「能源」）也可以查看；在频道里也可以 @我 后跟命令。"
        "谁可以修改频道的订阅由工作区的设置决定。",
        "en": "In a direct message with me you can also just send a sector name (e.g. \u201cenergy\u201d); "
        "in a channel, mention me followed by a command. Who may change a channel's subscriptions "
        "is set by the workspace.",
    },
    "only_telegram": {
        "zh": "这个功能只在 Telegram 中可用。",
        "en": "This feature exists only on Telegram.",
    },
    "sectors_title": {
        "zh": "板块",
        "en": "Sectors",
    },
    "alias": {
        "zh": "别名",
        "en": "alias",
    },
    "no_issue": {
        "zh": "还没有发布任何一期简报，请稍后再来。",
        "en": "No issue has been published yet. Please check back later.",
    },
    "no_section": {
        "zh": "本期（{issue}）没有「{sector}」板块。",
        "en": "This issue ({issue}) has no \u201c{sector}\u201d section.",
    },
    "no_keywords": {
        "zh": "本期没有关键词。",
        "en": "This issue has no keywords.",
    },
    "no_takeaways": {
        "zh": "本期没有要点总结。",
        "en": "This issue has no takeaways.",
    },
    "issue_not_found": {
        "zh": "找不到简报「{ref}」。请用日期（2026-11-28）或编号。",
        "en": "No issue matches \u201c{ref}\u201d. Use a date (2026-11-28) or an id.",
    },
    "search_title": {
        "zh": "搜索：{query}",
        "en": "Search: {query}",
    },
    "search_none": {
        "zh": "没有找到与「{query}」相关的内容。",
        "en": "Nothing found for \u201c{query}\u201d.",
    },
    "usage": {
        "zh": "用法：{usage}",
        "en": "Usage: {usage}",
    },
    "unknown_sector": {
        "zh": "未知板块「{name}」。可选：{choices}",
        "en": "Unknown sector \u201c{name}\u201d. Choose from: {choices}",
    },
    "bad_time": {
        "zh": "时间「{value}」无效，请用 24 小时制 HH:MM，例如 08:00。",
        "en": "\u201c{value}\u201d is not a valid time; use 24-hour HH:MM, e.g. 08:00.",
    },
    "bad_timezone": {
        "zh": "时区「{value}」无效，请用 Area/City 形式，例如 Asia/Shanghai。",
        "en": "\u201c{value}\u201d is not a known time zone; use Area/City, e.g. Europe/Berlin.",
    },
    "missing_args": {
        "zh": "缺少参数。",
        "en": "Missing argument.",
    },
    "unexpected_arg": {
        "zh": "无法理解参数「{value}」。",
        "en": "Did not understand \u201c{value}\u201d.",
    },
    "unknown_command": {
        "zh": "未知命令。发送 {prefix}help 查看全部命令。",
        "en": "Unknown command. Send {prefix}help to see every command.",
    },
    "plain_hint": {
        "zh": "发送板块名（如「能源」「AI」）或 {prefix}help 查看命令。",
        "en": "Send a sector name (e.g. \u201cenergy\u201d, \u201cAI\u201d) or {prefix}help for the "
        "commands.",
    },
    "rate_limited": {
        "zh": "请求太频繁了，请一分钟后再试。",
        "en": "You are sending commands too fast; please wait a minute.",
    },
    "internal_error": {
        "zh": "抱歉，处理时出了点问题，请稍后再试。",
        "en": "Sorry, something went wrong on our side. Please try again later.",
    },
    "not_admin": {
        "zh": "只有本群管理员可以修改本群的订阅。",
        "en": "Only administrators of this chat can change its subscriptions.",
    },
    "not_permitted": {
        "zh": "你没有权限修改本频道的订阅，请联系工作区管理员。",
        "en": "You are not allowed to change this channel's subscriptions; ask a workspace admin.",
    },
    "channel_not_found": {
        "zh": "找不到频道「{ref}」。请确认名称正确，并已把机器人添加为该频道的管理员。",
        "en": "Could not find the channel \u201c{ref}\u201d. "
        "Check the name and add the bot to it as an administrator.",
    },
    "channel_not_admin": {
        "zh": "你不是「{title}」的管理员，不能修改它的订阅。",
        "en": "You are not an administrator of \u201c{title}\u201d, so you cannot change its subscriptions.",
    },
    "channel_cannot_post": {
        "zh": "机器人无法在「{title}」发消息。请把机器人设为管理员并授予发布消息权限。",
        "en": "The bot cannot post in \u201c{title}\u201d. "
        "Make it an administrator with permission to post messages.",
    },
    "target_here_only": {
        "zh": "这里不能管理其他聊天的订阅，请在与机器人的私聊中操作。",
        "en": "Other chats' subscriptions are managed from your private chat with the bot.",
    },
    "subscribed": {
        "zh": "已订阅{where}：{sectors}，{schedule}。",
        "en": "Subscribed{where}: {sectors}, {schedule}.",
    },
    "schedule_daily": {
        "zh": "每天 {time}（{tz}）推送",
        "en": "delivered daily at {time} ({tz})",
    },
    "schedule_days": {
        "zh": "{days} {time}（{tz}）推送",
        "en": "delivered {days} {time} ({tz})",
    },
    "schedule_weekly": {
        "zh": "{days} {time}（{tz}）推送合集（自上次以来的各期）",
        "en": "weekly roll-up {days} {time} ({tz}): the issues since the last one",
    },
    "rollup_title": {"zh": "📚 合集：{n} 期", "en": "📚 Roll-up: {n} issues"},
    "rollup_title_one": {"zh": "📚 合集：{n} 期", "en": "📚 Roll-up: {n} issue"},
    "rollup_footer": {
        "zh": "发送 /issue 日期 查看某一期全文",
        "en": "Send /issue DATE for a whole issue",
    },
    "days_every": {"zh": "每天", "en": "daily"},
    "days_weekdays": {"zh": "工作日", "en": "Weekdays"},
    "days_list": {"zh": "每周{days}", "en": "{days}"},
    "days_sep": {"zh": "、", "en": ", "},
    "day_names": {"zh": "一二三四五六日", "en": "Mon Tue Wed Thu Fri Sat Sun"},
    "bad_days": {
        "zh": "「{value}」不是有效的星期，请用 周一,三,五、mon,wed,fri、工作日（weekdays）或 每天（daily）。",
        "en": "\u201c{value}\u201d is not a day of the week; use e.g. mon,wed,fri, weekdays or daily.",
    },
    "schedule_publish": {
        "zh": "每期发布时立即推送",
        "en": "delivered as soon as each issue is published",
    },
    "schedule_quiet": {
        "zh": "，{start}–{end} 免打扰",
        "en": ", quiet {start}–{end}",
    },
    "quiet_set": {
        "zh": "已设置{where}的免打扰时段：{start}–{end}（{tz}）。此时段内发布的期刊在 {end} 推送。",
        "en": "Quiet hours{where}: {start}–{end} ({tz}). An issue published then is pushed at {end}.",
    },
    "quiet_off": {
        "zh": "已取消{where}的免打扰时段。",
        "en": "Quiet hours{where} are off.",
    },
    "bad_quiet": {
        "zh": "免打扰时段「{value}」无效，请用 HH:MM-HH:MM，例如 22:00-07:00，或 off 取消。",
        "en": "\u201c{value}\u201d is not a quiet-hours range; use HH:MM-HH:MM, e.g. 22:00-07:00, or off.",
    },
    "unsubscribed": {
        "zh": "已取消订阅{where}：{sectors}。",
        "en": "Unsubscribed{where}: {sectors}.",
    },
    "unsubscribed_all": {
        "zh": "已取消{where}的全部订阅。",
        "en": "Removed every subscription of {where}.",
    },
    "not_subscribed": {
        "zh": "{where}还没有订阅。发送 {prefix}subscribe 开始订阅。",
        "en": "{where} has no subscription yet. Send {prefix}subscribe to start one.",
    },
    "where_here": {
        "zh": "",
        "en": "",
    },
    "where_chat": {
        "zh": "「{title}」",
        "en": " \u201c{title}\u201d",
    },
    "here_chat": {
        "zh": "本聊天",
        "en": "this chat",
    },
    "here_channel": {
        "zh": "本频道",
        "en": "this channel",
    },
    "here_dm": {
        "zh": "我们的私信",
        "en": "our direct messages",
    },
    "quoted": {
        "zh": "「{title}」",
        "en": "\u201c{title}\u201d",
    },
    "schedule_set": {
        "zh": "已更新{where}的推送时间：{schedule}。",
        "en": "Updated the schedule{where}: {schedule}.",
    },
    "subs_title": {
        "zh": "订阅",
        "en": "Subscriptions",
    },
    "subs_none": {
        "zh": "没有订阅。发送 {prefix}subscribe 订阅本聊天，"
        "或 {prefix}subscribe @频道 energy 08:00 订阅你管理的频道。",
        "en": "No subscriptions. Send {prefix}subscribe for this chat, or {prefix}subscribe @channel energy "
        "08:00 "
        "for a channel you manage.",
    },
    "subs_topic": {
        "zh": "话题 {thread}",
        "en": "topic {thread}",
    },
    "subs_toggle_hint": {
        "zh": "点按钮开关板块。",
        "en": "Tap a button to switch a sector on or off.",
    },
    "toggled_on": {
        "zh": "已开启：{sector}",
        "en": "On: {sector}",
    },
    "toggled_off": {
        "zh": "已关闭：{sector}",
        "en": "Off: {sector}",
    },
    "button_expired": {
        "zh": "这个按钮已失效。",
        "en": "This button has expired.",
    },
    "all_sectors": {
        "zh": "全部板块",
        "en": "all sectors",
    },
    "keyword_gone": {
        "zh": "这个关键词已不在当前一期中。",
        "en": "That keyword is no longer in the current issue.",
    },
    # keyword watches
    "watch_too_short": {
        "zh": "「{value}」太短了：关注词至少 {limit} 个字符。",
        "en": "\u201c{value}\u201d is too short: a watched word needs at least {limit} characters.",
    },
    "watch_too_long": {
        "zh": "「{value}」太长了：关注词最多 {limit} 个字符。",
        "en": "\u201c{value}\u201d is too long: a watched word has at most {limit} characters.",
    },
    "watch_empty": {
        "zh": "「{value}」里没有可以关注的文字。",
        "en": "There is nothing to watch in \u201c{value}\u201d.",
    },
    "watch_limit": {
        "zh": "最多只能关注 {limit} 个词。先用 {prefix}unwatch 取消一些。",
        "en": "You can watch at most {limit} words. Remove some with {prefix}unwatch first.",
    },
    "watch_daily_needs_subscription": {
        "zh": "这里没有每日推送，关注词的匹配无法随推送发送。先用 {prefix}subscribe 订阅每日推送，"
        "或者保持「发布时发送」。",
        "en": "There is no daily digest here for the matches to come with. Subscribe with {prefix}subscribe "
        "first, or keep \u201cas soon as an issue is published\u201d.",
    },
    "watch_added": {
        "zh": "已关注：{words}。",
        "en": "Now watching: {words}.",
    },
    "watch_existing": {
        "zh": "已经在关注：{words}。",
        "en": "Already watching: {words}.",
    },
    "watch_mode_publish": {
        "zh": "每期发布时，提到这些词的段落会立即发到这里（发送 {prefix}watches daily 改为随每日推送）。",
        "en": "When an issue is published, the passages that mention them are sent here right away "
        "(send {prefix}watches daily to get them with the daily digest instead).",
    },
    "watch_mode_daily": {
        "zh": "提到这些词的段落会随下一次每日推送一起发到这里"
        "（发送 {prefix}watches publish 改为发布时立即发送）。",
        "en": "The passages that mention them come with the next daily digest here "
        "(send {prefix}watches publish to get them as soon as an issue is published).",
    },
    "watch_count": {
        "zh": "共关注 {n}/{limit} 个词，发送 {prefix}watches 查看。",
        "en": "Watching {n} of at most {limit} words; send {prefix}watches to see them.",
    },
    "watch_count_one": {
        "zh": "共关注 {n}/{limit} 个词，发送 {prefix}watches 查看。",
        "en": "Watching {n} word (at most {limit}); send {prefix}watches to see it.",
    },
    "watch_latest_preview": {
        "zh": "最新一期里已有 {n} 处提到它们：",
        "en": "The latest issue already mentions them in {n} passages:",
    },
    "watch_latest_preview_one": {
        "zh": "最新一期里已有 {n} 处提到它们：",
        "en": "The latest issue already mentions them in {n} passage:",
    },
    "watch_none": {
        "zh": "这里还没有关注任何词。发送 {prefix}watch 钠电池 开始关注（最多 {limit} 个）。",
        "en": "Nothing is watched here yet. Send {prefix}watch battery to start (at most {limit} words).",
    },
    "watch_not_found": {
        "zh": "这里没有关注 {words}。发送 {prefix}watches 查看关注的词。",
        "en": "{words} is not watched here. Send {prefix}watches to see what is.",
    },
    "watch_removed": {
        "zh": "已取消关注：{words}。还关注 {n} 个词。",
        "en": "Stopped watching {words}. {n} words are still watched.",
    },
    "watch_removed_one": {
        "zh": "已取消关注：{words}。还关注 {n} 个词。",
        "en": "Stopped watching {words}. {n} word is still watched.",
    },
    "watches_title": {
        "zh": "🔔 关注的词",
        "en": "🔔 Watched words",
    },
    "watches_footer": {
        "zh": "{n}/{limit} 个词 · 点 ✖ 取消关注，或发送 {prefix}watch 词语 添加。",
        "en": "{n} of at most {limit} words · tap ✖ to stop watching one, or send {prefix}watch WORD to add.",
    },
    "btn_watch_daily": {
        "zh": "改为随每日推送",
        "en": "Send with the daily digest",
    },
    "btn_watch_publish": {
        "zh": "改为发布时立即发送",
        "en": "Send as soon as published",
    },
    "subs_watches": {
        "zh": "关注的词：{words}（{prefix}watches）",
        "en": "Watched words: {words} ({prefix}watches)",
    },
}
