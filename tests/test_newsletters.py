"""Issue #12, case by case: what real newsletters do that the parser and renderers must survive.

The cases are small synthetic issues (marked as such) reproducing what the issue
measured on real, unlicensed newsletters, plus adversarial inputs. Every rendered
payload goes through TDLib's HTML parser and the Block Kit checks, and every
case's fidelity report is checked, so "no crash" always means "and nothing lost".
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from briefcast.briefing.model import Briefing, Group, ListBlock, iter_runs
from briefcast.briefing.parse import ParseOptions, parse_markdown, parse_text, split_title
from briefcast.ingest.service import read_issue
from briefcast.render import compose
from briefcast.render import slack as slack_render
from briefcast.render import telegram as telegram_render
from briefcast.render.fidelity import FidelityReport, report_for
from briefcast.testing.blockkit import check_slack_payload
from briefcast.testing.tdlib import check_telegram_payload


def read(text: str, source: str = "issue.md", **options: object) -> tuple[Briefing, FidelityReport]:
    b = parse_text(text, source=source, options=ParseOptions(**options))  # type: ignore[arg-type]
    return b, report_for(b, text)


def all_payloads(b: Briefing) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Telegram and Slack payloads of the overview, every section and a push, each checked."""
    docs = [compose.overview_document(b, b.language), *compose.issue_documents(b, lang=b.language)]
    tg = [p for d in docs for p in telegram_render.render(d)]
    sl = [p for d in docs for p in slack_render.render(d)]
    for p in tg:
        check_telegram_payload(p)
    for p in sl:
        check_slack_payload(p)
    return tg, sl


def tg_text(payloads: list[dict[str, object]]) -> str:
    html = "\n".join(str(p["text"]) for p in payloads)
    return re.sub(r"<[^>]+>", "", html).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


def complete(report: FidelityReport) -> None:
    assert report.complete, "\n".join([report.summary(), *report.details()])


# ------------------------------------------------------------------ the intro


INTRO = """# Weekly 12

Welcome back! This week's pulse: [subscribe here](https://example.com/subscribe).

Holiday notice: no issue next week.

## 🤖 AI: agents

Agents shipped.

## ⚡ Energy: storage

Storage boomed.
"""


def test_intro_reaches_overview_and_first_push_part_and_is_searchable() -> None:
    b, report = read(INTRO)
    complete(report)
    all_payloads(b)
    overview = tg_text(telegram_render.render(compose.overview_document(b, "en")))
    assert "This week's pulse" in overview and "Holiday notice" in overview
    parts = compose.digest_parts(b, ["ai", "energy"], lang="en")
    assert [n for n, _ in parts] == ["ai+intro", "energy"]
    first = tg_text(telegram_render.render(parts[0][1]()))
    assert "Holiday notice" in first and "Agents shipped" in first
    assert "subscribe here" in first
    assert "Holiday notice" not in tg_text(telegram_render.render(parts[1][1]()))
    intro = b.intro_section()
    assert intro is not None and "Holiday notice" in intro.text()


def test_intro_placement_separate_off_and_per_publisher_front_matter() -> None:
    b, _ = read(INTRO, intro="separate")
    assert [n for n, _ in compose.digest_parts(b, ["energy"], lang="en")] == ["intro", "energy"]
    b, _ = read(INTRO, intro="off")
    assert [n for n, _ in compose.digest_parts(b, ["energy"], lang="en")] == ["energy"]
    b, _ = read("---\nbriefcast:\n  intro: separate\n---\n" + INTRO)
    assert [n for n, _ in compose.digest_parts(b, ["ai"], lang="en")] == ["intro", "ai"]
    # the compact variant leaves the intro to the overview
    b, _ = read(INTRO)
    assert [n for n, _ in compose.digest_parts(b, ["ai"], lang="en", compact=True)] == ["ai"]


# -------------------------------------------------- long CJK headings, callbacks


LONG_HEADINGS = (
    "AI日报\n\n"
    "## 全球人工智能产业发展与监管政策的最新动态深度观察报告\n\n内容一。\n\n"
    "## 全球人工智能产业发展与监管政策的最新动态深度观察报告\n\n内容二。\n\n"
    "## 🔥\n\n火热内容。\n\n"
    "## 🔥\n\n**榜单**\n\n- 第一\n"
)


