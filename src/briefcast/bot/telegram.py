"""Telegram adapter: python-telegram-bot v22 ``Application`` wiring around the command layer.

The adapter only translates. An ``Update`` becomes a neutral
:class:`~briefcast.bot.commands.Request`; the :class:`~briefcast.bot.commands.Reply`
is rendered with :func:`briefcast.render.telegram.render` and each payload (Bot API JSON)
is posted as ``sendMessage`` into the same chat and forum topic. Chat
membership changes and group -> supergroup migrations update the store.

Updates arrive by long polling (default) or, when ``settings.telegram.webhook_url``
is set, through a route on the project's ASGI app (:meth:`TelegramBot.routes`):
PTB's "custom webhook" pattern, ``Application`` built with ``updater=None`` and
the route feeding ``application.update_queue``.

Channel posts: a command posted in a channel is answered in the channel (only
channel admins can post, so the sender is trusted, e.g. ``/subscribe energy``
posted in the channel subscribes it). Non-command posts are ignored.

Document upload: a ``.md`` / ``.html`` document sent in a private chat is handed
to :class:`~briefcast.bot.publish.PublishFlow` (operator check, parse, draft,
preview, the Publish now / at scheduled times / Discard buttons); this adapter
only fetches the file (getFile + download) and sends what the flow returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlparse

from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Bot as PtbBot
from telegram import (
    BotCommand,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberOwner,
    ChatMemberRestricted,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from briefcast.bot.commands import ChannelInfo, Commands, CommandStore, Reply, Request, TopicError
from briefcast.bot.inbound import BodyTooLarge, read_capped
from briefcast.bot.publish import PublishFlow, UploadInfo
from briefcast.bot.telegram_request import AiohttpRequest, send_message_json
from briefcast.briefing.sectors import SectorCatalogue, default_catalogue
from briefcast.config import Settings
from briefcast.errors import ConfigError
from briefcast.ingest.service import IngestService
from briefcast.render import telegram as render_telegram
from briefcast.render.document import Document
from briefcast.store import Store
from briefcast.store.records import ChatRef

log = logging.getLogger(__name__)

PLATFORM = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES: tuple[str, ...] = ("message", "channel_post", "callback_query", "my_chat_member")
# Telegram's placeholder user for anonymous group admins ("GroupAnonymousBot").
ANONYMOUS_ADMIN_ID = 1087968824
TOAST_MAX = 200
# Longest flood wait a chat reply waits out before giving up (the user can ask again).
# A command reply waits for its turn (Telegram's retry_after honoured, again and again) for at
# most this long after it was first tried; only then is it given up, with an ERROR line.
MAX_REPLY_AGE = 60.0


class ReplyPacer:
    """Paces this bot's command replies under the bot-wide flood limit, so a burst (100 users
    sending /subscribe at once) queues instead of collecting 429s and losing replies.

    Replies take a slot of ``rate`` per second in arrival order; a 429 (``retry_after``) pauses
    every reply until it has passed. The delivery engine is told of each reply (``on_reply``)
    and leaves it room, so replies go ahead of a broadcast running in the same process.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / max(1.0, rate)
        self.clock = clock
        self._next = 0.0
        self._paused_until = 0.0

    async def turn(self) -> None:
        now = self.clock()
        start = max(now, self._next, self._paused_until)
        self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)


# The largest file the Bot API lets a bot download with getFile.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

PtbApp = Application[Any, Any, Any, Any, Any, Any]
Context = ContextTypes.DEFAULT_TYPE


def quiet_http_logs() -> None:
    """httpx logs every request URL at INFO, and Bot API URLs contain the token: keep it at WARNING."""
    logging.getLogger("httpx").setLevel(logging.WARNING)


