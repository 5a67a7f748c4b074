"""Validation of user-typed schedule values (times, time zones, modes, variants).

Kept separate from the queries so the commands layer can validate a value
before it touches the database (and reuse the same messages).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from briefcast.store.errors import InvalidMode, InvalidTime, InvalidTimezone, InvalidVariant

MODES = ("scheduled", "publish")
VARIANTS = ("full", "compact")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


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
    v = value.strip()
    if not v or v.startswith(("/", ".")) or ".." in v:
        raise InvalidTimezone(value)
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        canonical = _zones_by_folded_name().get(v.casefold())
        if canonical is None:
            raise InvalidTimezone(value) from None
        return canonical
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
