"""What a briefing source is, from its name or its content, and its bytes decoded to text.

Pure helpers: no file or network access (that is :mod:`briefcast.ingest.read`).
Decoding is deliberately strict: a briefing is UTF-8 (a BOM for UTF-8 or
UTF-16 is honoured); guessing legacy encodings would silently turn a wrong
file into garbage that then gets pushed to subscribers. A failure is a
:class:`~briefcast.errors.SourceError` whose message is one clear line naming
the source, so the CLI and the bot can show it as is.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from briefcast.errors import SourceError

SourceKind = Literal["markdown", "html"]

_EXTENSIONS: dict[str, SourceKind] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".mkd": "markdown",
    ".mdx": "markdown",
    ".txt": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}
_HTML_START = re.compile(r"<!doctype\s+html|<html[\s>]|<body[\s>]|<article[\s>]", re.IGNORECASE)
_BLOCK_TAG = re.compile(
    r"<(?:p|div|h[1-6]|ul|ol|li|table|tr|td|section|article|main|span|a\s|strong|em|br)\b", re.IGNORECASE
)
_ATX_LINE = re.compile(r"^#{1,6}\s", re.MULTILINE)


def is_url(file_or_url: str) -> bool:
    return file_or_url.lower().startswith(("http://", "https://"))


def kind_from_name(name: str) -> SourceKind | None:
    """The kind a file name or URL path implies by its extension, if any."""
    path = urlsplit(name).path if is_url(name) else name
    return _EXTENSIONS.get(Path(unquote(path)).suffix.lower())


def sniff_kind(text: str) -> SourceKind:
    """Guess Markdown or HTML from the content itself.

    An HTML document announces itself (doctype, ``<html>``, ``<body>``) near the
    top. Markdown with some inline HTML (``<img>``, ``<br>``) must stay
    Markdown, so a bare tag count only decides when there are no ATX headings.
    """
    head = text[:4096]
    if _HTML_START.search(head):
        return "html"
    if _ATX_LINE.search(text):
        return "markdown"
    return "html" if len(_BLOCK_TAG.findall(head)) >= 5 else "markdown"


def decode_text(data: bytes, name: str, charset: str | None = None) -> str:
    """Decode source bytes: UTF-8 / UTF-8-BOM / UTF-16-BOM, or a declared charset; else SourceError."""
    if data.startswith(codecs.BOM_UTF8):
        return _decode_utf8(data[len(codecs.BOM_UTF8) :], name, offset=len(codecs.BOM_UTF8))
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise SourceError(f"{name} is not valid UTF-16 text (bad data at offset {err.start})") from None
        return _reject_nul(text, name)
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        try:
            return _reject_nul(data.decode(charset), name)
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration: fall back to the strict UTF-8 check and its precise message
    return _decode_utf8(data, name, offset=0)


def _decode_utf8(data: bytes, name: str, *, offset: int) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = data[err.start]
        raise SourceError(
            f"{name} is not valid UTF-8 text (byte 0x{bad:02x} at offset {err.start + offset})"
        ) from None
    return _reject_nul(text, name)


def _reject_nul(text: str, name: str) -> str:
    """NUL never occurs in a text briefing; it means a binary file that happened to decode."""
    pos = text.find("\x00")
    if pos >= 0:
        raise SourceError(f"{name} is not a text file (NUL character at position {pos})")
    return text
