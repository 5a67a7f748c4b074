"""Typed settings: ``config/briefcast.toml`` (optional) overlaid by environment variables.

Environment always wins. The models are pydantic (``pydantic-settings`` for the sources), so
values are coerced and checked; secrets are :class:`Secret` (a ``SecretStr``), whose ``repr``
and ``str`` never show the value, so settings can be logged safely.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from briefcast.errors import ConfigError

if TYPE_CHECKING:
    from briefcast.briefing.parse import ParseOptions


class Secret(SecretStr):
    """A string that does not print itself (pydantic's :class:`~pydantic.SecretStr`).

    ``repr``/``str`` show asterisks, never the value, so settings can be logged safely;
    :meth:`get` is the one way to read it.
    """

    def get(self) -> str:
        return self.get_secret_value()

    def __repr__(self) -> str:
        return "Secret('**********')" if self else "Secret('')"

    __str__ = __repr__


def _no_secret() -> Secret:
    return Secret("")


def _words(value: object) -> object:
    """``"1, 2 3"`` (an environment variable or a TOML string) -> ``("1", "2", "3")``; lists kept."""
    if isinstance(value, str):
        return tuple(x.strip() for x in re.split(r"[,\s]+", value) if x.strip())
    if isinstance(value, list | tuple):
        return tuple(str(x) for x in value)
    return value


Words = Annotated[tuple[str, ...], BeforeValidator(_words)]


class _Section(BaseModel):
    """A ``[table]`` of the settings file: typed, coerced (``"8080"`` -> 8080), immutable."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class TelegramSettings(_Section):
    token: Secret = Field(default_factory=_no_secret)
    api_url: str = ""  # PTB base_url form, e.g. http://127.0.0.1:8081/bot
    webhook_url: str = ""
    webhook_secret: Secret = Field(default_factory=_no_secret)
    commands_per_minute: int = 20
    operators: Words = ()  # Telegram user ids allowed to publish
    paid_broadcast: bool = False


class SlackSettings(_Section):
    bot_token: Secret = Field(default_factory=_no_secret)
    app_token: Secret = Field(default_factory=_no_secret)
    signing_secret: Secret = Field(default_factory=_no_secret)
    client_id: str = ""
    client_secret: Secret = Field(default_factory=_no_secret)
    api_url: str = ""  # slack-sdk base_url form, e.g. http://127.0.0.1:8082/api/
    subscribe_permission: str = "anyone"  # anyone | admins | users
    subscribe_users: Words = ()
    operators: Words = ()
    commands_per_minute: int = 20


class DeliverySettings(_Section):
    grace_hours: float = 6.0
    max_attempts: int = 8
    concurrency: int = 32
    lease_seconds: float = 120.0
    sender_lease_seconds: float = 15.0  # a standby worker takes over sending this long after a crash
    telegram_global_per_second: float = 30.0
    telegram_paid_per_second: float = 1000.0
    telegram_chat_per_second: float = 1.0
    telegram_group_per_minute: float = 20.0
    slack_channel_per_second: float = 1.0
    variant: str = "full"  # full | compact


class NewsletterSettings(_Section):
    """How issues are read (``[newsletter]``); an issue's front matter may override per publisher.

    ``base_url`` resolves relative links and images (issues read from an http(s)
    URL use that URL when it is empty); ``intro`` places the text before the
    first section in a push: ``first`` (with the first section), ``separate``
    (its own message) or ``off`` (overview only); ``*_headings`` add heading
    words that mark sponsor, table-of-contents and legal sections.
    """

    base_url: str = ""
    intro: str = "first"
    sponsor_headings: Words = ()
    toc_headings: Words = ()
    legal_headings: Words = ()

    def parse_options(self) -> ParseOptions:
        from briefcast.briefing.parse import ParseOptions

        intro: Any = self.intro
        return ParseOptions(
            base_url=self.base_url,
            intro=intro,
            sponsor_headings=self.sponsor_headings,
            toc_headings=self.toc_headings,
            legal_headings=self.legal_headings,
        )


class Settings(BaseSettings):
    """Every setting. ``Settings(...)`` is exactly its arguments (defaults otherwise): it reads no
    environment and no file, so tests and tools build one explicitly; :func:`load_settings` layers
    the file and the environment (pydantic-settings sources) and validates the values."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    database_url: str = "sqlite:///./data/briefcast.db"
    default_language: str = "zh"
    default_timezone: str = "Asia/Shanghai"
    default_time: str = "08:00"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    api_token: Secret = Field(default_factory=_no_secret)
    public_url: str = ""  # where readers reach this server (archive, feeds, "read the whole issue")
    log_json: bool = False
    log_level: str = "INFO"
    sample_issue: str = ""
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    newsletter: NewsletterSettings = Field(default_factory=NewsletterSettings)
    sources: tuple[Mapping[str, Any], ...] = ()
    config_file: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the environment and the file come in through load_settings only

    @field_validator("public_url")
    @classmethod
    def _normalise_public_url(cls, value: str) -> str:
        base = normalise_public_url(value) if value else None
        return base if base is not None else value  # an invalid one is reported by validate()

    def checked(self) -> Settings:
        """Check the values; returns the settings with the time zone and time in canonical form.

        Times and zones go through the one validator the bots and the CLI use
        (:mod:`briefcast.store.validate`): ``asia/shanghai`` is ``Asia/Shanghai``, ``8:00`` is ``08:00``.
        """
        from briefcast.store.errors import StoreInputError
        from briefcast.store.validate import parse_time, parse_timezone

        if self.default_language not in ("zh", "en"):
            raise ConfigError(f"default_language must be 'zh' or 'en', not {self.default_language!r}")
        try:
            tz = parse_timezone(self.default_timezone)
        except StoreInputError:
            raise ConfigError(
                f"default_timezone {self.default_timezone!r} is not an IANA time zone"
            ) from None
        try:
            hhmm = parse_time(self.default_time)
        except StoreInputError:
            raise ConfigError(f"default_time must be HH:MM, not {self.default_time!r}") from None
        if self.public_url and normalise_public_url(self.public_url) is None:
            raise ConfigError(
                f"public_url must be an http(s) address such as https://briefing.example.com "
                f"(a domain name with a dot, or an IP address: Telegram refuses links to 'localhost'), "
                f"not {self.public_url!r}"
            )
        if self.slack.subscribe_permission not in ("anyone", "admins", "users"):
            raise ConfigError("slack.subscribe_permission must be anyone, admins or users")
        if self.newsletter.intro not in ("first", "separate", "off"):
            raise ConfigError(
                f"newsletter.intro must be first, separate or off, not {self.newsletter.intro!r}"
            )
        base = self.newsletter.base_url
        if base and not base.lower().startswith(("http://", "https://")):
            raise ConfigError(f"newsletter.base_url must be an http(s) URL, not {base!r}")
        if (tz, hhmm) != (self.default_timezone, self.default_time):
            return self.model_copy(update={"default_timezone": tz, "default_time": hhmm})
        return self


def normalise_public_url(value: str) -> str | None:
    """``value`` as a base URL (``http(s)://host[:port][/path]``, no trailing slash), or None if invalid."""
    v = value.strip()
    try:
        parts = urlsplit(v)
        parts.port  # noqa: B018  # raises ValueError for a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return None
    if parts.username or parts.password or any(c.isspace() for c in v):
        return None
    if "." not in parts.hostname and ":" not in parts.hostname:
        return None  # "localhost", "myhost": Telegram refuses such link buttons (BUTTON_URL_INVALID)
    return v.rstrip("/")


class _BriefcastToml(PydanticBaseSettingsSource):
    """``config/briefcast.toml``: ``[briefcast]`` holds the top-level settings, ``[telegram]``,
    ``[slack]``, ``[delivery]``, ``[newsletter]`` the sections, ``[[source]]`` the sources."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path, required: bool) -> None:
        super().__init__(settings_cls)
        self.path = path
        self.required = required

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ reads the whole file at once

    def __call__(self) -> dict[str, Any]:
        if not self.path.is_file():
            if self.required:
                raise ConfigError(f"config file {self.path} does not exist")
            return {}
        try:
            raw = tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{self.path}: not valid TOML ({e})") from None
        top = raw.get("briefcast", {})
        out: dict[str, Any] = {k: v for k, v in top.items() if not isinstance(v, dict)}
        for section in _SECTIONS:
            if isinstance(raw.get(section), dict):
                out[section] = raw[section]
        if raw.get("source"):
            out["sources"] = raw["source"]
        out["config_file"] = str(self.path)
        return out


# The documented environment variables (README, "Configuration") and where each one goes.
_ENV: dict[str, tuple[str, ...]] = {
    "BRIEFCAST_DATABASE_URL": ("database_url",),
    "BRIEFCAST_DEFAULT_LANGUAGE": ("default_language",),
    "BRIEFCAST_DEFAULT_TIMEZONE": ("default_timezone",),
    "BRIEFCAST_DEFAULT_TIME": ("default_time",),
    "BRIEFCAST_HTTP_HOST": ("http_host",),
    "BRIEFCAST_HTTP_PORT": ("http_port",),
    "BRIEFCAST_API_TOKEN": ("api_token",),
    "BRIEFCAST_PUBLIC_URL": ("public_url",),
    "BRIEFCAST_LOG_JSON": ("log_json",),
    "BRIEFCAST_LOG_LEVEL": ("log_level",),
    "TELEGRAM_BOT_TOKEN": ("telegram", "token"),
    "BRIEFCAST_TELEGRAM_API_URL": ("telegram", "api_url"),
    "BRIEFCAST_TELEGRAM_WEBHOOK_URL": ("telegram", "webhook_url"),
    "BRIEFCAST_TELEGRAM_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
    "BRIEFCAST_TELEGRAM_OPERATORS": ("telegram", "operators"),
    "BRIEFCAST_TELEGRAM_PAID_BROADCAST": ("telegram", "paid_broadcast"),
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "SLACK_CLIENT_ID": ("slack", "client_id"),
    "SLACK_CLIENT_SECRET": ("slack", "client_secret"),
    "BRIEFCAST_SLACK_API_URL": ("slack", "api_url"),
    "BRIEFCAST_SLACK_OPERATORS": ("slack", "operators"),
    "BRIEFCAST_BASE_URL": ("newsletter", "base_url"),
    "BRIEFCAST_INTRO": ("newsletter", "intro"),
}
_SECTIONS = ("telegram", "slack", "delivery", "newsletter")


class _BriefcastEnv(PydanticBaseSettingsSource):
    """The environment variables of :data:`_ENV` (an empty one counts as unset)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self.env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raise NotImplementedError  # __call__ maps the variables at once

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, path in _ENV.items():
            if self.env.get(name):
                where = out
                for key in path[:-1]:
                    where = where.setdefault(key, {})
                where[path[-1]] = self.env[name]
        return out


def _merge(low: dict[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(low)
    for k, v in high.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), dict) else v
    return out


_SECRET_FIELDS = frozenset(
    n
    for m in (Settings, TelegramSettings, SlackSettings)
    for n, f in m.model_fields.items()
    if f.annotation is Secret
)


def _explain(error: ValidationError) -> str:
    """One line per bad value: where it is and what is wrong, never the value of a secret."""
    lines = []
    for e in error.errors():
        where = ".".join(str(p) for p in e["loc"])
        shown = "" if e["loc"][-1] in _SECRET_FIELDS else f" (got {e.get('input')!r})"
        lines.append(f"{where}: {e['msg']}{shown}")
    return "; ".join(lines)


def load_settings(env: Mapping[str, str] | None = None, config_file: str | Path | None = None) -> Settings:
    """Settings from the TOML file (``$BRIEFCAST_CONFIG`` or ``config/briefcast.toml``) and ``env``.

    The environment wins over the file, the file over the defaults. Values are coerced to their
    types (``http_port = "8080"`` is 8080, ``log_json = "yes"`` is true); a value that cannot be
    is a :class:`ConfigError` naming the setting.
    """
    env = os.environ if env is None else env
    named = config_file or env.get("BRIEFCAST_CONFIG")
    path = Path(named or "config/briefcast.toml")
    data = _merge(_BriefcastToml(Settings, path, required=bool(named))(), _BriefcastEnv(Settings, env)())
    try:
        settings = Settings(**data)
    except ValidationError as e:
        raise ConfigError(f"invalid configuration: {_explain(e)}") from None
    return settings.checked()
