"""Keyword watches: which passages of an issue mention the words a chat watches.

A *watch* is a word or phrase a chat typed (``/watch 钠电池``). It is matched as plain text,
never as a pattern: no user input is ever compiled into a regular expression. Both the watched
phrase and the issue text go through one normalisation, character by character, so every
match can be mapped back to the original text (for highlighting):

* Unicode compatibility decomposition (NFKD): full-width ``ＡＩ`` and half-width katakana read
  like their usual forms, ``㎿`` like ``MW``; accents are dropped (``café`` matches ``cafe``);
* case folding (``Sodium`` matches ``sodium``, ``ß`` matches ``ss``);
* emoji variation selectors and joiners are ignored;
* runs of white space count as one space, and a space next to a CJK character is ignored
  (Chinese and Japanese are written without spaces: ``钠 电池`` matches ``钠电池``).

Latin words match whole: a phrase that begins (ends) with a letter or digit only matches where
the text does not continue with another ASCII letter or digit, so ``AI`` does not match inside
``said``. An English plural ending (``s``, ``es``) after the phrase is accepted: ``GPU`` matches
``GPUs``, ``battery`` matches ``batteries``. CJK text has no word boundaries, so ``电池``
matches inside ``钠电池``.

A *passage* is one paragraph, list item (nested items are passages of their own), table row
or section headline. :func:`watch_matches` is pure: the same issue and words give the same
passages, in reading order, each once however many words it mentions.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from briefcast.briefing.model import (
    Block,
    Briefing,
    Group,
    Inline,
    ListBlock,
    Paragraph,
    Quote,
    Run,
    Section,
    Table,
    plain,
)

# Limits on what a chat may watch (the store enforces them; the commands quote them).
MAX_WATCHES_PER_CHAT = 20
MIN_WATCH_CHARS = 2
MAX_WATCH_CHARS = 40

PassageKind = Literal["paragraph", "item", "row", "headline"]

_IGNORED = frozenset("\ufe0e\ufe0f\u200b\u200c\u200d\u2060\ufeff")
# The separator between table cells when a row is read as one passage.
ROW_SEPARATOR = " | "


def _is_cjk(ch: str) -> bool:
    """Wide characters (Han, kana, Hangul, CJK punctuation): written without spaces between words."""
    return unicodedata.east_asian_width(ch) in ("W", "F") and not _is_emoji(ch)


def _is_emoji(ch: str) -> bool:
    return ord(ch) >= 0x1F000 or 0x2600 <= ord(ch) <= 0x27BF


def _word_char(ch: str) -> bool:
    """ASCII letters and digits: what a Latin word boundary is made of."""
    return ch.isascii() and ch.isalnum()


def _fold_char(ch: str) -> str:
    """One character's normalised form (possibly empty or several characters)."""
    if ch in _IGNORED:
        return ""
    out = []
    for d in unicodedata.normalize("NFKD", ch):
        if unicodedata.category(d) == "Mn" or d in _IGNORED:
            continue
        out.append(d)
    return "".join(out).casefold()


def fold(text: str) -> tuple[str, list[int]]:
    """``text`` normalised for matching, and for each of its characters the index it came from.

    White space runs become one space; spaces touching a CJK character are dropped; leading
    and trailing spaces are dropped.
    """
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for f in _fold_char(ch):
            if f.isspace():
                f = " "
            chars.append(f)
            origin.append(i)
    # second pass: collapse and drop spaces
    out: list[str] = []
    out_origin: list[int] = []
    n = len(chars)
    for j, f in enumerate(chars):
        if f == " ":
            if not out or out[-1] == " ":
                continue
            nxt = next((chars[k] for k in range(j + 1, n) if chars[k] != " "), "")
            if not nxt or _is_cjk(out[-1]) or _is_cjk(nxt):
                continue
        out.append(f)
        out_origin.append(origin[j])
    return "".join(out), out_origin


def normalise_phrase(text: str) -> str:
    """The key a watched phrase is stored, compared and matched by (see the module docstring)."""
    return fold(text)[0]


def phrase_length(needle: str) -> int:
    """Characters of a normalised phrase that count toward the length limits (spaces do not)."""
    return sum(1 for ch in needle if not ch.isspace())


def find_all(haystack: str, needle: str) -> list[tuple[int, int]]:
    """Sorted ``(start, end)`` matches of a normalised ``needle`` in a folded ``haystack``.

    A Latin phrase ending in consonant + ``y`` also matches its ``ies`` plural (battery, batteries).
    """
    found = list(_find(haystack, needle))
    if len(needle) > 2 and needle[-1] == "y" and _word_char(needle[-2]) and needle[-2] not in "aeiou":
        found += _find(haystack, needle[:-1] + "ies")
    return sorted(set(found))


