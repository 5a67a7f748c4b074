"""Dates as newsletters write them: ``2025-12-29``, ``2025/12/29``, ``2026年8月19日``, ``Aug 19, 2026``…

:func:`find_date` returns the first date written in a text, or ``None``; it never
guesses a missing year (``12.05 - 12.18`` is not a date) and never answers with
today. Forms read:

* year first: ``2025-12-29``, ``2025/12/29``, ``2025.12.29``, ``2025_12_29``
  (one-digit month/day too), with an optional time after it;
* Chinese: ``2026年8月19日`` (spaces allowed, ``号`` for ``日``);
* English: ``Aug 19, 2026``, ``August 19th 2026``, ``19 August 2026``, ``Aug. 19 2026``;
* numeric, year last: ``08-19-2026`` / ``08/19/2026`` are month first unless the
  first number is over 12 (then ``19/08/2026`` is day first); ``19.08.2026``
  (dots) is day first;
* packed ``20250204`` only where asked (``packed=True``, used for file names).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

MIN_YEAR, MAX_YEAR = 1990, 2200

_MONTHS = {
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "may": 5,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = (
    r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_ORD = r"(?:st|nd|rd|th)?"

_YMD = re.compile(r"(?<![0-9])(\d{4})\s?([-/._])\s?(\d{1,2})\s?\2\s?(\d{1,2})(?![0-9])")
_ZH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_MDY_WORDS = re.compile(rf"\b{_MONTH}\.?\s+(\d{{1,2}}){_ORD},?\s+(\d{{4}})(?![0-9])", re.IGNORECASE)
_DMY_WORDS = re.compile(rf"(?<![0-9])(\d{{1,2}}){_ORD}\s+(?:of\s+)?{_MONTH}\.?,?\s+(\d{{4}})(?![0-9])", re.I)
_NUM_YEAR_LAST = re.compile(r"(?<![0-9.])(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?![0-9])")
_PACKED = re.compile(r"(?<![0-9])(\d{4})(\d{2})(\d{2})(?![0-9])")
_PATH_YMD = re.compile(r"(?:^|/)(\d{4})/(\d{1,2})/(\d{1,2})(?:/|$)")


def _make(y: int, m: int, d: int) -> date | None:
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _candidates(text: str, packed: bool) -> list[tuple[int, date]]:
    found: list[tuple[int, date]] = []

    def add(pos: int, d: date | None) -> None:
        if d is not None:
            found.append((pos, d))

    for m in _YMD.finditer(text):
        add(m.start(), _make(int(m.group(1)), int(m.group(3)), int(m.group(4))))
    for m in _ZH.finditer(text):
        add(m.start(), _make(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for m in _MDY_WORDS.finditer(text):
        add(m.start(), _make(int(m.group(3)), _MONTHS[m.group(1)[:3].lower()], int(m.group(2))))
    for m in _DMY_WORDS.finditer(text):
        add(m.start(), _make(int(m.group(3)), _MONTHS[m.group(2)[:3].lower()], int(m.group(1))))
    for m in _NUM_YEAR_LAST.finditer(text):
        a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        day_first = sep == "." or a > 12
        add(m.start(), _make(y, b, a) if day_first else _make(y, a, b))
    if packed:
        for m in _PACKED.finditer(text):
            add(m.start(), _make(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    return found


def find_date(text: str, *, packed: bool = False) -> date | None:
    """The first date written in ``text`` (see the module docstring), or ``None``."""
    found = _candidates(text, packed)
    return min(found)[1] if found else None


def as_date(value: object) -> date | None:
    """A front matter value as a date: YAML/TOML dates and datetimes, or a string :func:`find_date` reads."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return find_date(value)
    return None


def date_from_path(source: str) -> date | None:
    """The date in a file name or URL path: ``2025-02-03-weekly.md``, ``…/2022-01-24-recap/index.mdx``,
    ``blog/2022/12/22/weekly.md``, ``briefing-20250204.md``."""
    if not source:
        return None
    path = urlsplit(source).path if "://" in source else source
    p = PurePosixPath(unquote(path).replace("\\", "/"))
    names = [p.name]
    if p.stem.lower() in ("index", "_index", "readme") and p.parent.name:
        names.insert(0, p.parent.name)
    for name in names:
        d = find_date(name, packed=True)
        if d is not None:
            return d
    m = _PATH_YMD.search(str(p.parent) + "/")
    return _make(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
