"""Parse a briefing (Markdown, or HTML via markdownify) into a :class:`Briefing`.

The parser works on the markdown-it-py syntax tree, never on lines of the
document, so emphasis, links, lists and code keep their meaning whatever the
author's layout. The pipeline, one module a stage:

1. :mod:`.markdown`: markdown-it (CommonMark + tables + strikethrough, YAML
   ``---`` and TOML ``+++`` front matter, MDX import/export lines and
   ``{/* */}`` comments removed) gives a tree;
2. :mod:`.inline` and :mod:`.blocks`: the top-level nodes become a flat stream
   of *items*: headings, paragraphs (still split into lines so the title line
   and ``1、`` numbering can be seen) and finished blocks;
3. :mod:`.structure`: the first item is the title line (a paragraph or an H1),
   the section level is chosen from the headings, headings at that level open
   sections, deeper headings and bold-only paragraphs (``**核心进展**``) open
   groups;
4. :mod:`.metadata`: issue extras (keywords, takeaways, date, language) are
   read from the finished model. Paragraphs they come from stay in place:
   nothing is lost.

:mod:`.document` runs the stages in order; :mod:`.html` feeds an HTML page's
body through markdownify into the same pipeline. Imports go one way only
(``markdown`` → ``inline`` → ``blocks`` → ``metadata`` → ``structure`` →
``document`` → ``html`` → this package; ``tests/test_layers.py`` checks it).
Reading files and URLs is not the parser's job: see :mod:`briefcast.ingest.read`.

A document with text but no headings becomes ONE section with key
``"briefing"`` (``known=False``): a stable key is more useful to commands and
subscriptions than a slug of a title that changes every issue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Literal

from briefcast.briefing.model import Briefing
from briefcast.briefing.parse.document import parse_markdown
from briefcast.briefing.parse.html import parse_html
from briefcast.briefing.parse.markdown import MAX_NESTING, html_to_markdown, markdown_tokens
from briefcast.briefing.parse.metadata import INTRO_PLACEMENTS, IntroPlacement, ParseOptions
from briefcast.briefing.parse.structure import split_title
from briefcast.briefing.sectors import SectorCatalogue
from briefcast.briefing.source import SourceKind, kind_from_name, sniff_kind

__all__ = [
    "INTRO_PLACEMENTS",
    "MAX_NESTING",
    "IntroPlacement",
    "ParseOptions",
    "html_to_markdown",
    "markdown_tokens",
    "parse_html",
    "parse_markdown",
    "parse_text",
    "split_title",
]

_PARSERS: dict[SourceKind, Callable[..., Briefing]] = {"markdown": parse_markdown, "html": parse_html}


def parse_text(
    text: str,
    *,
    kind: Literal["markdown", "html"] | None = None,
    source: str = "",
    catalogue: SectorCatalogue | None = None,
    default_date: date | None = None,
    options: ParseOptions | None = None,
) -> Briefing:
    """Parse text of a known kind, or sniff it (file extension of ``source`` first, then content)."""
    resolved: SourceKind = kind or kind_from_name(source) or sniff_kind(text.lstrip("\ufeff"))
    return _PARSERS[resolved](
        text, source=source, catalogue=catalogue, default_date=default_date, options=options
    )
