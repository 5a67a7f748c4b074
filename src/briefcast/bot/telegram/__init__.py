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

The modules: ``app`` (:class:`TelegramBot`: handlers, lifecycle, webhook route), ``ptb`` (the
``Application`` builder), ``ops`` (:class:`TelegramOps`, forum topics included), ``messages``
(updates -> requests, command parsing) and ``send`` (paced replies, edits). They import the
python-telegram-bot library absolutely (``from telegram import …``), never this package.
"""

from briefcast.bot.telegram.app import SECRET_HEADER, TelegramBot

__all__ = ["SECRET_HEADER", "TelegramBot"]
