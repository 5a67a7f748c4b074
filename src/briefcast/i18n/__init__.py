"""Every user-facing string briefcast writes, in Chinese and English, and the language helpers.

One table, :data:`STRINGS`, keyed by message key, each entry with a ``zh`` and an ``en`` form: the
bot's replies, the renderers' labels and the archive's pages. It is written by area in
:mod:`briefcast.i18n.catalog` and merged there at import (a key defined twice fails the import).
Keeping both languages side by side makes a missing translation a test failure rather than a
half-English reply in a Chinese chat.

:func:`t` always takes the language first, ``t(lang, key, **values)``. A language is Chinese or
English (``zh``, ``en`` or a tag of either, such as ``zh-CN``); anything else raises
:class:`ValueError`, so a call with its arguments swapped fails loudly instead of answering in the
wrong language. Deciding what a user's language code means is the caller's job
(:func:`pick_language`, :func:`negotiate`, both in :mod:`briefcast.i18n.lang`).
"""

from __future__ import annotations

from briefcast.i18n.catalog import STRINGS
from briefcast.i18n.lang import Lang, is_zh, language, negotiate, pick_language

__all__ = [
    "STRINGS",
    "Lang",
    "counted",
    "days_text",
    "is_zh",
    "language",
    "languages_complete",
    "negotiate",
    "pick_language",
    "schedule_at",
    "schedule_weekly",
    "t",
]


def t(lang: str, key: str, /, **values: object) -> str:
    """The string ``key`` in ``lang`` (``zh``/``en`` or a tag of either), formatted with ``values``.

    A count of one (``n=1`` or ``count=1``) picks the ``<key>_one`` variant when there is one, so
    English says "1 link" and not "1 links". An unknown language raises :class:`ValueError`, an
    unknown key :class:`KeyError`.
    """
    tag = language(lang)
    if (values.get("n") == 1 or values.get("count") == 1) and f"{key}_one" in STRINGS:
        key = f"{key}_one"
    template = STRINGS[key][tag]
    return template.format(**values) if values else template


def days_text(lang: str, mask: int) -> str:
    """A weekday mask (bit 0 = Monday) as a reader sees it: ``每周一、三、五`` / ``Mon, Wed, Fri``,
    ``工作日`` / ``Weekdays``, ``每天`` / ``daily`` (every day, or an empty mask)."""
    mask &= 0b1111111
    if mask in (0, 0b1111111):
        return t(lang, "days_every")
    if mask == 0b0011111:
        return t(lang, "days_weekdays")
    names = t(lang, "day_names")
    parts = list(names) if language(lang) == "zh" else names.split()
    chosen = [parts[d] for d in range(7) if mask & (1 << d)]
    return t(lang, "days_list", days=t(lang, "days_sep").join(chosen))


def schedule_at(lang: str, time: str, tz: str, days: int) -> str:
    """``每周一、三、五 08:00（Asia/Shanghai）推送`` / ``delivered Mon, Wed, Fri 08:00 (Asia/Shanghai)``;
    every day keeps the daily wording."""
    if days & 0b1111111 in (0, 0b1111111):
        return t(lang, "schedule_daily", time=time, tz=tz)
    return t(lang, "schedule_days", days=days_text(lang, days), time=time, tz=tz)


def schedule_weekly(lang: str, time: str, tz: str, days: int) -> str:
    """``每周一 09:00（Asia/Shanghai）推送合集…`` / ``weekly roll-up Mon 09:00 (Asia/Shanghai)…``."""
    return t(lang, "schedule_weekly", days=days_text(lang, days), time=time, tz=tz)


def languages_complete() -> bool:
    """Every string has exactly a Chinese and an English form (checked by the tests)."""
    return all(set(v) == {"zh", "en"} for v in STRINGS.values())


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 delivery``, ``3 deliveries``: English operator texts (CLI, playground, dashboard).

    The plural is ``plural`` when given, else ``noun`` + ``s`` (``y`` after a consonant -> ``ies``).
    """
    if n == 1:
        return f"{n} {noun}"
    if plural is None:
        plural = noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
    return f"{n} {plural}"
