"""The Telegram side of ``briefcast run``: the PTB ``Application``'s handlers, lifecycle and webhook route."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlparse

from starlette.requests import Request as HttpRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import BotCommand, ChatMemberRestricted, ChatMemberUpdated, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, ChatMemberHandler, MessageHandler, filters

from briefcast.bot.commands import Commands, CommandStore, Reply, Request
from briefcast.bot.inbound import BodyTooLarge, read_capped
from briefcast.bot.publish import PublishFlow, UploadInfo
from briefcast.bot.telegram.messages import (
    PLATFORM,
    command_of,
    joined_group,
    parse_command,
    request_from_message,
)
from briefcast.bot.telegram.ops import TelegramOps
from briefcast.bot.telegram.ptb import Context, build_application, quiet_http_logs
from briefcast.bot.telegram.send import ReplyPacer, ReplySender, reply_payloads
from briefcast.briefing.sectors import SectorCatalogue, default_catalogue
from briefcast.config import Settings
from briefcast.ingest.service import IngestService
from briefcast.store import Store
from briefcast.store.records import ChatRef

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_WEBHOOK_PATH = "/telegram/webhook"
ALLOWED_UPDATES: tuple[str, ...] = ("message", "channel_post", "callback_query", "my_chat_member")
TOAST_MAX = 200
# The largest file the Bot API lets a bot download with getFile.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


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
        self.replies = ReplySender(self.application.bot, self.pacer)
        self.started = False
        self._install_handlers()

    @property
    def on_reply(self) -> Callable[[str, bool], None] | None:
        """Called with (chat id, is a group/channel) before each reply: the same bot token's flood
        budget as the deliveries, so ``briefcast run`` lets its engine pace around the replies."""
        return self.replies.on_reply

    @on_reply.setter
    def on_reply(self, hook: Callable[[str, bool], None] | None) -> None:
        self.replies.on_reply = hook

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
        name, args = command_of(message)
        reply = await self.commands.handle(request_from_message(message, name, args))
        await self.replies.send(message, reply)

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
        reply = await self.commands.handle(request_from_message(message, "", ()))
        await self.replies.send(message, reply)

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
        base = request_from_message(message, "", ())
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
        if reply.edit and reply.documents and await self.replies.edit(message, reply.documents[0]):
            rest = Reply(documents=reply.documents[1:])
            await self.replies.send(message, rest)
            return
        await self.replies.send(message, reply, include_notice=toast is None)

    async def on_document(self, update: Update, context: Context) -> None:
        """A document in a private chat: an operator's issue upload (see :mod:`briefcast.bot.publish`)."""
        message = update.effective_message
        if message is None or message.document is None or self.publisher is None:
            return
        document = message.document
        request = request_from_message(message, "", ())
        upload = UploadInfo(document.file_name or "document", document.file_size, document.mime_type or "")
        refused = self.publisher.screen(request, upload)
        if refused is not None:
            await self.replies.send(message, refused)
            return
        try:
            file = await context.bot.get_file(document.file_id)
            data = bytes(await file.download_as_bytearray())
        except TelegramError as e:  # PTB wraps network failures too (NetworkError, TimedOut)
            log.warning("downloading the upload %r failed: %s", upload.name, e)
            await self.replies.send(message, self.publisher.download_failed(request, upload))
            return
        result = await self.publisher.receive(request, upload, data)
        rejected = await self.replies.send_preview(message, result.preview)
        if rejected:
            count, reason = rejected
            await self.replies.send(message, self.publisher.preview_rejected(request, count, reason))
        await self.replies.send(message, result.reply)

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
            n = await asyncio.to_thread(self.store.deactivate_chat, PLATFORM, str(chat.id), reason)
            log.info("telegram chat %s: bot %s, %d subscriptions deactivated", chat.id, reason, n)
        else:
            await asyncio.to_thread(
                self.store.upsert_chat,
                ChatRef(PLATFORM, str(chat.id)),
                kind=str(chat.type),
                title=chat.title or chat.username or "",
            )
            if joined_group(change.old_chat_member, member) and chat.type in (
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
            await self.replies.send_json(chat.id, None, True, reply_payloads(self.commands.welcome(request)))
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
        n = await asyncio.to_thread(self.store.migrate_chat, PLATFORM, str(old), str(new))
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
            n = await asyncio.to_thread(self.store.deactivate_chat, PLATFORM, str(chat.id), reason)
            log.info("telegram chat %s answered 403 (%s); %d subscriptions deactivated", chat.id, error, n)
            return
        log.error("telegram update %s failed", getattr(update, "update_id", "?"), exc_info=error)