class SkippingBot(ExtBot[None]):
    """An ``ExtBot`` whose polling survives an update the library cannot read.

    python-telegram-bot parses a whole ``getUpdates`` batch at once; one update it cannot read
    (say a ``from`` without ``is_bot``) fails the batch, the offset never moves, and the same
    batch comes back ~40 times a second for ever, restart or not. Here each update is checked on
    its own: an unreadable one is skipped once, with one WARNING, and the next ``getUpdates``
    asks past it, so Telegram drops it and every later update is answered.
    """

    _skip_to = 0

    async def _post(self, endpoint: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, *args, **kwargs)
        if endpoint != "getUpdates" or not isinstance(result, list):
            return result
        readable = []
        for raw in result:
            try:
                Update.de_json(raw, self)
            except Exception as exc:
                uid = raw.get("update_id") if isinstance(raw, dict) else None
                if isinstance(uid, int):
                    self._skip_to = max(self._skip_to, uid + 1)
                log.warning(
                    "skipping Telegram update %s: it cannot be read (%s: %s)", uid, type(exc).__name__, exc
                )
                continue
            readable.append(raw)
        return readable

    async def get_updates(self, offset: int | None = None, *args: Any, **kwargs: Any) -> Any:
        if self._skip_to and (offset is None or 0 <= offset < self._skip_to):
            offset = self._skip_to
        return await super().get_updates(offset, *args, **kwargs)


def build_application(settings: Settings, *, webhook: bool) -> PtbApp:
    """Every ``Application.builder()`` choice in one place."""
    token = settings.telegram.token.get()
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set")
    # aiohttp under PTB and concurrent updates: with httpx and one update at a time, replies
    # queued behind each other at ~25 commands/s (docs/benchmarks.md, command latency).
    base_url, base_file_url = "https://api.telegram.org/bot", "https://api.telegram.org/file/bot"
    api_url = settings.telegram.api_url.rstrip("/")
    if api_url:
        base_url = api_url
        if api_url.endswith("/bot"):
            base_file_url = api_url[: -len("/bot")] + "/file/bot"
    bot = SkippingBot(
        token,
        base_url=base_url,
        base_file_url=base_file_url,
        request=AiohttpRequest(connection_pool_size=256),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )
    builder = Application.builder().bot(bot).concurrent_updates(True)
    if webhook:
        builder = builder.updater(None)
    return builder.build()


class TelegramOps:
    """:class:`~briefcast.bot.commands.PlatformOps` on the Bot API (getChatMember, getChat)."""

    def __init__(self, bot: PtbBot) -> None:
        self.bot = bot

    async def is_admin(self, chat_id: str, user_id: str) -> bool:
        """Creator or administrator of the chat, per getChatMember; any API error counts as no."""
        try:
            member = await self.bot.get_chat_member(chat_id=int(chat_id), user_id=int(user_id))
        except (TelegramError, ValueError) as e:
            log.info("getChatMember(%s, %s) failed: %s", chat_id, user_id, e)
            return False
        return member.status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)

    async def resolve_channel(self, ref: str) -> ChannelInfo | None:
        """``@name`` or a numeric id -> the group/channel, or None if the bot cannot see it."""
        try:
            chat = await self.bot.get_chat(chat_id=ref if ref.startswith("@") else int(ref))
        except (TelegramError, ValueError) as e:
            log.info("getChat(%s) failed: %s", ref, e)
            return None
        if chat.type == ChatType.PRIVATE:
            return None
        return ChannelInfo(
            chat_id=str(chat.id), title=chat.title or chat.username or ref, kind=str(chat.type)
        )

    # -- forum topics (briefcast.bot.commands.ForumOps) ------------------------------------

    async def create_topic(self, chat_id: str, name: str, icon_color: int) -> str:
        """createForumTopic; the new topic's message_thread_id."""
        try:
            topic = await self.bot.create_forum_topic(chat_id=int(chat_id), name=name, icon_color=icon_color)
        except TelegramError as e:
            raise _topic_error(e) from None
        return str(topic.message_thread_id)

    async def close_topic(self, chat_id: str, thread_id: str) -> None:
        """closeForumTopic; a topic already closed is fine."""
        try:
            await self.bot.close_forum_topic(chat_id=int(chat_id), message_thread_id=int(thread_id))
        except TelegramError as e:
            if "topic_not_modified" not in str(e).lower():
                raise _topic_error(e) from None

    async def reopen_topic(self, chat_id: str, thread_id: str) -> None:
        """reopenForumTopic; a topic already open is fine, a deleted one is ``TopicError("gone")``."""
        try:
            await self.bot.reopen_forum_topic(chat_id=int(chat_id), message_thread_id=int(thread_id))
        except TelegramError as e:
            if "topic_not_modified" not in str(e).lower():
                raise _topic_error(e) from None

    async def bot_can_post(self, chat_id: str) -> bool:
        """Channels need an admin with can_post_messages; groups a member not muted."""
        try:
            member = await self.bot.get_chat_member(chat_id=int(chat_id), user_id=self.bot.id)
            if isinstance(member, ChatMemberOwner):
                return True
            if isinstance(member, ChatMemberAdministrator):
                # can_post_messages is only set for channels; in groups admins can always post
                return member.can_post_messages is not False
            if isinstance(member, ChatMemberRestricted):
                return member.is_member and member.can_send_messages
            if member.status == ChatMemberStatus.MEMBER:
                chat = await self.bot.get_chat(chat_id=int(chat_id))
                return chat.type != ChatType.CHANNEL
        except (TelegramError, ValueError) as e:
            log.info("cannot check the bot's rights in %s: %s", chat_id, e)
        return False


