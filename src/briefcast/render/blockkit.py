"""Block Kit validation: Slack's ``errors`` list for a ``blocks`` array, with Slack's wording.

The one Block Kit validator: the Slack emulator answers ``invalid_blocks`` with it, and the tests'
``check_slack_payload`` asserts a rendered message passes it. Pure: no Slack client needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_BLOCKS", "MAX_VIEW_BLOCKS", "message_errors", "validate_blocks"]

MAX_TEXT = 40_000
MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
_BLOCK_TYPES = frozenset(
    {
        "section",
        "header",
        "divider",
        "context",
        "actions",
        "image",
        "rich_text",
        "input",
        "file",
        "video",
        "markdown",
        "table",
        "context_actions",
    }
)


def _text_errors(obj: Any, pointer: str, limit: int, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    errors = []
    kind = obj.get("type")
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if kind not in allowed:
        errors.append(f"must be a valid enum value [json-pointer:{pointer}/type]")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        errors.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
    elif len(text) > limit:
        errors.append(f"must be less than {limit + 1} characters [json-pointer:{pointer}/text]")
    return errors


def _element_errors(element: Any, pointer: str, action_ids: dict[str, str]) -> list[str]:
    if not isinstance(element, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    errors = []
    action_id = element.get("action_id")
    if action_id is not None:
        if not isinstance(action_id, str) or not 1 <= len(action_id) <= 255:
            errors.append(f"must be less than 256 characters [json-pointer:{pointer}/action_id]")
        elif action_id in action_ids:
            errors.append(f"duplicate action_id: {action_id} [json-pointer:{pointer}/action_id]")
        else:
            action_ids[action_id] = pointer
    if element.get("type") == "button":
        errors += _text_errors(element.get("text"), f"{pointer}/text", 75, plain_only=True)
        if len(str(element.get("value", ""))) > 2000:
            errors.append(f"must be less than 2001 characters [json-pointer:{pointer}/value]")
        if len(str(element.get("url", ""))) > 3000:
            errors.append(f"must be less than 3001 characters [json-pointer:{pointer}/url]")
    return errors


def _block_errors(block: Any, pointer: str, action_ids: dict[str, str], block_ids: set[str]) -> list[str]:
    if not isinstance(block, dict):
        return [f"must provide an object [json-pointer:{pointer}]"]
    kind = block.get("type")
    if kind not in _BLOCK_TYPES:
        return [f"unsupported type: {kind} [json-pointer:{pointer}/type]"]
    errors: list[str] = []
    block_id = block.get("block_id")
    if block_id is not None:
        if not isinstance(block_id, str) or not 1 <= len(block_id) <= 255:
            errors.append(f"must be less than 256 characters [json-pointer:{pointer}/block_id]")
        elif block_id in block_ids:
            errors.append(f"duplicate block_id: {block_id} [json-pointer:{pointer}/block_id]")
        else:
            block_ids.add(block_id)
    if kind == "header":
        errors += _text_errors(block.get("text"), f"{pointer}/text", MAX_HEADER_TEXT, plain_only=True)
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"must provide text or fields [json-pointer:{pointer}]")
        if "text" in block:
            errors += _text_errors(block["text"], f"{pointer}/text", MAX_SECTION_TEXT)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > 10:
                errors.append(f"no more than 10 items allowed [json-pointer:{pointer}/fields]")
            else:
                for i, item in enumerate(fields):
                    errors += _text_errors(item, f"{pointer}/fields/{i}", 2000)
        if "accessory" in block:
            errors += _element_errors(block["accessory"], f"{pointer}/accessory", action_ids)
    elif kind in ("context", "actions"):
        elements = block.get("elements")
        limit = MAX_CONTEXT_ELEMENTS if kind == "context" else 25
        if not isinstance(elements, list) or not elements:
            errors.append(f"must provide an array [json-pointer:{pointer}/elements]")
        elif len(elements) > limit:
            errors.append(f"no more than {limit} items allowed [json-pointer:{pointer}/elements]")
        else:
            for i, element in enumerate(elements):
                element_pointer = f"{pointer}/elements/{i}"
                if kind == "context" and isinstance(element, dict) and element.get("type") != "image":
                    errors += _text_errors(element, element_pointer, MAX_SECTION_TEXT)
                else:
                    errors += _element_errors(element, element_pointer, action_ids)
    elif kind == "image":
        if not block.get("image_url") and not block.get("slack_file"):
            errors.append(f"must provide image_url or slack_file [json-pointer:{pointer}]")
        if not isinstance(block.get("alt_text"), str) or len(block["alt_text"]) > 2000:
            errors.append(f"must be less than 2001 characters [json-pointer:{pointer}/alt_text]")
    elif kind == "markdown":
        text = block.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= 12_000:
            errors.append(f"must be less than 12001 characters [json-pointer:{pointer}/text]")
    return errors


def validate_blocks(blocks: Any, *, max_blocks: int = MAX_BLOCKS) -> list[str]:
    """Slack's ``errors`` list for a ``blocks`` array (empty when valid)."""
    if not isinstance(blocks, list):
        return ["must provide an array [json-pointer:/blocks]"]
    if len(blocks) > max_blocks:
        return [f"no more than {max_blocks} items allowed [json-pointer:/blocks]"]
    errors: list[str] = []
    action_ids: dict[str, str] = {}
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        errors += _block_errors(block, f"/blocks/{i}", action_ids, block_ids)
    return errors


def message_errors(payload: Mapping[str, Any]) -> list[str]:
    """Problems that would stop a ``chat.postMessage`` payload showing in full (empty when none).

    The ``text`` fallback must be present, not blank and at most 40,000 characters (Slack would
    truncate it); the blocks must be a non-empty array that :func:`validate_blocks` accepts.
    """
    text = payload.get("text")
    errors: list[str] = []
    if not isinstance(text, str) or not text.strip():
        errors.append("the text fallback is missing or blank")
    elif len(text) > MAX_TEXT:
        errors.append(f"text fallback is {len(text)} chars (limit {MAX_TEXT})")
    blocks = payload.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return [*errors, "payload has no blocks"]
    return errors + validate_blocks(blocks)
