"""The parser on messy real-world layouts (tests/fixtures/messy/) and on random Markdown soup."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from briefcast.briefing.model import (
    Briefing,
    Code,
    Group,
    Link,
    ListBlock,
    Paragraph,
    Quote,
    Run,
    Section,
    Table,
    block_text,
    iter_runs,
    plain,
)
from briefcast.briefing.parse import parse_html, parse_markdown
from briefcast.errors import BriefingError
from briefcast.ingest.read import parse_source

MESSY = Path(__file__).resolve().parent / "fixtures" / "messy"


def load(name: str) -> Briefing:
    return parse_source(str(MESSY / name))


def section(b: Briefing, key: str) -> Section:
    s = b.section(key)
    assert s is not None, f"no section {key!r} in {b.sector_keys}"
    return s


def all_runs(b: Briefing) -> list[Run]:
    return [*iter_runs(b.preamble), *(r for s in b.sections for r in iter_runs(s.blocks))]


def all_text(b: Briefing) -> str:
    parts = [b.title, *b.topics, b.attribution, *(block_text(x) for x in b.preamble)]
    return "\n".join([*parts, *(f"{s.heading}\n{s.text()}" for s in b.sections)])


@pytest.mark.parametrize("path", sorted(MESSY.iterdir()), ids=lambda p: p.name)
def test_every_fixture_parses(path: Path) -> None:
    b = parse_source(str(path))
    assert b.sections
    assert all(s.key for s in b.sections)
    assert len(set(b.sector_keys)) == len(b.sector_keys)
    Briefing.from_dict(b.to_dict()) == b  # noqa: B015 - to_dict/from_dict must not raise
    assert Briefing.from_dict(b.to_dict()).to_dict() == b.to_dict()


def test_yaml_front_matter_nested_bullets_unknown_sector_variation_selector() -> None:
    b = load("yaml-front-matter.md")
    assert (b.date, b.meta["date_source"]) == (date(2025, 3, 14), "front_matter")
    assert b.meta["fm.tags"] == "energy, storage"
    # the H1 wins over the front matter title; attribution split off
    assert (b.title, b.topics, b.attribution) == ("能源周报", ("储能", "氢能"), "由测试生成")
    assert [block_text(x) for x in b.preamble] == ["开篇导语：本周储能板块继续走强。"]
    assert b.sector_keys == ("energy", "生物科技")
    energy = section(b, "energy")
    assert energy.emoji == "⚡️" and energy.known and energy.labels == ("核心进展",)
    bio = section(b, "生物科技")
    assert not bio.known and (bio.emoji, bio.name, bio.headline) == ("🧬", "生物科技", "基因编辑突破")
    (lst,) = bio.blocks
    assert isinstance(lst, ListBlock) and [plain(i.runs) for i in lst.items] == ["第一条", "第二条"]
    nested = lst.items[0].children[0]
    assert plain(nested.items[0].runs) == "嵌套子条目 子链接"
    assert plain(nested.items[0].children[0].items[0].runs) == "更深一层"
    assert Link("子链接", "https://example.com/nested") in b.links
    assert b.language == "zh"


def test_toml_front_matter_and_backslash_escapes() -> None:
    b = load("toml-front-matter.md")
    assert (b.date, b.meta["date_source"]) == (date(2024, 12, 6), "front_matter")
    assert b.title == "Weekly" and b.meta["title_source"] == "front_matter"
    # with a front-matter title the first paragraph is not taken as the title: it is preamble
    assert [block_text(x) for x in b.preamble] == ["Weekly Brief: markets, energy"]
    assert b.sector_keys == ("energy", "unknown-corner")
    assert not section(b, "unknown-corner").known
    assert section(b, "unknown-corner").text() == (
        "Something *not emphasised* and a back\\slash and 1. not a list."
    )
    assert not any("italic" in r.styles for r in all_runs(b))
    assert b.links == (Link("grid link", "https://example.com/grid"),)
    assert b.language == "en"


def test_mdx_imports_and_comments_vanish() -> None:
    b = load("mdx-doc.mdx")
    text = all_text(b)
    assert "import" not in text and "export" not in text and "comment" not in text
    assert "Agents are shipping to production." in text
    assert "Callouts keep their text." in text
    assert b.sector_keys == ("ai", "signals")
    assert b.takeaways == ("agents and grids converge.",)
    assert b.title == "AI Weekly"


def test_h1_sections_with_paragraph_title() -> None:
    b = load("h1-sections.md")
    assert b.meta["section_level"] == "1"
    assert b.title == "Daily Brief" and b.topics == ("AI", "energy")
    assert b.sector_keys == ("ai", "energy", "misc")
    assert [s.known for s in b.sections] == [True, True, False]
    assert b.links == (Link("model link", "https://example.com/model"),)


def test_h1_title_then_h1_sections() -> None:
    b = load("h1-title-h1-sections.md")
    assert b.title == "Weekly Roundup" and b.meta["title_source"] == "heading"
    assert b.sector_keys == ("ai", "web3")
    web3 = section(b, "web3")
    assert (web3.name, web3.headline) == ("Web3", "payments")  # "Web3:" is a colon, unlike "10:30"


def test_h3_sections_h2_title_h4_groups() -> None:
    b = load("h3-sections.md")
    assert b.meta["section_level"] == "3"
    assert b.title == "Weekly Report" and b.topics == ("three sectors",)
    assert b.sector_keys == ("ai", "energy", "web3")
    ai = section(b, "ai")
    assert ai.labels == ("细节",)
    (group,) = ai.blocks
    assert isinstance(group, Group) and block_text(group.blocks[0]) == "段落一。"


def test_heading_links_and_anchors() -> None:
    b = load("heading-links.md")
    assert b.sector_keys == ("energy", "ai")
    energy = section(b, "energy")
    assert energy.heading == "⚡ Energy" and energy.name == "Energy"
    first = energy.blocks[0]
    assert isinstance(first, Paragraph) and first.runs[0].url == "https://example.com/energy-hub"
    ai = section(b, "ai")
    assert (ai.name, ai.headline) == ("AI", "models")
    assert "{#" not in all_text(b)
    assert ai.labels == ("Deep dive",)
    assert [link.url for link in b.links] == ["https://example.com/energy-hub", "https://example.com/deep"]


def test_cjk_numbering_and_punctuation() -> None:
    b = load("cjk-numbering.md")
    signals = section(b, "signals")
    (group,) = signals.blocks
    assert isinstance(group, Group) and group.label == "跨界观察"
    lst, note = group.blocks
    assert isinstance(lst, ListBlock) and lst.ordered
    assert [i.number for i in lst.items] == [1, 2, 3]
    assert [plain(i.runs) for i in lst.items] == [
        "第一条：AI与能源联动。",
        "第二条：储能与金融联动，继续说明（续行）。",  # CJK soft break: no space
        "第三条：单独段落。",
    ]
    assert block_text(note) == "（注）全角标点：“引号”、《书名》、——破折号……"


def test_rich_blocks_tables_code_html_images() -> None:
    b = load("rich-blocks.md")
    # <p align=center><img></p> before the first section lands in the preamble as an image run
    (logo,) = b.preamble
    assert isinstance(logo, Paragraph)
    assert logo.runs == (Run("Briefcast logo", url="https://example.com/logo.png", image=True),)
    assert "editor note" not in all_text(b)
    ai = section(b, "ai")
    table, code, quote, html_par, image_par, soft = ai.blocks
    assert isinstance(table, Table)
    assert [plain(c) for c in table.header] == ["Model", "Price"]
    assert table.rows[0][0][0].bold and table.rows[0][1][0].url == "https://example.com/x-price"
    assert isinstance(code, Code) and code.language == "python" and code.text == 'print("hello")'
    assert isinstance(quote, Quote) and "Quoted insight" in block_text(quote)
    assert isinstance(html_par, Paragraph)
    runs = html_par.runs
    assert Run("\n") in runs
    assert Run("underlined", frozenset({"underline"})) in runs
    assert Run("bold", frozenset({"bold"})) in runs
    assert Run("html link", url="https://example.com/html-link") in runs
    assert isinstance(image_par, Paragraph) and image_par.runs[0].image
    assert block_text(soft) == "Soft wrapped English line joins with a space, 中文软换行会直接相连。"
    assert section(b, "energy").text() == "Escapes: 5 * 3 _x_ [not a link] <tag>."
    assert [link.url for link in b.links] == [
        "https://example.com/logo.png",
        "https://example.com/x-price",
        "https://example.com/quote",
        "https://example.com/html-link",
        "https://example.com/chart.png",
    ]


def test_html_main_without_article() -> None:
    b = load("main-only.html")
    assert b.sector_keys == ("ai", "community-notes")
    assert "Site nav" not in all_text(b) and "not content" not in all_text(b)
    assert (b.date, b.meta["date_source"]) == (date(2025, 6, 1), "html_meta")
    assert b.title == "Fallback Title" and b.meta["title_source"] == "html_title"
    assert Link("a link", "https://example.com/main-link") in b.links
    notes = section(b, "community-notes")
    assert Run("Underlined", frozenset({"underline"})) in tuple(iter_runs(notes.blocks))


def test_inline_styles_merge_and_nest() -> None:
    b = parse_markdown("T\n\n## 🤖 AI\n\n**bold [linked](https://e.x/a)** plain ~~gone~~ `code` *it*\n")
    (p,) = section(b, "ai").blocks
    assert isinstance(p, Paragraph)
    assert p.runs == (
        Run("bold ", frozenset({"bold"})),
        Run("linked", frozenset({"bold"}), "https://e.x/a"),
        Run(" plain "),
        Run("gone", frozenset({"strike"})),
        Run(" "),
        Run("code", frozenset({"code"})),
        Run(" "),
        Run("it", frozenset({"italic"})),
    )


def test_duplicate_unknown_headings_get_unique_keys() -> None:
    b = parse_markdown("T\n\n## Notes\n\na\n\n## Notes\n\nb\n")
    assert b.sector_keys == ("notes", "notes-2")


def test_setext_underline_in_atx_document_is_not_a_section() -> None:
    b = parse_markdown("T\n\n## 🤖 AI\n\nA paragraph\n---\n\n## ⚡ Energy\n\nx\n")
    assert b.sector_keys == ("ai", "energy")
    assert section(b, "ai").text() == "A paragraph"


def test_image_inside_link_keeps_both_targets() -> None:
    b = parse_markdown("T\n\n## 🤖 AI\n\n[![badge](https://e.x/b.png)](https://e.x/target)\n")
    assert [link.url for link in b.links] == ["https://e.x/b.png", "https://e.x/target"]


def test_keywords_group_and_takeaway_group() -> None:
    md = (
        "T\n\n## 🔗 Signals\n\n**Keywords**\n\n- alpha\n- beta / gamma\n\n"
        "**Key takeaways**\n\n- first point\n- second point\n"
    )
    b = parse_markdown(md)
    assert b.keywords == ("alpha", "beta", "gamma")
    assert b.takeaways == ("first point", "second point")


# ---------------------------------------------------------------- random soup

FRAGMENTS = [
    "# ",
    "## ",
    "### ",
    "#### ",
    "🤖 AI：",
    "⚡️ Energy: ",
    "🧬 Bio",
    "**核心进展**",
    "**",
    "*",
    "_",
    "~~",
    "[link](https://e.com/x)",
    "![img](https://e.com/i.png)",
    "[",
    "]",
    "(",
    ")",
    "- ",
    "  - ",
    "    - ",
    "1. ",
    "2) ",
    "1、",
    "2、",
    "> ",
    "```\n",
    "```py\n",
    "~~~",
    "| a | b |\n|---|---|\n| 1 | 2 |\n",
    "<p align=center>",
    "</p>",
    "<img src=x>",
    "<img alt=y>",
    "<br>",
    "<br/>",
    "<ins>",
    "</ins>",
    "<u>",
    "<!-- c -->",
    "<!--",
    "-->",
    "<a href='u'>",
    "</a>",
    "{/* c */}",
    "{/*",
    "import X from 'y'\n",
    "export const a = 1\n",
    "---\n",
    "+++\n",
    "date: 2025-01-01\n",
    "date = 2025-13-45\n",
    "title: [x\n",
    "\\*",
    "\\",
    "{#anchor}",
    "今日关键词：a、b",
    "核心启示：x",
    "Today's keywords: a, b",
    "Takeaway:",
    "\n",
    "\n\n",
    "text ",
    "中文",
    "。",
    "，",
    "<div>",
    "</div>",
    "<h2>H</h2>",
    "<h1>",
    "\t",
    "    code\n",
    "<",
    ">",
    "&amp;",
    "&#0;",
    "&#x110000;",
    "\ufe0f",
    "\u200d",
    "***",
    "<table><tr><td>x</td></tr></table>",
    "<script>x</script>",
    "<details><summary>s</summary>d</details>",
    "<ol><li>",
    "</li></ol>",
    "\r\n",
    "2025-02-30",
    "：",
    ":",
    " -- ",
    "——",
    "<!doctype html>",
    "<article>",
    "</article>",
    "=\n",
    "===\n",
]


def _soup(rng: random.Random) -> str:
    return "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 40)))


@pytest.mark.parametrize("seed", range(4))
def test_random_soup_only_raises_briefing_error(seed: int) -> None:
    rng = random.Random(seed)
    parsed = 0
    for _ in range(100):
        text = _soup(rng)
        for parse in (parse_markdown, parse_html):
            try:
                b = parse(text, source="soup-2025-01-01.md")
            except BriefingError:
                continue
            parsed += 1
            assert b.sections
            Briefing.from_dict(b.to_dict())
    assert parsed > 20  # the soup is not all rejected as empty


def test_years_listed_in_prose_are_not_numbering() -> None:
    b = parse_markdown("T\n\n## ⚡ 能源\n\n2025、2026年储能装机持续增长。\n")
    (p,) = section(b, "energy").blocks
    assert isinstance(p, Paragraph) and block_text(p) == "2025、2026年储能装机持续增长。"