def _topic_error(error: TelegramError) -> TopicError:
    """Bot API errors of the forum-topic methods -> the command layer's reasons."""
    text = str(error).lower()
    log.info("forum topic call refused: %s", error)
    if "not a forum" in text:
        return TopicError("not_forum", str(error))
    if "not enough rights" in text or "administrator rights" in text:
        return TopicError("no_rights", str(error))
    if "topic_id_invalid" in text or "thread not found" in text or "topic_deleted" in text:
        return TopicError("gone", str(error))
    return TopicError("other", str(error))


def payload_kwargs(payload: dict[str, Any]) -> dict[str, Any]:
    """Renderer payload (JSON shapes) -> ``bot.send_message`` keyword arguments (PTB objects)."""
    out = dict(payload)
    lpo = out.get("link_preview_options")
    if isinstance(lpo, dict):
        out["link_preview_options"] = LinkPreviewOptions(**lpo)
    markup = out.get("reply_markup")
    if isinstance(markup, dict):
        out["reply_markup"] = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(b["text"], url=b["url"])
                    if "url" in b
                    else InlineKeyboardButton(b["text"], callback_data=b["callback_data"])
                    for b in row
                ]
                for row in markup.get("inline_keyboard", [])
            ]
        )
    return out


def reply_payloads(reply: Reply, *, include_notice: bool = True) -> list[dict[str, Any]]:
    """Every sendMessage payload of a reply: the notice first, then each document's parts."""
    return [p for d in reply.all_documents(include_notice=include_notice) for p in render_telegram.render(d)]


def _thread_of(message: Message) -> int | None:
    """A forum topic id; reply threads in ordinary supergroups are not topics."""
    return message.message_thread_id if message.is_topic_message else None


def _chat_ref(message: Message) -> ChatRef:
    thread = _thread_of(message)
    return ChatRef(PLATFORM, str(message.chat.id), thread_id=str(thread) if thread is not None else None)


def _request_from_message(message: Message, command: str, args: Sequence[str]) -> Request:
    """A message (or channel post) -> neutral request."""
    user = message.from_user
    chat = message.chat
    anonymous_admin = message.sender_chat is not None and message.sender_chat.id == chat.id
    return Request(
        platform=PLATFORM,
        chat=_chat_ref(message),
        chat_kind=str(chat.type),
        user_id=str(user.id) if user is not None and user.id != ANONYMOUS_ADMIN_ID else "",
        command=command,
        args=tuple(args),
        text=message.text or "",
        language_code=user.language_code if user is not None else None,
        chat_title=chat.title or chat.username or chat.full_name or "",
        sender_is_admin=chat.type == ChatType.CHANNEL or anonymous_admin,
        is_forum=bool(chat.is_forum),
    )


