"""Reading a briefing source (a local file or an http(s) URL) into text, and parsing it.

The only place briefcast reads a briefing from disk or fetches one by URL for
the CLI: the parser (:mod:`briefcast.briefing.parse`) works on text and does
no I/O. Everything that can go wrong here becomes a
:class:`~briefcast.errors.SourceError` whose message is one clear line naming
the source, so the CLI and the bot can show it as is. Bytes are decoded by
:func:`briefcast.briefing.source.decode_text` (strict UTF-8, BOMs honoured).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from briefcast.briefing.model import Briefing
from briefcast.briefing.parse import ParseOptions, parse_text
from briefcast.briefing.sectors import SectorCatalogue
from briefcast.briefing.source import SourceKind, decode_text, is_url, kind_from_name, sniff_kind
from briefcast.errors import SourceError
from briefcast.ingest.capped import OverCap, read_capped

__all__ = ["DEFAULT_MAX_BYTES", "SourceText", "parse_source", "read_source", "size_label"]

DEFAULT_MAX_BYTES = 10_000_000
_USER_AGENT = "briefcast/0.1"


@dataclass(frozen=True, slots=True)
class SourceText:
    """Decoded source text, its kind and the name it was read from (path or URL)."""

    text: str
    kind: SourceKind
    name: str


def size_label(max_bytes: int) -> str:
    """``10_000_000`` -> ``"10 MB"`` (decimal units, as people read file sizes)."""
    if max_bytes >= 1_000_000:
        return f"{max_bytes / 1_000_000:g} MB"
    if max_bytes >= 1_000:
        return f"{max_bytes / 1_000:g} kB"
    return f"{max_bytes} bytes"


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
            body = read_capped(resp, max_bytes)
            ctype = resp.headers.get("content-type", "")
            bare = ctype.split(";", 1)[0].strip().lower()
            return body, resp.charset_encoding, bare
    except OverCap:
        raise SourceError(f"{url} is larger than {size_label(max_bytes)}") from None
    except httpx.TimeoutException:
        raise SourceError(f"could not fetch {url}: timed out after {timeout:g} s") from None
    except httpx.TooManyRedirects:
        raise SourceError(f"could not fetch {url}: too many redirects") from None
    except httpx.ConnectError:
        raise SourceError(f"could not fetch {url}: connection failed") from None
    except (httpx.HTTPError, httpx.InvalidURL) as err:
        raise SourceError(f"could not fetch {url}: {type(err).__name__}") from None


def parse_source(
    file_or_url: str,
    *,
    catalogue: SectorCatalogue | None = None,
    default_date: date | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = 20.0,
    options: ParseOptions | None = None,
) -> Briefing:
    """Read and parse a file or URL. Raises :class:`SourceError` or :class:`BriefingError`."""
    src = read_source(file_or_url, max_bytes=max_bytes, timeout=timeout)
    return parse_text(
        src.text,
        kind=src.kind,
        source=src.name,
        catalogue=catalogue,
        default_date=default_date,
        options=options,
    )
