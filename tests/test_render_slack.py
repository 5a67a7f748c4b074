"""Slack Block Kit rendering: exact output for small documents, Block Kit validation, hostile input."""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path
from typing import Any

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
)
from briefcast.ingest.read import parse_source
from briefcast.render import compose, slack
from briefcast.render.document import Button, Document
from briefcast.testing.blockkit import check_slack_payload

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SAMPLES = ["sample-issue.md", "sample-issue-en.md", "sample-issue.html"]
B: frozenset[RunStyle] = frozenset({"bold"})


def _briefing() -> Briefing:
    sec = Section(
        key="ai",
        emoji="🤖",
        name="AI新能力",
        headline="推理成本下降",
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
            Group("硬核技术点", (ListBlock((ListItem((Run("A & B"),)), ListItem((Run("C"),)))),)),
        ),
    )
    return Briefing(title="周观察", sections=(sec,), date=date(2026, 11, 28), attribution="量子鲨鱼")


def test_small_section_exact() -> None:
    doc = compose.section_document(_briefing(), "ai", buttons=[[Button("更多", action="sector", value="ai")]])
    assert slack.render(doc) == [
        {
            "text": (
                "🤖 AI新能力：推理成本下降\n\n核心进展\n谷歌发布Gemini 3 Flash，推理速度提升3倍。"
                "火山引擎发布&lt;豆包&gt;。\n\n硬核技术点\n• A &amp; B\n• C\n\n来源：量子鲨鱼 · 2026-11-28"
            ),
            "blocks": [
                {
                    "type": "header",
                    "text": {"type": "plain_text", "text": "🤖 AI新能力：推理成本下降", "emoji": True},
                },
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": "*核心进展*\n<https://q.io/a?x=1&amp;y=2|谷歌发布Gemini 3 Flash>，"
                        "推理速度提升3倍。\u200b*火山引擎*\u200b发布&lt;豆包&gt;。",
                    },
                },
                {"type": "section", "text": {"type": "mrkdwn", "text": "*硬核技术点*\n• A &amp; B\n• C"}},
                {"type": "divider"},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "来源：量子鲨鱼 · 2026-11-28"}]},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "更多", "emoji": True},
                            "action_id": "sector:ai",
                            "value": "ai",
                        }
                    ],
                },
            ],
            "unfurl_links": False,
            "unfurl_media": False,
        }
    ]


def test_styles_code_quote_and_link_escaping_exact() -> None:
    doc = Document(
        title="t",
        blocks=(
            Paragraph(
                (
                    Run("it ", frozenset({"italic"})),
                    Run("gone", frozenset({"strike"})),
                    Run(" "),
                    Run("x`y", frozenset({"code"})),
                    Run(" "),
                    Run("a|b>c&d", url="https://e.com/?q=a|b&c=<d>"),
                )
            ),
            Code("a < b\n", "py"),
            Quote((Paragraph((Run("q1\nq2"),)),)),
        ),
    )
    [msg] = slack.render(doc)
    assert [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"] == [
        "_it_ ~gone~ `xˋy` <https://e.com/?q=a%7Cb&amp;c=%3Cd%3E|a¦b&gt;c&amp;d>"
        "\n\n```\na &lt; b\n```\n\n> q1\n> q2"
    ]
    check_slack_payload(msg)


