"""What in a newsletter's source belongs to its site generator rather than to its readers.

Static-site generators let authors write things that never reach a reader's
eyes as text: a Pelican/MultiMarkdown ``Title: … / Date: …`` metadata header,
Liquid and Jinja tags (``{% include x.md %}``, ``{{ page.title }}``), Hugo
shortcodes (``{{< subscribe >}}``), kramdown attribute lists
(``[text](url){:target="_blank"}``). Left alone they would be pushed to
subscribers as literal text; dropped silently they would hide content.

This module names them once. The parser removes them and counts what it
removed; the fidelity measurement (:mod:`briefcast.render.fidelity`) applies
the same rules to the source, so "visible text" means the same thing on both
sides and every removal is reported, never silent.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# Liquid/Jinja tags and output, Hugo shortcodes ({{< x >}}, {{% x %}}): never text for a reader.
_TEMPLATE = re.compile(r"\{%-?.*?-?%\}|\{\{[<%]?.*?[>%]?\}\}", re.DOTALL)
# kramdown inline attribute lists: "{:target="_blank"}", "{: .class}"
_IAL = re.compile(r"\{:[^{}\n]*\}")
MAX_SAMPLES = 200
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.DOTALL)


@dataclass
class Removed:
    """Counts of site markup removed from a source, by kind (``template``, ``attribute_list``…)."""

    counts: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    """The removed text itself (up to :data:`MAX_SAMPLES`), to check that none of it reaches a reader."""

    def add(self, kind: str, n: int = 1, *, sample: str = "") -> None:
        if n:
            self.counts[kind] += n
        if sample.strip() and len(self.samples) < MAX_SAMPLES:
            self.samples.append(sample)

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


def strip_site_markup(text: str, removed: Removed | None = None) -> str:
    """``text`` without template tags and attribute lists (code spans are left as written)."""
    if "{" not in text:
        return text
    out: list[str] = []
    pos = 0
    for m in _CODE_SPAN.finditer(text):
        out.append(_strip_plain(text[pos : m.start()], removed))
        out.append(m.group(0))
        pos = m.end()
    out.append(_strip_plain(text[pos:], removed))
    return "".join(out)


def _strip_plain(text: str, removed: Removed | None) -> str:
    if "{" not in text:
        return text
    for kind, pattern in (("template", _TEMPLATE), ("attribute_list", _IAL)):
        if removed is not None:
            for m in pattern.finditer(text):
                removed.add(kind, sample=m.group(0))
        text = pattern.sub("", text)
    return text


# ------------------------------------------------------------------ metadata

_META_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]{0,30}(?: [A-Za-z0-9_-]{1,30}){0,2})[ \t]*:[ \t]*(.*?)\s*$")
_CONTINUATION = re.compile(r"^[ \t]+\S")
META_KEYS = frozenset(
    {
        "title",
        "subtitle",
        "date",
        "modified",
        "published",
        "author",
        "authors",
        "category",
        "categories",
        "tags",
        "keywords",
        "slug",
        "summary",
        "description",
        "lang",
        "language",
        "number",
        "issue",
        "status",
        "series",
        "base_url",
        "url",
        "source",
    }
)
"""Keys that may open a ``Key: value`` metadata header (any key may follow once it is open)."""


def metadata_header(text: str) -> tuple[dict[str, str], int]:
    """A Pelican / MultiMarkdown ``Key: value`` header at the very top: (fields, characters it spans).

    The header is the first block of the document: consecutive ``Key: value``
    lines (indented lines continue the previous value) ending at a blank line.
    It counts only if its first key is a known metadata key (:data:`META_KEYS`),
    so a first paragraph such as ``Note: the office is closed`` stays text.
    Keys are lower-cased. ``({}, 0)`` when there is none.
    """
    fields: dict[str, str] = {}
    pos = 0
    last = ""
    for line in text.splitlines(keepends=True):
        stripped = line.rstrip("\r\n")
        if not stripped.strip():
            break
        m = _META_LINE.match(stripped)
        if m and not (fields == {} and m.group(1).strip().lower() not in META_KEYS):
            if "://" in m.group(1) or m.group(2).startswith("//"):
                return {}, 0
            last = m.group(1).strip().lower().replace(" ", "_")
            fields[last] = m.group(2)
        elif fields and _CONTINUATION.match(stripped):
            fields[last] = f"{fields[last]} {stripped.strip()}".strip()
        else:
            return {}, 0
        pos += len(line)
    if not fields:
        return {}, 0
    rest = text[pos:]
    if not rest.strip():
        return {}, 0  # a document of only "Key: value" lines is content, not a header
    return fields, pos
