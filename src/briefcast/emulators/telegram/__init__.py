"""The fake Telegram Bot API (``python -m briefcast.emulators.telegram --port 8081``).

:mod:`.server` is the HTTP front (routes, updates, webhooks' builders), :mod:`.methods` the Bot API
methods, :mod:`.state` the records and the tests' configuration API.
"""

from briefcast.emulators.telegram.server import FakeTelegram, main
from briefcast.emulators.telegram.state import (
    DEFAULT_TOKEN,
    MAX_CALLBACK_DATA,
    MAX_CAPTION,
    MAX_TEXT,
    SentDocument,
    SentMessage,
    TelegramLimits,
)

__all__ = [
    "DEFAULT_TOKEN",
    "MAX_CALLBACK_DATA",
    "MAX_CAPTION",
    "MAX_TEXT",
    "FakeTelegram",
    "SentDocument",
    "SentMessage",
    "TelegramLimits",
    "main",
]
