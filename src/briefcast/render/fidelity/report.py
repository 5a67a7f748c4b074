"""The fidelity report itself: items and links kept per platform, the losses, their summary and JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Lost:
    """One source item or link a reader does not receive, where it was, and why when known."""

    kind: Literal["item", "link"]
    text: str
    line: int
    where: str = ""
    reason: str = ""

    def describe(self) -> str:
        loc = f"line {self.line}" + (f" ({self.where})" if self.where else "")
        why = f": {self.reason}" if self.reason else ""
        return f"{loc}: {self.text}{why}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "line": self.line,
            "where": self.where,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class PlatformFidelity:
    platform: str
    items_kept: int
    links_kept: int
    lost: tuple[Lost, ...] = ()
    crashes: tuple[str, ...] = ()

    def to_dict(self, *, limit: int | None = None) -> dict[str, Any]:
        lost = self.lost if limit is None else self.lost[:limit]
        return {
            "platform": self.platform,
            "items_kept": self.items_kept,
            "links_kept": self.links_kept,
            "lost_count": len(self.lost),
            "lost": [x.to_dict() for x in lost],
            "crashes": list(self.crashes),
        }


def _pct(kept: int, total: int) -> float:
    return 100.0 if total == 0 else 100.0 * kept / total


@dataclass(frozen=True, slots=True)
class FidelityReport:
    """Source vs reader: items and links, per platform (the worst platform is the headline)."""

    items_total: int
    links_total: int
    platforms: tuple[PlatformFidelity, ...]
    anchors: int = 0
    withheld_items: int = 0
    """Items of sections readers do not receive by policy (``toc``, ``legal``), not counted above."""
    withheld_links: int = 0
    warnings: tuple[str, ...] = ()
    removed: Mapping[str, int] = field(default_factory=dict)
    leaks: tuple[str, ...] = ()
    """Source text no reader should see (template tags, attribute lists, script) that reached one."""

    @property
    def items_kept(self) -> int:
        return min((p.items_kept for p in self.platforms), default=self.items_total)

    @property
    def links_kept(self) -> int:
        return min((p.links_kept for p in self.platforms), default=self.links_total)

    @property
    def items_percent(self) -> float:
        return _pct(self.items_kept, self.items_total)

    @property
    def links_percent(self) -> float:
        return _pct(self.links_kept, self.links_total)

    @property
    def crashes(self) -> tuple[str, ...]:
        return tuple(c for p in self.platforms for c in p.crashes)

    @property
    def complete(self) -> bool:
        return (
            self.items_kept == self.items_total
            and self.links_kept == self.links_total
            and not self.crashes
            and not self.leaks
        )

    def lost(self) -> list[tuple[str, Lost]]:
        """(platforms, loss) for every distinct loss, platforms joined with ``+``."""
        seen: dict[Lost, list[str]] = {}
        for p in self.platforms:
            for x in p.lost:
                names = seen.setdefault(x, [])
                if p.platform not in names:
                    names.append(p.platform)
        return [("+".join(ps), x) for x, ps in seen.items()]

    def summary(self, lang: str = "en") -> str:
        """One line: ``fidelity: 412/412 items (100%), 88/88 links (100%)`` (+ crashes)."""
        zh = lang.lower().startswith("zh")
        items = f"{self.items_kept}/{self.items_total}"
        links = f"{self.links_kept}/{self.links_total}"
        if zh:
            pi, pl = f"{self.items_percent:.1f}%", f"{self.links_percent:.1f}%"
            line = f"保真度：{items} 条内容（{pi}），{links} 个链接（{pl}）"
            return line + (f"；{len(self.crashes)} 处渲染失败" if self.crashes else "")
        line = (
            f"fidelity: {items} items ({self.items_percent:.1f}%), {links} links ({self.links_percent:.1f}%)"
        )
        return line + (f"; {len(self.crashes)} render failures" if self.crashes else "")

    def details(self, limit: int = 10) -> list[str]:
        """Human lines: crashes, then up to ``limit`` losses, then warnings."""
        out = [f"render failure: {c}" for c in self.crashes]
        out.extend(f"leaked markup: {x[:80]!r}" for x in self.leaks)
        losses = self.lost()
        for platforms, x in losses[:limit]:
            out.append(f"lost {x.kind} ({platforms}) {x.describe()}")
        if len(losses) > limit:
            out.append(f"… {len(losses) - limit} more losses")
        out.extend(f"warning: {w}" for w in self.warnings)
        return out

    def to_dict(self, *, limit: int | None = None) -> dict[str, Any]:
        """JSON form; ``limit`` caps the losses listed per platform (their count is always there)."""
        return {
            "items": {
                "total": self.items_total,
                "kept": self.items_kept,
                "percent": round(self.items_percent, 2),
            },
            "links": {
                "total": self.links_total,
                "kept": self.links_kept,
                "percent": round(self.links_percent, 2),
            },
            "anchors": self.anchors,
            "withheld": {"items": self.withheld_items, "links": self.withheld_links},
            "complete": self.complete,
            "summary": {"en": self.summary("en"), "zh": self.summary("zh")},
            "platforms": [p.to_dict(limit=limit) for p in self.platforms],
            "warnings": list(self.warnings),
            "removed": dict(self.removed),
            "leaks": list(self.leaks),
        }
