"""Keyword-watch matching (pure) and the alert it renders, checked by TDLib and the Block Kit rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefcast.briefing.model import Briefing, ListBlock, ListItem, Paragraph, Run, Section, Table, plain
from briefcast.briefing.parse import parse_markdown
from briefcast.briefing.watch import fold, normalise_phrase, watch_matches
from briefcast.render import compose
from briefcast.render import slack as render_slack
from briefcast.render import telegram as render_telegram
from briefcast.render import text as render_text
from briefcast.render.options import apply_delivery_options, delivery_options
from briefcast.store.errors import InvalidWatch
from briefcast.store.validate import parse_watch, unquote
from briefcast.testing.blockkit import check_slack_payload
from briefcast.testing.tdlib import check_telegram_payload


def issue_of(*paragraphs: str, headline: str = "", key: str = "energy") -> Briefing:
    section = Section(
        key=key,
        emoji="⚡",
        name="能源基建",
        headline=headline,
        blocks=tuple(Paragraph((Run(p),)) for p in paragraphs),
    )
    return Briefing(title="测试简报", sections=(section,))


def texts(briefing: Briefing, *words: str) -> list[str]:
    return [p.text for p in watch_matches(briefing, words)]


# ------------------------------------------------------------------ normalisation


def test_fold_case_width_and_cjk_spaces() -> None:
    assert normalise_phrase("ＡＩ 芯片") == "ai芯片"  # full-width Latin, a space next to CJK
    assert normalise_phrase("  Solid   State\tBattery ") == "solid state battery"
    assert normalise_phrase("钠 电池") == "钠电池"
    assert normalise_phrase("Café") == "cafe"
    assert normalise_phrase("ｶﾀｶﾅ") == normalise_phrase("カタカナ")  # half-width katakana
    assert normalise_phrase("⚡️储能") == normalise_phrase("⚡储能")  # the variation selector is noise
    folded, origin = fold("ＧＰＵ 芯片")
    assert folded == "gpu芯片" and origin == [0, 1, 2, 4, 5]  # every folded char maps back


def test_matching_is_case_width_and_space_insensitive() -> None:
    b = issue_of("宁德时代宣布2026年钠电池大规模应用", "新一代ＡＩ芯片发布", "Solid-state batteries soon")
    assert texts(b, "钠 电池") == ["宁德时代宣布2026年钠电池大规模应用"]
    assert texts(b, "ai芯片") == ["新一代ＡＩ芯片发布"]
    assert texts(b, "SOLID-STATE BATTERY") == ["Solid-state batteries soon"]  # plural ending accepted


def test_latin_words_match_whole_but_cjk_inside_words() -> None:
    b = issue_of("He said it was fine", "AI推理成本下降", "GPUs are scarce", "aim high", "储能电池")
    assert texts(b, "AI") == ["AI推理成本下降"]  # not in "said" or "aim"
    assert texts(b, "GPU") == ["GPUs are scarce"]
    assert texts(b, "电池") == ["储能电池"]


def test_user_text_is_never_a_pattern() -> None:
    b = issue_of("价格 a.*b 上涨", "abc", "(x+)+$ 是正则")
    assert texts(b, "a.*b") == ["价格 a.*b 上涨"]
    assert texts(b, "(x+)+$") == ["(x+)+$ 是正则"]
    assert texts(b, "[abc]") == []


def test_passages_headlines_items_tables_each_once_with_every_word() -> None:
    section = Section(
        key="energy",
        emoji="⚡",
        name="能源基建",
        headline="储能需求爆发",
        blocks=(
            ListBlock(
                (
                    ListItem(
                        (Run("钠电池与储能"),),
                        children=(ListBlock((ListItem((Run("子项：储能"),)),)),),
                    ),
                ),
                ordered=True,
            ),
            Table(header=((Run("项目"),), (Run("说明"),)), rows=(((Run("储能"),), (Run("电芯"),)),)),
            Paragraph((Run("无关"),)),
        ),
    )
    found = watch_matches(Briefing(title="t", sections=(section,)), ["储能", "钠电池", "储能"])
    assert [(p.kind, p.text) for p in found] == [
        ("headline", "储能需求爆发"),
        ("item", "钠电池与储能"),
        ("item", "子项：储能"),
        ("row", "储能 | 电芯"),
    ]
    assert found[1].words == ("储能", "钠电池") and found[1].number == 1 and found[1].ordered
    assert found[1].spans == ((0, 3), (4, 6))
    assert watch_matches(Briefing(title="t", sections=(section,)), ["  ", ""]) == []


def test_spans_map_back_to_the_original_text() -> None:
    b = issue_of("看好 ＡＩ 芯片 与 gpus")
    [p] = watch_matches(b, ["ai芯片", "GPU"])
    assert [p.text[a:e] for a, e in p.spans] == ["ＡＩ 芯片", "gpus"]


def test_parse_watch_limits_and_quotes() -> None:
    assert parse_watch(" “daily” ") == ("daily", "daily")
    assert parse_watch("Solid   State") == ("Solid State", "solid state")
    assert unquote("「钠电池」") == "钠电池"
    with pytest.raises(InvalidWatch) as short:
        parse_watch("钠")
    assert short.value.reason == "too_short" and short.value.limit == 2
    with pytest.raises(InvalidWatch) as long:
        parse_watch("长" * 41)
    assert long.value.reason == "too_long"
    with pytest.raises(InvalidWatch) as empty:
        parse_watch("\ufe0f  ")
    assert empty.value.reason == "empty"


# ------------------------------------------------------------------ the alert


@pytest.fixture(scope="module")
def sample() -> Briefing:
    path = Path(__file__).resolve().parents[1] / "examples" / "sample-issue.md"
    return parse_markdown(path.read_text(encoding="utf-8"), source="sample")


def test_watch_document_groups_by_section_bolds_mentions_and_links(sample: Briefing) -> None:
    passages = watch_matches(sample, ["钠电池", "Gemini"])
    doc = compose.watch_document(
        sample,
        passages,
        lang="en",
        issue_id=12,
        section_url=lambda key: f"https://news.example/issues/12#{key}",
    )
    assert doc.title == "🔔 Watched words: Gemini, 钠电池"
    text = render_text.render(doc)
    assert "🤖 AI" in text and "⚡ Energy" in text  # section names in the reader's language
    assert "Read the whole section" in text and "https://news.example/issues/12#energy" in text
    buttons = [(b.text, b.action, b.value) for row in doc.buttons for b in row]
    assert buttons == [
        ("🤖 AI", "sector", "ai.12"),
        ("⚡ Energy", "sector", "energy.12"),
        ("🔗 Cross-sector signals", "sector", "signals.12"),  # the signals section mentions Gemini too
    ]
    [tg] = render_telegram.render(doc)
    assert "<b>钠电池</b>" in tg["text"] and "<b>Gemini</b>" in tg["text"]
    check_telegram_payload({"chat_id": 1, **tg})
    for payload in render_slack.render(doc):
        check_slack_payload(payload)
    zh = compose.watch_document(sample, passages, lang="zh", issue_id=12)
    assert "处提到你关注的词" in render_text.render(zh) and "⚡ 能源基建" in render_text.render(zh)


def test_watch_document_caps_passages_and_counts_the_rest(sample: Briefing) -> None:
    passages = watch_matches(sample, ["的"])  # one CJK character: the store refuses it, matching copes
    assert len(passages) > 5
    doc = compose.watch_document(sample, passages, lang="en", prefix="/briefing ", max_passages=3)
    text = render_text.render(doc)
    assert f"{len(passages) - 3} more passages not shown; send /briefing search 的" in text
    assert "Send /briefing watches to manage" in text
    one = compose.watch_document(sample, passages[:4], lang="en", max_passages=3)
    assert "1 more passage not shown" in render_text.render(one)
    assert not one.buttons  # no issue id: no buttons that could point at the wrong issue


def test_long_watch_alerts_split_within_platform_limits() -> None:
    body = "储能" + "。".join(f"第{i}句话讲储能和电网的细节，越写越长" for i in range(300))
    b = issue_of(body, body, headline="储能")
    doc = compose.watch_document(b, watch_matches(b, ["储能"]), lang="zh", issue_id=1)
    parts = render_telegram.render(doc)
    assert len(parts) > 1
    for p in parts:
        check_telegram_payload({"chat_id": 1, **p})
    for p in render_slack.render(doc):
        check_slack_payload(p)
    assert plain(watch_matches(b, ["储能"])[0].runs) == "储能"


# ------------------------------------------------------------------ settings -> payload options


def test_delivery_options_per_platform() -> None:
    assert delivery_options("telegram") == {"link_preview_options": {"is_disabled": True}}
    assert delivery_options("telegram", silent=True, previews=True) == {
        "link_preview_options": {"is_disabled": False},
        "disable_notification": True,
    }
    assert delivery_options("slack", silent=True, previews=True) == {
        "unfurl_links": True,
        "unfurl_media": True,
    }
    rendered = render_telegram.render(compose.takeaways_document(issue_of("x")))
    applied = apply_delivery_options(rendered, "telegram", silent=True)
    assert applied[0]["disable_notification"] is True and "disable_notification" not in rendered[0]
    check_telegram_payload({"chat_id": 1, **applied[0]})


def test_watch_alert_is_the_one_call_a_sender_needs(sample: Briefing) -> None:
    assert compose.watch_alert(sample, ["不存在的词"], lang="en") is None
    doc = compose.watch_alert(sample, ["钠电池"], lang="en", issue_id=3, prefix="/briefing ")
    assert doc is not None and doc.title == "🔔 Watched words: 钠电池"
    assert "Send /briefing watches to manage" in render_text.render(doc)
