"""The fake Slack Web API (``python -m briefcast.emulators.slack --port 8082``).

:mod:`.server` is the HTTP front (routes, response_url, bound builders), :mod:`.methods` the Web API
methods, :mod:`.state` the records and the tests' configuration API, :mod:`.payloads` the builders
of signed requests for bolt in HTTP mode. Block Kit is checked by :mod:`briefcast.render.blockkit`.
"""

from briefcast.emulators.slack.payloads import (
    app_home_opened_event,
    app_mention_event,
    block_actions_payload,
    event_callback,
    form_body,
    member_joined_channel_event,
    message_im_event,
    sign,
    slash_command_body,
    url_verification,
)
from briefcast.emulators.slack.server import FakeSlack, main
from briefcast.emulators.slack.state import DEFAULT_TOKEN, SlackLimits, SlackMessage, SlackResponse

__all__ = [
    "DEFAULT_TOKEN",
    "FakeSlack",
    "SlackLimits",
    "SlackMessage",
    "SlackResponse",
    "app_home_opened_event",
    "app_mention_event",
    "block_actions_payload",
    "event_callback",
    "form_body",
    "main",
    "member_joined_channel_event",
    "message_im_event",
    "sign",
    "slash_command_body",
    "url_verification",
]
