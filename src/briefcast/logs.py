"""Logging set-up: plain or JSON lines, and a redaction pass no secret gets through.

Secrets leak into logs in three ways, and each is covered:

* URLs that embed a token: the Bot API puts it in the path (``/bot123:AA.../getMe``), and
  httpx/aiohttp log request URLs and put them in exception messages;
* tokens with a recognisable shape: Slack's ``xoxb-``/``xoxp-``/``xapp-`` tokens;
* any configured :class:`~briefcast.config.Secret` value (API token, signing secret, webhook
  secret, the playground's own token), replaced verbatim wherever it appears.

Redaction happens twice: a :class:`RedactingFilter` on the handler rewrites the record's
message and arguments (so other handlers attached later see clean records too), and the
formatters redact their *final* text, which also covers tracebacks and ``stack_info`` that
are only rendered at format time.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from pydantic import BaseModel

from briefcast.config import Secret, Settings

REDACTED = "[REDACTED]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Bot API URLs: /bot<token>/method and /file/bot<token>/path (token = digits:secret)
    (re.compile(r"(/bot)\d{3,}:[A-Za-z0-9_-]{10,}"), r"\1" + REDACTED),
    # a bare Telegram token anywhere else
    (re.compile(r"\b\d{6,}:[A-Za-z0-9_-]{30,}"), REDACTED),
    # Slack tokens: bot, user, app-level, legacy workspace/refresh tokens
    (re.compile(r"\bxox[abpeors]-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), REDACTED),
    # Authorization headers that end up in debug output
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?bearer\s+)[^\s'\",}]+"), r"\1" + REDACTED),
)
_MIN_SECRET = 4  # shorter "secrets" would redact ordinary words; config validation warns about them


def settings_secrets(settings: Settings) -> list[str]:
    """Every non-empty :class:`Secret` value in the settings (nested sections included)."""
    found: list[str] = []

    def visit(obj: BaseModel) -> None:
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if isinstance(value, Secret) and value:
                found.append(value.get())
            elif isinstance(value, BaseModel):
                visit(value)

    visit(settings)
    return found


class Redactor:
    """Replaces token-shaped strings and the known secret values in a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Register more secret values (longest first, so a secret containing another wins)."""
        merged = set(self._secrets) | {s for s in secrets if len(s) >= _MIN_SECRET}
        self._secrets = sorted(merged, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (with its arguments merged in) through a :class:`Redactor`."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a broken format string: keep what there is, redacted
            message = f"{record.msg} {record.args}"
        record.msg = self.redactor(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        return True


class PlainFormatter(logging.Formatter):
    """``2026-11-28 08:00:00,123 INFO briefcast.runtime: message`` — redacted after formatting."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, exception, extras.

    ``extra={...}`` fields passed to a log call become top-level keys (values that are not
    JSON-serialisable are converted with ``str``), so log pipelines can filter on them.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                data[key] = value
        return self.redactor(json.dumps(data, ensure_ascii=False, default=str))


def make_handler(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler with the configured format and redaction of the settings' secrets."""
    redactor = Redactor(settings_secrets(settings))
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(JsonFormatter(redactor) if settings.log_json else PlainFormatter(redactor))
    handler.set_name("briefcast")
    return handler


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """Install the briefcast handler on the root logger (replacing an earlier one); returns it.

    Call once at start-up, after the settings (and any playground overlay) are final, so every
    secret in use is known to the redactor. httpx is held at WARNING: it logs each request URL,
    and Bot API URLs contain the token (redacted anyway, but noisy).
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "briefcast"]:
        root.removeHandler(old)
    handler = make_handler(settings, stream=stream)
    root.addHandler(handler)
    install_excepthooks(Redactor(settings_secrets(settings)))
    root.setLevel(settings.log_level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return handler


def install_excepthooks(redactor: Redactor) -> None:
    """Redact the output paths that bypass logging: an uncaught exception's traceback (a library
    that quotes the token, e.g. python-telegram-bot's ``InvalidToken: The token `…` was rejected``),
    one in a thread, and warnings (routed through logging, hence through the redacting handler)."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        sys.stderr.write(redactor("".join(traceback.format_exception(exc_type, exc, tb))))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        text = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        sys.stderr.write(redactor(f"Exception in thread {name}:\n{text}"))

    sys.excepthook = hook
    threading.excepthook = thread_hook
    logging.captureWarnings(True)