_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?=\s|$)")


def parse_command(text: str) -> tuple[str, str, list[str]] | None:
    """``"/Energy@Bot 08:00"`` -> ``("energy", "bot", ["08:00"])``; None if not a command.

    Read from the text as Telegram clients send it, with or without a ``bot_command`` entity and
    whatever the order of the entities (Telegram's own example ``/start`` has none).
    """
    match = _COMMAND.match(text)
    if match is None:
        return None
    return match.group(1).lower(), (match.group(2) or "").lower(), text[match.end() :].split()


def _command_of(message: Message) -> tuple[str, list[str]]:
    """``"/Energy@Bot 08:00"`` -> ``("energy", ["08:00"])``."""
    parsed = parse_command(message.text or "")
    if parsed is None:
        return "", []
    return parsed[0], parsed[2]


class TelegramBot:
    """The Telegram side of ``briefcast run``: one PTB Application serving :class:`Commands`."""

    name = "telegram"

    def __init__(
        self,
        settings: Settings,
        store: CommandStore,
        *,
        catalogue: SectorCatalogue | None = None,
        clock: Callable[[], float] = time.monotonic,
        ingest: IngestService | None = None,
    ) -> None:
        """``ingest`` stores operator uploads and runs its on-publish hook; by default a plain
        ``IngestService(store)`` (no hook) when ``store`` is a :class:`Store`. Uploads are off (files
        are ignored, as before) when no operator is configured or there is no ingest service."""
        quiet_http_logs()
        self.settings = settings
        self.store = store
        tg = settings.telegram
        self.webhook_url = tg.webhook_url
        self.application = build_application(settings, webhook=bool(self.webhook_url))
        # replies never carry allow_paid_broadcast: they are under the plain bot-wide limit
        # (5% under the limit: the platform judges arrival times, which jitter)
        self.pacer = ReplyPacer(settings.delivery.telegram_global_per_second * 0.95)
        self.ops = TelegramOps(self.application.bot)
        self.commands = Commands(
            store=store,
            ops=self.ops,
            platform=PLATFORM,
            catalogue=catalogue or default_catalogue(),
            default_language=settings.default_language,
            default_time=settings.default_time,
            default_timezone=settings.default_timezone,
            prefix="/",
            commands_per_minute=tg.commands_per_minute,
            clock=clock,
        )
        self.webhook_secret = tg.webhook_secret.get() or secrets.token_urlsafe(32)
        self.webhook_path = (
            (urlparse(self.webhook_url).path or DEFAULT_WEBHOOK_PATH) if self.webhook_url else ""
        )
        if ingest is None and isinstance(store, Store):
            ingest = IngestService(store, catalogue=catalogue)
        self.publisher: PublishFlow | None = (
            PublishFlow(
                ingest,
                platform=PLATFORM,
                operators=tg.operators,
                default_language=settings.default_language,
                max_bytes=MAX_DOWNLOAD_BYTES,
                compact=settings.delivery.variant == "compact",
            )
            if ingest is not None and tg.operators
            else None
        )
        self.started = False
        # Called with (chat id, is a group/channel) before each reply: the same bot token's flood
        # budget as the deliveries, so ``briefcast run`` lets its engine pace around the replies.
        self.on_reply: Callable[[str, bool], None] | None = None
        self._install_handlers()

    # -- wiring ---------------------------------------------------------------

    def _install_handlers(self) -> None:
        app = self.application
        incoming = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self.on_migrate))
        # Commands are read from the text (not from PTB's CommandHandler, which needs a leading
        # bot_command entity): see on_message_text.
        app.add_handler(MessageHandler(filters.TEXT & incoming, self.on_message_text))
        app.add_handler(
            MessageHandler(
                filters.Document.ALL & filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, self.on_document
            )
        )
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(ChatMemberHandler(self.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self.on_error)

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> None:
        """Initialise (getMe), publish the command menus, then poll or register the webhook."""
        app = self.application
        await app.initialize()
        await self.set_commands()
        await app.start()
        if self.webhook_url:
            await app.bot.set_webhook(
                url=self.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        else:
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))
        self.started = True
        log.info(
            "telegram bot @%s started (%s)", app.bot.username, "webhook" if self.webhook_url else "polling"
        )

    async def stop(self) -> None:
        """Stop polling, drain handlers, close the HTTP client. Safe to call twice."""
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        self.started = False

    async def set_commands(self) -> None:
        """setMyCommands in zh and en, plus a default menu in the configured language."""
        default = self.commands.language(Request(PLATFORM, ChatRef(PLATFORM, ""), "private", ""))
        for language_code in ("zh", "en", None):
            lang = default if language_code is None else language_code
            menu = [BotCommand(name, desc[:256]) for name, desc in self.commands.menu(lang)][:100]
            try:
                await self.application.bot.set_my_commands(menu, language_code=language_code)
            except TelegramError as e:
                log.warning("setMyCommands(%s) failed: %s", language_code, e)

    def routes(self) -> list[BaseRoute]:
        """The webhook route for the ASGI app (none in polling mode)."""
        if not self.webhook_url:
            return []
        return [Route(self.webhook_path, self.webhook_endpoint, methods=["POST"])]

    async def webhook_endpoint(self, request: HttpRequest) -> Response:
        """Verify Telegram's secret header, then queue the update for the Application."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.webhook_secret.encode()):
            return JSONResponse({"ok": False, "error": "forbidden"}, status_code=403)
        try:
            body = await read_capped(request)
        except BodyTooLarge:
            return JSONResponse({"ok": False, "error": "body too large"}, status_code=413)
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("an update is a JSON object with an integer update_id")
            update = Update.de_json(data, self.application.bot)
        except Exception as e:  # any unreadable body is the sender's problem: 400, never 500
            log.warning("webhook: unreadable update: %s: %s", type(e).__name__, e)
            return JSONResponse({"ok": False, "error": "bad update"}, status_code=400)
        await self.application.update_queue.put(update)
        return JSONResponse({"ok": True})

    # -- handlers -------------------------------------------------------------

    async def on_command(self, update: Update, context: Context) -> None:
        """A /command (private, group ``/cmd@bot``, channel post) -> command layer -> reply."""
        message = update.effective_message
        if message is None or not message.text:
            return
        name, args = _command_of(message)
        reply = await self.commands.handle(_request_from_message(message, name, args))
        await self.send(message, reply)

    async def on_message_text(self, update: Update, context: Context) -> None:
        """Text: a known ``/command`` anywhere; an unknown one only in private (in a group it is
        probably another bot's); ``/cmd@otherbot`` never; plain text in private like a sector."""
        message = update.effective_message
        if message is None or not message.text:
            return
        parsed = parse_command(message.text)
        private = message.chat.type == ChatType.PRIVATE and update.message is not None
        if parsed is None:
            if private and not message.text.startswith("/"):
                await self.on_text(update, context)
            elif private:
                await self.on_command(update, context)  # "/ something": the usage hint
            return
        name, target, _ = parsed
        own = (self.application.bot.username or "").lower()
        if target and target != own:
            return  # addressed to another bot, in any chat
        if name in self.commands.command_names or private:
            await self.on_command(update, context)

    async def on_text(self, update: Update, context: Context) -> None:
        """Plain text in a private chat: a sector name answers like its command."""
        message = update.effective_message
        if message is None or not message.text:
            return
        reply = await self.commands.handle(_request_from_message(message, "", ()))
        await self.send(message, reply)

    async def on_callback(self, update: Update, context: Context) -> None:
        """A button press: ``action:value`` -> command layer; answered, then sent or edited."""
        query = update.callback_query
        if query is None:
            return
        message = query.message if isinstance(query.message, Message) else None
        action, _, value = (query.data or "").partition(":")
        if message is None:
            await query.answer()
            return
        base = _request_from_message(message, "", ())
        user = query.from_user
        request = Request(
            platform=PLATFORM,
            chat=base.chat,
            chat_kind=base.chat_kind,
            user_id=str(user.id),
            text=query.data or "",
            language_code=user.language_code,
            chat_title=base.chat_title,
        )
        if self.publisher is not None and self.publisher.handles(action):
            reply = await self.publisher.act(request, action, value)
        else:
            reply = await self.commands.handle_action(request, action, value)
        toast = reply.notice if 0 < len(reply.notice) <= TOAST_MAX else None
        await query.answer(text=toast)
        if reply.edit and reply.documents and await self._edit(message, reply.documents[0]):
            rest = Reply(documents=reply.documents[1:])
            await self.send(message, rest)
            return
        await self.send(message, reply, include_notice=toast is None)

    async def on_document(self, update: Update, context: Context) -> None:
        """A document in a private chat: an operator's issue upload (see :mod:`briefcast.bot.publish`)."""
        message = update.effective_message
        if message is None or message.document is None or self.publisher is None:
            return
        document = message.document
        request = _request_from_message(message, "", ())
        upload = UploadInfo(document.file_name or "document", document.file_size, document.mime_type or "")
        refused = self.publisher.screen(request, upload)
        if refused is not None:
            await self.send(message, refused)
            return
        try:
            file = await context.bot.get_file(document.file_id)
            data = bytes(await file.download_as_bytearray())
        except TelegramError as e:  # PTB wraps network failures too (NetworkError, TimedOut)
            log.warning("downloading the upload %r failed: %s", upload.name, e)
            await self.send(message, self.publisher.download_failed(request, upload))
            return
        result = await self.publisher.receive(request, upload, data)
        rejected = await self.send_preview(message, result.preview)
        if rejected:
            count, reason = rejected
            await self.send(message, self.publisher.preview_rejected(request, count, reason))
        await self.send(message, result.reply)

    async def send_preview(
        self, message: Message, payloads: Sequence[dict[str, Any]]
    ) -> tuple[int, str] | None:
        """Send the preview messages; one Telegram refuses is counted, not fatal: ``(count, reason)``."""
        refused: list[str] = []
        for payload in payloads:
            try:
                await self.send_payloads(message, [payload])
            except BadRequest as e:
                log.warning("a preview message was refused: %s", e)
                refused.append(str(e))
        return (len(refused), refused[0]) if refused else None

    async def _edit(self, message: Message, doc: Document) -> bool:
        """Replace the message that carried the button; False when it must be sent anew."""
        payloads = render_telegram.render(doc)
        if len(payloads) != 1:
            return False
        try:
            await message.edit_text(**payload_kwargs(payloads[0]))
        except BadRequest as e:
            if "not modified" in str(e).lower():
                return True
            log.info("editMessageText failed, sending instead: %s", e)
            return False
        return True

    async def on_my_chat_member(self, update: Update, context: Context) -> None:
        """The bot was blocked, kicked or left: deactivate; added back: record the chat."""
        change = update.my_chat_member
        if change is None:
            return
        chat = change.chat
        member = change.new_chat_member
        status = member.status
        left = status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT) or (
            isinstance(member, ChatMemberRestricted) and not member.is_member
        )
        if left:
            reason = (
                "blocked" if chat.type == ChatType.PRIVATE else ("kicked" if status == "kicked" else "left")
            )
            n = self.store.deactivate_chat(PLATFORM, str(chat.id), reason)
            log.info("telegram chat %s: bot %s, %d subscriptions deactivated", chat.id, reason, n)
        else:
            self.store.upsert_chat(
                ChatRef(PLATFORM, str(chat.id)), kind=str(chat.type), title=chat.title or chat.username or ""
            )
            if _joined_group(change.old_chat_member, member) and chat.type in (
                ChatType.GROUP,
                ChatType.SUPERGROUP,
            ):
                await self.welcome(change)

    async def welcome(self, change: ChatMemberUpdated) -> None:
        """The bot was just added to a group: one card with a subscribe button per sector."""
        chat = change.chat
        user = change.from_user
        request = Request(
            platform=PLATFORM,
            chat=ChatRef(PLATFORM, str(chat.id)),
            chat_kind=str(chat.type),
            user_id=str(user.id),
            language_code=user.language_code,
            chat_title=chat.title or chat.username or "",
            is_forum=bool(chat.is_forum),
        )
        try:
            await self._send_json(chat.id, None, True, reply_payloads(self.commands.welcome(request)))
        except TelegramError as e:  # no right to post after all: the group simply has no card
            log.info("welcome card in %s not sent: %s", chat.id, e)

    async def on_migrate(self, update: Update, context: Context) -> None:
        """Group upgraded to a supergroup: move its subscriptions to the new chat id."""
        message = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id is not None:
            old, new = message.chat.id, message.migrate_to_chat_id
        elif message.migrate_from_chat_id is not None:
            old, new = message.migrate_from_chat_id, message.chat.id
        else:
            return
        n = self.store.migrate_chat(PLATFORM, str(old), str(new))
        if n:
            log.info("telegram chat %s migrated to %s (%d subscriptions)", old, new, n)

    async def on_error(self, update: object, context: Context) -> None:
        """The one error handler: log it; a 403 on a reply means the chat is gone, so deactivate it.

        Nothing is sent to the chat: the command layer already turned handler
        failures into an apology, so what reaches here is transport trouble.
        """
        error = context.error
        chat = update.effective_chat if isinstance(update, Update) else None
        if isinstance(error, Forbidden) and chat is not None:
            reason = "blocked" if chat.type == ChatType.PRIVATE else "kicked"
            n = self.store.deactivate_chat(PLATFORM, str(chat.id), reason)
            log.info("telegram chat %s answered 403 (%s); %d subscriptions deactivated", chat.id, error, n)
            return
        log.error("telegram update %s failed", getattr(update, "update_id", "?"), exc_info=error)

    # -- sending --------------------------------------------------------------

    async def send(self, message: Message, reply: Reply, *, include_notice: bool = True) -> None:
        """Send a reply into the chat (and forum topic) the message came from."""
        await self.send_payloads(message, reply_payloads(reply, include_notice=include_notice))

    async def send_payloads(self, message: Message, payloads: Sequence[dict[str, Any]]) -> None:
        """sendMessage each renderer payload into the message's chat and topic, in order.

        The renderer's payloads are already Bot API JSON, so they go out as they are through
        ``do_api_request`` (PTB's request layer: same errors, ``RetryAfter`` included) instead of
        ``send_message``: no ``InlineKeyboardMarkup`` built from the JSON only to be serialised
        back, no ``Message`` parsed from a result nobody reads. Profiled at 200 commands/s, that
        was a third of the reply path's CPU (docs/benchmarks.md, command latency).
        """
        await self._send_json(
            message.chat.id, _thread_of(message), message.chat.type != ChatType.PRIVATE, payloads
        )

    async def _send_json(
        self, chat_id: int, thread: int | None, group: bool, payloads: Sequence[dict[str, Any]]
    ) -> None:
        for payload in payloads:
            if self.on_reply is not None:
                self.on_reply(str(chat_id), group)
            params = dict(payload)
            params["chat_id"] = chat_id
            if thread is not None:
                params["message_thread_id"] = thread
            first = time.monotonic()
            while True:
                await self.pacer.turn()
                try:
                    await send_message_json(self.application.bot, params)
                    break
                except RetryAfter as e:
                    wait = _seconds(e.retry_after)
                    if time.monotonic() + wait - first > MAX_REPLY_AGE:
                        log.error(
                            "reply to %s given up after %.0f s of flood control", chat_id, MAX_REPLY_AGE
                        )
                        raise
                    self.pacer.pause(wait)


def _in_chat(member: ChatMember) -> bool:
    """Whether a ChatMember status means "is in the chat" (restricted members may be in or out)."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status not in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)


def _joined_group(old: ChatMember, new: ChatMember) -> bool:
    """The bot went from outside the chat to inside it (not a promotion or a demotion)."""
    return not _in_chat(old) and _in_chat(new)


def _seconds(value: float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