def test_buttons_unique_action_ids_and_rows() -> None:
    rows = (tuple(Button(f"k{i}", action="kw", value=str(i % 3)) for i in range(30)),)
    [msg] = slack.render(Document("t", (Paragraph((Run("x"),)),), buttons=rows))
    actions = [b for b in msg["blocks"] if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    ids = [e["action_id"] for a in actions for e in a["elements"]]
    assert len(set(ids)) == 30 and ids[:4] == ["kw:0", "kw:1", "kw:2", "kw:#3"]
    check_slack_payload(msg)


def test_header_is_truncated_to_150() -> None:
    [msg] = slack.render(Document("标" * 400, (Paragraph((Run("x"),)),)))
    header = msg["blocks"][0]["text"]["text"]
    assert len(header) == 150 and header.endswith("…")
    check_slack_payload(msg)


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("compact", [False, True])
def test_samples_pass_block_kit(name: str, compact: bool) -> None:
    b = parse_source(str(EXAMPLES / name))
    lang = "en" if b.language == "en" else "zh"
    docs = compose.issue_documents(b, lang=lang, compact=compact)
    assert len(docs) == len(b.sections) >= 4
    for sec, doc in zip(b.sections, docs, strict=True):
        msgs = slack.render(doc)
        assert len(msgs) == 1
        check_slack_payload(msgs[0])
        sections = [x for x in msgs[0]["blocks"] if x["type"] == "section"]
        n_links = sum(x["text"]["text"].count("<http") for x in sections)
        if compact:
            assert n_links <= len(sec.links)
            assert f"🔗 {len(sec.links)} " in sections[-1]["text"]["text"]
        else:
            assert n_links == len(sec.links)
            assert [x["text"]["text"].split("\n")[0] for x in sections[-len(sec.labels) :]] == [
                f"*{label}*" for label in sec.labels
            ]
    for doc in (
        compose.overview_document(b, lang),
        compose.keywords_document(b, lang),
        compose.takeaways_document(b, lang),
        compose.keyword_passages_document(b, b.keywords[0], lang),
    ):
        for m in slack.render(doc):
            check_slack_payload(m)


# --------------------------------------------------------------- adversarial

NOISE = [
    "<",
    ">",
    "&",
    "&amp;",
    "*",
    "_",
    "~",
    "`",
    "[",
    "](",
    ")",
    "|",
    "🤖",
    "🇨🇳",
    "👩‍💻",
    "👍🏽",
    "储能",
    "。",
    ". ",
    " ",
    "x",
    "\n",
]
_LINK = re.compile(r"<(https://[^|>]+)(?:\|([^>]*))?>")


def _noise(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(NOISE) for _ in range(n))


def _doc(rng: random.Random, paragraphs: int, links_per: int = 5) -> tuple[Document, str]:
    blocks = []
    expected = []
    for _ in range(paragraphs):
        runs: list[Run] = []
        for i in range(links_per):
            runs.append(Run(_noise(rng, rng.randint(20, 700))))
            runs.append(
                Run(_noise(rng, rng.randint(1, 20)).replace("\n", " "), url=f"https://e.com/{i}?a=1&b=|>")
            )
        blocks.append(Paragraph(tuple(runs)))
        expected.append("".join(r.text for r in runs))
    return Document(title="Stress <&>", blocks=tuple(blocks), footer="f & g"), "".join(expected)


def _visible(mrkdwn: str) -> str:
    # A blank link text is sent as a bare <url>: its (blank) text is not shown.
    text = _LINK.sub(lambda m: (m.group(2) or "").replace("¦", "|"), mrkdwn)
    assert "<" not in text and ">" not in text, "unescaped angle bracket outside a link"
    assert re.fullmatch(r"(?:[^&]|&amp;|&lt;|&gt;)*", text, re.S), "bare & in mrkdwn"
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("\u200b", "")


def _check_messages(msgs: list[dict[str, Any]], title: str) -> str:
    bodies: list[str] = []
    for i, m in enumerate(msgs, start=1):
        check_slack_payload(m)
        header = m["blocks"][0]["text"]["text"]
        assert header == (f"{title} ({i}/{len(msgs)})" if len(msgs) > 1 else title)
        for b in m["blocks"]:
            if b["type"] == "section":
                bodies.append(_visible(b["text"]["text"]))
    return "".join(bodies)


@pytest.mark.parametrize("seed", range(4))
def test_adversarial_mrkdwn_escaping_and_no_text_lost(seed: int) -> None:
    rng = random.Random(seed)
    doc, expected = _doc(rng, rng.randint(3, 12))
    assert len(expected) >= 5000
    msgs = slack.render(doc)
    body = _check_messages(msgs, doc.title)
    assert "".join(body.split()) == "".join(expected.split())
    assert msgs[-1]["blocks"][-1]["elements"][0]["text"] == "f &amp; g"


def test_many_paragraphs_split_into_several_messages() -> None:
    rng = random.Random(11)
    doc, expected = _doc(rng, 120, links_per=1)
    msgs = slack.render(doc)
    assert len(msgs) >= 2
    body = _check_messages(msgs, doc.title)
    assert "".join(body.split()) == "".join(expected.split())
    assert all(m["text"] for m in msgs)


def test_three_hundred_links_in_one_paragraph() -> None:
    runs = tuple(r for i in range(300) for r in (Run(f"L{i}", url=f"https://ex.com/{i}"), Run("、")))
    msgs = slack.render(Document("Links", (Paragraph(runs),)))
    body = _check_messages(msgs, "Links")
    assert "".join(body.split()) == "".join(r.text for r in runs)
    links = [
        m
        for msg in msgs
        for b in msg["blocks"]
        if b["type"] == "section"
        for m in _LINK.findall(b["text"]["text"])
    ]
    assert [u for u, _ in links] == [f"https://ex.com/{i}" for i in range(300)]


def test_styled_hostile_text_stays_within_limits() -> None:
    rng = random.Random(5)
    styles: list[frozenset[RunStyle]] = [
        frozenset({"bold"}),
        frozenset({"italic", "strike"}),
        frozenset({"code"}),
        frozenset(),
    ]
    runs = tuple(Run(_noise(rng, rng.randint(1, 300)), rng.choice(styles)) for _ in range(300))
    msgs = slack.render(Document("S", (Paragraph(runs),), buttons=((Button("b", action="a", value="v"),),)))
    assert len(msgs) >= 1
    for m in msgs:
        check_slack_payload(m)
        for b in m["blocks"]:
            if b["type"] == "section":
                stripped = _LINK.sub("", b["text"]["text"])
                assert "<" not in stripped and ">" not in stripped
    assert [any(b["type"] == "actions" for b in m["blocks"]) for m in msgs][-1]


def test_continuation_messages_get_markers_and_only_last_gets_footer() -> None:
    blocks = tuple(Group(f"G{i}", (Paragraph((Run("句子。" * 50),)),)) for i in range(120))
    msgs = slack.render(Document("Long", blocks, footer="foot"))
    assert len(msgs) == 3
    assert [m["blocks"][0]["text"]["text"] for m in msgs] == ["Long (1/3)", "Long (2/3)", "Long (3/3)"]
    assert [m["blocks"][-1]["type"] for m in msgs] == ["section", "section", "context"]
    for m in msgs:
        check_slack_payload(m)