def test_long_chinese_headings_and_duplicate_headings_render_with_short_unique_callbacks() -> None:
    # synthetic: the issue measured a 19+ CJK character heading crashing /latest for every reader
    b, report = read(LONG_HEADINGS)
    complete(report)
    all_payloads(b)  # callback_data <= 64 bytes is checked for every button
    keys = [s.key for s in b.sections]
    assert len(set(keys)) == len(keys) and "section" not in keys
    overview = telegram_render.render(compose.overview_document(b, "zh", issue_id=987654321))
    buttons = [btn for row in overview[-1]["reply_markup"]["inline_keyboard"] for btn in row]
    assert all(len(btn["callback_data"].encode()) <= 64 for btn in buttons)
    labels = [btn["text"] for btn in buttons]
    assert len(set(labels)) == len(labels)  # duplicate headings get distinct labels
    refs = [btn["callback_data"].removeprefix("sector:").split(".")[0] for btn in buttons]
    assert [b.section(r) for r in refs] == list(b.sections)  # every button opens its own section


def test_emoji_only_headings_get_a_name() -> None:
    b, _ = read(LONG_HEADINGS)
    fire = [s for s in b.sections if s.emoji == "🔥"]
    assert [s.name for s in fire] == ["Fire", "榜单"]
    assert [s.key for s in fire] == ["fire", "榜单"]


# ------------------------------------------------------------------- metadata


def test_pelican_metadata_header_is_metadata_not_a_paragraph() -> None:
    b, report = read(
        "Title: Weekly Notes 7\nDate: 2026-08-19\nCategory: News\nAuthor: Jane Roe\n\n## Items\n\n- a\n"
    )
    assert (b.title, b.date, b.attribution) == ("Weekly Notes 7", date(2026, 8, 19), "Jane Roe")
    assert b.meta["metadata_header"] == "title, date, category, author"
    assert "Category" not in tg_text(all_payloads(b)[0])
    complete(report)


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("date: 08-19-2026", date(2026, 8, 19)),
        ("date: 19/08/2026", date(2026, 8, 19)),
        ("date: 2026/08/19", date(2026, 8, 19)),
        ("date: 2026年8月19日", date(2026, 8, 19)),
        ("date: Aug 19, 2026", date(2026, 8, 19)),
        ("date: 19 August 2026", date(2026, 8, 19)),
        ("date: 2026-08-20 22:00:00 -0000", date(2026, 8, 20)),
    ],
)
def test_front_matter_dates_in_common_forms(front: str, expected: date) -> None:
    b = parse_markdown(f"---\ntitle: T\n{front}\n---\n\n## A\n\nx\n")
    assert (b.date, b.meta["date_source"]) == (expected, "front_matter")


@pytest.mark.parametrize(
    ("text", "source", "expected", "where"),
    [
        (
            "## AI洞察日报 2025/12/29\n\n导语。\n\n## 产品\n\na\n\n## 研究\n\nb\n",
            "",
            date(2025, 12, 29),
            "title",
        ),
        ("# 周报\n\n## 2026年8月19日 要闻\n\na\n\n## 其他\n\nb\n", "", date(2026, 8, 19), "heading"),
        ("# Tech Digest — Aug 19, 2026\n\n## A\n\nx\n", "", date(2026, 8, 19), "title"),
        ("# Digest\n\n## A\n\nx\n", "/srv/blog/2026/08/19/digest.md", date(2026, 8, 19), "filename"),
        ("# Digest\n\n## A\n\nx\n", "site/2026-08-19-recap/index.mdx", date(2026, 8, 19), "filename"),
        ("# 社区双周报 (12.05 - 12.18)\n\n## A\n\nx\n", "report.md", None, "none"),
        ("# Digest\n\n## A\n\nx\n", "", None, "none"),
    ],
)
def test_dates_from_title_heading_and_path_and_none_when_nothing_says(
    text: str, source: str, expected: date | None, where: str
) -> None:
    b = parse_markdown(text, source=source)
    assert (b.date, b.meta["date_source"]) == (expected, where)


