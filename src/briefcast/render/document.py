"""A platform-neutral rich message: what every renderer takes.

Sections of an issue, command replies (help, keyword passages, overviews) and
previews are all built as a :class:`Document`; ``render.telegram``,
``render.slack`` and ``render.text`` turn one into platform payloads. Rich text
reuses the briefing model's blocks and runs, so one renderer per platform
serves both digests and replies.
"""

from __future__ import annotations

from dataclasses import dataclass

from briefcast.briefing.model import Block


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button. ``action`` + ``value`` come back in the platform's callback.

    Telegram packs them into ``callback_data`` as ``"action:value"`` (<= 64 bytes);
    Slack uses ``action_id=action`` and ``value=value``. ``url`` makes a link button.
    """

    text: str
    action: str = ""
    value: str = ""
    url: str | None = None
    style: str | None = None  # Slack: "primary" | "danger"


@dataclass(frozen=True, slots=True)
class Document:
    """``title`` is shown as the header (bold line / Block Kit header); ``footer`` as a muted footer."""

    title: str
    blocks: tuple[Block, ...] = ()
    footer: str = ""
    buttons: tuple[tuple[Button, ...], ...] = ()
