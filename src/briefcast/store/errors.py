"""Input errors raised by the store, fit to show a user after localisation.

They subclass both :class:`~briefcast.errors.BriefcastError` (so the CLI and
bots treat them as user-facing) and :class:`ValueError` (they are bad
arguments). Each keeps the offending ``value`` so the commands layer can word
its own usage reply in the user's language instead of echoing ours.
"""

from __future__ import annotations

from collections.abc import Sequence

from briefcast.errors import BriefcastError


class StoreInputError(BriefcastError, ValueError):
    """A value given to the store is not acceptable; ``str(err)`` says why in one line."""

    def __init__(self, value: str, message: str) -> None:
        super().__init__(message)
        self.value = value


class InvalidTime(StoreInputError):
    """A delivery time that is not ``HH:MM`` between 00:00 and 23:59."""

    def __init__(self, value: str) -> None:
        super().__init__(value, f"invalid time {value!r}: use HH:MM between 00:00 and 23:59, e.g. 08:30")


class InvalidTimezone(StoreInputError):
    """A time zone that is not an IANA name such as ``Asia/Shanghai``."""

    def __init__(self, value: str) -> None:
        super().__init__(
            value, f"unknown time zone {value!r}: use an IANA name such as Asia/Shanghai or Europe/London"
        )


class UnknownSector(StoreInputError):
    """A sector name that the catalogue does not know."""

    def __init__(self, value: str, known: Sequence[str] = ()) -> None:
        hint = f" (known: {', '.join(known)})" if known else ""
        super().__init__(value, f"unknown sector {value!r}{hint}")
        self.known = tuple(known)


class InvalidQuiet(StoreInputError):
    """Quiet hours that are not ``HH:MM-HH:MM`` (two different valid times) or ``off``."""

    def __init__(self, value: str) -> None:
        super().__init__(value, f"invalid quiet hours {value!r}: use HH:MM-HH:MM, e.g. 22:00-07:00, or off")


class InvalidDays(StoreInputError):
    """Weekday words that are not days (``mon,wed,fri``, ``周一,三,五``, ``weekdays``, ``daily``)."""

    def __init__(self, value: str) -> None:
        super().__init__(
            value, f"invalid days {value!r}: use weekday names such as mon,wed,fri, weekdays, or daily"
        )


class InvalidMode(StoreInputError):
    """A delivery mode other than ``scheduled`` or ``publish``."""

    def __init__(self, value: str) -> None:
        super().__init__(value, f"invalid mode {value!r}: use 'scheduled' or 'publish'")


class InvalidVariant(StoreInputError):
    """A digest variant other than ``full`` or ``compact``."""

    def __init__(self, value: str) -> None:
        super().__init__(value, f"invalid variant {value!r}: use 'full' or 'compact'")


class InvalidWatch(StoreInputError):
    """A watched word that is too short, too long or empty once normalised.

    ``reason`` is ``too_short``, ``too_long`` or ``empty``; ``limit`` the bound it broke.
    """

    def __init__(self, value: str, reason: str, limit: int = 0) -> None:
        what = {"too_short": "at least", "too_long": "at most"}.get(reason)
        bound = f" (use {what} {limit} characters)" if what else ""
        super().__init__(value, f"cannot watch {value!r}: {reason.replace('_', ' ')}{bound}")
        self.reason = reason
        self.limit = limit


class WatchLimitReached(StoreInputError):
    """A chat already watches the most words it may."""

    def __init__(self, value: str, limit: int) -> None:
        super().__init__(value, f"cannot watch {value!r}: a chat may watch at most {limit} words")
        self.limit = limit


class InvalidWatchMode(StoreInputError):
    """A watch delivery mode other than ``publish`` or ``daily``."""

    def __init__(self, value: str) -> None:
        super().__init__(value, f"invalid watch mode {value!r}: use 'publish' or 'daily'")
