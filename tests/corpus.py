"""The real-newsletter corpus (tests/fixtures/corpus): load it, read it as the product does, print the table.

``python tests/corpus.py`` prints, per file, how many visible items and links of the
source reach a reader (overview + every section, worst of Telegram and Slack) and
whether the title, date and attribution match what the file states. ``--lost``
lists every miss; ``--json`` prints the rows as JSON. The fidelity numbers are the
product's own report (:func:`briefcast.render.fidelity.fidelity_report`), the same
one ``briefcast ingest``, ``POST /api/issues`` and the operator preview show.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "fixtures" / "corpus"
sys.path.insert(0, str(REPO / "src"))

from briefcast.briefing.model import Briefing  # noqa: E402
from briefcast.briefing.parse import parse_text  # noqa: E402
from briefcast.render.fidelity import FidelityReport, fidelity_report  # noqa: E402


@dataclass(frozen=True)
class Entry:
    """One corpus file and what it states about itself."""

    file: str
    repo: str
    path: str
    commit: str
    licence: str
    lang: str
    format: str
    genre: str
    title: str
    date: date | None
    attribution: str
    base_url: str = ""
    title_source: str = ""

    @property
    def source(self) -> Path:
        return CORPUS / self.file

    def text(self) -> str:
        return self.source.read_bytes().decode("utf-8-sig")


def entries() -> list[Entry]:
    raw = tomllib.loads((CORPUS / "corpus.toml").read_text(encoding="utf-8"))
    out = []
    for e in raw["issue"]:
        d = dict(e)
        d["date"] = date.fromisoformat(d["date"]) if d.get("date") else None
        out.append(Entry(**d))
    return out


def parse_entry(entry: Entry) -> Briefing:
    """The briefing the product makes of the file (the base URL is what the publisher would configure)."""
    try:
        from briefcast.briefing.parse import ParseOptions
    except ImportError:  # the parser before issue #12 (no options): how the BEFORE numbers were taken
        return parse_text(entry.text(), source=str(entry.source))
    return parse_text(entry.text(), source=str(entry.source), options=ParseOptions(base_url=entry.base_url))


@dataclass(frozen=True)
class Row:
    entry: Entry
    briefing: Briefing | None
    report: FidelityReport | None
    error: str = ""

    @property
    def title_ok(self) -> bool:
        return self.briefing is not None and self.briefing.title == self.entry.title

    @property
    def date_ok(self) -> bool:
        return self.briefing is not None and self.briefing.date == self.entry.date

    @property
    def attribution_ok(self) -> bool:
        return self.briefing is not None and self.briefing.attribution == self.entry.attribution


def measure(entry: Entry) -> Row:
    try:
        b = parse_entry(entry)
    except Exception as e:  # the table shows a crash rather than stopping
        return Row(entry, None, None, f"{type(e).__name__}: {e}")
    kind = "html" if entry.file.endswith((".html", ".htm")) else "markdown"
    return Row(entry, b, fidelity_report(b, entry.text(), kind=kind, base_url=entry.base_url))


def rows() -> list[Row]:
    return [measure(e) for e in entries()]


def _mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def table(rs: list[Row]) -> str:
    head = (
        f"{'file':<52} {'lang':<4} {'items kept/total':>17} {'links kept/total':>17} "
        f"{'crash':>5} {'leak':>4}  title date attr"
    )
    lines = [head, "-" * len(head)]
    tot_i = tot_ik = tot_l = tot_lk = crashes = leaks = meta_ok = 0
    for r in rs:
        if r.report is None:
            lines.append(f"{r.entry.file:<52} {r.entry.lang:<4} parse failed: {r.error}")
            crashes += 1
            continue
        rep = r.report
        tot_i += rep.items_total
        tot_ik += rep.items_kept
        tot_l += rep.links_total
        tot_lk += rep.links_kept
        crashes += len(rep.crashes)
        leaks += len(rep.leaks)
        meta_ok += r.title_ok and r.date_ok and r.attribution_ok
        items = f"{rep.items_kept}/{rep.items_total} {rep.items_percent:5.1f}%"
        links = f"{rep.links_kept}/{rep.links_total} {rep.links_percent:5.1f}%"
        lines.append(
            f"{r.entry.file:<52} {r.entry.lang:<4} {items:>17} {links:>17}"
            f" {len(rep.crashes):>5} {len(rep.leaks):>4}"
            f"  {_mark(r.title_ok):^5} {_mark(r.date_ok):^4} {_mark(r.attribution_ok):^4}"
        )
    lines.append("-" * len(head))
    pi = 100.0 * tot_ik / tot_i if tot_i else 100.0
    pl = 100.0 * tot_lk / tot_l if tot_l else 100.0
    lines.append(
        f"{'total':<52} {'':<4} {f'{tot_ik}/{tot_i} {pi:5.1f}%':>17} {f'{tot_lk}/{tot_l} {pl:5.1f}%':>17}"
        f" {crashes:>5} {leaks:>4}  metadata right on {meta_ok}/{len(rs)} files"
    )
    return "\n".join(lines)


def details(rs: list[Row]) -> str:
    out: list[str] = []
    for r in rs:
        b = r.briefing
        if b is None:
            continue
        wrong = []
        if not r.title_ok:
            wrong.append(f"title {b.title!r} (expected {r.entry.title!r})")
        if not r.date_ok:
            wrong.append(f"date {b.date} (expected {r.entry.date})")
        if not r.attribution_ok:
            wrong.append(f"attribution {b.attribution!r} (expected {r.entry.attribution!r})")
        lost = r.report.details(limit=1000) if r.report is not None else []
        if wrong or lost:
            out.append(f"== {r.entry.file}")
            out.extend(f"  {w}" for w in wrong)
            out.extend(f"  {x}" for x in lost)
    return "\n".join(out)


def as_json(rs: list[Row]) -> list[dict[str, Any]]:
    return [
        {
            "file": r.entry.file,
            "error": r.error,
            "report": r.report.to_dict() if r.report is not None else None,
            "title_ok": r.title_ok,
            "date_ok": r.date_ok,
            "attribution_ok": r.attribution_ok,
        }
        for r in rs
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lost", action="store_true", help="list every lost item and link, and wrong metadata")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = ap.parse_args(argv)
    rs = rows()
    if args.json:
        print(json.dumps(as_json(rs), ensure_ascii=False, indent=2))
        return 0
    print(table(rs))
    if args.lost:
        print()
        print(details(rs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