def test_h2_only_title_is_the_title() -> None:
    # synthetic: "## AI洞察日报 2025/12/29" over H2 sections left the title empty
    b = parse_markdown("## AI洞察日报 2025/12/29\n\n导语一句。\n\n## 产品\n\na\n\n## 研究\n\nb\n")
    assert b.title == "AI洞察日报 2025/12/29" and [s.name for s in b.sections] == ["产品", "研究"]
    assert "导语一句" in "".join(r.text for r in iter_runs(b.preamble))


def test_no_date_means_no_date_in_any_footer() -> None:
    b, _ = read("Undated Weekly\n\n## A\n\nx\n")
    assert b.date is None
    tg, sl = all_payloads(b)
    today = date.today().isoformat()
    assert today not in tg_text(tg) and today not in str(sl)


def test_pipe_groups_in_a_title_are_kept_and_authors_come_from_metadata() -> None:
    assert split_title("科技周刊 | 第 12 期 | 2026-08-19") == ("科技周刊 | 第 12 期 | 2026-08-19", (), "")
    b = parse_markdown("---\ntitle: 'Weekly | No. 12'\nauthors: [Ada, {name: Bob Li}]\n---\n\n## A\n\nx\n")
    assert (b.title, b.attribution) == ("Weekly | No. 12", "Ada, Bob Li")
    assert compose.footer(b, "en") == "Source: Ada, Bob Li"


def test_first_sentence_is_intro_and_the_file_name_titles_an_untitled_issue() -> None:
    b, report = read(
        "Welcome to another issue!\nIt is short.\n\n## Featured\n\n- x\n", source="news/issue-538.md"
    )
    assert (b.title, b.meta["title_source"]) == ("issue 538", "filename")
    complete(report)


# --------------------------------------------------------------- images, links


def test_every_image_reaches_the_reader_even_without_alt() -> None:
    # synthetic: one real issue had 100+ empty-alt images that all vanished
    images = "\n\n".join(f"![](https://img.example.com/{i}.png)" for i in range(120))
    b, report = read(f"# Gallery\n\n## Cover\n\n{images}\n")
    complete(report)
    tg, _ = all_payloads(b)
    assert tg_text(tg).count("🖼 图片") == 0 or b.language == "zh"
    assert tg_text(tg).count("🖼") == 120 and "🖼 image" in tg_text(tg)
    assert all(f"https://img.example.com/{i}.png" in str(tg) for i in range(120))


def test_a_linked_image_shows_its_alt_once_and_keeps_both_targets() -> None:
    b, report = read("# T\n\n## A\n\n[![Release notes](https://e.com/badge.png)](https://e.com/notes)\n")
    complete(report)
    [part] = telegram_render.render(compose.section_document(b, "a", lang="en"))
    assert tg_text([part]).count("Release notes") == 1
    assert '<a href="https://e.com/badge.png">🖼</a>' in str(part["text"])
    assert '<a href="https://e.com/notes"> Release notes</a>' in str(part["text"])


def test_relative_links_resolve_against_the_base_url_or_show_as_text() -> None:
    text = "# T\n\n## A\n\nSee [the archive](./archive.html) and ![chart](img/c.png).\n"
    b, report = read(text, base_url="https://news.example.com/2026/08/")
    complete(report)
    tg, sl = all_payloads(b)
    assert 'href="https://news.example.com/2026/08/archive.html"' in str(tg)
    assert "https://news.example.com/2026/08/img/c.png" in str(sl)
    b, report = read(text)  # no base URL: the target is shown, and the operator is told
    complete(report)
    assert "the archive (./archive.html)" in tg_text(all_payloads(b)[0])
    assert any("relative link" in w for w in report.warnings)


def test_mailto_shows_the_address_and_unsafe_schemes_are_never_links() -> None:
    b, report = read(
        '# T\n\n## A\n\n[Write to us](mailto:desk@example.com) or <a href="javascript:alert(1)">click</a>.\n'
    )
    tg, sl = all_payloads(b)
    assert "Write to us (desk@example.com)" in tg_text(tg)
    assert "javascript" not in str(tg) and "javascript" not in str(sl)
    assert report.links_kept == report.links_total - 1  # the javascript: link is reported, not hidden
    [(_, lost)] = [x for x in report.lost() if x[1].kind == "link"]
    assert lost.reason == "link scheme not supported"


# ------------------------------------------------------------------- sections


