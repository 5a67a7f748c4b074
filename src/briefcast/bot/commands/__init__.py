"""Platform-neutral bot commands: a :class:`Request` in, a :class:`Reply` out.

Every command is declared once with :func:`command` (names, aliases, zh/en
descriptions, usage, whether it changes subscriptions); sector commands come
from the sector catalogue. Adapters (Telegram, Slack) only translate: they build
a :class:`Request` from a platform update, call :meth:`Commands.handle` or
:meth:`Commands.handle_action` (button callbacks), and render the reply's
:class:`~briefcast.render.document.Document` objects with their renderer.
Whatever needs the platform (admin checks, resolving ``@channel``) goes through
the small :class:`PlatformOps` protocol the adapter implements.

The package, one module per concern:

- :mod:`.core`: Request, Reply, CommandSpec, the ``@command`` and action registries, errors, protocols
- :mod:`.parsing`: command arguments (subscribe, time, zone, watch, settings)
- :mod:`.router`: :class:`Commands`, the dispatcher, and the helpers handlers share
- :mod:`.reading`, :mod:`.subscriptions`, :mod:`.watches`, :mod:`.settings`, :mod:`.topics`:
  the ``@command`` handlers, imported here in help/menu order
- :mod:`.actions`: the button handlers

Importing this package registers every command. None of it imports ``telegram`` or ``slack_*``.
"""

from __future__ import annotations

# the handler modules register their commands on import: this order is the /help and menu order
# isort: off
from briefcast.bot.commands import reading
from briefcast.bot.commands import subscriptions
from briefcast.bot.commands import watches
from briefcast.bot.commands import settings
from briefcast.bot.commands import topics
from briefcast.bot.commands import actions

# isort: on
from briefcast.bot.commands.core import (
    _ACTIONS,
    _STATIC,
    ADMIN_ACTIONS,
    LATEST_MAX_AGE,
    PRIVATE_KINDS,
    TOPIC_COLORS,
    TOPIC_NAME_MAX,
    ActionHandler,
    ChannelInfo,
    ChatKind,
    CommandSpec,
    CommandStore,
    ForumOps,
    Handler,
    PlatformOps,
    Refusal,
    Reply,
    Request,
    TopicError,
    UsageError,
    command,
)
from briefcast.bot.commands.parsing import (
    SettingsArgs,
    SubscribeArgs,
    parse_settings_args,
    parse_subscribe_args,
    parse_time,
    parse_timezone,
    parse_watch_args,
)
from briefcast.bot.commands.reading import published
from briefcast.bot.commands.router import Commands

__all__ = [
    "ADMIN_ACTIONS",
    "LATEST_MAX_AGE",
    "PRIVATE_KINDS",
    "TOPIC_COLORS",
    "TOPIC_NAME_MAX",
    "_ACTIONS",
    "_STATIC",
    "ActionHandler",
    "ChannelInfo",
    "ChatKind",
    "CommandSpec",
    "CommandStore",
    "Commands",
    "ForumOps",
    "Handler",
    "PlatformOps",
    "Refusal",
    "Reply",
    "Request",
    "SettingsArgs",
    "SubscribeArgs",
    "TopicError",
    "UsageError",
    "actions",
    "command",
    "parse_settings_args",
    "parse_subscribe_args",
    "parse_time",
    "parse_timezone",
    "parse_watch_args",
    "published",
    "reading",
    "settings",
    "subscriptions",
    "topics",
    "watches",
]
