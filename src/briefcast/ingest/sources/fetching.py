"""HTTP fetching for URL and feed sources: a conditional GET, time-boxed and capped in size."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from briefcast import __version__
from briefcast.errors import SourceError
from briefcast.ingest.capped import OverCap, aread_capped
from briefcast.ingest.service import DEFAULT_MAX_BYTES

USER_AGENT = f"briefcast/{__version__} (+source poller)"


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched HTTP resource; ``not_modified`` for a 304 answer to a conditional GET."""

    url: str
    content: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""
    not_modified: bool = False


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    timeout: float = 20.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Fetched:
    """GET ``url`` conditionally, streaming and stopping at ``max_bytes``; raises :class:`SourceError`.

    ``timeout`` bounds the whole exchange (a server trickling bytes forever
    is cut off too), not only each socket operation.
    """
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(client, url, headers, timeout, max_bytes)
    except TimeoutError:
        raise SourceError(f"timed out after {timeout:g} s fetching {url}") from None
    except httpx.TimeoutException:
        raise SourceError(f"timed out after {timeout:g} s fetching {url}") from None
    except httpx.HTTPError as e:
        raise SourceError(f"could not fetch {url}: {type(e).__name__}: {e}") from None


async def _fetch(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], timeout: float, max_bytes: int
) -> Fetched:
    async with client.stream("GET", url, headers=headers, timeout=timeout, follow_redirects=True) as resp:
        if resp.status_code == 304:
            return Fetched(url=url, not_modified=True)
        if resp.status_code >= 400:
            raise HttpStatusError(
                resp.status_code, f"HTTP {resp.status_code} {resp.reason_phrase} from {url}"
            )
        try:
            content = await aread_capped(resp, max_bytes)
        except OverCap as e:
            size = f" is {e.declared:,} bytes," if e.declared is not None else " is"
            how = "" if e.declared is not None else " (stopped reading)"
            raise SourceError(f"{url}{size} over the {max_bytes:,}-byte limit{how}") from None
        return Fetched(
            url=str(resp.url),
            content=content,
            content_type=resp.headers.get("content-type", ""),
            etag=resp.headers.get("etag", ""),
            last_modified=resp.headers.get("last-modified", ""),
        )


class HttpStatusError(SourceError):
    """An HTTP error answer; ``permanent`` for client errors that retrying will not fix."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        return 400 <= self.status < 500 and self.status not in (408, 425, 429)
