"""The preview of an issue: every sector exactly as subscribers will receive it, per platform.

The document-upload flow of the bots (an operator sends a ``.md`` / ``.html``
file, sees the preview, then presses Publish now / Publish at scheduled times
/ Discard) and ``GET /api/issues/{id}/preview`` both use :func:`build_preview`.
It calls the same composition and renderers as the delivery engine, so the
payloads here are the payloads subscribers get (minus ``chat_id`` /
``channel``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from briefcast.briefing.model import Briefing
from briefcast.i18n import pick_language
from briefcast.render import slack as slack_render
from briefcast.render import telegram as telegram_render
from briefcast.render.compose import digest_parts
from briefcast.render.document import Document

Payload = dict[str, Any]
Renderer = Callable[[Document], list[Payload]]

RENDERERS: Mapping[str, Renderer] = {"telegram": telegram_render.render, "slack": slack_render.render}
"""Platform name -> renderer; the same table the delivery engine dispatches on."""


@dataclass(frozen=True, slots=True)
class SectorPreview:
    """One sector: its title and, per platform, the messages a subscriber of it receives."""

    key: str
    title: str
    known: bool
    payloads: Mapping[str, tuple[Payload, ...]]

    def messages(self, platform: str) -> int:
        return len(self.payloads.get(platform, ()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "known": self.known,
            "payloads": {p: list(v) for p, v in self.payloads.items()},
        }


@dataclass(frozen=True, slots=True)
class IssuePreview:
    """The whole issue as previews per sector, plus warnings an operator should read before publishing."""

    title: str
    date: date | None
    language: str
    sectors: tuple[SectorPreview, ...]
    warnings: tuple[str, ...] = ()
    fidelity: Mapping[str, Any] | None = None
    """The issue's fidelity report made at ingest (what readers receive of the source), if any."""

    def fidelity_line(self, lang: str = "zh") -> str:
        """``fidelity: 412/412 items (100.0%), 88/88 links (100.0%)`` in ``lang``; "" without a report."""
        if not self.fidelity:
            return ""
        summary = self.fidelity.get("summary", {})
        return str(summary.get("zh" if lang.startswith("zh") else "en", ""))

    def payloads(self, platform: str) -> list[Payload]:
        """Every message of every sector for ``platform``, in issue order (what the operator is shown)."""
        return [p for s in self.sectors for p in s.payloads.get(platform, ())]

    def summary(self, lang: str = "zh") -> str:
        """One line: sector count, their names, message counts per platform."""
        names = (
            "、".join(s.key for s in self.sectors) if lang == "zh" else ", ".join(s.key for s in self.sectors)
        )
        platforms = sorted({p for s in self.sectors for p in s.payloads})
        counts = {p: sum(s.messages(p) for s in self.sectors) for p in platforms}
        if lang == "zh":
            per = "，".join(f"{p} {n} 条消息" for p, n in counts.items())
            return f"《{self.title}》：{len(self.sectors)} 个板块（{names}）；{per}"
        per = ", ".join(f"{n} {p} message{'s' if n != 1 else ''}" for p, n in counts.items())
        n = len(self.sectors)
        return f"{self.title!r}: {n} sector{'s' if n != 1 else ''} ({names}); {per}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "language": self.language,
            "sectors": [s.to_dict() for s in self.sectors],
            "warnings": list(self.warnings),
            "fidelity": dict(self.fidelity) if self.fidelity else None,
        }


def build_preview(
    briefing: Briefing,
    *,
    platforms: Sequence[str] = ("telegram", "slack"),
    lang: str | None = None,
    compact: bool = False,
) -> IssuePreview:
    """Render every delivered section of ``briefing`` for each platform, as one push to a subscriber
    of all of them would (the intro with the first section, or on its own, as the issue says).

    ``lang`` is the language of the chrome (footer, labels) — a subscriber's
    chat language; by default the issue's own. ``compact`` previews the compact
    digest variant. A sector that fails to render does not hide the others: the
    failure becomes a warning, because the operator must see it *before*
    publishing rather than subscribers missing a message afterwards.
    """
    lang = pick_language(lang, briefing.language)  # ?lang=de on the API: English chrome, as before
    warnings: list[str] = []
    if briefing.date is None:
        warnings.append("the issue has no date; it is identified by its title only")
    for section in briefing.sections:
        if not section.known and section.delivered:
            warnings.append(
                f"section {section.heading or section.name!r} matches no configured sector "
                f"(stored as {section.key!r}; no subscriber of a known sector receives it)"
            )
    warnings.extend(_fidelity_warnings(briefing))
    sectors: list[SectorPreview] = []
    keys = [s.key for s in briefing.delivered_sections]
    for name, make in digest_parts(briefing, keys, lang=lang, compact=compact):
        doc = make()
        key = name.removesuffix("+intro")
        part_of = briefing.section(key)
        payloads: dict[str, tuple[Payload, ...]] = {}
        for platform in platforms:
            renderer = RENDERERS.get(platform)
            if renderer is None:
                raise ValueError(f"unknown platform {platform!r} (known: {', '.join(RENDERERS)})")
            try:
                payloads[platform] = tuple(renderer(doc))
            except Exception as e:  # surfaced to the operator, never a crash of the upload flow
                warnings.append(f"{platform}: sector {key!r} could not be rendered ({type(e).__name__}: {e})")
                payloads[platform] = ()
        known = part_of.known if part_of is not None else False
        sectors.append(SectorPreview(key=key, title=doc.title, known=known, payloads=payloads))
    return IssuePreview(
        title=briefing.title,
        date=briefing.date,
        language=briefing.language,
        sectors=tuple(sectors),
        warnings=tuple(warnings),
        fidelity=briefing.fidelity or None,
    )


def _fidelity_warnings(briefing: Briefing, limit: int = 10) -> list[str]:
    """The ingest report's notes and, below 100%, what was lost (the operator reads this first)."""
    report = briefing.fidelity
    if not report:
        return []
    out = [w for w in report.get("warnings", ()) if not str(w).startswith("no date")]
    if not report.get("complete", True):
        out.insert(0, str(report.get("summary", {}).get("en", "")))
        seen: set[tuple[str, str, int]] = set()
        for platform in report.get("platforms", ()):
            for crash in platform.get("crashes", ()):
                out.append(f"render failure: {crash}")
            for x in platform.get("lost", ()):
                k = (x["kind"], x["text"], x["line"])
                if k not in seen and len(seen) < limit:
                    seen.add(k)
                    why = f" ({x['reason']})" if x.get("reason") else ""
                    out.append(f"lost {x['kind']} at line {x['line']}: {x['text'][:120]}{why}")
        out.extend(f"leaked markup: {x[:80]}" for x in report.get("leaks", ()))
    return out
