"""The briefing model as safe HTML for the archive pages and the feeds' ``content``.

Issue content is untrusted (a newsletter is whatever a source sent): every piece of text goes
through :func:`markupsafe.escape`, tags come only from this module, and a link target must be
http(s) or mailto (:func:`briefcast.render.preview.safe_url`), else the text is shown unlinked.
Images are not loaded (no third-party requests from a reader's browser, and the page's CSP allows
none): an image becomes a link to it with its alt text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape

from briefcast.briefing.model import (
    Block,
    Code,
    Group,
    Inline,
    Link,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Run,
    Section,
    Table,
)
from briefcast.render.document import link_runs
from briefcast.render.preview import safe_url

# Outermost first: <a><strong><em>…</em></strong></a>; code innermost, as in the platform renderers.
_TAGS: tuple[tuple[str, str, str], ...] = (
    ("bold", "<strong>", "</strong>"),
    ("italic", "<em>", "</em>"),
    ("underline", "<u>", "</u>"),
    ("strike", "<s>", "</s>"),
    ("spoiler", '<span class="spoiler">', "</span>"),
    ("code", "<code>", "</code>"),
)
LINK_REL = "noopener noreferrer nofollow ugc"


def link_target(url: str | None) -> str | None:
    """The URL if readers may follow it from the archive (http, https, mailto), else None."""
    if url is None:
        return None
    target = safe_url(url)
    return target if target is not None and not target.lower().startswith("tg:") else None


def _run_html(run: Run) -> str:
    if run.is_break:
        return "<br>"
    inner = str(escape(run.text)).replace("\n", "<br>")
    if run.image:
        inner = "🖼 " + (inner or "image")
    for style, open_, close in reversed(_TAGS):
        if style in run.styles:
            inner = f"{open_}{inner}{close}"
    return inner


def inline_html(runs: Inline) -> Markup:
    """Runs as HTML; adjacent runs with one (safe) URL share one ``<a>``."""
    out: list[str] = []
    for url, i, j in link_runs(runs, lambda r: link_target(r.url)):
        inner = "".join(_run_html(r) for r in runs[i:j])
        if url is None:
            out.append(inner)
            continue
        css = ' class="image"' if all(r.image for r in runs[i:j]) else ""
        out.append(f'<a href="{escape(url)}" rel="{LINK_REL}"{css}>{inner}</a>')
    return Markup("".join(out))


def _item_html(item: ListItem) -> str:
    children = "".join(_list_html(c) for c in item.children)
    return f"<li>{inline_html(item.runs)}{children}</li>"


def _list_html(lb: ListBlock) -> str:
    items = "".join(_item_html(i) for i in lb.items)
    if not lb.ordered:
        return f"<ul>{items}</ul>"
    first = lb.items[0].number if lb.items and lb.items[0].number not in (None, 1) else None
    start = f' start="{int(first)}"' if first is not None else ""
    return f"<ol{start}>{items}</ol>"


def _table_html(t: Table) -> str:
    head = "".join(f"<th>{inline_html(c)}</th>" for c in t.header)
    rows = "".join("<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in row) + "</tr>" for row in t.rows)
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f'<div class="table"><table>{thead}<tbody>{rows}</tbody></table></div>'


def block_html(b: Block) -> str:
    if isinstance(b, Paragraph):
        return f"<p>{inline_html(b.runs)}</p>"
    if isinstance(b, ListBlock):
        return _list_html(b)
    if isinstance(b, Code):
        return f"<pre><code>{escape(b.text)}</code></pre>"
    if isinstance(b, Table):
        return _table_html(b)
    if isinstance(b, Quote):
        return f"<blockquote>{blocks_html(b.blocks)}</blockquote>"
    if isinstance(b, Group):
        return f'<h3 class="group">{escape(b.label)}</h3>{blocks_html(b.blocks)}'
    raise TypeError(f"unknown block {type(b).__name__}")


def blocks_html(blocks: Iterable[Block]) -> Markup:
    """Blocks as HTML, in order."""
    return Markup("".join(block_html(b) for b in blocks))


def section_body_html(section: Section) -> Markup:
    """A section's blocks, without the heading line the parser sometimes keeps as its first paragraph."""
    blocks: Sequence[Block] = section.blocks
    if blocks and isinstance(blocks[0], Paragraph) and _is_heading(blocks[0], section):
        blocks = blocks[1:]
    return blocks_html(blocks)


def _is_heading(p: Paragraph, section: Section) -> bool:
    text = "".join(r.text for r in p.runs).strip()
    return bool(text) and text in {section.heading.strip(), section.title.strip()}


def unique_links(links: Iterable[Link]) -> list[Link]:
    """Links with a safe target, first occurrence of each URL kept, in reading order."""
    seen: set[str] = set()
    out: list[Link] = []
    for link in links:
        target = link_target(link.url)
        if target is None or target in seen:
            continue
        seen.add(target)
        out.append(Link(link.text.strip() or target, target))
    return out
