"""Settings: the file and the environment through pydantic-settings sources, typed and coerced."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefcast.config import ConfigError, Secret, Settings, load_settings
from briefcast.logs import settings_secrets


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "briefcast.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_are_coerced_to_their_types(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        """
[briefcast]
http_port = "8080"
log_json = "yes"
default_time = "7:30"
default_timezone = "asia/shanghai"

[telegram]
operators = "11, 22 33"
commands_per_minute = "40"

[delivery]
lease_seconds = "90"

[newsletter]
sponsor_headings = ["赞助", "Partners"]
""",
    )
    s = load_settings({}, path)
    assert s.http_port == 8080 and isinstance(s.http_port, int)
    assert s.log_json is True
    assert (s.default_time, s.default_timezone) == ("07:30", "Asia/Shanghai")
    assert s.telegram.operators == ("11", "22", "33")
    assert s.telegram.commands_per_minute == 40
    assert s.delivery.lease_seconds == 90.0
    assert s.newsletter.sponsor_headings == ("赞助", "Partners")
    assert s.config_file == str(path)


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[briefcast]\nhttp_port = 8000\n[telegram]\napi_url = "http://file/bot"\n')
    env = {
        "BRIEFCAST_HTTP_PORT": "9001",
        "TELEGRAM_BOT_TOKEN": "123456:abc",
        "BRIEFCAST_TELEGRAM_API_URL": "",
    }
    s = load_settings(env, path)
    assert s.http_port == 9001
    assert s.telegram.token.get() == "123456:abc"
    assert s.telegram.api_url == "http://file/bot"  # an empty variable counts as unset


def test_a_bad_value_names_the_setting_and_never_shows_a_secret(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[briefcast]\nhttp_port = "eighty"\n')
    with pytest.raises(ConfigError) as bad:
        load_settings({"SLACK_BOT_TOKEN": "xoxb-very-secret"}, path)
    assert "http_port" in str(bad.value) and "eighty" in str(bad.value)
    with pytest.raises(ConfigError) as secret:
        load_settings({}, _toml(tmp_path, "[slack]\nbot_token = 12\nsigning_secret = [1]\n"))
    text = str(secret.value)
    assert "slack.signing_secret" in text and "[1]" not in text


def test_settings_built_in_code_read_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:from-the-environment")
    monkeypatch.setenv("BRIEFCAST_HTTP_PORT", "1")
    s = Settings()
    assert not s.telegram.token and s.http_port == 8080


def test_secrets_do_not_print_and_are_found_for_redaction() -> None:
    s = Settings(api_token=Secret("api-secret-value"))
    s = s.model_copy(update={"telegram": s.telegram.model_copy(update={"token": Secret("123456:tg-secret")})})
    for shown in (repr(s), str(s), repr(s.telegram), s.model_dump_json()):
        assert "api-secret-value" not in shown and "tg-secret" not in shown
    assert sorted(settings_secrets(s)) == ["123456:tg-secret", "api-secret-value"]


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({"BRIEFCAST_CONFIG": str(tmp_path / "missing.toml")})
    assert load_settings({}, None).config_file in ("", "config/briefcast.toml")
