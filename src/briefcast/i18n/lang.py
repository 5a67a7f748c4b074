"""Language tags: which of Chinese and English a tag, a user's code or a web request means."""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]


def is_zh(lang: str) -> bool:
    """True for any Chinese locale tag (``zh``, ``zh-CN``, ``zh_TW``…)."""
    return lang.lower().startswith("zh")


def language(lang: str) -> Lang:
    """``zh`` or ``en`` for a Chinese or English tag (``zh-Hans``, ``en_US``); anything else raises.

    :class:`ValueError` is what a swapped call (``t(key, lang)``) or an unchecked user value gets.
    """
    primary = lang.lower().replace("_", "-").split("-", 1)[0]
    if primary == "zh":
        return "zh"
    if primary == "en":
        return "en"
    raise ValueError(f"unknown language {lang!r}: expected zh or en (the call is t(lang, key, ...))")


def pick_language(code: str | None, default: str = "zh") -> Lang:
    """``zh*`` -> zh, any other language code -> en; no code -> the configured default."""
    if not code:
        return "zh" if default.startswith("zh") else "en"
    return "zh" if code.lower().startswith("zh") else "en"


def negotiate(query: str | None, accept_language: str | None, fallback: str) -> Lang:
    """``zh`` or ``en`` for a reader: ``?lang=``, else the best of Accept-Language, else ``fallback``.

    Accept-Language is read with its q-values (RFC 9110 §12.5.4): the highest-weighted tag that is
    Chinese or English wins; other languages, ``*`` and q=0 are skipped.
    """
    if query and query.lower() in ("zh", "en"):  # only "zh" or "en" exactly; junk is ignored
        return "zh" if query.lower() == "zh" else "en"
    best: tuple[float, int, Lang] | None = None
    for pos, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-", 1)[0]
        if q <= 0 or primary not in ("zh", "en"):
            continue
        key: tuple[float, int, Lang] = (-q, pos, "zh" if primary == "zh" else "en")
        if best is None or key < best:
            best = key
    return best[2] if best is not None else ("zh" if is_zh(fallback) else "en")
