"""The issues the benchmarks deliver: the English sample, and a long one for multi-part digests."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from bench.common import REPO
from briefcast.briefing.parse import parse_markdown
from briefcast.render import slack as render_slack
from briefcast.render import telegram as render_telegram
from briefcast.render.compose import section_document

SAMPLE_EN = REPO / "examples" / "sample-issue-en.md"


def sample() -> str:
    """The English sample issue: four sectors, one Telegram message each."""
    return SAMPLE_EN.read_text(encoding="utf-8")


def _long_markdown(bullets: int, title: str) -> str:
    lines = [f"{title} -- benchmark issue with a long energy section", "", "## ⚡ Energy: a long digest", ""]
    lines += ["**Highlights**", ""]
    for i in range(bullets):
        lines.append(
            f"- Item {i + 1}: [grid operator {i} commissioned storage](https://example.com/e/{i}) with "
            f"**{100 + i} MWh** of capacity; utilisation rose by {i % 37}% while the cost per cycle "
            f"fell for the {i % 9 + 2}th quarter in a row, according to the operator's filing."
        )
    return "\n".join(lines) + "\n"


def parts(
    markdown: str, platform: str = "telegram", sectors: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The digest parts a subscriber to ``sectors`` (default: all) receives, in issue order.

    Mirrors the engine: sections in issue order, rendered with the default language ("zh").
    """
    briefing = parse_markdown(markdown)
    render = render_telegram.render if platform == "telegram" else render_slack.render
    out: list[dict[str, Any]] = []
    for section in briefing.sections:
        if sectors is None or section.key in sectors:
            out.extend(render(section_document(briefing, section, lang="zh")))
    return out


def crcs(markdown: str, platform: str = "telegram", sectors: Sequence[str] | None = None) -> list[int]:
    """crc32 of each part's text, as the bench fake records them."""
    return [zlib.crc32(str(p.get("text", "")).encode()) for p in parts(markdown, platform, sectors)]


@lru_cache(maxsize=8)
def long_issue(target_parts: int, title: str = "Long Energy Weekly") -> str:
    """An issue whose Telegram digest has exactly ``target_parts`` messages (one sector, split)."""
    lo, hi = 1, 40 * target_parts + 40
    while lo < hi:  # smallest bullet count reaching the target; parts grow by at most 1 per bullet
        mid = (lo + hi) // 2
        if len(parts(_long_markdown(mid, title))) >= target_parts:
            hi = mid
        else:
            lo = mid + 1
    text = _long_markdown(lo, title)
    got = len(parts(text))
    if got != target_parts:
        raise ValueError(f"cannot build an issue of exactly {target_parts} parts (got {got})")
    return text
