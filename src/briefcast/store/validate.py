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
from briefcast.slots import ALL_DAYS
from briefcast.store.errors import (
    InvalidDays,
    InvalidMode,
    InvalidQuiet,
    InvalidTime,
    InvalidTimezone,
    InvalidVariant,
    InvalidWatch,
    InvalidWatchMode,
)

MODES = ("scheduled", "publish", "weekly")
#: ``weekly``: a roll-up of the issues published since the previous allowed day's slot, sent at the
#: subscription's time on its allowed days (Monday alone when none are given).
WEEKLY_DEFAULT_DAYS = 0b0000001
VARIANTS = ("full", "compact")
WATCH_MODES = ("publish", "daily")
# Quotes a phrase may be wrapped in (to watch a word that is also a command word, e.g. "daily").
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "《": "》"}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


# ALL_DAYS (bit 0 = Monday ... bit 6 = Sunday) is briefcast.slots'.
WEEKDAYS = 0b0011111
WEEKEND = 0b1100000
_EN_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_EN_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ZH_NUM = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_ZH_PREFIX = ("星期", "礼拜", "周")
#: Words that name a set of days on their own.
DAY_SET_WORDS = {
    "weekdays": WEEKDAYS, "weekday": WEEKDAYS, "workdays": WEEKDAYS, "工作日": WEEKDAYS,
    "weekends": WEEKEND, "weekend": WEEKEND, "周末": WEEKEND,
    "daily": ALL_DAYS, "everyday": ALL_DAYS, "每天": ALL_DAYS, "每日": ALL_DAYS,
}  # fmt: skip
_DAY_SPLIT = re.compile(r"[\s,，、;；]+")
_DAY_RANGE = re.compile(r"\s*(?:-|–|—|~|〜|至|到)\s*")


def _one_day(word: str) -> int | None:
    """One weekday word (``mon``, ``Monday``, ``周一``, ``星期日``, bare ``一``) -> its bit index."""
    w = word.lower().rstrip(".")
    if w in _EN_DAYS:
        return _EN_DAYS.index(w)
    if w in _EN_FULL:
        return _EN_FULL.index(w)
    if w in ("tues", "thur", "thurs"):
        return 1 if w == "tues" else 3
    for prefix in _ZH_PREFIX:
        if w.startswith(prefix) and len(w) > len(prefix):
            w = w[len(prefix) :]
            break
    return _ZH_NUM.get(w) if len(w) == 1 else None


def day_word_mask(word: str) -> int | None:
    """The day mask a single word names, or None if it is no day word.

    ``mon`` / ``周一`` / ``一`` one day; ``weekdays`` / ``工作日`` Monday-Friday; ``daily`` /
    ``每天`` every day; ``mon-fri`` / ``周一至周五`` a range; ``周一三五`` several days.
    """
    w = unicodedata.normalize("NFKC", word).strip()
    if not w:
        return None
    if w.lower() in DAY_SET_WORDS:
        return DAY_SET_WORDS[w.lower()]
    single = _one_day(w)
    if single is not None:
        return 1 << single
    ends = _DAY_RANGE.split(w)
    if len(ends) == 2:
        a, b = _one_day(ends[0]), _one_day(ends[1])
        if a is None or b is None:
            return None
        mask, d = 0, a
        while True:  # a range may wrap past Sunday (fri-mon)
            mask |= 1 << d
            if d == b:
                return mask
            d = (d + 1) % 7
    for prefix in _ZH_PREFIX:  # 周一三五
        if w.startswith(prefix) and len(w) > len(prefix) + 1:
            digits = [_ZH_NUM.get(ch) for ch in w[len(prefix) :]]
            if all(d is not None for d in digits):
                return sum(1 << d for d in set(digits) if d is not None)
    return None


def parse_days(value: str) -> int:
    """``"mon,wed,fri"`` / ``"周一、三、五"`` / ``"weekdays"`` / ``"daily"`` -> a 7-bit weekday
    mask (bit 0 = Monday). Raises :class:`InvalidDays`."""
    words = [w for w in _DAY_SPLIT.split(unicodedata.normalize("NFKC", value).strip()) if w]
    mask = 0
    for w in words:
        m = day_word_mask(w)
        if m is None:
            raise InvalidDays(value)
        mask |= m
    if not mask:
        raise InvalidDays(value)
    return mask


def days_list(mask: int) -> tuple[int, ...]:
    """The weekday indexes (0 = Monday) in ``mask``, in week order."""
    return tuple(d for d in range(7) if mask & (1 << d))


def days_key(mask: int) -> str:
    """``"mon,wed,fri"`` (``"daily"`` for every day): the mask as the CLI shows and accepts it."""
    mask &= ALL_DAYS
    if mask in (0, ALL_DAYS):
        return "daily"
    return ",".join(_EN_DAYS[d] for d in days_list(mask))


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
