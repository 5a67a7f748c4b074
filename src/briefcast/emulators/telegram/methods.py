"""The fake Bot API's methods (``sendMessage``, ``getUpdates``, forum topics, ...), as Telegram answers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from briefcast.emulators._http import UploadedFile
from briefcast.emulators.limits import arrival
from briefcast.emulators.telegram.state import (
    _CHAT_ACTIONS,
    _COMMAND_NAME,
    _UPDATE_TYPES_NOT_DEFAULT,
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_TEXT,
    MAX_TOPIC_NAME,
    TOPIC_ICON_COLORS,
    SentDocument,
    SentMessage,
    _ApiError,
    _as_bool,
    _as_int,
    _bad,
    _Chat,
    _member_json,
    _TelegramState,
    _update_type,
)
from briefcast.render.telegram_entities import EntityParseError, parse_entities
from briefcast.render.telegram_entities import utf16_len as _utf16_len

_Handler = Callable[[dict[str, Any], dict[str, UploadedFile]], Any]


class _TelegramMethods(_TelegramState):
    """The Bot API methods, dispatched by name from :attr:`_methods`."""

    @functools.cached_property
    def _methods(self) -> dict[str, _Handler]:
        return {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setMyDescription": self._true,
                "setMyShortDescription": self._true,
                "setMyName": self._true,
                "setChatMenuButton": self._true,
                "sendMessage": self._send_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "deleteMessage": self._delete_message,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getChatAdministrators": self._get_chat_administrators,
                "sendDocument": self._send_document,
                "getFile": self._get_file,
                "sendChatAction": self._send_chat_action,
                "leaveChat": self._leave_chat,
                "createForumTopic": self._create_forum_topic,
                "closeForumTopic": self._close_forum_topic,
                "reopenForumTopic": self._reopen_forum_topic,
                "deleteForumTopic": self._delete_forum_topic,
            }.items()
        }

    # ---------------------------------------------------------------------------------------
    # Methods (called with the lock held, except getUpdates)
    # ---------------------------------------------------------------------------------------
    def _true(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return True

    def _get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _resolve_chat(self, params: Mapping[str, Any]) -> _Chat:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            found = next((c for c in self._chats.values() if c.username and f"@{c.username}" == raw), None)
        else:
            found = self._chats.get(_as_int(raw, "chat_id"))
        if found is None:
            raise _bad("chat not found")
        return found

    def _check_access(self, chat: _Chat, *, posting: bool = True) -> None:
        """Raise the error Telegram gives when the bot may not act in ``chat``."""
        if chat.migrated_to is not None:
            raise _bad(
                "group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": chat.migrated_to}
            )
        status = chat.bot_status
        if chat.type == "private":
            if status == "kicked" and posting:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            return
        if status == "kicked":
            raise _ApiError(403, f"Forbidden: bot was kicked from the {chat.kind}")
        if status == "left":
            raise _ApiError(403, f"Forbidden: bot is not a member of the {chat.kind}")
        if chat.type == "channel" and posting and status not in ("administrator", "creator"):
            raise _bad("need administrator rights in the channel chat")

    def _parse_text(
        self, params: Mapping[str, Any], key: str, limit: int
    ) -> tuple[str, list[dict[str, Any]]]:
        raw = params.get(key)
        text = "" if raw is None else str(raw)
        parse_mode = params.get("parse_mode") or None
        try:
            plain, entities = parse_entities(text, parse_mode)
        except EntityParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from None
        except ValueError:
            raise _bad("unsupported parse_mode") from None
        explicit = params.get("caption_entities" if key == "caption" else "entities")
        if parse_mode is None and isinstance(explicit, list):
            entities = list(explicit)
        if key == "text" and not plain.strip():
            raise _bad("message text is empty")
        if _utf16_len(plain) > limit:
            raise _bad("message is too long" if key == "text" else "message caption is too long")
        return plain, entities

    def _check_markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        for row in rows:
            for button in row:
                if not isinstance(button, dict) or not str(button.get("text", "")):
                    raise _bad("can't parse inline keyboard button: Text must be non-empty")
                data = button.get("callback_data")
                if data is not None:
                    size = len(str(data).encode("utf-8"))
                    if not 1 <= size <= MAX_CALLBACK_DATA:
                        raise _bad("BUTTON_DATA_INVALID")
                elif "url" in button:
                    if not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                        raise _bad("BUTTON_URL_INVALID")
                elif not any(k in button for k in ("web_app", "login_url", "switch_inline_query", "pay")):
                    raise _bad(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
        return markup

    def _check_thread(self, chat: _Chat, params: Mapping[str, Any]) -> int | None:
        raw = params.get("message_thread_id")
        if raw is None or raw == "":
            return None
        thread_id = _as_int(raw, "message_thread_id")
        if chat.is_forum and chat.topics and thread_id != 1 and thread_id not in chat.topics:
            raise _bad("message thread not found")
        info = chat.topic_info.get(thread_id)
        if info is not None and info["closed"] and not self._bot_right(chat, "can_manage_topics"):
            raise _bad("TOPIC_CLOSED")
        return thread_id

    def _charge(self, chat: _Chat, params: Mapping[str, Any]) -> None:
        paid = _as_bool(params.get("allow_paid_broadcast", False))
        keys: list[tuple[str, Any]] = [("paid" if paid else "bot", "bot")]
        keys.append(("private", chat.id) if chat.type == "private" else ("group", chat.id))
        check = self.limiter.acquire(keys)
        if not check.allowed:
            raise _ApiError(
                429,
                f"Too Many Requests: retry after {check.retry_after}",
                {"retry_after": check.retry_after},
            )

    def _new_bot_message(self, chat: _Chat, content: dict[str, Any], thread_id: int | None) -> dict[str, Any]:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        message: dict[str, Any] = {"message_id": message_id}
        if chat.type == "channel":
            message["sender_chat"] = chat.to_json()
        else:
            message["from"] = dict(self.bot_user)
        message.update(chat=chat.to_json(), date=int(time.time()))
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.is_forum:
                message["is_topic_message"] = True
        message.update(content)
        self._messages[(chat.id, message_id)] = message
        self._bot_messages.add((chat.id, message_id))
        return json.loads(json.dumps(message))  # type: ignore[no-any-return]

    def _send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        self._check_access(chat)
        thread_id = self._check_thread(chat, params)
        plain, entities = self._parse_text(params, "text", MAX_TEXT)
        markup = self._check_markup(params.get("reply_markup"))
        self._charge(chat, params)
        content: dict[str, Any] = {"text": plain}
        if entities:
            content["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            content["link_preview_options"] = params["link_preview_options"]
        if markup and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        message = self._new_bot_message(chat, content, thread_id)
        self.sent_messages.append(
            SentMessage(
                chat_id=chat.id,
                text=str(params.get("text", "")),
                parse_mode=params.get("parse_mode") or None,
                message_thread_id=thread_id,
                reply_markup=markup,
                message_id=message["message_id"],
                t=arrival(self.clock),
                plain=plain,
                entities=entities,
                params=dict(params),
            )
        )
        return message

    def _find_own_message(self, params: Mapping[str, Any], missing: str) -> tuple[_Chat, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params)
        self._check_access(chat, posting=False)
        message_id = _as_int(params.get("message_id"), "message_id") if params.get("message_id") else 0
        message = self._messages.get((chat.id, message_id))
        if message is None:
            raise _bad(missing)
        if (chat.id, message_id) not in self._bot_messages or (chat.id, message_id) in self._locked:
            raise _bad("message can't be edited")
        return chat, message

    def _edit_message_text(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat, message = self._find_own_message(params, "message to edit not found")
        plain, entities = self._parse_text(params, "text", MAX_TEXT)
        markup = self._check_markup(params.get("reply_markup"))
        new_markup = markup if markup and "inline_keyboard" in markup else None
        if (
            message.get("text") == plain
            and message.get("entities", []) == entities
            and message.get("reply_markup") == new_markup
        ):
            raise _bad(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        message["text"] = plain
        message.pop("entities", None)
        message.pop("reply_markup", None)
        if entities:
            message["entities"] = entities
        if new_markup:
            message["reply_markup"] = new_markup
        message["edit_date"] = int(time.time())
        self.edits.append({"method": "editMessageText", "chat_id": chat.id, **params, "t": self.clock()})
        return json.loads(json.dumps(message))  # type: ignore[no-any-return]

    def _edit_message_reply_markup(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat, message = self._find_own_message(params, "message to edit not found")
        markup = self._check_markup(params.get("reply_markup"))
        new_markup = markup if markup and "inline_keyboard" in markup and markup["inline_keyboard"] else None
        if message.get("reply_markup") == new_markup:
            raise _bad(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        message.pop("reply_markup", None)
        if new_markup:
            message["reply_markup"] = new_markup
        message["edit_date"] = int(time.time())
        self.edits.append(
            {"method": "editMessageReplyMarkup", "chat_id": chat.id, **params, "t": self.clock()}
        )
        return json.loads(json.dumps(message))

    def _answer_callback_query(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._callbacks:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        del self._callbacks[query_id]
        self.callback_answers.append({**params, "t": self.clock()})
        return True

    def _delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params)
        self._check_access(chat, posting=False)
        message_id = _as_int(params.get("message_id", 0), "message_id")
        if self._messages.pop((chat.id, message_id), None) is None:
            raise _bad("message to delete not found")
        self._bot_messages.discard((chat.id, message_id))
        self.deleted.append((chat.id, message_id))
        return True

    def _get_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        if chat.type != "private":
            self._check_access(chat, posting=False)
        return {
            **chat.to_json(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _status_of(self, chat: _Chat, user_id: int) -> str | None:
        if user_id == self.bot_user["id"]:
            return chat.bot_status
        status = self._members.get((chat.id, user_id))
        if status is None and chat.type == "private" and user_id == chat.id:
            return "member"
        return status

    def _get_chat_member(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        self._check_access(chat, posting=False)
        user_id = _as_int(params.get("user_id"), "user_id")
        status = self._status_of(chat, user_id)
        if user_id == self.bot_user["id"]:
            user = self.bot_user
        elif user_id in self._users:
            user = self._users[user_id]
        else:
            raise _bad("user not found")
        rights = chat.bot_rights if user_id == self.bot_user["id"] else None
        return _member_json(user, status or "left", channel=chat.type == "channel", rights=rights)

    def _get_chat_administrators(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> list[dict[str, Any]]:
        chat = self._resolve_chat(params)
        if chat.type == "private":
            raise _bad("there are no administrators in the private chat")
        self._check_access(chat, posting=False)
        admins = [
            _member_json(self._users[user_id], status, channel=chat.type == "channel")
            for (chat_id, user_id), status in self._members.items()
            if chat_id == chat.id and status in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(
                _member_json(
                    self.bot_user, "administrator", channel=chat.type == "channel", rights=chat.bot_rights
                )
            )
        return admins

    # -- forum topics ---------------------------------------------------------------------
    def _bot_right(self, chat: _Chat, right: str) -> bool:
        """Whether the bot holds an administrator right in ``chat`` (the creator holds them all)."""
        if chat.bot_status == "creator":
            return True
        if chat.bot_status != "administrator":
            return False
        return bool(_member_json(self.bot_user, "administrator", rights=chat.bot_rights).get(right))

    def _forum(self, params: Mapping[str, Any]) -> _Chat:
        chat = self._resolve_chat(params)
        self._check_access(chat, posting=False)
        if chat.type != "supergroup" or not chat.is_forum:
            raise _bad("the chat is not a forum")
        return chat

    def _topic_of(self, chat: _Chat, params: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        raw = params.get("message_thread_id")
        thread_id = _as_int(raw, "message_thread_id") if raw not in (None, "") else 0
        info = chat.topic_info.get(thread_id)
        if info is None:
            raise _bad("TOPIC_ID_INVALID")
        return thread_id, info

    def _create_forum_topic(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._forum(params)
        if not self._bot_right(chat, "can_manage_topics"):
            raise _bad("not enough rights to create a topic")
        name = str(params.get("name") or "")
        if not name.strip():
            raise _bad("TOPIC_TITLE_EMPTY")
        if len(name) > MAX_TOPIC_NAME:
            raise _bad("TOPIC_TITLE_TOO_LONG")
        color = _as_int(params.get("icon_color", 0x6FB9F0), "icon_color")
        if color not in TOPIC_ICON_COLORS:
            raise _bad("invalid icon_color specified")
        created = {"name": name, "icon_color": color}
        service = self._new_bot_message(chat, {"forum_topic_created": dict(created)}, None)
        thread_id = int(service["message_id"])
        service["message_thread_id"] = thread_id
        service["is_topic_message"] = True
        self._messages[(chat.id, thread_id)] = service
        chat.topics.add(thread_id)
        chat.topic_info[thread_id] = {**created, "closed": False, "by_bot": True}
        topic: dict[str, Any] = {"message_thread_id": thread_id, **created}
        if params.get("icon_custom_emoji_id"):
            topic["icon_custom_emoji_id"] = str(params["icon_custom_emoji_id"])
        return topic

    def _set_topic_closed(self, params: dict[str, Any], closed: bool) -> bool:
        chat = self._forum(params)
        thread_id, info = self._topic_of(chat, params)
        if chat.bot_status not in ("administrator", "creator") or not (
            info["by_bot"] or self._bot_right(chat, "can_manage_topics")
        ):
            raise _bad("not enough rights to manage topics")
        if info["closed"] == closed:
            raise _bad("TOPIC_NOT_MODIFIED")
        info["closed"] = closed
        event = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._new_bot_message(chat, {event: {}}, thread_id)
        return True

    def _close_forum_topic(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return self._set_topic_closed(params, True)

    def _reopen_forum_topic(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return self._set_topic_closed(params, False)

    def _delete_forum_topic(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._forum(params)
        thread_id, info = self._topic_of(chat, params)
        if chat.bot_status not in ("administrator", "creator") or not (
            info["by_bot"] or self._bot_right(chat, "can_delete_messages")
        ):
            raise _bad("not enough rights to delete a topic")
        del chat.topic_info[thread_id]
        chat.topics.discard(thread_id)
        for key in [
            k
            for k, m in self._messages.items()
            if k[0] == chat.id and m.get("message_thread_id") == thread_id
        ]:
            self._messages.pop(key, None)
            self._bot_messages.discard(key)
        return True

    def _send_document(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        self._check_access(chat)
        thread_id = self._check_thread(chat, params)
        upload = files.get("document")
        if upload is not None:
            if not upload.data:
                raise _bad("file must be non-empty")
            file_id = f"BQACAgIAAxkDAAI{next(self._file_ids):08d}"
            self.add_file(file_id, upload.data, upload.filename or "document", upload.content_type)
        else:
            file_id = str(params.get("document") or "")
            if not file_id:
                raise _bad("there is no document in the request")
            if file_id not in self._files:
                raise _bad("wrong file identifier/HTTP URL specified")
        caption, caption_entities = (
            self._parse_text(params, "caption", MAX_CAPTION) if params.get("caption") else ("", [])
        )
        markup = self._check_markup(params.get("reply_markup"))
        self._charge(chat, params)
        found = self._files[file_id]
        content: dict[str, Any] = {"document": self._document_json(found)}
        if caption:
            content["caption"] = caption
        if caption_entities:
            content["caption_entities"] = caption_entities
        if markup and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        message = self._new_bot_message(chat, content, thread_id)
        self.sent_documents.append(
            SentDocument(
                chat.id, file_id, found.name, found.data, caption or None, message["message_id"], self.clock()
            )
        )
        return message

    def _get_file(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        found = self._files.get(str(params.get("file_id", "")))
        if found is None:
            raise _bad("invalid file_id")
        if len(found.data) > 20 * 1024 * 1024:
            raise _bad("file is too big")
        return {
            "file_id": found.file_id,
            "file_unique_id": found.unique_id,
            "file_size": len(found.data),
            "file_path": found.path,
        }

    def _send_chat_action(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params)
        self._check_access(chat)
        action = str(params.get("action", ""))
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True

    def _leave_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._resolve_chat(params)
        if chat.type == "private":
            raise _bad("chat member status can't be changed in private chats")
        self._check_access(chat, posting=False)
        chat.bot_status = "left"
        return True

    # --- commands ------------------------------------------------------------------------------

    def _set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            description = str(command.get("description", "")) if isinstance(command, dict) else ""
            if not _COMMAND_NAME.match(name.lower()):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name.lower(), "description": description})
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands[key] = cleaned
        return True

    def _get_my_commands(
        self, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> list[dict[str, str]]:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return list(self._commands.get(key, []))

    def _delete_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    # --- updates and webhooks ----------------------------------------------------------------
    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        allowed = set(self._allowed_updates)
        kept = []
        for update in self._updates:
            kind = _update_type(update)
            if (kind in allowed) if allowed else (kind not in _UPDATE_TYPES_NOT_DEFAULT):
                kept.append(update)
        self._updates = kept  # updates of unwanted types are dropped, as Telegram never queues them
        return [json.loads(json.dumps(u)) for u in kept[:limit]]

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            if self._webhook.get("url"):
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self._confirm(_as_int(params.get("offset") or 0, "offset"))
            limit = min(max(_as_int(params.get("limit") or 100, "limit"), 1), 100)
            timeout = max(0.0, float(params.get("timeout") or 0))
            if isinstance(params.get("allowed_updates"), list):
                self._allowed_updates = [str(x) for x in params["allowed_updates"]]
            self._poll_generation += 1
            generation = self._poll_generation
        self._notifier.notify()  # wakes (and so terminates) an older poll

        def ready() -> bool:
            return self._closing or self._poll_generation != generation or bool(self._deliverable(limit))

        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await self._notifier.wait_for(ready, timeout)
        with self._lock:
            if self._poll_generation != generation:
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            return [] if self._closing else self._deliverable(limit)

    def _set_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        url = str(params.get("url") or "")
        if url and not re.match(r"^https?://", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if _as_bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        if not url:
            self._webhook = {}
            return True
        self._webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": int(params.get("max_connections") or 40),
        }
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = [str(x) for x in params["allowed_updates"]]
        self._spawn(self._deliver_webhook())
        return True

    def _delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        self._webhook = {}
        if _as_bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook.get("url"):
            info["max_connections"] = self._webhook["max_connections"]
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
            for key in ("last_error_date", "last_error_message"):
                if key in self._webhook:
                    info[key] = self._webhook[key]
        return info

    async def _deliver_webhook(self) -> None:
        """POST pending updates to the webhook in order; a failure leaves them pending."""
        if self._webhook_lock is None:
            self._webhook_lock = asyncio.Lock()
        async with self._webhook_lock:
            if self._session is None:
                self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
            while True:
                with self._lock:
                    url = self._webhook.get("url")
                    batch = self._deliverable(1) if url else []
                    secret = self._webhook.get("secret_token")
                if not url or not batch:
                    return
                update = batch[0]
                headers = {"X-Telegram-Bot-Api-Secret-Token": str(secret)} if secret else {}
                try:
                    async with self._session.post(str(url), json=update, headers=headers) as response:
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, error = 0, f"Connection failed: {exc}"
                else:
                    error = f"Wrong response from the webhook: {status}"
                with self._lock:
                    self.webhook_deliveries.append((int(update["update_id"]), status))
                    if 200 <= status < 300:
                        self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
                    else:
                        self._webhook["last_error_date"] = int(time.time())
                        self._webhook["last_error_message"] = error
                self._notifier.notify()
                if not 200 <= status < 300:
                    return