def _find(haystack: str, needle: str) -> Iterator[tuple[int, int]]:
    if not needle:
        return
    latin_start = _word_char(needle[0])
    latin_end = _word_char(needle[-1])
    pos = 0
    while True:
        i = haystack.find(needle, pos)
        if i < 0:
            return
        end = i + len(needle)
        ok = not (latin_start and i > 0 and _word_char(haystack[i - 1]))
        if ok and latin_end and end < len(haystack) and _word_char(haystack[end]):
            # allow an English plural ending: GPU -> GPUs, box -> boxes
            for suffix in ("s", "es"):
                tail = end + len(suffix)
                if haystack.startswith(suffix, end) and not (
                    tail < len(haystack) and _word_char(haystack[tail])
                ):
                    end = tail
                    break
            else:
                ok = False
        if ok:
            yield i, end
            pos = end
        else:
            pos = i + 1


@dataclass(frozen=True, slots=True)
class Passage:
    """A passage that mentions watched words.

    ``runs`` are the passage's own runs (links and styles kept); ``spans`` the character
    ranges of ``plain(runs)`` that matched, merged and sorted; ``words`` the watched phrases
    found, as the chat typed them. ``number`` is an ordered list item's number.
    """

    section_key: str
    section_name: str
    section_emoji: str
    kind: PassageKind
    runs: Inline
    spans: tuple[tuple[int, int], ...]
    words: tuple[str, ...]
    number: int | None = None
    ordered: bool = False

    @property
    def text(self) -> str:
        return plain(self.runs)


def _row_runs(row: tuple[Inline, ...]) -> Inline:
    out: list[Run] = []
    for i, cell in enumerate(row):
        if i:
            out.append(Run(ROW_SEPARATOR))
        out.extend(cell)
    return tuple(out)


_Raw = tuple[PassageKind, Inline, int | None, bool]


def _raw_passages(blocks: Sequence[Block]) -> Iterator[_Raw]:
    for b in blocks:
        if isinstance(b, Paragraph):
            yield ("paragraph", b.runs, None, False)
        elif isinstance(b, ListBlock):
            yield from _list_passages(b)
        elif isinstance(b, Table):
            for row in (b.header, *b.rows):
                if row:
                    yield ("row", _row_runs(row), None, False)
        elif isinstance(b, Group | Quote):
            yield from _raw_passages(b.blocks)
        # Code blocks are not searched: they are data, not prose


def _list_passages(lb: ListBlock) -> Iterator[_Raw]:
    for i, item in enumerate(lb.items):
        number = (item.number if item.number is not None else i + 1) if lb.ordered else None
        yield ("item", item.runs, number, lb.ordered)
        for child in item.children:
            yield from _list_passages(child)


def section_passages(section: Section) -> Iterator[_Raw]:
    """Every passage of a section in reading order, the headline first."""
    if section.headline.strip():
        yield ("headline", (Run(section.headline),), None, False)
    yield from _raw_passages(section.blocks)


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


def watch_matches(briefing: Briefing, words: Sequence[str]) -> list[Passage]:
    """The passages of ``briefing`` that mention any of ``words``, in reading order.

    ``words`` are phrases as the chat typed them (normalised here, so stored phrases and
    raw input both work); phrases that normalise to nothing are ignored. Each passage appears
    once, with every watched word it mentions.
    """
    needles: list[tuple[str, str]] = []
    seen: set[str] = set()
    for w in words:
        n = normalise_phrase(w)
        if n and n not in seen:
            seen.add(n)
            needles.append((w.strip(), n))
    if not needles:
        return []
    out: list[Passage] = []
    for section in briefing.sections:
        for kind, runs, number, ordered in section_passages(section):
            text = plain(runs)
            folded, origin = fold(text)
            spans: list[tuple[int, int]] = []
            found: list[str] = []
            for word, needle in needles:
                hits = find_all(folded, needle)
                if not hits:
                    continue
                found.append(word)
                for a, b in hits:
                    spans.append((origin[a], origin[b - 1] + 1))
            if found:
                out.append(
                    Passage(
                        section_key=section.key,
                        section_name=section.name,
                        section_emoji=section.emoji,
                        kind=kind,
                        runs=runs,
                        spans=_merge(spans),
                        words=tuple(found),
                        number=number,
                        ordered=ordered,
                    )
                )
    return out
