"""Search helpers that need no database: query terms, passages and snippets.

The database finds matching sections (FTS5 trigram / pg_trgm / LIKE); this
module picks, inside a matching section, the passage and the sentence(s) a
reader should see, and the links that belong to them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from briefcast.briefing.model import (
    Block,
    Code,
    Group,
    Inline,
    Link,
    ListBlock,
    Paragraph,
    Quote,
    Section,
    Table,
    links_of,
    plain,
)

SNIPPET_MAX = 200
_MAX_TERMS = 8
# Sentence ends: CJK full stops and marks, ASCII !? anywhere, "." only before whitespace (not "3.5").
_CJK_ENDS = ("。", "！", "？", "；", "”", "」", "』")
_SENTENCE_END = re.compile(r"[。！？!?；;]+[”」』\"']?|\.(?=\s)|\n")


def query_terms(query: str) -> tuple[str, ...]:
    """Whitespace-separated terms (NFKC-normalised, de-duplicated, at most 8); all must match."""
    q = unicodedata.normalize("NFKC", query)
    seen: dict[str, None] = {}
    for t in q.split():
        t = t.strip("\"'“”‘’")
        if t and t.casefold() not in (s.casefold() for s in seen):
            seen[t] = None
    return tuple(seen)[:_MAX_TERMS]


def section_search_text(section: Section) -> str:
    """What the index stores for a section: its heading line, then its body text."""
    head = f"{section.name}：{section.headline}" if section.headline else section.name
    return f"{head}\n{section.text()}".strip()


def passages(section: Section) -> Iterator[tuple[str, tuple[Link, ...]]]:
    """(text, links) per readable unit: paragraph, list item, group label, table row, then the heading.

    The heading comes last so that, on a tie, a passage with content (and links) wins.
    """
    yield from _block_passages(section.blocks)
    yield (f"{section.name}：{section.headline}" if section.headline else section.name), ()


def _runs_passage(runs: Inline) -> tuple[str, tuple[Link, ...]]:
    return plain(runs), tuple(links_of(runs))


def _block_passages(blocks: Sequence[Block]) -> Iterator[tuple[str, tuple[Link, ...]]]:
    for b in blocks:
        if isinstance(b, Paragraph):
            yield _runs_passage(b.runs)
        elif isinstance(b, ListBlock):
            yield from _list_passages(b)
        elif isinstance(b, Group):
            yield b.label, ()
            yield from _block_passages(b.blocks)
        elif isinstance(b, Quote):
            yield from _block_passages(b.blocks)
        elif isinstance(b, Table):
            for row in (b.header, *b.rows):
                runs = tuple(r for cell in row for r in cell)
                yield " | ".join(plain(c) for c in row), tuple(links_of(runs))
        elif isinstance(b, Code):
            yield b.text, ()


def _list_passages(lb: ListBlock) -> Iterator[tuple[str, tuple[Link, ...]]]:
    for item in lb.items:
        yield _runs_passage(item.runs)
        for child in item.children:
            yield from _list_passages(child)


def _pattern(terms: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)


def best_passage(section: Section, terms: Sequence[str]) -> tuple[str, tuple[Link, ...]] | None:
    """The passage matching the most distinct terms (earliest wins ties), or None."""
    best: tuple[int, str, tuple[Link, ...]] | None = None
    for text, links in passages(section):
        folded = text.casefold()
        score = sum(1 for t in terms if t.casefold() in folded)
        if score and (best is None or score > best[0]):
            best = (score, text, links)
    return (best[1], best[2]) if best else None


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def snippet(text: str, terms: Sequence[str], max_len: int = SNIPPET_MAX) -> str:
    """The sentence containing the first match, plus following sentences while it fits ``max_len``.

    A single sentence longer than ``max_len`` is cut to a window around the
    match, with "…" marking the cuts.
    """
    m = _pattern(terms).search(text) if terms else None
    pos = m.start() if m else 0
    spans = _sentences(text)
    idx = next((i for i, (s, e) in enumerate(spans) if s <= pos < e), 0)
    s, e = spans[idx] if spans else (0, len(text))
    out = text[s:e].strip()
    for ns, ne in spans[idx + 1 :]:
        nxt = text[ns:ne].strip()
        if not nxt:
            continue
        if len(out) + len(nxt) + 1 > max_len:
            break
        out = out + nxt if out.endswith(_CJK_ENDS) else f"{out} {nxt}"
    if len(out) <= max_len:
        return out
    local = pos - s - (len(text[s:e]) - len(text[s:e].lstrip()))
    begin = max(0, min(local - max_len // 3, len(out) - max_len))
    cut = out[begin : begin + max_len - 2].strip()
    return ("…" if begin > 0 else "") + cut + ("…" if begin + max_len - 2 < len(out) else "")


def snippet_links(snip: str, links: Sequence[Link]) -> tuple[Link, ...]:
    """Links whose text appears in the snippet; all of the passage's links if none does."""
    inside = tuple(link for link in links if link.text and link.text in snip)
    return inside or tuple(links)


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE wildcards escaped (escape character ``\\``)."""
    esc = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{esc}%"


def fts_query(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression: every term as a quoted phrase, ANDed."""
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
