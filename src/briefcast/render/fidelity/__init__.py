"""The fidelity report: is what the source says what a reader receives?

One measurement, used everywhere an issue is ingested or previewed
(``briefcast ingest``, ``POST /api/issues``, the operator's preview before
publishing) and by the real-newsletter corpus tests:

* the **source** is read on its own terms — every visible sentence (of
  paragraphs, list items, headings, quotes, table cells; each code line) and
  every link and image target, in reading order. What a site generator never
  shows (front matter, a ``Key: value`` metadata header, comments, template
  tags, ``<script>``) is not counted (:mod:`briefcast.briefing.markup` names
  it); relative targets are resolved against the issue's base URL when it has one;
* the **reader side** is what the bot sends: the overview (``/latest``) and
  every section, rendered by the real Telegram and Slack renderers, read back
  from the payloads (text with markup removed, link targets);
* an item is kept when its text appears in the reader's text (whitespace and
  emphasis marks ignored); a link is kept when its target is a link there, or
  shown as text (a ``mailto:`` address, a relative path without a base URL).

Every miss is listed with its source line and the reason when one is known,
so an issue below 100% says what was lost and why.

One module a concern: :mod:`.source` reads the source, :mod:`.reader` renders
and reads back what readers receive, :mod:`.measure` compares the two and
:mod:`.report` holds the result; this package exports their public names.
"""

from __future__ import annotations

from briefcast.render.fidelity.measure import (
    fidelity_report,
    ingest_warnings,
    iter_losses,
    measure,
    report_for,
    source_kind,
)
from briefcast.render.fidelity.reader import (
    PLATFORMS,
    READERS,
    Payload,
    Renderer,
    mrkdwn_reading,
    reader_documents,
    slack_reading,
    telegram_reading,
)
from briefcast.render.fidelity.report import FidelityReport, Lost, PlatformFidelity
from briefcast.render.fidelity.source import (
    LinkKind,
    SourceItem,
    SourceLink,
    SourceReading,
    add_sentences,
    classify_link,
    read_html_source,
    read_markdown_source,
    read_source,
)

__all__ = [
    "PLATFORMS",
    "READERS",
    "FidelityReport",
    "LinkKind",
    "Lost",
    "Payload",
    "PlatformFidelity",
    "Renderer",
    "SourceItem",
    "SourceLink",
    "SourceReading",
    "add_sentences",
    "classify_link",
    "fidelity_report",
    "ingest_warnings",
    "iter_losses",
    "measure",
    "mrkdwn_reading",
    "read_html_source",
    "read_markdown_source",
    "read_source",
    "reader_documents",
    "report_for",
    "slack_reading",
    "source_kind",
    "telegram_reading",
]
