"""Assert a rendered ``chat.postMessage`` payload is one Slack would accept and show in full (tests).

The rules are :mod:`briefcast.render.blockkit`'s (the one Block Kit validator, also the Slack
emulator's); slack-sdk's own block models parse and validate each block as a second opinion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from briefcast.render.blockkit import message_errors


def check_slack_payload(payload: Mapping[str, Any]) -> None:
    """Assert ``payload`` passes :func:`briefcast.render.blockkit.message_errors` and slack-sdk's models.

    Also that no section's text is blank (Slack accepts whitespace but shows an empty block).
    """
    errors = message_errors(payload)
    assert not errors, f"Slack would refuse or cut this message: {errors}"
    for i, raw in enumerate(payload["blocks"]):
        kind = raw.get("type")
        block = Block.parse(dict(raw))
        assert block is not None, f"block {i}: unknown block type {kind!r}"
        try:
            block.validate_json()
        except SlackObjectFormationError as exc:
            raise AssertionError(f"block {i} ({kind}): {exc}") from exc
        if kind == "section" and "text" in raw:
            assert str(raw["text"].get("text", "")).strip(), f"block {i}: section text is blank"