def test_two_headings_of_one_sector_are_both_reachable() -> None:
    b, report = read("# T\n\n## ⚡ 能源基建：A\n\n第一部分。\n\n## ⚡ 储能市场：B\n\n第二部分。\n")
    assert b.sector_keys == ("energy",)
    energy = tg_text(telegram_render.render(compose.section_document(b, "energy", lang="zh")))
    assert "第一部分" in energy and "第二部分" in energy and "储能市场" in energy
    complete(report)


def test_sponsor_toc_and_legal_sections_are_detected_and_handled() -> None:
    text = (
        "# Weekly\n\n## Table of Contents\n\n- [News](#news)\n- [Jobs](#jobs)\n\n"
        "## News\n\nThings happened.\n\n## Sponsored: Acme Cloud\n\nTry [Acme](https://acme.example).\n\n"
        "## Jobs\n\nHiring.\n\n## License\n\nCC-BY-SA. [Unsubscribe](https://e.com/u).\n"
    )
    b, report = read(text)
    assert [(s.name, s.kind) for s in b.sections] == [
        ("Table of Contents", "toc"),
        ("News", "content"),
        ("Sponsored", "sponsor"),
        ("Jobs", "content"),
        ("License", "legal"),
    ]
    complete(report)
    assert report.withheld_items > 0  # toc and licence text: not delivered, and counted apart
    overview = compose.overview_document(b, "en")
    labels = [btn.text for row in overview.buttons for btn in row]
    assert labels == ["News", "Sponsored", "Jobs"]
    assert "Sponsored" in compose.section_document(b, "sponsored", lang="en").title
    assert [n for n, _ in compose.digest_parts(b, b.sector_keys, lang="en")] == ["news", "sponsored", "jobs"]
    # a publisher can say otherwise
    b, _ = read(text, legal_headings=(), section_kinds={"jobs": "sponsor"})
    assert b.section("jobs") is not None and b.section("jobs").kind == "sponsor"  # type: ignore[union-attr]


# ------------------------------------------------------- structure, never lost


def test_a_list_nested_ten_deep_loses_nothing_after_it() -> None:
    lines = ["# T", "", "## A", ""] + ["  " * i + f"- level {i}" for i in range(10)]
    lines += ["", "After the list.", "", "## B", "", "Second section."]
    b, report = read("\n".join(lines))
    complete(report)
    assert b.sector_keys == ("a", "b")
    assert "After the list." in tg_text(all_payloads(b)[0])


def test_inline_and_block_script_never_leak() -> None:
    text = (
        "# T\n\n## A\n\nHello <script>stealCookies()</script> world.\n\n"
        "<script>\nalert('x')\n</script>\n\n<style>p{}</style>\n"
    )
    b, report = read(text)
    tg, sl = all_payloads(b)
    assert "stealCookies" not in str(tg) + str(sl) and "alert" not in str(tg) + str(sl)
    complete(report)


def test_chinese_numbering_mixed_with_ascii_is_one_list() -> None:
    for body in ("1、第一条\n2. 第二条\n3、第三条", "1. 第一条\n2、第二条\n3、第三条"):
        b = parse_markdown(f"# T\n\n## A\n\n{body}\n")
        [lst] = [x for x in b.sections[0].blocks if isinstance(x, ListBlock)]
        assert [i.number for i in lst.items] == [1, 2, 3]
        assert ["".join(r.text for r in i.runs) for i in lst.items] == ["第一条", "第二条", "第三条"]


def test_a_split_section_repeats_its_sub_heading_on_every_continued_part() -> None:
    long = "。".join(f"第{i}条很长的进展说明文字" * 3 for i in range(400)) + "。"
    b, report = read(f"# 日报\n\n## 🤖 AI：更新\n\n**核心进展**\n\n{long}\n")
    all_payloads(b)
    parts = telegram_render.render(compose.section_document(b, "ai", lang="zh"))
    assert len(parts) > 1
    for p in parts[1:]:
        assert "<b>核心进展（续）</b>" in str(p["text"]).split("\n\n", 1)[1][:40]
    complete(report)


