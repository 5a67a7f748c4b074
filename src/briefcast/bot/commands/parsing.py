"""Argument parsing of bot commands: words in any order to SubscribeArgs, SettingsArgs, watch phrases."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from briefcast.bot.commands.core import (
    UsageError,
)
from briefcast.briefing.sectors import SectorCatalogue
from briefcast.store import validate
from briefcast.store.errors import (
    InvalidTime,
    InvalidTimezone,
)

_LOOKS_LIKE_TIME = re.compile(r"^\d{1,2}[:：]\d{1,2}$")
_NUMERIC_ID = re.compile(r"^-?\d{5,}$")
ALL_WORDS = frozenset({"all", "全部", "所有", "*"})
PUBLISH_WORDS = frozenset({"publish", "onpublish", "on-publish", "on_publish", "instant", "发布", "即时"})
SCHEDULED_WORDS = frozenset({"scheduled", "daily", "定时", "每天"})
WEEKLY_WORDS = frozenset({"weekly", "week", "rollup", "roll-up", "每周", "周报", "每周合集", "合集"})
PUBLIC_WORDS = frozenset({"public", "公开"})

WATCH_DAILY_WORDS = frozenset(
    {"daily", "digest", "scheduled", "每天", "每日", "定时", "随推送", "随每日推送"}
)
_PHRASE_SEP = re.compile(r"[,，、;；]")
_QUOTE_CHARS = "\"'“”‘’「」『』《》"

_ON = frozenset({"on", "yes", "true", "1", "开", "开启", "打开", "是"})
_OFF = frozenset({"off", "no", "false", "0", "关", "关闭", "否"})
_FULL = frozenset({"full", "完整", "全文"})
_COMPACT = frozenset({"compact", "short", "精简", "简洁", "简短"})
_SILENT = frozenset({"silent", "quiet", "mute", "静音", "免打扰"})
_PREVIEWS = frozenset({"previews", "preview", "links", "预览", "链接预览"})


@dataclass(frozen=True, slots=True)
class SubscribeArgs:
    """Parsed ``[TARGET] [SECTOR...|all] [HH:MM] [Area/City] [publish]``; None = not given."""

    target: str | None = None
    sectors: tuple[str, ...] | None = None
    time: str | None = None
    timezone: str | None = None
    mode: str | None = None
    days: int | None = None  # allowed weekdays mask (bit 0 = Monday); None: keep the current ones


_DAYISH = re.compile(r"^(?:周|星期|礼拜)|^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*$|^[a-z]+day$", re.IGNORECASE)


def parse_time(value: str) -> str:
    """``"8:05"`` -> ``"08:05"`` (:func:`briefcast.store.validate.parse_time`, the one validator);
    anything outside 00:00-23:59 raises :class:`UsageError`."""
    try:
        return validate.parse_time(value)
    except InvalidTime:
        raise UsageError("bad_time", value=value) from None


def parse_timezone(value: str) -> str:
    """An IANA zone name in its canonical spelling (``asia/shanghai`` -> ``Asia/Shanghai``, the same
    validator the CLI and the store use) or :class:`UsageError`."""
    try:
        return validate.parse_timezone(value)
    except InvalidTimezone:
        raise UsageError("bad_timezone", value=value) from None


def _is_target(word: str) -> bool:
    return (word.startswith("@") and len(word) > 1) or bool(_NUMERIC_ID.match(word))


def parse_subscribe_args(
    args: Sequence[str], catalogue: SectorCatalogue, *, schedule: bool = True
) -> SubscribeArgs:
    """Parse subscription arguments in any order; ``schedule=False`` rejects times/zones/modes."""
    words = [w for a in args for w in re.split(r"[,，、]", a) if w]
    target: str | None = None
    if words and _is_target(words[0]):
        target = words.pop(0)
    sectors: list[str] = []
    everything = False
    time_: str | None = None
    tz: str | None = None
    mode: str | None = None
    days = 0
    for w in words:
        low = w.lower()
        if low in ALL_WORDS:
            everything = True
        elif schedule and low in PUBLISH_WORDS:
            mode = "publish"
        elif schedule and low in WEEKLY_WORDS:
            mode = "weekly"
        elif schedule and low in SCHEDULED_WORDS:
            mode = "scheduled"
            days |= validate.DAY_SET_WORDS.get(low, 0)  # "daily" / "每天": every day again
        elif (mask := validate.day_word_mask(w)) is not None:
            if not schedule:
                raise UsageError("unexpected_arg", value=w)
            days |= mask
        elif _LOOKS_LIKE_TIME.match(w):
            if not schedule:
                raise UsageError("unexpected_arg", value=w)
            time_ = parse_time(w)
        elif "/" in w.strip("/") or low == "utc":
            if not schedule:
                raise UsageError("unexpected_arg", value=w)
            tz = parse_timezone(w)
        else:
            sector = catalogue.lookup(w)
            if sector is None and schedule and _DAYISH.match(unicodedata.normalize("NFKC", w)):
                raise UsageError("bad_days", value=w)
            if sector is None:
                raise UsageError("unknown_sector", name=w, choices=", ".join(catalogue.keys))
            if sector.key not in sectors:
                sectors.append(sector.key)
    chosen: tuple[str, ...] | None = None if everything or not sectors else tuple(sectors)
    if (time_ is not None or days) and mode is None:
        mode = "scheduled"
    return SubscribeArgs(target=target, sectors=chosen, time=time_, timezone=tz, mode=mode, days=days or None)


def _split_public(args: Sequence[str]) -> tuple[tuple[str, ...], bool]:
    """Drop a trailing ``public`` flag (Slack: post in the channel instead of ephemerally)."""
    rest = tuple(a for a in args if a.lower() not in PUBLIC_WORDS)
    return rest, len(rest) != len(args)


def _pop_target(args: Sequence[str]) -> tuple[str | None, list[str]]:
    """A ``@channel`` / id argument anywhere in ``args``, and the other words."""
    target = next((a for a in args if _is_target(a)), None)
    return target, [a for a in args if a != target]


def _target_and_one_arg(args: Sequence[str]) -> tuple[str | None, str]:
    """``[@channel] VALUE``: the optional target and exactly one value (else a usage error)."""
    target, rest = _pop_target(args)
    if len(rest) != 1:
        raise UsageError("missing_args" if not rest else "unexpected_arg", value=" ".join(rest[1:]))
    return target, rest[0]


def parse_watch_args(args: Sequence[str]) -> tuple[list[str], str | None]:
    """``/watch 钠电池, 固态电池 daily`` -> (["钠电池", "固态电池"], "daily").

    Phrases are separated by commas (spaces belong to the phrase: ``solid state battery``); a
    last word ``publish`` / ``daily`` (or 发布 / 每天 …) is the delivery mode unless quoted.
    """
    words = list(args)
    mode: str | None = None
    if words and words[-1][-1:] not in _QUOTE_CHARS:
        low = words[-1].lower()
        if low in PUBLISH_WORDS:
            mode = "publish"
        elif low in WATCH_DAILY_WORDS:
            mode = "daily"
        if mode is not None:
            words.pop()
    phrases = [p.strip() for p in _PHRASE_SEP.split(" ".join(words)) if p.strip()]
    return phrases, mode


def _mode_word(args: Sequence[str]) -> str | None:
    """``publish`` / ``daily`` when ``args`` is exactly one mode word, else None."""
    if len(args) != 1:
        return None
    low = args[0].lower()
    return "publish" if low in PUBLISH_WORDS else "daily" if low in WATCH_DAILY_WORDS else None


@dataclass(frozen=True, slots=True)
class SettingsArgs:
    """Parsed ``/settings`` arguments; None = leave as it is."""

    target: str | None = None
    variant: str | None = None
    silent: bool | None = None
    previews: bool | None = None

    @property
    def empty(self) -> bool:
        return self.variant is None and self.silent is None and self.previews is None


def parse_settings_args(args: Sequence[str]) -> SettingsArgs:
    """``[@channel] [full|compact] [silent on|off] [previews on|off]`` in any order (on is the default)."""
    target, rest = _pop_target(args)
    variant: str | None = None
    silent: bool | None = None
    previews: bool | None = None
    words = [w.lower() for w in rest]
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else ""
        flag = True if nxt in _ON else False if nxt in _OFF else None
        if w in _FULL:
            variant = "full"
        elif w in _COMPACT:
            variant = "compact"
        elif w in _SILENT:
            silent = True if flag is None else flag
            i += flag is not None
        elif w in _PREVIEWS:
            previews = True if flag is None else flag
            i += flag is not None
        else:
            raise UsageError("unexpected_arg", value=rest[i])
        i += 1
    return SettingsArgs(target, variant, silent, previews)
