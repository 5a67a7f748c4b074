"""Validate ``chat.postMessage`` payloads against Block Kit, offline.

slack-sdk's block models know most per-field limits (``validate_json``); the
message-level limits (50 blocks, unique action_ids, the fallback text) and a few
element limits slack-sdk does not check are asserted here explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_TEXT = 40_000
MAX_ACTION_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_ACTION_ID = 255
MAX_VALUE = 2000


def _check_block(i: int, raw: Mapping[str, Any], action_ids: set[str]) -> None:
    kind = raw.get("type")
    block = Block.parse(dict(raw))
    assert block is not None, f"block {i}: unknown block type {kind!r}"
    try:
        block.validate_json()
    except SlackObjectFormationError as exc:
        raise AssertionError(f"block {i} ({kind}): {exc}") from exc
    if kind == "header":
        text = raw["text"]
        assert text.get("type") == "plain_text", f"block {i}: header text must be plain_text"
        assert 1 <= len(text["text"]) <= MAX_HEADER, f"block {i}: header is {len(text['text'])} chars"
    elif kind == "section":
        text = raw.get("text", {}).get("text", "")
        assert 1 <= len(text) <= MAX_SECTION, f"block {i}: section text is {len(text)} chars"
        assert text.strip(), f"block {i}: section text is blank"
    elif kind == "context":
        n = len(raw.get("elements", ()))
        assert 1 <= n <= MAX_CONTEXT_ELEMENTS, f"block {i}: context has {n} elements"
    elif kind == "actions":
        elements = raw.get("elements", ())
        assert 1 <= len(elements) <= MAX_ACTION_ELEMENTS, f"block {i}: actions has {len(elements)} elements"
        for el in elements:
            _check_element(i, el, action_ids)


def _check_element(i: int, el: Mapping[str, Any], action_ids: set[str]) -> None:
    aid = el.get("action_id")
    if aid is not None:
        assert isinstance(aid, str) and 1 <= len(aid) <= MAX_ACTION_ID, f"block {i}: bad action_id {aid!r}"
        assert aid not in action_ids, f"block {i}: duplicate action_id {aid!r}"
        action_ids.add(aid)
    if el.get("type") == "button":
        text = el["text"]["text"]
        assert 1 <= len(text) <= MAX_BUTTON_TEXT, f"block {i}: button text is {len(text)} chars"
        assert len(el.get("value", "")) <= MAX_VALUE, f"block {i}: button value too long"


def check_slack_payload(payload: Mapping[str, Any]) -> None:
    """Assert a ``chat.postMessage`` payload is one Slack would accept and show in full.

    Every block parses and validates with slack-sdk's models; plus at most 50
    blocks, header plain_text <= 150, section text <= 3,000, context <= 10
    elements, unique action_ids in the message, and a non-blank ``text``
    fallback of at most 40,000 characters.
    """
    text = payload.get("text")
    assert isinstance(text, str) and text.strip(), "the text fallback is missing or blank"
    assert len(text) <= MAX_TEXT, f"text fallback is {len(text)} chars (limit {MAX_TEXT})"
    blocks = payload.get("blocks")
    assert isinstance(blocks, list) and blocks, "payload has no blocks"
    assert len(blocks) <= MAX_BLOCKS, f"{len(blocks)} blocks (limit {MAX_BLOCKS})"
    action_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        _check_block(i, raw, action_ids)
