"""Document -> plain text for the terminal (``briefcast render``/``show``) and logs.

Same layout as the chat renderers (bullets, numbering, aligned tables), with
no markup: links become footnotes (``text[1]`` … ``[1] url``) by default, or
``text (url)`` inline; code is indented; quotes get a bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from briefcast.render.document import Document, Piece, display_width, layout, link_runs, span_url

LinkStyle = Literal["footnote", "inline"]


def _underline(text: str, ch: str) -> str:
    return ch * max(display_width(text), 1)


class _Links:
    """Footnote numbers, one per distinct URL in order of first appearance."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def number(self, url: str) -> int:
        if url not in self.urls:
            self.urls.append(url)
        return self.urls.index(url) + 1


def _piece_text(p: Piece, links: _Links, style: LinkStyle) -> str:
    out: list[str] = []
    spans = p.spans
    for url, i, j in link_runs(spans, span_url):
        text = "".join(s.text for s in spans[i:j])
        if url is None:
            out.append(text)
        elif style == "inline":
            out.append(f"{text} ({url})" if text.strip() and text.strip() != url else url)
        else:
            out.append(f"{text}[{links.number(url)}]")
    return "".join(out)


def _body(pieces: Sequence[Piece], links: _Links, style: LinkStyle) -> str:
    out: list[str] = []
    for i, p in enumerate(pieces):
        sep = p.sep if i else ""
        text = _piece_text(p, links, style)
        if p.box == "pre":
            text = "    " + text
        elif p.box == "quote":
            text = "\n".join("│ " + line for line in text.split("\n"))
            prev = pieces[i - 1] if i else None
            if prev is not None and prev.box == "quote" and prev.box_id == p.box_id:
                sep = sep.replace("\n\n", "\n│\n")  # a blank line inside one quote keeps its bar
        if p.label:
            text = f"{text}\n{_underline(text, '-')}"
        out.append(sep + text)
    return "".join(out)


def render(doc: Document, *, links: LinkStyle = "footnote") -> str:
    """Plain text of ``doc``; ends with a newline."""
    refs = _Links()
    chunks: list[str] = []
    if doc.title:
        chunks.append(f"{doc.title}\n{_underline(doc.title, '=')}")
    body = _body(layout(doc.blocks), refs, links)
    if body:
        chunks.append(body)
    if refs.urls:
        chunks.append("\n".join(f"[{n}] {url}" for n, url in enumerate(refs.urls, start=1)))
    buttons = [b for row in doc.buttons for b in row]
    if buttons:
        chunks.append("  ".join(f"[{b.text}]" for b in buttons))
    if doc.footer:
        chunks.append(f"— {doc.footer}")
    return "\n\n".join(chunks) + "\n"
