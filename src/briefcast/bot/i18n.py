"""Bot reply strings in Chinese and English, kept in one table so both stay in step."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]


def pick_language(code: str | None, default: str = "zh") -> Lang:
    """``zh*`` -> zh, any other language code -> en; no code -> the configured default."""
    if not code:
        return "zh" if default.startswith("zh") else "en"
    return "zh" if code.lower().startswith("zh") else "en"


# key -> (zh, en); str.format fields in braces.
MESSAGES: dict[str, tuple[str, str]] = {
    "welcome_title": ("欢迎使用行业简报机器人", "Welcome to the sector briefing bot"),
    "welcome_body": (
        "我会把每期简报按板块推送给你。点下面的按钮查看最新一期的板块，或发送 {prefix}help 查看全部命令。"
        "用 {prefix}subscribe 订阅每日推送。",
        "I deliver each briefing issue by sector. Tap a button below to read a sector of the latest "
        "issue, or send {prefix}help for every command. Use {prefix}subscribe for a daily digest.",
    ),
    "help_title": ("命令列表", "Commands"),
    "help_footer": (
        "私聊中直接发送板块名（如「能源」）也可以查看。群组中只有管理员可以修改订阅。",
        "In a private chat you can also just send a sector name (e.g. \u201cenergy\u201d). "
        "In groups only administrators can change subscriptions.",
    ),
    "help_footer_slack": (
        "在与我的私信中直接发送板块名（如「能源」）也可以查看；在频道里也可以 @我 后跟命令。"
        "谁可以修改频道的订阅由工作区的设置决定。",
        "In a direct message with me you can also just send a sector name (e.g. \u201cenergy\u201d); "
        "in a channel, mention me followed by a command. Who may change a channel's subscriptions "
        "is set by the workspace.",
    ),
    "only_telegram": (
        "这个功能只在 Telegram 中可用。",
        "This feature exists only on Telegram.",
    ),
    "sectors_title": ("板块", "Sectors"),
    "alias": ("别名", "alias"),
    "no_issue": (
        "还没有发布任何一期简报，请稍后再来。",
        "No issue has been published yet. Please check back later.",
    ),
    "no_section": (
        "本期（{issue}）没有「{sector}」板块。",
        "This issue ({issue}) has no \u201c{sector}\u201d section.",
    ),
    "no_keywords": ("本期没有关键词。", "This issue has no keywords."),
    "no_takeaways": ("本期没有要点总结。", "This issue has no takeaways."),
    "issue_not_found": (
        "找不到简报「{ref}」。请用日期（2026-11-28）或编号。",
        "No issue matches \u201c{ref}\u201d. Use a date (2026-11-28) or an id.",
    ),
    "search_title": ("搜索：{query}", "Search: {query}"),
    "search_none": ("没有找到与「{query}」相关的内容。", "Nothing found for \u201c{query}\u201d."),
    "usage": ("用法：{usage}", "Usage: {usage}"),
    "unknown_sector": (
        "未知板块「{name}」。可选：{choices}",
        "Unknown sector \u201c{name}\u201d. Choose from: {choices}",
    ),
    "bad_time": (
        "时间「{value}」无效，请用 24 小时制 HH:MM，例如 08:00。",
        "\u201c{value}\u201d is not a valid time; use 24-hour HH:MM, e.g. 08:00.",
    ),
    "bad_timezone": (
        "时区「{value}」无效，请用 Area/City 形式，例如 Asia/Shanghai。",
        "\u201c{value}\u201d is not a known time zone; use Area/City, e.g. Europe/Berlin.",
    ),
    "missing_args": ("缺少参数。", "Missing argument."),
    "unexpected_arg": ("无法理解参数「{value}」。", "Did not understand \u201c{value}\u201d."),
    "unknown_command": (
        "未知命令。发送 {prefix}help 查看全部命令。",
        "Unknown command. Send {prefix}help to see every command.",
    ),
    "plain_hint": (
        "发送板块名（如「能源」「AI」）或 {prefix}help 查看命令。",
        "Send a sector name (e.g. \u201cenergy\u201d, \u201cAI\u201d) or {prefix}help for the commands.",
    ),
    "rate_limited": (
        "请求太频繁了，请一分钟后再试。",
        "You are sending commands too fast; please wait a minute.",
    ),
    "internal_error": (
        "抱歉，处理时出了点问题，请稍后再试。",
        "Sorry, something went wrong on our side. Please try again later.",
    ),
    "not_admin": (
        "只有本群管理员可以修改本群的订阅。",
        "Only administrators of this chat can change its subscriptions.",
    ),
    "not_permitted": (
        "你没有权限修改本频道的订阅，请联系工作区管理员。",
        "You are not allowed to change this channel's subscriptions; ask a workspace admin.",
    ),
    "channel_not_found": (
        "找不到频道「{ref}」。请确认名称正确，并已把机器人添加为该频道的管理员。",
        "Could not find the channel \u201c{ref}\u201d. "
        "Check the name and add the bot to it as an administrator.",
    ),
    "channel_not_admin": (
        "你不是「{title}」的管理员，不能修改它的订阅。",
        "You are not an administrator of \u201c{title}\u201d, so you cannot change its subscriptions.",
    ),
    "channel_cannot_post": (
        "机器人无法在「{title}」发消息。请把机器人设为管理员并授予发布消息权限。",
        "The bot cannot post in \u201c{title}\u201d. "
        "Make it an administrator with permission to post messages.",
    ),
    "target_here_only": (
        "这里不能管理其他聊天的订阅，请在与机器人的私聊中操作。",
        "Other chats' subscriptions are managed from your private chat with the bot.",
    ),
    "subscribed": (
        "已订阅{where}：{sectors}，{schedule}。",
        "Subscribed{where}: {sectors}, {schedule}.",
    ),
    "schedule_daily": ("每天 {time}（{tz}）推送", "delivered daily at {time} ({tz})"),
    "schedule_publish": ("每期发布时立即推送", "delivered as soon as each issue is published"),
    "schedule_quiet": ("，{start}–{end} 免打扰", ", quiet {start}–{end}"),
    "quiet_set": (
        "已设置{where}的免打扰时段：{start}–{end}（{tz}）。此时段内发布的期刊在 {end} 推送。",
        "Quiet hours{where}: {start}–{end} ({tz}). An issue published then is pushed at {end}.",
    ),
    "quiet_off": ("已取消{where}的免打扰时段。", "Quiet hours{where} are off."),
    "bad_quiet": (
        "免打扰时段「{value}」无效，请用 HH:MM-HH:MM，例如 22:00-07:00，或 off 取消。",
        "\u201c{value}\u201d is not a quiet-hours range; use HH:MM-HH:MM, e.g. 22:00-07:00, or off.",
    ),
    "unsubscribed": ("已取消订阅{where}：{sectors}。", "Unsubscribed{where}: {sectors}."),
    "unsubscribed_all": ("已取消{where}的全部订阅。", "Removed every subscription of {where}."),
    "not_subscribed": (
        "{where}还没有订阅。发送 {prefix}subscribe 开始订阅。",
        "{where} has no subscription yet. Send {prefix}subscribe to start one.",
    ),
    "where_here": ("", ""),
    "where_chat": ("「{title}」", " \u201c{title}\u201d"),
    "here_chat": ("本聊天", "this chat"),
    "here_channel": ("本频道", "this channel"),
    "here_dm": ("我们的私信", "our direct messages"),
    "quoted": ("「{title}」", "\u201c{title}\u201d"),
    "schedule_set": ("已更新{where}的推送时间：{schedule}。", "Updated the schedule{where}: {schedule}."),
    "subs_title": ("订阅", "Subscriptions"),
    "subs_none": (
        "没有订阅。发送 {prefix}subscribe 订阅本聊天，"
        "或 {prefix}subscribe @频道 energy 08:00 订阅你管理的频道。",
        "No subscriptions. Send {prefix}subscribe for this chat, or {prefix}subscribe @channel energy 08:00 "
        "for a channel you manage.",
    ),
    "subs_topic": ("话题 {thread}", "topic {thread}"),
    "subs_toggle_hint": ("点按钮开关板块。", "Tap a button to switch a sector on or off."),
    "toggled_on": ("已开启：{sector}", "On: {sector}"),
    "toggled_off": ("已关闭：{sector}", "Off: {sector}"),
    "button_expired": ("这个按钮已失效。", "This button has expired."),
    "all_sectors": ("全部板块", "all sectors"),
    "keyword_gone": ("这个关键词已不在当前一期中。", "That keyword is no longer in the current issue."),
    # keyword watches
    "watch_too_short": (
        "「{value}」太短了：关注词至少 {limit} 个字符。",
        "\u201c{value}\u201d is too short: a watched word needs at least {limit} characters.",
    ),
    "watch_too_long": (
        "「{value}」太长了：关注词最多 {limit} 个字符。",
        "\u201c{value}\u201d is too long: a watched word has at most {limit} characters.",
    ),
    "watch_empty": (
        "「{value}」里没有可以关注的文字。",
        "There is nothing to watch in \u201c{value}\u201d.",
    ),
    "watch_limit": (
        "最多只能关注 {limit} 个词。先用 {prefix}unwatch 取消一些。",
        "You can watch at most {limit} words. Remove some with {prefix}unwatch first.",
    ),
    "watch_daily_needs_subscription": (
        "这里没有每日推送，关注词的匹配无法随推送发送。先用 {prefix}subscribe 订阅每日推送，"
        "或者保持「发布时发送」。",
        "There is no daily digest here for the matches to come with. Subscribe with {prefix}subscribe "
        "first, or keep \u201cas soon as an issue is published\u201d.",
    ),
    "watch_added": ("已关注：{words}。", "Now watching: {words}."),
    "watch_existing": ("已经在关注：{words}。", "Already watching: {words}."),
    "watch_mode_publish": (
        "每期发布时，提到这些词的段落会立即发到这里（发送 {prefix}watches daily 改为随每日推送）。",
        "When an issue is published, the passages that mention them are sent here right away "
        "(send {prefix}watches daily to get them with the daily digest instead).",
    ),
    "watch_mode_daily": (
        "提到这些词的段落会随下一次每日推送一起发到这里（发送 {prefix}watches publish 改为发布时立即发送）。",
        "The passages that mention them come with the next daily digest here "
        "(send {prefix}watches publish to get them as soon as an issue is published).",
    ),
    "watch_count": (
        "共关注 {n}/{limit} 个词，发送 {prefix}watches 查看。",
        "Watching {n} of at most {limit} words; send {prefix}watches to see them.",
    ),
    "watch_count_one": (
        "共关注 {n}/{limit} 个词，发送 {prefix}watches 查看。",
        "Watching {n} word (at most {limit}); send {prefix}watches to see it.",
    ),
    "watch_latest_preview": (
        "最新一期里已有 {n} 处提到它们：",
        "The latest issue already mentions them in {n} passages:",
    ),
    "watch_latest_preview_one": (
        "最新一期里已有 {n} 处提到它们：",
        "The latest issue already mentions them in {n} passage:",
    ),
    "watch_none": (
        "这里还没有关注任何词。发送 {prefix}watch 钠电池 开始关注（最多 {limit} 个）。",
        "Nothing is watched here yet. Send {prefix}watch battery to start (at most {limit} words).",
    ),
    "watch_not_found": (
        "这里没有关注 {words}。发送 {prefix}watches 查看关注的词。",
        "{words} is not watched here. Send {prefix}watches to see what is.",
    ),
    "watch_removed": (
        "已取消关注：{words}。还关注 {n} 个词。",
        "Stopped watching {words}. {n} words are still watched.",
    ),
    "watch_removed_one": (
        "已取消关注：{words}。还关注 {n} 个词。",
        "Stopped watching {words}. {n} word is still watched.",
    ),
    "watches_title": ("🔔 关注的词", "🔔 Watched words"),
    "watches_footer": (
        "{n}/{limit} 个词 · 点 ✖ 取消关注，或发送 {prefix}watch 词语 添加。",
        "{n} of at most {limit} words · tap ✖ to stop watching one, or send {prefix}watch WORD to add.",
    ),
    "btn_watch_daily": ("改为随每日推送", "Send with the daily digest"),
    "btn_watch_publish": ("改为发布时立即发送", "Send as soon as published"),
    "subs_watches": ("关注的词：{words}（{prefix}watches）", "Watched words: {words} ({prefix}watches)"),
    # /settings
    "settings_title": ("⚙️ 推送设置", "⚙️ Delivery settings"),
    "settings_variant": ("摘要", "Digest"),
    "settings_silent": ("提醒", "Notifications"),
    "settings_previews": ("链接预览", "Link previews"),
    "variant_full": ("完整", "full"),
    "variant_compact": ("精简", "compact"),
    "silent_on": ("静音推送", "silent"),
    "silent_off": ("有声提醒", "with sound"),
    "previews_on": ("显示链接预览", "show link previews"),
    "previews_off": ("不显示预览", "no link previews"),
    "on": ("开", "on"),
    "off": ("关", "off"),
    "colon": ("：", ": "),
    "badge_compact": ("精简摘要", "compact"),
    "badge_silent": ("🔕 静音", "🔕 silent"),
    "badge_previews": ("🔗 链接预览", "🔗 link previews"),
    "settings_hint": (
        "点按钮修改，或发送 {prefix}settings compact、{prefix}settings silent on、"
        "{prefix}settings previews on。",
        "Tap a button, or send {prefix}settings compact, {prefix}settings silent on, "
        "{prefix}settings previews on.",
    ),
    "settings_hint_slack": (
        "点按钮修改，或发送 {prefix}settings compact、{prefix}settings previews on。",
        "Tap a button, or send {prefix}settings compact, {prefix}settings previews on.",
    ),
    "settings_saved": (
        "已更新{where}的推送设置：{summary}。",
        "Updated the delivery settings{where}: {summary}.",
    ),
    "settings_no_silent": (
        "Slack 没有静音推送：每个人在 Slack 里自行设置通知。",
        "Slack has no silent messages: each member chooses their own notifications in Slack.",
    ),
    # welcome card in a group the bot was added to
    "welcome_group_title": ("👋 感谢把我加入「{title}」", "👋 Thanks for adding me to \u201c{title}\u201d"),
    "welcome_group_body": (
        "我会把每期行业简报按板块推送到这里。管理员点下面的板块即可订阅（每天 {time}，{tz}）；"
        "发送 {prefix}help 查看全部命令。",
        "I deliver each briefing issue by sector. An administrator can tap a sector below to subscribe "
        "this group (daily at {time}, {tz}); send {prefix}help for every command.",
    ),
    "welcome_group_forum": (
        "这是论坛群组：管理员发送 {prefix}topics 可以为每个板块建一个话题，分别推送。",
        "This group has topics: an administrator can send {prefix}topics to get one topic per sector, "
        "each with its own digest.",
    ),
    # /topics
    "topics_not_group": (
        "请在论坛群组里发送这个命令（群组需开启「话题」）。",
        "Send this command in a forum group (a group with Topics enabled).",
    ),
    "topics_not_forum": (
        "这个群组没有开启「话题」。请在群组设置中开启话题后再试。",
        "This group does not have Topics enabled. Turn on Topics in the group settings, then try again.",
    ),
    "topics_no_rights": (
        "我需要「管理话题」的管理员权限才能创建话题。请在群组设置中授予后再试。",
        "I need the \u201cManage topics\u201d administrator right to create topics. "
        "Grant it in the group settings, then try again.",
    ),
    "topics_other": (
        "Telegram 没有接受话题请求，请稍后再试。",
        "Telegram refused the topic request; please try again later.",
    ),
    "topics_created": ("已为这些板块建立话题：{sectors}。", "Topics are ready for: {sectors}."),
    "topics_kept": ("这些板块已有话题：{sectors}。", "These sectors already have topics: {sectors}."),
    "topics_schedule": (
        "每个话题只接收自己板块的推送，{schedule}。发送 {prefix}topics off 取消。",
        "Each topic receives only its own sector, {schedule}. Send {prefix}topics off to undo.",
    ),
    "topics_general_kept": (
        "群组原有的订阅（General 话题）保持不变；如不需要，请在 General 中发送 {prefix}unsubscribe。",
        "The group's own subscription (General topic) is unchanged; send {prefix}unsubscribe in General "
        "if you no longer want it.",
    ),
    "topics_none": (
        "这个群组没有由我创建的板块话题。发送 {prefix}topics 创建。",
        "This group has no sector topics of mine. Send {prefix}topics to create them.",
    ),
    "topics_closed": (
        "已关闭这些板块话题并停止推送：{sectors}。话题中的消息仍然保留；发送 {prefix}topics 可重新开启。",
        "Closed the topics of {sectors} and stopped their deliveries. Their messages stay; "
        "send {prefix}topics to reopen them.",
    ),
    "topics_close_failed": (
        "推送已停止，但我没能关闭这些话题（需要「管理话题」权限）：{sectors}。",
        "Deliveries stopped, but I could not close these topics "
        "(I need \u201cManage topics\u201d): {sectors}.",
    ),
    # operator document upload (briefcast.bot.publish)
    "upload_not_operator": (
        "抱歉，只有运营人员可以通过发送文件来发布简报。你发送的文件没有被保存。",
        "Sorry, only operators can publish an issue by sending a file. Your file was not stored.",
    ),
    "upload_wrong_type": (
        "「{name}」不是可以发布的文件。请发送 .md（Markdown）或 .html 文件。",
        "\u201c{name}\u201d cannot be published. Please send a .md (Markdown) or .html file.",
    ),
    "upload_too_large": (
        "「{name}」太大了（{size}），上限是 {limit}。请发送更小的文件。",
        "\u201c{name}\u201d is too large ({size}); the limit is {limit}. Please send a smaller file.",
    ),
    "upload_empty": (
        "「{name}」是空文件，没有可以发布的内容。",
        "\u201c{name}\u201d is empty: there is nothing to publish.",
    ),
    "upload_undecodable": (
        "无法读取「{name}」：它不是 UTF-8 文本。请另存为 UTF-8 编码后再发送。",
        "\u201c{name}\u201d could not be read: it is not UTF-8 text. "
        "Please save it as UTF-8 and send it again.",
    ),
    "upload_unparseable": (
        "「{name}」里没有找到可以发布的简报：{reason}",
        "No publishable issue was found in \u201c{name}\u201d: {reason}",
    ),
    "upload_download_failed": (
        "抱歉，没能下载「{name}」，请稍后重新发送。",
        "Sorry, \u201c{name}\u201d could not be downloaded. Please send it again in a moment.",
    ),
    "upload_duplicate": (
        "这份简报已经发布过了（第 {id} 期：《{title}》），无需再次发布。",
        "This issue was already published (issue {id}: \u201c{title}\u201d); "
        "there is nothing new to publish.",
    ),
    "upload_preview_title": ("预览：{title}", "Preview: {title}"),
    "upload_preview_intro": (
        "上面是订阅者将看到的每个板块。",
        "Above is every sector exactly as subscribers will receive it.",
    ),
    "upload_date": ("日期：{date}", "Date: {date}"),
    "upload_no_date": ("日期：无", "Date: none"),
    "upload_sectors": ("{count} 个板块：{names}", "{count} sectors: {names}"),
    "upload_sectors_one": ("{count} 个板块：{names}", "{count} sector: {names}"),
    "upload_messages": (
        "每位全板块订阅者收到 {count} 条消息。",
        "A subscriber of every sector receives {count} messages.",
    ),
    "upload_messages_one": (
        "每位全板块订阅者收到 {count} 条消息。",
        "A subscriber of every sector receives {count} message.",
    ),
    "upload_revision": (
        "这是已存简报的第 {revision} 版（日期和标题相同、内容不同）。",
        "This is revision {revision} of an issue already stored (same date and title, new content).",
    ),
    "upload_revision_push": (
        "「立即发布」会把它再发给已收到旧版的订阅者；「按计划时间发布」只发给还没收到的订阅者。",
        "\u201cPublish now\u201d also sends it to subscribers who received an earlier revision; "
        "\u201cPublish at scheduled times\u201d only reaches those who have not had it.",
    ),
    "upload_warnings": ("请注意：", "Please check:"),
    "upload_choose": (
        "「立即发布」：现在就推送给所有订阅者。「按计划时间发布」：每位订阅者按自己的设置收到"
        "（即时订阅者立即收到，其他人在各自的推送时间）。「放弃」：不发布。",
        "\u201cPublish now\u201d: every subscriber receives it right away. \u201cPublish at scheduled "
        "times\u201d: each subscriber receives it as they chose (on-publish subscribers now, the others at "
        "their delivery time). \u201cDiscard\u201d: nothing is published.",
    ),
    "btn_publish_now": ("立即发布", "Publish now"),
    "btn_publish_scheduled": ("按计划时间发布", "Publish at scheduled times"),
    "btn_discard": ("放弃", "Discard"),
    "upload_published_now": (
        "已发布《{title}》（第 {id} 期），正在推送给 {count} 个订阅。",
        "Published \u201c{title}\u201d (issue {id}); it is being sent to {count} subscriptions now.",
    ),
    "upload_published_now_one": (
        "已发布《{title}》（第 {id} 期），正在推送给 {count} 个订阅。",
        "Published \u201c{title}\u201d (issue {id}); it is being sent to {count} subscription now.",
    ),
    "upload_published_scheduled": (
        "已发布《{title}》（第 {id} 期）。即时订阅者马上收到，其他订阅者在各自的推送时间收到。",
        "Published \u201c{title}\u201d (issue {id}). On-publish subscribers receive it now, "
        "the others at their delivery time.",
    ),
    "upload_discarded": (
        "已放弃《{title}》，没有发布。",
        "Discarded \u201c{title}\u201d; nothing was published.",
    ),
    "upload_already_published": (
        "《{title}》（第 {id} 期）已经发布，不能再放弃或重复发布。",
        "\u201c{title}\u201d (issue {id}) is already published; it cannot be discarded or published again.",
    ),
    "upload_gone": (
        "这份待发布的简报已不存在（可能已被放弃）。请重新发送文件。",
        "This pending issue no longer exists (it may have been discarded). Please send the file again.",
    ),
    "upload_preview_rejected": (
        "注意：{platform} 拒绝了 {count} 条预览消息（{reason}）。订阅者也会收不到这些消息，请先修改文件。",
        "Warning: {platform} rejected {count} preview messages ({reason}). Subscribers would not receive "
        "them either; please fix the file first.",
    ),
    "upload_preview_rejected_one": (
        "注意：{platform} 拒绝了 {count} 条预览消息（{reason}）。订阅者也会收不到这条消息，请先修改文件。",
        "Warning: {platform} rejected {count} preview message ({reason}). Subscribers would not receive "
        "it either; please fix the file first.",
    ),
    "upload_not_operator_action": (
        "只有运营人员可以发布或放弃简报。",
        "Only operators can publish or discard an issue.",
    ),
}


def t(lang: Lang, key: str, **fields: object) -> str:
    """The message ``key`` in ``lang`` with ``fields`` filled in.

    A count of one (``n=1`` or ``count=1``) picks the ``<key>_one`` variant when there is one,
    so English says "1 message", not "1 message(s)".
    """
    if (fields.get("n") == 1 or fields.get("count") == 1) and f"{key}_one" in MESSAGES:
        key = f"{key}_one"
    zh, en = MESSAGES[key]
    template = zh if lang == "zh" else en
    return template.format(**fields) if fields else template
