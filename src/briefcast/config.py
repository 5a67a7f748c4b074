"""Typed settings: ``config/briefcast.toml`` (optional) overlaid by environment variables.

Environment always wins. Secrets are wrapped in :class:`Secret`, whose ``repr``
and ``str`` never show the value, so settings can be logged safely.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from briefcast.errors import ConfigError

if TYPE_CHECKING:
    from briefcast.briefing.parse import ParseOptions


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _secret(v: str | None) -> Secret:
    return Secret(v or "")


@dataclass(frozen=True)
class TelegramSettings:
    token: Secret = field(default_factory=lambda: Secret(""))
    api_url: str = ""  # PTB base_url form, e.g. http://127.0.0.1:8081/bot
    webhook_url: str = ""
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    commands_per_minute: int = 20
    operators: tuple[str, ...] = ()  # Telegram user ids allowed to publish
    paid_broadcast: bool = False


@dataclass(frozen=True)
class SlackSettings:
    bot_token: Secret = field(default_factory=lambda: Secret(""))
    app_token: Secret = field(default_factory=lambda: Secret(""))
    signing_secret: Secret = field(default_factory=lambda: Secret(""))
    client_id: str = ""
    client_secret: Secret = field(default_factory=lambda: Secret(""))
    api_url: str = ""  # slack-sdk base_url form, e.g. http://127.0.0.1:8082/api/
    subscribe_permission: str = "anyone"  # anyone | admins | users
    subscribe_users: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    commands_per_minute: int = 20


@dataclass(frozen=True)
class DeliverySettings:
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


@dataclass(frozen=True)
class NewsletterSettings:
    """How issues are read (``[newsletter]``); an issue's front matter may override per publisher.

    ``base_url`` resolves relative links and images (issues read from an http(s)
    URL use that URL when it is empty); ``intro`` places the text before the
    first section in a push: ``first`` (with the first section), ``separate``
    (its own message) or ``off`` (overview only); ``*_headings`` add heading
    words that mark sponsor, table-of-contents and legal sections.
    """

    base_url: str = ""
    intro: str = "first"
    sponsor_headings: tuple[str, ...] = ()
    toc_headings: tuple[str, ...] = ()
    legal_headings: tuple[str, ...] = ()

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


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./data/briefcast.db"
    default_language: str = "zh"
    default_timezone: str = "Asia/Shanghai"
    default_time: str = "08:00"
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    api_token: Secret = field(default_factory=lambda: Secret(""))
    public_url: str = ""  # where readers reach this server (archive, feeds, "read the whole issue")
    log_json: bool = False
    log_level: str = "INFO"
    sample_issue: str = ""
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    slack: SlackSettings = field(default_factory=SlackSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    newsletter: NewsletterSettings = field(default_factory=NewsletterSettings)
    sources: tuple[Mapping[str, Any], ...] = ()
    config_file: str = ""

    def __post_init__(self) -> None:
        base = normalise_public_url(self.public_url) if self.public_url else None
        if base is not None and base != self.public_url:
            object.__setattr__(self, "public_url", base)  # frozen: normalised once, here

    def validate(self) -> Settings:
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
            return replace(self, default_timezone=tz, default_time=hhmm)
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


def _split(v: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in re.split(r"[,\s]+", v) if x.strip())


def _bool(v: str) -> bool:
    return v.strip().lower() in ("1", "true", "yes", "on")


def _coerce(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """Keep only known keys of a settings dataclass, wrapping secrets and tuples."""
    out: dict[str, Any] = {}
    known = {f.name: f for f in fields(cls)}
    for k, v in data.items():
        f = known.get(k)
        if f is None or isinstance(v, dict):
            continue
        if "Secret" in str(f.type):
            out[k] = Secret(str(v))
        elif "tuple" in str(f.type):
            out[k] = tuple(str(x) for x in v) if isinstance(v, list) else _split(str(v))
        else:
            out[k] = v
    return out


def load_settings(env: Mapping[str, str] | None = None, config_file: str | Path | None = None) -> Settings:
    """Settings from the TOML file (``$BRIEFCAST_CONFIG`` or ``config/briefcast.toml``) and ``env``."""
    env = os.environ if env is None else env
    path = Path(config_file or env.get("BRIEFCAST_CONFIG") or "config/briefcast.toml")
    raw: dict[str, Any] = {}
    if path.is_file():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{path}: not valid TOML ({e})") from None
    elif config_file or env.get("BRIEFCAST_CONFIG"):
        raise ConfigError(f"config file {path} does not exist")

    top = _coerce(Settings, raw.get("briefcast", {}))
    tg = _coerce(TelegramSettings, raw.get("telegram", {}))
    sl = _coerce(SlackSettings, raw.get("slack", {}))
    dl = _coerce(DeliverySettings, raw.get("delivery", {}))
    nl = _coerce(NewsletterSettings, raw.get("newsletter", {}))

    def put(d: dict[str, Any], key: str, name: str, conv: Any = str) -> None:
        if env.get(name):
            d[key] = conv(env[name])

    put(top, "database_url", "BRIEFCAST_DATABASE_URL")
    put(top, "default_language", "BRIEFCAST_DEFAULT_LANGUAGE")
    put(top, "default_timezone", "BRIEFCAST_DEFAULT_TIMEZONE")
    put(top, "default_time", "BRIEFCAST_DEFAULT_TIME")
    put(top, "http_host", "BRIEFCAST_HTTP_HOST")
    put(top, "http_port", "BRIEFCAST_HTTP_PORT", int)
    put(top, "api_token", "BRIEFCAST_API_TOKEN", _secret)
    put(top, "public_url", "BRIEFCAST_PUBLIC_URL")
    put(top, "log_json", "BRIEFCAST_LOG_JSON", _bool)
    put(top, "log_level", "BRIEFCAST_LOG_LEVEL")
    put(tg, "token", "TELEGRAM_BOT_TOKEN", _secret)
    put(tg, "api_url", "BRIEFCAST_TELEGRAM_API_URL")
    put(tg, "webhook_url", "BRIEFCAST_TELEGRAM_WEBHOOK_URL")
    put(tg, "webhook_secret", "BRIEFCAST_TELEGRAM_WEBHOOK_SECRET", _secret)
    put(tg, "operators", "BRIEFCAST_TELEGRAM_OPERATORS", _split)
    put(tg, "paid_broadcast", "BRIEFCAST_TELEGRAM_PAID_BROADCAST", _bool)
    put(sl, "bot_token", "SLACK_BOT_TOKEN", _secret)
    put(sl, "app_token", "SLACK_APP_TOKEN", _secret)
    put(sl, "signing_secret", "SLACK_SIGNING_SECRET", _secret)
    put(sl, "client_id", "SLACK_CLIENT_ID")
    put(sl, "client_secret", "SLACK_CLIENT_SECRET", _secret)
    put(sl, "api_url", "BRIEFCAST_SLACK_API_URL")
    put(sl, "operators", "BRIEFCAST_SLACK_OPERATORS", _split)
    put(nl, "base_url", "BRIEFCAST_BASE_URL")
    put(nl, "intro", "BRIEFCAST_INTRO")

    try:
        settings = Settings(
            **top,
            telegram=TelegramSettings(**tg),
            slack=SlackSettings(**sl),
            delivery=DeliverySettings(**dl),
            newsletter=NewsletterSettings(**nl),
            sources=tuple(raw.get("source", ())),
            config_file=str(path) if path.is_file() else "",
        )
    except (TypeError, ValueError) as e:
        raise ConfigError(f"invalid configuration: {e}") from None
    return settings.validate()
