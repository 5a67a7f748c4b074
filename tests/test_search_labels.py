"""/search names where a hit is: a sector in the reader's language, or the issue's intro."""

from __future__ import annotations

import pytest

from briefcast.bot.commands import Commands
from briefcast.briefing.parse import parse_markdown
from briefcast.render.text import render as render_text
from briefcast.store import Store
from factories import Ops, private

ISSUE = """# 行业简报 2026-11-30

本期导语：钠离子电池的量产节奏值得关注。

## ⚡ 能源基建

- 储能招标继续增长。
"""


@pytest.mark.parametrize(("lang", "label"), [("zh", "导语"), ("en", "Intro")])
async def test_a_hit_in_the_intro_is_labelled_intro_in_the_readers_language(
    store: Store, lang: str, label: str
) -> None:
    store.ingest(parse_markdown(ISSUE, source="issue.md"), raw=ISSUE, source="issue.md")
    commands = Commands(store=store, ops=Ops(), platform="telegram")
    request = private("search", "钠离子电池", text="/search 钠离子电池", lang=lang)
    reply = await commands.handle(request)
    text = "\n".join(render_text(d) for d in reply.documents)
    assert f"2026-11-30 · {label}" in text
    assert "· intro" not in text
