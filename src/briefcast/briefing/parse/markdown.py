"""Stage 1: markdown-it set up for briefings (CommonMark + tables + strikethrough, YAML ``---`` and
TOML ``+++`` front matter, MDX lines, ``{/* */}`` comments and site markup removed) gives the tokens."""

from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdownify import MarkdownConverter
from mdit_py_plugins.front_matter import front_matter_plugin

from briefcast.briefing.markup import Removed, strip_site_markup

# ---------------------------------------------------------------- markdown-it


def _toml_front_matter(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """``+++`` … ``+++`` at the very top (Hugo-style TOML front matter) as a ``front_matter`` token."""
    if start_line != 0 or state.getLines(0, 1, 0, False).rstrip() != "+++":
        return False
    line = 1
    while line < end_line:
        if state.getLines(line, line + 1, 0, False).rstrip() == "+++":
            break
        line += 1
    else:
        return False  # unclosed: not front matter, let the paragraph rule have it
    if silent:
        return True
    token = state.push("front_matter", "", 0)
    token.markup = "+++"
    token.content = state.getLines(1, line, 0, False)
    token.map = [0, line + 1]
    state.line = line + 1
    return True


_MDX_COMMENT = re.compile(r"[ \t]*\{/\*.*?\*/\}", re.DOTALL)
_MDX_IMPORT = re.compile(
    r"^\s*(?:import\s+(?:[\w*${}\s,]+\s+from\s+)?[\"'][^\"']+[\"']"
    r"|export\s+(?:const|let|var|function|default|async|class|\{)[^\n]*?)\s*;?\s*$"
)


def _mdx_rule(state: StateCore) -> None:
    """Before inline parsing: drop MDX ``import``/``export`` paragraphs and ``{/* comments */}``,
    and site-generator markup (template tags, attribute lists; see :mod:`briefcast.briefing.markup`).

    What is removed is counted in ``env["removed"]`` so the parser can report it.
    """
    removed = state.env.get("removed") if isinstance(state.env, dict) else None
    tokens = state.tokens
    out: list[Token] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if (
            tok.type == "paragraph_open"
            and i + 2 < len(tokens)
            and tokens[i + 1].type == "inline"
            and all(_MDX_IMPORT.match(line) for line in tokens[i + 1].content.splitlines())
        ):
            i += 3
            continue
        if tok.type == "inline" and "{/*" in tok.content:
            tok.content = _MDX_COMMENT.sub("", tok.content)
        if tok.type == "inline" and "{" in tok.content:
            tok.content = strip_site_markup(tok.content, removed if isinstance(removed, Removed) else None)
        out.append(tok)
        i += 1
    # a paragraph that held only an MDX comment is now empty: drop it too
    cleaned: list[Token] = []
    j = 0
    while j < len(out):
        if (
            out[j].type == "paragraph_open"
            and j + 2 < len(out)
            and out[j + 1].type == "inline"
            and not out[j + 1].content.strip()
        ):
            j += 3
            continue
        cleaned.append(out[j])
        j += 1
    state.tokens = cleaned


_REF_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S")
_MARKERS_ONLY = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)]|>)(?:\s+(?:[-*+]|\d{1,9}[.)]|>))*\s*$")
_LEAF_BLOCKS = frozenset(
    {
        "paragraph_open",
        "heading_open",
        "fence",
        "code_block",
        "html_block",
        "hr",
        "table_open",
        "front_matter",
    }
)


def _coverage_rule(state: StateCore) -> None:
    """Record the source lines block parsing placed (before any cleanup drops tokens)."""
    if isinstance(state.env, dict):
        covered: set[int] = state.env.setdefault("covered", set())
        for tok in state.tokens:
            if tok.map and tok.type in _LEAF_BLOCKS:
                covered.update(range(tok.map[0], tok.map[1]))


# CommonMark's default nesting limit (20) silently drops everything after a list nested ~8 deep.
MAX_NESTING = 120


def _make_parser(front_matter: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_NESTING}).enable(
        ["table", "strikethrough"]
    )
    if front_matter:
        md.use(front_matter_plugin)
        md.block.ruler.before(
            "table",
            "toml_front_matter",
            _toml_front_matter,
            {"alt": ["paragraph", "reference", "blockquote", "list"]},
        )
    md.core.ruler.after("block", "coverage", _coverage_rule)
    md.core.ruler.after("coverage", "mdx_cleanup", _mdx_rule)
    return md


class _HtmlToMarkdown(MarkdownConverter):
    """markdownify with underline kept as ``<ins>`` (Markdown has no syntax for it; our inline parser has)."""

    def convert_u(self, el: object, text: str, parent_tags: set[str]) -> str:
        if "_noformat" in parent_tags or not text.strip():
            return text
        core = text.strip()
        before = " " if text[0].isspace() else ""
        after = " " if text[-1].isspace() else ""
        return f"{before}<ins>{core}</ins>{after}"

    convert_ins = convert_u


def html_to_markdown(html: str) -> str:
    """HTML -> Markdown with markdownify (ATX headings, ``-`` bullets, underline preserved)."""
    return str(_HtmlToMarkdown(heading_style="ATX", bullets="-").convert(html))


_MD = _make_parser(front_matter=True)
_MD_FRAGMENT = _make_parser(front_matter=False)  # HTML blocks converted back to Markdown


def markdown_tokens(text: str, env: dict[str, Any] | None = None) -> list[Token]:
    """The markdown-it token stream the parser reads (front matter, MDX lines and site markup handled).

    Never loses part of a document: when markdown-it places no block on some
    lines (nesting deeper than :data:`MAX_NESTING` makes it stop), those lines
    are parsed on their own and appended, and ``env["unplaced"]`` counts them.
    An HTML comment that is never closed would hide the rest of the issue: its
    opening ``<!--`` is dropped (``env["removed"]`` counts it).
    """
    env = env if env is not None else {}
    removed: Removed = env.setdefault("removed", Removed())
    if "<!--" in text and "-->" not in text[text.rfind("<!--") :]:
        cut = text.rfind("<!--")
        removed.add("unclosed_comment", sample="<!--")
        text = text[:cut] + text[cut + 4 :]
    env["covered"] = set()
    tokens = _MD.parse(text, env)
    covered: set[int] = env.pop("covered")
    lines = text.split("\n")
    lost = [
        i
        for i, line in enumerate(lines)
        if i not in covered
        and line.strip()
        and not _REF_DEFINITION.match(line)
        and not _MARKERS_ONLY.match(line)
    ]
    if lost:
        first = lost[0]
        keep = set(lost)
        tail = "\n".join(lines[i].lstrip() if i in keep else "" for i in range(first, len(lines)))
        if tail.strip():
            env["unplaced"] = env.get("unplaced", 0) + len(lost)
            sub: dict[str, Any] = {"removed": removed}
            more = markdown_tokens(tail, sub)
            env["unplaced"] += sub.get("unplaced", 0)
            for t in more:
                if t.map:
                    t.map = [t.map[0] + first, t.map[1] + first]
            tokens.extend(t for t in more if t.type != "front_matter")
    return tokens


# -------------------------------------------------------------- HTML input

_MARKED_SECTION = re.compile(r"<!\[(?!CDATA\[)", re.IGNORECASE)


def _safe_html(html: str) -> str:
    """Escape ``<![…`` marked sections, which make the stdlib HTML parser (and bs4) raise."""
    return _MARKED_SECTION.sub("&lt;![", html)
