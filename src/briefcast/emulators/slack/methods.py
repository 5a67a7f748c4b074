"""The fake Slack Web API's methods (``chat.postMessage``, ``views.publish``, OAuth, ...)."""

from __future__ import annotations

import base64
import functools
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from briefcast.emulators.limits import arrival
from briefcast.emulators.slack.state import (
    MAX_TEXT,
    SlackMessage,
    _as_bool,
    _Channel,
    _cursor,
    _Handler,
    _offset,
    _SlackError,
    _SlackState,
)
from briefcast.render.blockkit import MAX_BLOCKS, MAX_VIEW_BLOCKS, _text_errors, validate_blocks


class _SlackMethods(_SlackState):
    """The Web API methods, dispatched by name from :attr:`_methods`."""

    @functools.cached_property
    def _methods(self) -> dict[str, _Handler]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "views.publish": self._views_publish,
            "views.open": self._views_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.join": self._conversations_join,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "users.conversations": self._users_conversations,
            "team.info": self._team_info,
            "files.info": self._files_info,
        }

    # ---------------------------------------------------------------------------------------
    # Helpers (lock held)
    # ---------------------------------------------------------------------------------------
    def _next_ts(self) -> str:
        micros = max(int(time.time() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _channel_for_post(self, params: Mapping[str, Any]) -> _Channel:
        raw = str(params.get("channel") or "")
        if not raw:
            raise _SlackError("channel_not_found")
        if raw in self._channels:
            channel = self._channels[raw]
        elif raw.lstrip("#") and (named := self._by_name(raw.lstrip("#"))):
            channel = named
        elif raw in self._users:
            channel = self._open_im(raw)
        else:
            raise _SlackError("channel_not_found")
        if channel.is_archived:
            raise _SlackError("is_archived")
        if not channel.is_im and not channel.bot_member:
            raise _SlackError("channel_not_found" if channel.is_private else "not_in_channel")
        return channel

    def _by_name(self, name: str) -> _Channel | None:
        return next((c for c in self._channels.values() if c.name == name and not c.is_im), None)

    def _open_im(self, user_id: str) -> _Channel:
        existing = next((c for c in self._channels.values() if c.is_im and c.user == user_id), None)
        if existing:
            return existing
        channel = _Channel(
            f"D{next(self._ids):08d}", "", [user_id, self.bot_user_id], is_im=True, user=user_id
        )
        self._channels[channel.id] = channel
        return channel

    def _content(
        self, params: Mapping[str, Any], *, max_blocks: int = MAX_BLOCKS
    ) -> tuple[str, Any, list[str]]:
        """Validated (text, blocks, warnings) of a message body."""
        text = params.get("text")
        text = "" if text is None else str(text)
        blocks = params.get("blocks")
        if blocks in ("", None, []):
            blocks = None
        if not text and blocks is None and not params.get("attachments"):
            raise _SlackError("no_text")
        if blocks is not None:
            errors = validate_blocks(blocks, max_blocks=max_blocks)
            if errors:
                raise _SlackError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )
        warnings: list[str] = []
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT]
            warnings.append("message_truncated")
        return text, blocks, warnings

    def _charge(self, channel: _Channel) -> None:
        keys: list[tuple[str, Any]] = [("channel", channel.id), ("workspace", self.team_id)]
        check = self.limiter.acquire(keys)
        if not check.allowed:
            raise _SlackError("ratelimited", status=429, headers={"Retry-After": str(check.retry_after)})

    def _message_json(
        self, channel: _Channel, ts: str, text: str, blocks: Any, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": "A0FAKE",
            "text": text,
            "ts": ts,
            "team": self.team_id,
            "bot_profile": {"id": self.bot_id, "name": self.bot_name, "team_id": self.team_id},
        }
        if blocks is not None:
            message["blocks"] = blocks
        if params.get("thread_ts"):
            message["thread_ts"] = str(params["thread_ts"])
        if params.get("metadata"):
            message["metadata"] = params["metadata"]
        return message

    @staticmethod
    def _with_warnings(result: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
        if warnings:
            result["warning"] = ",".join(warnings)
            result["response_metadata"] = {"warnings": warnings}
        return result

    # ---------------------------------------------------------------------------------------
    # Methods (lock held)
    # ---------------------------------------------------------------------------------------
    def _auth_test(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        user_id = self._tokens[token]
        result: dict[str, Any] = {
            "url": "https://briefcast-test.slack.com/",
            "team": self.team_name,
            "user": self._users.get(user_id, {}).get("name", user_id),
            "team_id": self.team_id,
            "user_id": user_id,
            "is_enterprise_install": False,
        }
        if user_id == self.bot_user_id:
            result["bot_id"] = self.bot_id
        return result

    def _post_message(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._channel_for_post(params)
        text, blocks, warnings = self._content(params)
        self._charge(channel)
        ts = self._next_ts()
        message = self._message_json(channel, ts, text, blocks, params)
        self._messages[(channel.id, ts)] = message
        thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
        posted = SlackMessage(channel.id, ts, text, blocks, thread_ts, arrival(self.clock), dict(params))
        self.posted.append(posted)
        return self._with_warnings(
            {"channel": channel.id, "ts": ts, "message": json.loads(json.dumps(message))}, warnings
        )

    def _post_ephemeral(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._channel_for_post(params)
        user = str(params.get("user") or "")
        if user not in self._users:
            raise _SlackError("user_not_found")
        if not channel.is_im and user not in channel.members:
            raise _SlackError("user_not_in_channel")
        text, blocks, warnings = self._content(params)
        check = self.limiter.acquire([("workspace", self.team_id)])
        if not check.allowed:
            raise _SlackError("ratelimited", status=429, headers={"Retry-After": str(check.retry_after)})
        ts = self._next_ts()
        self.ephemerals.append(
            {"channel": channel.id, "user": user, "text": text, "blocks": blocks, "ts": ts, "t": self.clock()}
        )
        return self._with_warnings({"message_ts": ts}, warnings)

    def _own_message(self, params: Mapping[str, Any]) -> tuple[_Channel, dict[str, Any]]:
        channel = self._channel_for_post(params)
        ts = str(params.get("ts") or "")
        message = self._messages.get((channel.id, ts))
        if message is None:
            raise _SlackError("message_not_found")
        if message.get("bot_id") != self.bot_id:
            raise _SlackError("cant_update_message")
        locked = self._locked.get((channel.id, ts))
        if locked:
            raise _SlackError(locked)
        return channel, message

    def _chat_update(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel, message = self._own_message(params)
        text, blocks, warnings = self._content(params)
        message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self.updates.append(
            {"channel": channel.id, "ts": message["ts"], "text": text, "blocks": blocks, "t": self.clock()}
        )
        result = {
            "channel": channel.id,
            "ts": message["ts"],
            "text": text,
            "message": json.loads(json.dumps(message)),
        }
        return self._with_warnings(result, warnings)

    def _chat_delete(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel, message = self._own_message(params)
        del self._messages[(channel.id, message["ts"])]
        return {"channel": channel.id, "ts": message["ts"]}

    def _check_view(self, view: Any, expected: Sequence[str]) -> dict[str, Any]:
        if not isinstance(view, dict) or view.get("type") not in expected:
            raise _SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] invalid view type"]}
            )
        errors = validate_blocks(view.get("blocks", []), max_blocks=MAX_VIEW_BLOCKS)
        if view.get("type") == "modal":
            errors += _text_errors(view.get("title"), "/view/title", 24, plain_only=True)
        if errors:
            raise _SlackError(
                "invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]}
            )
        stored = {
            "id": f"V{next(self._ids):08d}",
            "team_id": self.team_id,
            "app_id": "A0FAKE",
            "bot_id": self.bot_id,
            "hash": uuid.uuid4().hex[:16],
            **view,
        }
        return stored

    def _views_publish(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        user = str(params.get("user_id") or "")
        if user not in self._users:
            raise _SlackError("user_not_found")
        view = self._check_view(params.get("view"), ("home",))
        self._home[user] = view
        self.views.append({"method": "views.publish", "user_id": user, "view": view, "t": self.clock()})
        return {"view": json.loads(json.dumps(view))}

    def _views_open(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        trigger = str(params.get("trigger_id") or "")
        if not trigger:
            raise _SlackError("invalid_arguments")
        view = self._check_view(params.get("view"), ("modal",))
        self.views.append({"method": "views.open", "trigger_id": trigger, "view": view, "t": self.clock()})
        return {"view": json.loads(json.dumps(view))}

    def _lookup_channel(self, params: Mapping[str, Any]) -> _Channel:
        channel = self._channels.get(str(params.get("channel") or ""))
        if channel is None or (channel.is_private and not channel.bot_member):
            raise _SlackError("channel_not_found")
        return channel

    def _conversations_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._lookup_channel(params)
        data = channel.to_json(num_members=_as_bool(params.get("include_num_members", False)))
        if _as_bool(params.get("include_locale", False)):
            data["locale"] = "en-US"
        return {"channel": data}

    def _conversations_members(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._lookup_channel(params)
        start = _offset(params.get("cursor"))
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        page = channel.members[start : start + limit]
        more = start + limit < len(channel.members)
        return {"members": page, "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""}}

    def _conversations_join(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        channel = self._channels.get(str(params.get("channel") or ""))
        if channel is None:
            raise _SlackError("channel_not_found")
        if channel.is_archived:
            raise _SlackError("is_archived")
        if channel.is_private or channel.is_im:
            raise _SlackError("method_not_supported_for_channel_type")
        result: dict[str, Any] = {}
        if channel.bot_member:
            result["warning"] = "already_in_channel"
            result["response_metadata"] = {"warnings": ["already_in_channel"]}
        else:
            channel.bot_member = True
            channel.members.append(self.bot_user_id)
        result["channel"] = channel.to_json()
        return result

    def _conversations_open(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise _SlackError("not_enough_users" if not users else "too_many_users")
        if users[0] not in self._users:
            raise _SlackError("user_not_found")
        return {"channel": {"id": self._open_im(users[0]).id}}

    def _users_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        user = self._users.get(str(params.get("user") or ""))
        if user is None:
            raise _SlackError("user_not_found")
        data = json.loads(json.dumps(user))
        if not _as_bool(params.get("include_locale", False)):
            data.pop("locale", None)
        return {"user": data}

    def _users_conversations(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        user = str(params.get("user") or self._tokens[token])
        types = set(str(params.get("types") or "public_channel").split(","))
        exclude_archived = _as_bool(params.get("exclude_archived", False))
        found = []
        for channel in self._channels.values():
            kind = "im" if channel.is_im else ("private_channel" if channel.is_private else "public_channel")
            if kind not in types or user not in channel.members:
                continue
            if exclude_archived and channel.is_archived:
                continue
            found.append(channel.to_json())
        start = _offset(params.get("cursor"))
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        more = start + limit < len(found)
        return {
            "channels": found[start : start + limit],
            "response_metadata": {"next_cursor": _cursor(start + limit) if more else ""},
        }

    # -- OAuth ------------------------------------------------------------------------------

    def add_oauth_app(self, client_id: str, client_secret: str, *, app_id: str = "A0BRIEFCAST") -> None:
        """Register a distributable Slack app whose installs this fake can complete."""
        with self._lock:
            self._oauth_apps[client_id] = (client_secret, app_id)

    def approve_install(self, client_id: str, *, redirect_uri: str = "") -> str:
        """The user pressed "Allow" on slack.com/oauth/v2/authorize: the one-time code Slack
        appends to the app's redirect URL (valid for 10 minutes, exchangeable once)."""
        with self._lock:
            if client_id not in self._oauth_apps:
                raise ValueError(f"unknown client_id {client_id!r}: call add_oauth_app first")
            code = f"{next(self._ids)}.{uuid.uuid4().hex}"
            self._oauth_codes[code] = (client_id, redirect_uri, self.clock())
            return code

    def _oauth_v2_access(self, request: web.Request, params: Mapping[str, Any]) -> dict[str, Any]:
        client_id = str(params.get("client_id") or "")
        secret = str(params.get("client_secret") or "")
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
            except ValueError:
                raise _SlackError("invalid_client_id") from None
        app = self._oauth_apps.get(client_id)
        if app is None:
            raise _SlackError("invalid_client_id")
        if secret != app[0]:
            raise _SlackError("bad_client_secret")
        code = str(params.get("code") or "")
        issued = self._oauth_codes.pop(code, None)  # a code works once, even when it fails later
        if issued is None or issued[0] != client_id or self.clock() - issued[2] > 600:
            raise _SlackError("invalid_code")
        redirect = str(params.get("redirect_uri") or "")
        if issued[1] and redirect != issued[1]:
            raise _SlackError("bad_redirect_uri")
        token = f"xoxb-{self.team_id}-{next(self._ids)}-{uuid.uuid4().hex[:24]}"
        self._tokens[token] = self.bot_user_id
        self.installed_tokens.append(token)
        installer = next((u for u in self._users if u != self.bot_user_id), "U0INSTALLER")
        return {
            "access_token": token,
            "token_type": "bot",
            "scope": "app_mentions:read,channels:read,chat:write,commands,im:history,im:write,users:read",
            "bot_user_id": self.bot_user_id,
            "app_id": app[1],
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": installer},
        }

    def _team_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {
            "team": {
                "id": self.team_id,
                "name": self.team_name,
                "domain": "briefcast-test",
                "email_domain": "",
                "icon": {"image_default": True},
            }
        }

    def _files_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        found = self._files.get(str(params.get("file") or ""))
        if found is None:
            raise _SlackError("file_not_found")
        return {"file": self._file_json(found)}
