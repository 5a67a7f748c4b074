"""The sector catalogue (``config/sectors.toml``): heading -> sector, commands, aliases."""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
# Variation selectors and joiners that ride along with emoji ("⚡️" vs "⚡").
_EMOJI_NOISE = dict.fromkeys(map(ord, "\ufe0f\ufe0e\u200d"), None)


def normalise(text: str) -> str:
    """Case-fold, NFKC, strip emoji variation selectors and surrounding space/punctuation."""
    t = unicodedata.normalize("NFKC", text).translate(_EMOJI_NOISE).casefold()
    return t.strip(" \t\r\n:：-—·•|/")


def slugify(text: str) -> str:
    """A stable, ASCII-or-CJK slug for a heading that matches no sector.

    Letters and digits (including CJK) are kept, everything else collapses to
    ``-``; the result is lower-case and at most 48 characters. Never empty.
    """
    t = normalise(text)
    out: list[str] = []
    for ch in t:
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    slug = "".join(out).strip("-")[:48].strip("-")
    return slug or "section"


@dataclass(frozen=True, slots=True)
class Sector:
    key: str
    emoji: str
    name_zh: str
    name_en: str
    aliases: tuple[str, ...]
    commands: tuple[str, ...]
    description_zh: str = ""
    description_en: str = ""

    def name(self, lang: str) -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en

    def description(self, lang: str) -> str:
        d = self.description_zh if lang.startswith("zh") else self.description_en
        return d or self.name(lang)

    @property
    def command(self) -> str:
        return self.commands[0]

    def names(self) -> Iterator[str]:
        """Every normalised name this sector answers to."""
        yield normalise(self.key)
        yield normalise(self.name_zh)
        yield normalise(self.name_en)
        for a in self.aliases:
            yield normalise(a)
        for c in self.commands:
            yield normalise(c)


class SectorCatalogue:
    """Ordered sectors with lookups by key, emoji, alias and command."""

    def __init__(self, sectors: list[Sector]) -> None:
        if not sectors:
            raise ValueError("the sector catalogue is empty")
        self.sectors: tuple[Sector, ...] = tuple(sectors)
        self._by_key = {s.key: s for s in sectors}
        if len(self._by_key) != len(sectors):
            raise ValueError("duplicate sector keys in the catalogue")
        self._by_name: dict[str, Sector] = {}
        self._by_command: dict[str, Sector] = {}
        for s in sectors:
            for c in s.commands:
                if not _COMMAND_RE.match(c):
                    raise ValueError(f"sector {s.key!r}: command {c!r} is not [a-z0-9_]{{1,32}}")
                if c in self._by_command:
                    raise ValueError(f"command {c!r} is declared by two sectors")
                self._by_command[c] = s
            for n in s.names():
                self._by_name.setdefault(n, s)

    def __iter__(self) -> Iterator[Sector]:
        return iter(self.sectors)

    def __len__(self) -> int:
        return len(self.sectors)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.sectors)

    def get(self, key: str) -> Sector | None:
        return self._by_key.get(key)

    def received(self, subscribed: Iterable[str], issue_keys: Iterable[str]) -> tuple[str, ...]:
        """The keys of an issue's sections that a subscriber of ``subscribed`` receives, in issue order.

        A subscription naming every sector of the catalogue ("all") receives every section, the
        issue's own too: a free-form newsletter (no catalogue sector) reaches it. Any other
        subscription receives the sections it names.
        """
        wanted = set(subscribed)
        keys = tuple(issue_keys)
        if self.sectors and wanted.issuperset(self._by_key):
            return keys
        return tuple(k for k in keys if k in wanted)

    def by_command(self, command: str) -> Sector | None:
        return self._by_command.get(command.lower())

    def lookup(self, text: str) -> Sector | None:
        """A sector named by ``text``: key, alias, command, name or emoji ("能源", "Energy", "⚡")."""
        n = normalise(text.lstrip("/"))
        if not n:
            return None
        hit = self._by_name.get(n)
        if hit is not None:
            return hit
        for s in self.sectors:
            if normalise(s.emoji) == n:
                return s
        return None

    def match_heading(self, emoji: str, name: str) -> Sector | None:
        """The sector a heading belongs to: by its emoji first, then by its name or a prefix alias."""
        if emoji:
            e = normalise(emoji)
            for s in self.sectors:
                if normalise(s.emoji) == e:
                    return s
        n = normalise(name)
        if not n:
            return None
        hit = self._by_name.get(n)
        if hit is not None:
            return hit
        # "AI: inference gets cheaper" style names are exact; "Energy infrastructure" is a prefix.
        best: tuple[int, Sector] | None = None
        for alias, s in self._by_name.items():
            if len(alias) >= 2 and n.startswith(alias) and (best is None or len(alias) > best[0]):
                nxt = n[len(alias) : len(alias) + 1]
                # avoid "aim" matching "ai": the next char must not continue an ASCII word
                if nxt and nxt.isascii() and nxt.isalnum():
                    continue
                best = (len(alias), s)
        return best[1] if best else None


def _default_path() -> Path | None:
    env = os.environ.get("BRIEFCAST_SECTORS_FILE")
    if env:
        return Path(env)
    cwd = Path.cwd() / "config" / "sectors.toml"
    if cwd.is_file():
        return cwd
    repo = Path(__file__).resolve().parents[3] / "config" / "sectors.toml"
    if repo.is_file():
        return repo
    return None


def load_catalogue(path: Path | str | None = None) -> SectorCatalogue:
    """Load a catalogue from ``path``, ``$BRIEFCAST_SECTORS_FILE``, ``./config`` or the packaged copy."""
    p = Path(path) if path is not None else _default_path()
    if p is not None:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    else:
        raw = tomllib.loads(
            resources.files("briefcast").joinpath("data/sectors.toml").read_text(encoding="utf-8")
        )
    sectors = [
        Sector(
            key=str(e["key"]),
            emoji=str(e.get("emoji", "")),
            name_zh=str(e.get("name_zh", e["key"])),
            name_en=str(e.get("name_en", e["key"])),
            aliases=tuple(str(a) for a in e.get("aliases", ())),
            commands=tuple(str(c) for c in e.get("commands", (e["key"],))),
            description_zh=str(e.get("description_zh", "")),
            description_en=str(e.get("description_en", "")),
        )
        for e in raw.get("sector", ())
    ]
    return SectorCatalogue(sectors)


@lru_cache(maxsize=1)
def default_catalogue() -> SectorCatalogue:
    return load_catalogue()
