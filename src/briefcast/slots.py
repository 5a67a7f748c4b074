"""Slot maths: when a subscription's daily slot falls, in local time, and what to do about it.

Pure functions of instants, times and zones (no database, no scheduler), shared by the outbox
(which decides in SQL-sized batches what is due) and the scheduler and playground (which show
the next slot). The scheduler imports these; nothing here imports the scheduler.

DST rules (see :func:`slot_instant`): a local time that does not exist on a spring-forward day
(02:30 in New York) is sent at the same wall-clock offset after the gap (03:30 local, PEP 495
``fold=0``), not skipped; a time that occurs twice on a fall-back day is sent once, at its first
occurrence. Slots are computed per *local date*, so a slot can never fire twice in one day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]

#: A subscription's allowed weekdays as a 7-bit mask: bit ``d`` is ``date.weekday() == d``
#: (Monday = bit 0 ... Sunday = bit 6). ``ALL_DAYS`` (127) is every day, the default.
ALL_DAYS = 0b1111111


def day_allowed(day: date, days: int) -> bool:
    """Whether local date ``day`` is one of the weekdays in the mask ``days``."""
    return bool(days & (1 << day.weekday()))


def utcnow() -> datetime:
    """The wall clock as an aware UTC datetime (the default clock)."""
    return datetime.now(UTC)


def parse_hhmm(value: str) -> time:
    """``"8:05"`` / ``"08:05"`` -> ``time(8, 5)``."""
    hh, mm = value.strip().split(":")
    return time(int(hh), int(mm))


def slot_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local time ``at`` on local date ``day`` in ``tz``.

    ``fold=0`` gives the first occurrence of an ambiguous time and, for a time inside a DST gap,
    the offset from before the gap — i.e. the slot moves forward by the length of the gap.
    """
    return datetime.combine(day, at, tzinfo=tz).replace(fold=0).astimezone(UTC)


def _mask(days: int) -> int:
    days &= ALL_DAYS
    return days or ALL_DAYS  # an empty mask is never stored; read it as every day


def first_slot_at_or_after(instant: datetime, at: time, tz: ZoneInfo, days: int = ALL_DAYS) -> datetime:
    """The earliest slot ``at`` (local in ``tz``) on an allowed weekday (``days``, a mask of
    local weekdays, see :data:`ALL_DAYS`) that is not before ``instant``."""
    days = _mask(days)
    local_day = instant.astimezone(tz).date()
    for offset in range(-1, 9):
        day = local_day + timedelta(days=offset)
        if not day_allowed(day, days):
            continue
        s = slot_instant(day, at, tz)
        if s >= instant:
            return s
    raise AssertionError("unreachable: an allowed weekday falls within eight days")  # pragma: no cover


def last_slot_at_or_before(instant: datetime, at: time, tz: ZoneInfo, days: int = ALL_DAYS) -> datetime:
    """The latest slot ``at`` (local in ``tz``) on an allowed weekday that is not after ``instant``."""
    days = _mask(days)
    local_day = instant.astimezone(tz).date()
    for offset in range(1, -9, -1):
        day = local_day + timedelta(days=offset)
        if not day_allowed(day, days):
            continue
        s = slot_instant(day, at, tz)
        if s <= instant:
            return s
    raise AssertionError("unreachable: an allowed weekday falls within eight days")  # pragma: no cover


def next_slot_after(instant: datetime, at: time, tz: ZoneInfo, days: int = ALL_DAYS) -> datetime:
    """The first slot strictly after ``instant`` (for "next delivery at ..." displays)."""
    return first_slot_at_or_after(instant + timedelta(microseconds=1), at, tz, days)


def quiet_until(window: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    """If ``now`` is inside the quiet hours ``window`` (``"22:00-07:00"``, local in ``tz``, may
    cross midnight): the instant they end (DST-safe, like slots); else None."""
    if not window:
        return None
    start_s, end_s = window.split("-")
    start, end = parse_hhmm(start_s), parse_hhmm(end_s)
    local = now.astimezone(tz).time().replace(tzinfo=None)
    inside = (start <= local < end) if start < end else (local >= start or local < end)
    return first_slot_at_or_after(now, end, tz) if inside else None


def decide_slot(
    published_at: datetime, at: time, tz: ZoneInfo, now: datetime, grace: timedelta, days: int = ALL_DAYS
) -> tuple[str, datetime]:
    """For an issue published at ``published_at``: ``("wait"|"send"|"skip", slot)``.

    The issue belongs to the subscriber's first slot at or after publication on one of its
    allowed local weekdays ``days`` (published Tuesday for mon/wed/fri: Wednesday's slot). Before that slot:
    wait. Within ``grace`` after it (the process may have been down): send, late if need be.
    Later than that: skip — a digest a day stale is noise, and the next issue will come.
    """
    slot = first_slot_at_or_after(published_at, at, tz, days)
    if now < slot:
        return "wait", slot
    if now - slot <= grace:
        return "send", slot
    return "skip", slot


def decide_rollup(
    at: time, tz: ZoneInfo, now: datetime, grace: timedelta, days: int = ALL_DAYS
) -> tuple[str, datetime, datetime]:
    """A weekly (roll-up) subscription: ``("send"|"skip", start, slot)`` for its latest slot.

    The roll-up sent at ``slot`` (the last allowed local day's ``at`` not after ``now``) covers the
    issues first published in ``(start, slot]``, ``start`` being the slot before it (a week earlier
    for one allowed day, DST-safe: both are local wall-clock times). Within ``grace`` after the
    slot: send; later (the process was down): skip, like a missed daily slot.
    """
    slot = last_slot_at_or_before(now, at, tz, days)
    start = last_slot_at_or_before(slot - timedelta(microseconds=1), at, tz, days)
    return ("send" if now - slot <= grace else "skip"), start, slot


def decide_publish(published_at: datetime, now: datetime, grace: timedelta) -> str:
    """On-publish subscriptions: send unless the publication is older than the grace window."""
    return "send" if now - published_at <= grace else "skip"
