"""Slack adapter: a bolt ``AsyncApp`` around the platform-neutral command layer.

The adapter only translates. A slash command (``/briefing energy``), an
``@briefcast`` mention, a direct message or a button press becomes a neutral
:class:`~briefcast.bot.commands.Request`; the :class:`~briefcast.bot.commands.Reply`
is rendered with :func:`briefcast.render.slack.render` and sent back:

* ephemeral replies (the default for queries) go to the asking user only:
  ``respond()`` on the slash command's / button's ``response_url``,
  ``chat.postEphemeral`` for mentions;
* public replies (``/briefing energy public``, subscription changes) are posted
  in the channel with ``chat.postMessage``; when the bot is not in the channel
  the slash command's ``response_url`` posts ``in_channel`` instead.

Who may change a channel's subscriptions is the ``subscribe_permission``
setting, applied through :class:`SlackOps` (the layer's ``PlatformOps``):
``anyone`` in the channel, workspace ``admins`` (``users.info`` is_admin /
is_owner) or listed ``users``. Replies use the user's Slack locale
(``users.info include_locale``), else the configured default language.

Transport: HTTP mode serves ``POST /slack/events`` on the project's one ASGI
app (bolt verifies ``X-Slack-Signature``; bad or stale signatures get 401);
Socket Mode is used when an app-level token is configured. With a client id
and secret the app installs into many workspaces (OAuth at ``/slack/install``
and ``/slack/oauth_redirect``, installations in the project database through
slack-sdk's SQLAlchemy stores).

Every Web API call goes through the listener's own ``client`` (bolt binds it
to the workspace's token), so one process serves every installed workspace.
The command layer's Web API calls (permission checks, channel lookups) get the
same client explicitly: one global middleware, :meth:`SlackBot.bind_workspace`,
puts a :class:`Workspace` (a :class:`SlackOps` bound to ``context.client`` and
the command layer using it) into the bolt ``context`` of each request, and the
listeners use that; no listener binds a client, and there is no ContextVar.

Document upload: a ``.md`` / ``.html`` file shared in a DM with the app
(``message`` event, subtype ``file_share``) is handed to
:class:`~briefcast.bot.publish.PublishFlow`; this adapter only reads
``files.info``, downloads ``url_private_download`` with the bot token and posts
what the flow returns (preview, summary with the three buttons).

The modules: ``app`` (:class:`SlackBot`: the bolt app, routes, middleware, listeners),
``ops`` (:class:`SlackOps`), ``send`` (replies), ``home`` (the Home tab), ``files``
(uploads), ``events`` (the ``/slack/events`` guard), ``oauth`` (installation stores) and
``common`` (names and parsing they share).
"""

from briefcast.bot.slack.app import SlackBot
from briefcast.bot.slack.common import SLASH_COMMAND, split_command
from briefcast.bot.slack.files import DownloadError, download_file
from briefcast.bot.slack.oauth import BOT_SCOPES, oauth_stores

__all__ = [
    "BOT_SCOPES",
    "SLASH_COMMAND",
    "DownloadError",
    "SlackBot",
    "download_file",
    "oauth_stores",
    "split_command",
]
