"""A subscription's ``/settings`` as payload options: what a digest push adds to each message.

The renderers produce one payload per message part with briefcast's defaults (no link
previews, notifications on). A subscription may choose otherwise; the sender applies its
choice to every part it sends with :func:`apply_delivery_options`, so the rendered (and
cached) payloads stay shared between subscribers.

============  ====================================  ==========================================
setting       Telegram ``sendMessage``              Slack ``chat.postMessage``
============  ====================================  ==========================================
``silent``    ``disable_notification: true``        (no such option: Slack notifies per user)
``previews``  ``link_preview_options.is_disabled``  ``unfurl_links`` / ``unfurl_media``
============  ====================================  ==========================================

The digest variant (``full`` / ``compact``) is not a payload option: it decides what is
composed (:func:`briefcast.render.compose.section_document`'s ``compact``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Settings each platform can honour (shown by /settings there; the others are refused politely).
PLATFORM_OPTIONS: dict[str, frozenset[str]] = {
    "telegram": frozenset({"variant", "silent", "previews"}),
    "slack": frozenset({"variant", "previews"}),
}


def supports(platform: str, option: str) -> bool:
    """Whether ``platform`` has the concept behind ``option`` (``variant``, ``silent``, ``previews``)."""
    return option in PLATFORM_OPTIONS.get(platform, frozenset({"variant"}))


def delivery_options(platform: str, *, silent: bool = False, previews: bool = False) -> dict[str, Any]:
    """The keys to set on every payload of a push for a subscription with these settings."""
    if platform == "telegram":
        out: dict[str, Any] = {"link_preview_options": {"is_disabled": not previews}}
        if silent:
            out["disable_notification"] = True
        return out
    if platform == "slack":
        return {"unfurl_links": previews, "unfurl_media": previews}
    return {}


def apply_delivery_options(
    payloads: Sequence[dict[str, Any]], platform: str, *, silent: bool = False, previews: bool = False
) -> list[dict[str, Any]]:
    """New payload dicts with the options set (the inputs, possibly cached, are not modified)."""
    options = delivery_options(platform, silent=silent, previews=previews)
    return [{**p, **options} for p in payloads]