def test_site_markup_is_removed_and_counted_never_pushed() -> None:
    text = (
        "---\ntitle: T\n---\n{{< subscribe >}}\n\n## News\n\n"
        '[Release](https://e.com/r){:target="_blank"} is out.\n\n{% include footer.md %}\n'
    )
    b, report = read(text)
    tg, sl = all_payloads(b)
    for marker in ("{{<", "{:target", "{%"):
        assert marker not in str(tg) and marker not in str(sl)
    assert b.meta["removed.template"] == "2" and b.meta["removed.attribute_list"] == "1"
    complete(report)


# ------------------------------------------------------------------ adversarial


def test_deep_nesting_far_past_any_limit() -> None:
    lines = ["# T", "", "## A", ""] + ["  " * i + f"- d{i}" for i in range(150)]
    lines += ["", "Tail text.", "", "## B", "", "b"]
    b, report = read("\n".join(lines))
    assert b.sector_keys == ("a", "b")
    all_payloads(b)
    assert report.items_percent >= 99.5 and not report.crashes


def test_two_megabytes() -> None:
    item = "- [Item {n}.{i}: 一条相当普通的新闻，a fairly ordinary news line](https://e.com/{n}/{i})"
    text = "# Huge\n"
    n = 0
    while len(text.encode()) < 2_000_000:
        n += 1
        text += f"\n## Section {n}\n\n" + "\n".join(item.format(n=n, i=i) for i in range(40)) + "\n"
    assert len(text.encode()) < 2_100_000
    b = read_issue(text, source="huge.md")
    assert len(b.sections) == n and b.fidelity["complete"], b.fidelity["summary"]
    tg = telegram_render.render(compose.overview_document(b, "en"))
    for p in tg:
        check_telegram_payload(p)
    for p in slack_render.render(compose.section_document(b, b.sections[-1], lang="en")):
        check_slack_payload(p)


@pytest.mark.parametrize(
    "body",
    [
        "**never closed bold and [a link](https://e.com/x that never closes",
        "<div><p>unclosed html <b>bold\n\nstill going",
        "```python\nprint('unclosed fence')\n",
        "<![CDATA[ odd ]]> and <!-- unclosed comment",
        "| a | b |\n|---|\n| c |",
    ],
)
def test_unclosed_markup(body: str) -> None:
    b, report = read(f"# T\n\n## A\n\n{body}\n\n## B\n\nAfter.\n")
    all_payloads(b)
    assert "After." in tg_text(telegram_render.render(compose.section_document(b, b.sections[-1], lang="en")))
    assert not report.crashes and report.items_percent >= 99.5


def test_a_thirty_column_table() -> None:
    head = "| " + " | ".join(f"列{i}" for i in range(30)) + " |"
    rule = "|" + "---|" * 30
    rows = ["| " + " | ".join(f"值{r}-{c}" for c in range(30)) + " |" for r in range(40)]
    b, report = read("\n".join(["# 表格", "", "## 数据", "", head, rule, *rows]))
    all_payloads(b)
    complete(report)


def test_bom_and_crlf_read_like_the_plain_file() -> None:
    plain_text = "Title: Notes\nDate: 2026-08-19\n\n## 🤖 AI：x\n\nbody text\n"
    plain_b, _ = read(plain_text)
    odd_b, report = read("\ufeff" + plain_text.replace("\n", "\r\n"))
    assert (odd_b.title, odd_b.date, odd_b.sector_keys) == (plain_b.title, plain_b.date, plain_b.sector_keys)
    assert odd_b.sections == plain_b.sections
    complete(report)


def test_raw_html_blocks_keep_their_text_and_links() -> None:
    html = '<div align="center"><p>Centered <a href="https://e.com/c">news</a></p><img src="https://e.com/i.png"></div>'
    b, report = read(f"# T\n\n## A\n\n{html}\n")
    tg, _ = all_payloads(b)
    assert "Centered" in tg_text(tg) and "https://e.com/c" in str(tg) and "https://e.com/i.png" in str(tg)
    complete(report)


def test_groups_and_labels_survive_into_merged_sectors() -> None:
    b = parse_markdown("# T\n\n## ⚡ 能源\n\n**要点**\n\n- a\n\n## ⚡ 能源二\n\n- b\n")
    (energy,) = b.sections
    assert isinstance(energy.blocks[-1], Group) and energy.blocks[-1].label == "⚡ 能源二"
