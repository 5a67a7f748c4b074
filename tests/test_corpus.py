"""The real-newsletter corpus (tests/fixtures/corpus): metadata, fidelity and valid payloads on every file.

Thirteen real public newsletters (zh/en; Pelican, Jekyll, Hugo, Docusaurus, plain) are
read as the product reads them at ingest. For each: the title, date and attribution
the file states; every visible sentence and link of the source found in what a
reader receives (overview + every section, Telegram and Slack); every payload of
the overview, the sections and a push accepted by TDLib's parser and the Block Kit
checks. The table is ``python tests/corpus.py``.
"""

from __future__ import annotations

import re
from functools import cache

import pytest

from briefcast.briefing.model import Briefing
from briefcast.briefing.parse import ParseOptions
from briefcast.ingest.service import read_issue
from briefcast.render import compose
from briefcast.render import slack as slack_render
from briefcast.render import telegram as telegram_render
from briefcast.render.fidelity import FidelityReport, measure, read_source, report_for
from briefcast.testing.blockkit import check_slack_payload
from briefcast.testing.tdlib import check_telegram_payload
from corpus import CORPUS, entries

ENTRIES = entries()
IDS = [e.file for e in ENTRIES]


@cache
def _read(file: str) -> tuple[Briefing, FidelityReport]:
    entry = next(e for e in ENTRIES if e.file == file)
    text = entry.text()
    briefing = read_issue(text, source=str(entry.source), options=ParseOptions(base_url=entry.base_url))
    return briefing, report_for(briefing, text)


def test_the_corpus_is_big_and_mixed_enough() -> None:
    assert len(ENTRIES) >= 12
    assert {e.lang for e in ENTRIES} == {"zh", "en"}
    formats = " ".join(e.format for e in ENTRIES)
    for kind in ("Pelican", "Jekyll", "Hugo", "Docusaurus", "plain"):
        assert kind in formats, kind
    genres = " ".join(e.genre for e in ENTRIES)
    for genre in ("daily AI briefing", "weekly link digest", "sector report"):
        assert genre in genres, genre


def test_readme_records_every_file_with_repository_path_commit_and_licence() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines() if line.startswith("| `")}
    for e in ENTRIES:
        assert e.source.is_file(), e.file
        row = rows.get(e.file)
        assert row is not None, f"{e.file} has no row in README.md"
        assert e.repo in row and f"`{e.path}`" in row and e.commit in row, e.file
        assert e.licence.strip() and re.search(r"MIT|ISC|Apache|CC-BY", e.licence), e.file
    assert len(rows) == len(ENTRIES)


@pytest.mark.parametrize("file", IDS)
def test_title_date_and_attribution_as_the_file_states_them(file: str) -> None:
    entry = next(e for e in ENTRIES if e.file == file)
    b, _ = _read(file)
    assert (b.title, b.date, b.attribution) == (entry.title, entry.date, entry.attribution)
    if entry.date is None:
        assert b.meta["date_source"] == "none"  # no invented date (never today's)
    if entry.title_source:
        assert b.meta["title_source"] == entry.title_source


@pytest.mark.parametrize("file", IDS)
def test_every_visible_item_and_link_reaches_the_reader(file: str) -> None:
    _, report = _read(file)
    assert not report.crashes
    assert not report.leaks, report.leaks
    assert report.links_kept == report.links_total, report.details()
    assert report.items_percent >= 99.5, report.details()


def test_corpus_totals_meet_the_issue_targets() -> None:
    reports = [_read(e.file)[1] for e in ENTRIES]
    items = sum(r.items_total for r in reports)
    kept = sum(r.items_kept for r in reports)
    assert items > 1000
    assert kept / items >= 0.995
    assert sum(r.links_kept for r in reports) == sum(r.links_total for r in reports) > 500


@pytest.mark.parametrize("file", IDS)
def test_every_payload_is_accepted_by_tdlib_and_block_kit(file: str) -> None:
    b, _ = _read(file)
    lang = b.language
    docs = [
        compose.overview_document(b, lang),
        compose.overview_document(b, "en" if lang == "zh" else "zh", issue_id=123456),
        *compose.issue_documents(b, lang=lang),
        *compose.issue_documents(b, lang=lang, compact=True),
    ]
    telegram = [p for d in docs for p in telegram_render.render(d)]
    slack = [p for d in docs for p in slack_render.render(d)]
    assert telegram and slack
    for p in telegram:
        check_telegram_payload(p)
    for p in slack:
        check_slack_payload(p)


@pytest.mark.parametrize("file", IDS)
def test_the_intro_reaches_the_overview_and_the_first_part_of_a_push(file: str) -> None:
    b, _ = _read(file)
    if not b.preamble:
        pytest.skip("this issue has no text before its first section")
    overview = telegram_render.render(compose.overview_document(b, b.language))
    intro_text = "".join(r.text for r in _first_runs(b))
    assert intro_text[:20] in _squash(" ".join(p["text"] for p in overview))
    keys = [s.key for s in b.delivered_sections]
    first_name, make = compose.digest_parts(b, keys, lang=b.language)[0]
    assert first_name.endswith("+intro")
    assert intro_text[:20] in _squash(" ".join(p["text"] for p in telegram_render.render(make())))


def _first_runs(b: Briefing) -> list[object]:
    from briefcast.briefing.model import iter_runs

    runs = [r for r in iter_runs(b.preamble) if r.text.strip() and not r.image]
    return runs[:1]


def _squash(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


def test_the_measurement_can_fail() -> None:
    """Not vacuous: leave the overview (and with it every intro) out and the losses are found."""
    file = "haskell-weekly/2026/issue-538.markdown"
    b, _ = _read(file)
    entry = next(e for e in ENTRIES if e.file == file)
    reading = read_source(entry.text())
    sections_only = [compose.section_document(b, s, lang="en") for s in b.sections]
    report = measure(b, reading, documents=sections_only)
    assert report.items_kept < report.items_total and not report.complete
    lost = {x.text for _, x in report.lost()}
    assert "Welcome to another issue of Haskell Weekly!" in lost
    assert any(x.kind == "link" and x.text == "https://www.haskell.org" for _, x in report.lost())
