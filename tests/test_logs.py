"""Structured logging: plain and JSON output, and no token ever reaches the formatted text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from briefcast.config import Secret, Settings, SlackSettings, TelegramSettings
from briefcast.logs import REDACTED, Redactor, configure_logging, make_handler, settings_secrets

TG_TOKEN = "7012345678:AAHk3vQ9c-Z_x1YbTqWw8uV0sJm2nLp4RfE"
SLACK_BOT = "xoxb-1234567890-0987654321098-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0ABCDEF-1234567890-0123456789abcdef0123456789abcdef"
API_TOKEN = "operator-api-token-42"
SIGNING = "8f14e45fceea167a5a36dedd4bea2543"


def settings(*, json_logs: bool) -> Settings:
    return Settings(
        log_json=json_logs,
        api_token=Secret(API_TOKEN),
        telegram=TelegramSettings(token=Secret(TG_TOKEN)),
        slack=SlackSettings(
            bot_token=Secret(SLACK_BOT), app_token=Secret(SLACK_APP), signing_secret=Secret(SIGNING)
        ),
    )


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("briefcast.test_logs")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    log.handlers.clear()


def emit_everything(log: logging.Logger) -> None:
    """Every way a secret reaches a log line: message, args, extras, exception text, URLs."""
    log.info("POST https://api.telegram.org/bot%s/sendMessage failed", TG_TOKEN)
    log.warning("slack client %s with app token %s", SLACK_BOT, SLACK_APP)
    log.info("settings api=%s signing=%s", API_TOKEN, SIGNING, extra={"token": TG_TOKEN})
    log.info("headers {'Authorization': 'Bearer %s'}", SLACK_BOT)
    try:
        raise RuntimeError(f"Invalid URL /file/bot{TG_TOKEN}/documents/file_1.md and {SIGNING}")
    except RuntimeError:
        log.exception("download failed")


SECRETS = (TG_TOKEN, SLACK_BOT, SLACK_APP, API_TOKEN, SIGNING, TG_TOKEN.split(":")[1])


@pytest.mark.parametrize("json_logs", [False, True])
def test_no_secret_in_formatted_output(logger: logging.Logger, json_logs: bool) -> None:
    out = io.StringIO()
    logger.addHandler(make_handler(settings(json_logs=json_logs), stream=out))
    emit_everything(logger)
    text = out.getvalue()
    assert text.count("\n") >= 5
    for secret in SECRETS:
        assert secret not in text
    assert REDACTED in text
    assert "/bot[REDACTED]/sendMessage" in text  # the URL stays readable, only the token goes
    assert "RuntimeError" in text  # the traceback is kept (redacted), not dropped


def test_json_lines_are_objects_with_fields(logger: logging.Logger) -> None:
    out = io.StringIO()
    logger.addHandler(make_handler(settings(json_logs=True), stream=out))
    logger.warning("delivery %s failed", 12, extra={"platform": "telegram", "attempt": 3})
    try:
        raise ValueError("boom")
    except ValueError:
        logger.error("oops", exc_info=True)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["level"] == "WARNING"
    assert first["logger"] == "briefcast.test_logs"
    assert first["message"] == "delivery 12 failed"
    assert first["platform"] == "telegram" and first["attempt"] == 3
    assert first["time"].endswith("+00:00")
    assert "ValueError: boom" in second["exception"]


def test_plain_format(logger: logging.Logger) -> None:
    out = io.StringIO()
    logger.addHandler(make_handler(settings(json_logs=False), stream=out))
    logger.info("hello %s", "world")
    line = out.getvalue().strip()
    assert line.endswith("INFO briefcast.test_logs: hello world")


def test_redactor_patterns_without_settings() -> None:
    redact = Redactor()
    assert redact(f"GET /bot{TG_TOKEN}/getMe") == f"GET /bot{REDACTED}/getMe"
    assert TG_TOKEN not in redact(f"token={TG_TOKEN}")
    assert redact(f"{SLACK_BOT} {SLACK_APP}") == f"{REDACTED} {REDACTED}"
    assert redact("xoxp-1-2-3-abc and xoxe.xoxp") == f"{REDACTED} and xoxe.xoxp"
    assert redact("plain text with 12:30 and bot/getMe") == "plain text with 12:30 and bot/getMe"


def test_settings_secrets_finds_nested_values() -> None:
    found = set(settings_secrets(settings(json_logs=False)))
    assert {TG_TOKEN, SLACK_BOT, SLACK_APP, API_TOKEN, SIGNING} <= found
    assert "" not in found


def test_configure_logging_replaces_its_own_handler() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        out = io.StringIO()
        configure_logging(settings(json_logs=True), stream=out)
        handler = configure_logging(settings(json_logs=True), stream=out)
        ours = [h for h in root.handlers if h.get_name() == "briefcast"]
        assert ours == [handler]
        logging.getLogger("briefcast.any").warning("token %s", TG_TOKEN)
        assert TG_TOKEN not in out.getvalue()
        assert json.loads(out.getvalue().splitlines()[-1])["message"] == f"token {REDACTED}"
    finally:
        for h in list(root.handlers):
            if h not in before:
                root.removeHandler(h)
        root.setLevel(level)
