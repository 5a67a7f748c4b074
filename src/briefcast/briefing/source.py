"""Reading a briefing source (a local file or an http(s) URL) into text.

Everything that can go wrong here becomes a :class:`~briefcast.errors.SourceError`
whose message is one clear line naming the source, so the CLI and the bot can
show it as is. Decoding is deliberately strict: a briefing is UTF-8 (a BOM for
UTF-8 or UTF-16 is honoured); guessing legacy encodings would silently turn a
wrong file into garbage that then gets pushed to subscribers.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import httpx

from briefcast.errors import SourceError

SourceKind = Literal["markdown", "html"]

DEFAULT_MAX_BYTES = 10_000_000
_USER_AGENT = "briefcast/0.1"

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


@dataclass(frozen=True, slots=True)
class SourceText:
    """Decoded source text, its kind and the name it was read from (path or URL)."""

    text: str
    kind: SourceKind
    name: str


def is_url(file_or_url: str) -> bool:
    return file_or_url.lower().startswith(("http://", "https://"))


def size_label(max_bytes: int) -> str:
    """``10_000_000`` -> ``"10 MB"`` (decimal units, as people read file sizes)."""
    if max_bytes >= 1_000_000:
        return f"{max_bytes / 1_000_000:g} MB"
    if max_bytes >= 1_000:
        return f"{max_bytes / 1_000:g} kB"
    return f"{max_bytes} bytes"


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


def read_source(file_or_url: str, *, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = 20.0) -> SourceText:
    """Read a briefing from a path or an http(s) URL.

    Raises :class:`SourceError` with a one-line message for a missing file, a
    directory, undecodable or binary content, an empty source, a source larger
    than ``max_bytes``, or an HTTP/network failure.
    """
    name = file_or_url.strip()
    if not name:
        raise SourceError("no source given: pass a file path or an http(s) URL")
    if is_url(name):
        data, charset, ctype = _fetch(name, max_bytes=max_bytes, timeout=timeout)
        kind = _kind_from_content_type(ctype) or kind_from_name(name)
    else:
        if name.lower().startswith("file://"):
            name = unquote(urlsplit(name).path)
        data = _read_file(name, max_bytes=max_bytes)
        charset = None
        kind = kind_from_name(name)
    text = decode_text(data, name, charset)
    if not text.strip():
        raise SourceError(f"{name} is empty")
    return SourceText(text=text, kind=kind or sniff_kind(text), name=name)


def _read_file(name: str, *, max_bytes: int) -> bytes:
    path = Path(name).expanduser()
    try:
        if path.is_dir():
            raise SourceError(f"{name} is a directory, not a file")
        size = path.stat().st_size
        if size > max_bytes:
            raise SourceError(f"{name} is larger than {size_label(max_bytes)}")
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise SourceError(f"file not found: {name}") from None
    except PermissionError:
        raise SourceError(f"permission denied: {name}") from None
    except OSError as err:
        raise SourceError(f"could not read {name}: {err.strerror or type(err).__name__}") from None
    if len(data) > max_bytes:  # the file grew while we read it
        raise SourceError(f"{name} is larger than {size_label(max_bytes)}")
    return data


def _kind_from_content_type(ctype: str) -> SourceKind | None:
    if ctype in ("text/html", "application/xhtml+xml"):
        return "html"
    if ctype in ("text/markdown", "text/x-markdown", "text/mdx"):
        return "markdown"
    return None


def _fetch(url: str, *, max_bytes: int, timeout: float) -> tuple[bytes, str | None, str]:
    """GET ``url`` (redirects followed) with a byte cap; returns body, charset and bare content type."""
    try:
        with (
            httpx.Client(
                follow_redirects=True, timeout=timeout, headers={"User-Agent": _USER_AGENT}
            ) as client,
            client.stream("GET", url) as resp,
        ):
            if resp.status_code >= 400:
                raise SourceError(f"could not fetch {url}: HTTP {resp.status_code}")
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise SourceError(f"{url} is larger than {size_label(max_bytes)}")
            chunks: list[bytes] = []
            total = 0
            for chunk in resp.iter_bytes():
                total += len(chunk)
                if total > max_bytes:
                    raise SourceError(f"{url} is larger than {size_label(max_bytes)}")
                chunks.append(chunk)
            ctype = resp.headers.get("content-type", "")
            bare = ctype.split(";", 1)[0].strip().lower()
            return b"".join(chunks), resp.charset_encoding, bare
    except httpx.TimeoutException:
        raise SourceError(f"could not fetch {url}: timed out after {timeout:g} s") from None
    except httpx.TooManyRedirects:
        raise SourceError(f"could not fetch {url}: too many redirects") from None
    except httpx.ConnectError:
        raise SourceError(f"could not fetch {url}: connection failed") from None
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        raise SourceError(f"could not fetch {url}: {type(err).__name__}") from None
