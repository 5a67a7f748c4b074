"""Validation of user-typed schedule values (times, time zones, modes, variants).

Kept separate from the queries so the commands layer can validate a value
before it touches the database (and reuse the same messages).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from briefcast.briefing.watch import MAX_WATCH_CHARS, MIN_WATCH_CHARS, normalise_phrase, phrase_length
from briefcast.store.errors import (
    InvalidMode,
    InvalidQuiet,
    InvalidTime,
    InvalidTimezone,
    InvalidVariant,
    InvalidWatch,
    InvalidWatchMode,
)

MODES = ("scheduled", "publish")
VARIANTS = ("full", "compact")
WATCH_MODES = ("publish", "daily")
# Quotes a phrase may be wrapped in (to watch a word that is also a command word, e.g. "daily").
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "《": "》"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


QUIET_OFF = frozenset({"off", "none", "关", "关闭", "取消"})
_QUIET_SEP = re.compile(r"\s*(?:-|–|—|~|〜|至|到)\s*")


def parse_quiet(value: str) -> str:
    """``"22:00-07:00"`` (also ``22:00–07:00``, ``22:00 至 7:00``, full-width) -> ``"22:00-07:00"``;
    ``off`` -> ``""``. The window may cross midnight; start and end must differ.
    Raises :class:`InvalidQuiet`."""
    v = unicodedata.normalize("NFKC", value).strip()
    if v.lower() in QUIET_OFF:
        return ""
    pieces = _QUIET_SEP.split(v)
    if len(pieces) != 2:
        raise InvalidQuiet(value)
    try:
        start, end = parse_time(pieces[0]), parse_time(pieces[1])
    except InvalidTime:
        raise InvalidQuiet(value) from None
    if start == end:
        raise InvalidQuiet(value)
    return f"{start}-{end}"


def parse_time(value: str) -> str:
    """``"8:05"``, ``"08:05"`` or full-width ``"８：０５"`` -> ``"08:05"``; raise :class:`InvalidTime`."""
    v = unicodedata.normalize("NFKC", value).strip()
    m = _TIME.match(v)
    if not m:
        raise InvalidTime(value)
    hh, mm = int(m.group(1)), int(m.group(2))
    if hh > 23 or mm > 59:
        raise InvalidTime(value)
    return f"{hh:02d}:{mm:02d}"


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    return {z.casefold(): z for z in available_timezones()}


def parse_timezone(value: str) -> str:
    """An IANA zone name in its canonical spelling (``asia/shanghai`` -> ``Asia/Shanghai``).

    Raises :class:`InvalidTimezone` for anything zoneinfo cannot load, including
    empty strings and path tricks such as ``../etc/passwd``.
    """
    v = unicodedata.normalize("NFKC", value).strip()
    if not v or v.startswith(("/", ".")) or ".." in v:
        raise InvalidTimezone(value)
    canonical = _zones_by_folded_name().get(v.casefold())
    if canonical is not None:
        return canonical
    try:  # a zone the tz database has but does not list (aliases such as "GMT+0")
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidTimezone(value) from None
    return v


def parse_mode(value: str) -> str:
    v = value.strip().lower()
    if v not in MODES:
        raise InvalidMode(value)
    return v


def parse_variant(value: str) -> str:
    v = value.strip().lower()
    if v not in VARIANTS:
        raise InvalidVariant(value)
    return v


def unquote(value: str) -> str:
    """``"daily"`` / “daily” / 「daily」 -> ``daily``; anything else stripped of outer space."""
    v = value.strip()
    if len(v) >= 2 and _QUOTES.get(v[0]) == v[-1]:
        return v[1:-1].strip()
    return v


def parse_watch(value: str) -> tuple[str, str]:
    """A phrase to watch -> ``(phrase as shown, normalised needle)``; raise :class:`InvalidWatch`.

    The phrase keeps the user's spelling (outer quotes and repeated spaces removed); the
    needle is what is stored as unique and matched (:func:`briefcast.briefing.watch.normalise_phrase`).
    Length limits count the needle's characters, spaces excluded.
    """
    phrase = " ".join(unquote(value).split())
    needle = normalise_phrase(phrase)
    n = phrase_length(needle)
    if n == 0:
        raise InvalidWatch(value, "empty")
    if n < MIN_WATCH_CHARS:
        raise InvalidWatch(value, "too_short", MIN_WATCH_CHARS)
    if n > MAX_WATCH_CHARS:
        raise InvalidWatch(value, "too_long", MAX_WATCH_CHARS)
    return phrase, needle


def parse_watch_mode(value: str) -> str:
    v = value.strip().lower()
    if v not in WATCH_MODES:
        raise InvalidWatchMode(value)
    return v
