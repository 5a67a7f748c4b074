"""Plain-text rendering for the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefcast.briefing.model import Code, Group, ListBlock, ListItem, Paragraph, Quote, Run, Table
from briefcast.ingest.read import parse_source
from briefcast.render import compose, text
from briefcast.render.document import Button, Document, display_width

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _doc() -> Document:
    return Document(
        title="⚡ 能源",
        blocks=(
            Group(
                "核心进展",
                (
                    Paragraph(
                        (Run("钠电池", url="https://e.com/1"), Run("，"), Run("again", url="https://e.com/1"))
                    ),
                    ListBlock(
                        (ListItem((Run("a"),), children=(ListBlock((ListItem((Run("b"),), 7),), True),)),)
                    ),
                ),
            ),
            Table(
                ((Run("名称"),), (Run("v"),)), (((Run("储能"),), (Run("5.6"),)), ((Run("x"),), (Run("12"),)))
            ),
            Code("x = 1", "py"),
            Quote((Paragraph((Run("q1"),)), Paragraph((Run("q2"),)))),
        ),
        footer="来源：量子鲨鱼 · 2026-11-28",
        buttons=((Button("⚡ 全文", action="sector", value="energy"),),),
    )


def test_footnote_style_exact() -> None:
    assert text.render(_doc()) == (
        "⚡ 能源\n"
        "=======\n\n"
        "核心进展\n"
        "--------\n"
        "钠电池[1]，again[1]\n\n"
        "• a\n"
        "  7. b\n\n"
        "    名称 | v\n"
        "    -----+----\n"
        "    储能 | 5.6\n"
        "    x    | 12\n\n"
        "    x = 1\n\n"
        "│ q1\n"
        "│\n"
        "│ q2\n\n"
        "[1] https://e.com/1\n\n"
        "[⚡ 全文]\n\n"
        "— 来源：量子鲨鱼 · 2026-11-28\n"
    )


def test_inline_links() -> None:
    out = text.render(
        Document(
            "t",
            (
                Paragraph(
                    (Run("site", url="https://e.com"), Run(" and "), Run("https://x.io", url="https://x.io"))
                ),
            ),
        ),
        links="inline",
    )
    assert out == "t\n=\n\nsite (https://e.com) and https://x.io\n"


def test_table_columns_align_by_display_width() -> None:
    out = text.render(Document("", (_doc().blocks[1],)))
    rows = [line for line in out.splitlines() if "|" in line]
    assert len({display_width(r.split("|")[0]) for r in rows}) == 1


@pytest.mark.parametrize("name", ["sample-issue.md", "sample-issue-en.md", "sample-issue.html"])
def test_samples_render_every_link_as_footnote(name: str) -> None:
    b = parse_source(str(EXAMPLES / name))
    for sec in b.sections:
        out = text.render(compose.section_document(b, sec))
        assert out.startswith(f"{sec.emoji} {sec.name}")
        for link in sec.links:
            assert f"] {link.url}\n" in out
        assert "<" not in out.replace("<50", "")  # no markup leaks (the English sample says "<50 ms")


def test_safe_cut_keeps_grapheme_clusters_whole() -> None:
    from briefcast.render.document import safe_cut, sentence_cuts

    text = "a" + "👩\u200d💻" + "🇨🇳" + "🇺🇸" + "👍🏽" + "e\u0301"
    boundaries = {1, 4, 6, 8, 10, 12}  # after a, 👩‍💻, 🇨🇳, 🇺🇸, 👍🏽, é
    for limit in range(1, len(text) + 1):
        assert safe_cut(text, limit) in boundaries, limit
    assert sentence_cuts("价格3.5元。下一句！Next. x") == [7, 11, 17]
