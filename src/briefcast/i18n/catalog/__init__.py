"""The message catalogue: each area's table merged into :data:`STRINGS`, a key defined twice an import error.

Every entry is ``key -> {"zh": ..., "en": ...}`` with ``str.format`` fields in braces; a
``<key>_one`` entry is the form :func:`briefcast.i18n.t` picks for a count of one (``n=1`` or
``count=1``). The areas are merged in this order, which is the table's order.
"""

from __future__ import annotations

from typing import Final

from briefcast.i18n.catalog import archive, commands, render, settings, upload
from briefcast.i18n.lang import Lang


def merge(*tables: dict[str, dict[Lang, str]]) -> dict[str, dict[Lang, str]]:
    """One table of ``tables`` in order; a key in two of them raises :class:`ValueError`."""
    merged: dict[str, dict[Lang, str]] = {}
    for table in tables:
        for key, forms in table.items():
            if key in merged:
                raise ValueError(f"message key {key!r} is defined twice")
            merged[key] = forms
    return merged


STRINGS: Final[dict[str, dict[Lang, str]]] = merge(
    commands.MESSAGES, settings.MESSAGES, upload.MESSAGES, render.MESSAGES, archive.MESSAGES
)
