"""Every user-facing string briefcast writes, in Chinese and English, and the language helpers.

One table, :data:`STRINGS`, keyed by message key, each entry with a ``zh`` and an ``en`` form: the
bot's replies, the renderers' labels and the archive's pages. Keeping both languages side by side
makes a missing translation a test failure rather than a half-English reply in a Chinese chat.

:func:`t` always takes the language first, ``t(lang, key, **values)``. A language is Chinese or
English (``zh``, ``en`` or a tag of either, such as ``zh-CN``); anything else raises
:class:`ValueError`, so a call with its arguments swapped fails loudly instead of answering in the
wrong language. Deciding what a user's language code means is the caller's job
(:func:`pick_language`, :func:`negotiate`).
"""

from __future__ import annotations

from typing import Final, Literal

Lang = Literal["zh", "en"]

# key -> {"zh": ..., "en": ...}; str.format fields in braces. A ``<key>_one`` entry is the form
# :func:`t` picks for a count of one (``n=1`` or ``count=1``).
STRINGS: Final[dict[str, dict[Lang, str]]] = {
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


def is_zh(lang: str) -> bool:
    """True for any Chinese locale tag (``zh``, ``zh-CN``, ``zh_TW``…)."""
    return lang.lower().startswith("zh")


def language(lang: str) -> Lang:
    """``zh`` or ``en`` for a Chinese or English tag (``zh-Hans``, ``en_US``); anything else raises.

    :class:`ValueError` is what a swapped call (``t(key, lang)``) or an unchecked user value gets.
    """
    primary = lang.lower().replace("_", "-").split("-", 1)[0]
    if primary == "zh":
        return "zh"
    if primary == "en":
        return "en"
    raise ValueError(f"unknown language {lang!r}: expected zh or en (the call is t(lang, key, ...))")


def t(lang: str, key: str, /, **values: object) -> str:
    """The string ``key`` in ``lang`` (``zh``/``en`` or a tag of either), formatted with ``values``.

    A count of one (``n=1`` or ``count=1``) picks the ``<key>_one`` variant when there is one, so
    English says "1 link" and not "1 links". An unknown language raises :class:`ValueError`, an
    unknown key :class:`KeyError`.
    """
    tag = language(lang)
    if (values.get("n") == 1 or values.get("count") == 1) and f"{key}_one" in STRINGS:
        key = f"{key}_one"
    template = STRINGS[key][tag]
    return template.format(**values) if values else template


def days_text(lang: str, mask: int) -> str:
    """A weekday mask (bit 0 = Monday) as a reader sees it: ``每周一、三、五`` / ``Mon, Wed, Fri``,
    ``工作日`` / ``Weekdays``, ``每天`` / ``daily`` (every day, or an empty mask)."""
    mask &= 0b1111111
    if mask in (0, 0b1111111):
        return t(lang, "days_every")
    if mask == 0b0011111:
        return t(lang, "days_weekdays")
    names = t(lang, "day_names")
    parts = list(names) if language(lang) == "zh" else names.split()
    chosen = [parts[d] for d in range(7) if mask & (1 << d)]
    return t(lang, "days_list", days=t(lang, "days_sep").join(chosen))


def schedule_at(lang: str, time: str, tz: str, days: int) -> str:
    """``每周一、三、五 08:00（Asia/Shanghai）推送`` / ``delivered Mon, Wed, Fri 08:00 (Asia/Shanghai)``;
    every day keeps the daily wording."""
    if days & 0b1111111 in (0, 0b1111111):
        return t(lang, "schedule_daily", time=time, tz=tz)
    return t(lang, "schedule_days", days=days_text(lang, days), time=time, tz=tz)


def schedule_weekly(lang: str, time: str, tz: str, days: int) -> str:
    """``每周一 09:00（Asia/Shanghai）推送合集…`` / ``weekly roll-up Mon 09:00 (Asia/Shanghai)…``."""
    return t(lang, "schedule_weekly", days=days_text(lang, days), time=time, tz=tz)


def pick_language(code: str | None, default: str = "zh") -> Lang:
    """``zh*`` -> zh, any other language code -> en; no code -> the configured default."""
    if not code:
        return "zh" if default.startswith("zh") else "en"
    return "zh" if code.lower().startswith("zh") else "en"


def negotiate(query: str | None, accept_language: str | None, fallback: str) -> Lang:
    """``zh`` or ``en`` for a reader: ``?lang=``, else the best of Accept-Language, else ``fallback``.

    Accept-Language is read with its q-values (RFC 9110 §12.5.4): the highest-weighted tag that is
    Chinese or English wins; other languages, ``*`` and q=0 are skipped.
    """
    if query and query.lower() in ("zh", "en"):  # only "zh" or "en" exactly; junk is ignored
        return "zh" if query.lower() == "zh" else "en"
    best: tuple[float, int, Lang] | None = None
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
        key: tuple[float, int, Lang] = (-q, pos, "zh" if primary == "zh" else "en")
        if best is None or key < best:
            best = key
    return best[2] if best is not None else ("zh" if is_zh(fallback) else "en")


def languages_complete() -> bool:
    """Every string has exactly a Chinese and an English form (checked by the tests)."""
    return all(set(v) == {"zh", "en"} for v in STRINGS.values())


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 delivery``, ``3 deliveries``: English operator texts (CLI, playground, dashboard).

    The plural is ``plural`` when given, else ``noun`` + ``s`` (``y`` after a consonant -> ``ies``).
    """
    if n == 1:
        return f"{n} {noun}"
    if plural is None:
        plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{n} {plural}"
