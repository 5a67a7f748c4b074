"""Telegram HTML rendering: exact output for small documents, TDLib validation for real and hostile input."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from briefcast.briefing.model import (
    Briefing,
    Code,
    Group,
    ListBlock,
    ListItem,
    Paragraph,
    Quote,
    Run,
    RunStyle,
    Section,
    Table,
)
from briefcast.ingest.read import parse_source
from briefcast.render import compose, telegram
from briefcast.render.document import Button, Document, utf16_len
from briefcast.testing.tdlib import check_telegram_payload, parse_html_entities

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SAMPLES = ["sample-issue.md", "sample-issue-en.md", "sample-issue.html"]
B: frozenset[RunStyle] = frozenset({"bold"})


def _briefing() -> Briefing:
    sec = Section(
        key="ai",
        emoji="🤖",
        name="AI新能力",
        headline="推理成本下降，Agent商业化加速",
        blocks=(
            Group(
                "核心进展",
                (
                    Paragraph(
                        (
                            Run("谷歌发布Gemini 3 Flash", url="https://q.io/a?x=1&y=2"),
                            Run("，推理速度提升3倍。"),
                            Run("火山引擎", B),
                            Run("发布<豆包>。"),
                        )
                    ),
                ),
            ),
            Group(
                "硬核技术点",
                (
                    ListBlock(
                        (
                            ListItem((Run("A & B"),), children=(ListBlock((ListItem((Run("nested"),)),)),)),
                            ListItem((Run("C"),)),
                        )
                    ),
                ),
            ),
        ),
    )
    return Briefing(
        title="周观察",
        sections=(sec,),
        date=date(2026, 11, 28),
        attribution="本报告由量子鲨鱼生成 欢迎联系我们进行订阅",
    )


def test_small_section_exact() -> None:
    doc = compose.section_document(_briefing(), "ai", buttons=[[Button("更多", action="sector", value="ai")]])
    assert telegram.render(doc) == [
        {
            "text": (
                "<b>🤖 AI新能力：推理成本下降，Agent商业化加速</b>\n\n"
                "<b>核心进展</b>\n"
                '<a href="https://q.io/a?x=1&amp;y=2">谷歌发布Gemini 3 Flash</a>，推理速度提升3倍。'
                "<b>火山引擎</b>发布&lt;豆包&gt;。\n\n"
                "<b>硬核技术点</b>\n"
                "• A &amp; B\n"
                "  ◦ nested\n"
                "• C\n\n"
                "<i>来源：量子鲨鱼 · 2026-11-28</i>"
            ),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
            "reply_markup": {"inline_keyboard": [[{"text": "更多", "callback_data": "sector:ai"}]]},
        }
    ]


def test_every_style_and_block_kind_exact() -> None:
    styles: tuple[RunStyle, ...] = ("italic", "underline", "strike", "spoiler", "code")
    runs = (*(Run(s, frozenset({s})) for s in styles), Run("bi", frozenset({"bold", "italic"})))
    doc = Document(
        title="T <1>",
        blocks=(
            Paragraph(runs),
            ListBlock((ListItem((Run("one"),), number=3), ListItem((Run("two"),))), ordered=True),
            Code("if a < b:\n    pass\n", "python"),
            Table(((Run("名称"),), (Run("v"),)), (((Run("储能"),), (Run("5.6", url="https://e.com/t"),)),)),
            Quote((Paragraph((Run("q1"),)), Paragraph((Run("q2"),)))),
            Paragraph((Run("cat", url="https://img/x.png", image=True), Run(" bad", url="javascript:x"))),
        ),
        buttons=((Button("site", url="https://e.com"),),),
    )
    [part] = telegram.render(doc)
    assert part["text"] == (
        "<b>T &lt;1&gt;</b>\n\n"
        "<i>italic</i><u>underline</u><s>strike</s><tg-spoiler>spoiler</tg-spoiler><code>code</code>"
        "<b><i>bi</i></b>\n\n"
        "3. one\n2. two\n\n"
        '<pre><code class="language-python">if a &lt; b:\n    pass</code></pre>\n\n'
        "<pre>名称 | v\n-----+----\n储能 | 5.6</pre>\n"
        '🔗 <a href="https://e.com/t">5.6</a>\n\n'
        "<blockquote>q1\n\nq2</blockquote>\n\n"
        '<a href="https://img/x.png">🖼 cat</a> bad'
    )
    assert part["reply_markup"] == {"inline_keyboard": [[{"text": "site", "url": "https://e.com"}]]}
    check_telegram_payload(part)


def test_href_quotes_are_escaped() -> None:
    [part] = telegram.render(Document("t", (Paragraph((Run("x", url='https://e.com/?q="a"&b=<c>'),)),)))
    assert '<a href="https://e.com/?q=&quot;a&quot;&amp;b=&lt;c&gt;">x</a>' in part["text"]
    parsed = parse_html_entities(part["text"])
    assert parsed["entities"][-1]["type"]["url"] == 'https://e.com/?q="a"&b=<c>'


def test_callback_data_over_64_bytes_is_refused() -> None:
    doc = Document("t", buttons=((Button("k", action="kw", value="储" * 30),),))
    with pytest.raises(ValueError, match="64"):
        telegram.render(doc)


def test_keywords_buttons_use_indexes() -> None:
    b = Briefing(title="t", sections=(), keywords=("储能爆发" * 8, "推理成本"))
    [part] = telegram.render(compose.keywords_document(b, "zh"))
    datas = [btn["callback_data"] for row in part["reply_markup"]["inline_keyboard"] for btn in row]
    assert datas == ["kw:0", "kw:1"]
    check_telegram_payload(part)


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("compact", [False, True])
def test_samples_pass_tdlib(name: str, compact: bool) -> None:
    b = parse_source(str(EXAMPLES / name))
    lang = "en" if b.language == "en" else "zh"
    docs = compose.issue_documents(b, lang=lang, compact=compact)
    assert len(docs) == len(b.sections) >= 4
    for doc in docs:
        parts = telegram.render(doc)
        assert len(parts) == 1  # a sample section fits one message
        for p in parts:
            check_telegram_payload(p)
            visible = parse_html_entities(p["text"])["text"]
            assert visible.startswith(doc.title)
    extra = [
        compose.overview_document(b, lang),
        compose.keywords_document(b, lang),
        compose.takeaways_document(b, lang),
        compose.keyword_passages_document(b, b.keywords[0], lang),
    ]
    for doc in extra:
        for p in telegram.render(doc):
            check_telegram_payload(p)


def test_sample_links_all_survive() -> None:
    b = parse_source(str(EXAMPLES / "sample-issue.md"))
    for sec in b.sections:
        [part] = telegram.render(compose.section_document(b, sec))
        parsed = parse_html_entities(part["text"])
        urls = [e["type"]["url"] for e in parsed["entities"] if e["type"]["@type"] == "textEntityTypeTextUrl"]
        assert urls == [link.url for link in sec.links]


# --------------------------------------------------------------- adversarial

ALPHABET = [
    "<",
    ">",
    "&",
    "&amp;",
    "<b>",
    "</i>",
    "*",
    "_",
    "[",
    "](",
    ")",
    "`",
    "```",
    '"',
    "🤖",
    "🇨🇳",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
    "👩‍💻",
    "👨‍👩‍👧‍👦",
    "👍🏽",
    "é",
    "储能需求爆发",
    "推理成本",
    "。",
    "！",
    "？",
    ". ",
    "! ",
    " ",
    " ",
    "word",
    "Agent",
    "\n",
]


def _noise(rng: random.Random, n: int) -> str:
    out: list[str] = []
    size = 0
    while size < n:
        tok = rng.choice(ALPHABET)
        out.append(tok)
        size += len(tok)
    return "".join(out)


def _runs(rng: random.Random, total: int, links: int = 0) -> tuple[Run, ...]:
    runs: list[Run] = []
    size = 0
    while size < total:
        text = _noise(rng, rng.randint(1, 400))
        roll = rng.random()
        if roll < 0.2:
            url = "https://example.com/" + _noise(rng, rng.randint(1, 30)).replace(" ", "%20").replace(
                "\n", ""
            )
            runs.append(Run(text, url=url))
        elif roll < 0.35:
            styles = frozenset(rng.sample(["bold", "italic", "underline", "strike", "spoiler", "code"], 2))
            runs.append(Run(text, styles))  # type: ignore[arg-type]
        else:
            runs.append(Run(text))
        size += len(text)
    for i in range(links):
        runs.append(Run(f"L{i}", url=f"https://ex.com/{i}?a=1&b=2"))
        runs.append(Run("、"))
    return tuple(runs)


def _visible_bodies(parts: list[dict[str, object]], title: str, footer: str) -> str:
    """The parts' visible text with title lines, markers and footer removed, after checking them."""
    bodies: list[str] = []
    for i, p in enumerate(parts, start=1):
        check_telegram_payload(p)
        visible = parse_html_entities(str(p["text"]))["text"]
        head = f"{title} ({i}/{len(parts)})\n\n" if len(parts) > 1 else f"{title}\n\n"
        assert visible.startswith(head), (i, visible[:80])
        body = visible[len(head) :]
        if i == len(parts) and footer:
            assert body.endswith("\n\n" + footer)
            body = body[: -len(footer) - 2]
        bodies.append(body)
    return "".join(bodies)


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("seed", range(6))
def test_adversarial_text_survives_splitting(seed: int) -> None:
    rng = random.Random(seed)
    total_wanted, count = rng.randint(5000, 20000), rng.randint(3, 8)
    paragraphs = tuple(Paragraph(_runs(rng, total_wanted // count)) for _ in range(count))
    doc = Document(title="🤖 Stress <&> test", blocks=paragraphs, footer="src · 2026-11-28")
    parts = telegram.render(doc)
    total = sum(len("".join(r.text for r in p.runs)) for p in paragraphs)
    assert total >= 5000
    assert len(parts) >= 2
    body = _visible_bodies(parts, doc.title, doc.footer)
    expected = "".join("".join(r.text for r in p.runs) for p in paragraphs)
    assert _squash(body) == _squash(expected)


def test_one_huge_paragraph_without_sentences_is_hard_split() -> None:
    text = "储" * 9000 + "👩‍💻" * 500
    parts = telegram.render(Document(title="T", blocks=(Paragraph((Run(text, B),)),)))
    assert len(parts) >= 3
    body = _visible_bodies(parts, "T", "")
    assert _squash(body) == text
    for p in parts:
        assert p["text"].count("<b>") == p["text"].count("</b>")  # formatting reopened per part


def test_a_long_chinese_section_is_one_message_when_telegram_allows_it() -> None:
    """3,800 Chinese characters with a few bold labels and links: under 4,096 after parsing and
    under the raw-markup cap in UTF-16 units, so one message (a UTF-8 byte cap split it at ~3,000)."""
    sentence = "储能需求爆发，电网侧招标同比增长百分之四十。"  # 22 characters
    runs = []
    for i in range(170):
        runs.append(Run(sentence, B) if i % 40 == 0 else Run(sentence))
        if i % 50 == 0:
            runs.append(Run("来源", url=f"https://example.com/energy/{i}"))
    doc = Document(title="⚡ 能源", blocks=(Paragraph(tuple(runs)),), footer="来源：示例")
    parts = telegram.render(doc)
    assert len(parts) == 1
    parsed = parse_html_entities(parts[0]["text"])
    assert 3_700 < utf16_len(parsed["text"]) <= telegram.MAX_TEXT
    assert len(parts[0]["text"].encode()) > 9_000  # what the old byte cap would have split


def test_three_hundred_links_in_one_paragraph() -> None:
    rng = random.Random(7)
    runs = _runs(rng, 200, links=300)
    parts = telegram.render(Document(title="Links", blocks=(Paragraph(runs),), footer="f"))
    assert len(parts) >= 4  # 100 entities per message
    body = _visible_bodies(parts, "Links", "f")
    assert _squash(body) == _squash("".join(r.text for r in runs))
    urls = [
        e["type"]["url"]
        for p in parts
        for e in parse_html_entities(p["text"])["entities"]
        if e["type"]["@type"] == "textEntityTypeTextUrl"
    ]
    assert [u for u in urls if u.startswith("https://ex.com/")] == [
        f"https://ex.com/{i}?a=1&b=2" for i in range(300)
    ]


def test_very_long_link_text_and_url() -> None:
    url = "https://example.com/" + "a" * 1500
    runs = (Run("看" * 6000, url=url), Run(" tail"))
    parts = telegram.render(Document(title="T", blocks=(Paragraph(runs),)))
    body = _visible_bodies(parts, "T", "")
    assert _squash(body) == _squash("看" * 6000 + " tail")
    for p in parts:
        assert utf16_len(p["text"]) <= telegram.MAX_HTML_UNITS


def test_long_code_and_table_split_into_valid_pre_blocks() -> None:
    code = "\n".join(f"line {i} <tag> & more" for i in range(600))
    table = Table(
        ((Run("k"),), (Run("v"),)), tuple(((Run(f"键{i}"),), (Run("值" * 20),)) for i in range(300))
    )
    parts = telegram.render(Document(title="T", blocks=(Code(code, "py"), table)))
    assert len(parts) >= 3
    body = _visible_bodies(parts, "T", "")
    assert "line 599 <tag> & more" in body and "键299" in body
    for p in parts:
        assert p["text"].count("<pre>") + p["text"].count("<pre><code") >= 1


def test_lengths_are_within_limits_for_title_heavy_documents() -> None:
    doc = Document(title="标题" * 500, blocks=(Paragraph((Run("正文。" * 3000),)),), footer="尾" * 1000)
    parts = telegram.render(doc)
    for p in parts:
        check_telegram_payload(p)
        assert utf16_len(parse_html_entities(p["text"])["text"]) <= telegram.MAX_TEXT


def test_group_label_never_ends_a_part() -> None:
    doc = Document(
        title="T",
        blocks=(
            Group("第一节", (Paragraph((Run("x" * 3900),)),)),
            Group("第二节", (Paragraph((Run("短文。" * 200),)),)),
        ),
        buttons=((Button("更多", action="sector", value="ai"),),),
    )
    parts = telegram.render(doc)
    assert len(parts) == 2
    assert parts[0]["text"].endswith("x")
    assert parts[1]["text"].startswith("<b>T</b> (2/2)\n\n<b>第二节</b>\n短文。")
    assert "reply_markup" not in parts[0] and "reply_markup" in parts[1]


def test_label_before_a_paragraph_too_big_for_one_part_keeps_its_content() -> None:
    doc = Document(title="T", blocks=(Group("第一节", (Paragraph((Run("长" * 4200),)),)),))
    parts = telegram.render(doc)
    assert len(parts) == 2
    assert parts[0]["text"].startswith("<b>T</b> (1/2)\n\n<b>第一节</b>\n长长")
    # issue #12: the continued part repeats its sub-heading instead of starting headless
    assert parts[1]["text"].startswith("<b>T</b> (2/2)\n\n<b>第一节（续）</b>\n长长")
    assert _squash(_visible_bodies(parts, "T", "")).replace("第一节（续）", "") == "第一节" + "长" * 4200


def test_emoji_only_text_counts_utf16_units() -> None:
    text = "🤖🇨🇳" * 2500  # 6 UTF-16 units per repetition
    parts = telegram.render(Document(title="E", blocks=(Paragraph((Run(text),)),)))
    assert len(parts) >= 4
    assert _squash(_visible_bodies(parts, "E", "")) == text
