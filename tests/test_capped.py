"""The one capped body reader (briefcast.ingest.capped) used by every GET of briefcast (issue 16).

httpx's own MockTransport stands in for a server: it streams the body in chunks, with a true, a
false or no Content-Length, as real servers do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from briefcast.ingest.capped import OverCap, aread_capped, read_capped


class _Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, n: int, size: int) -> None:
        self.n, self.size = n, size

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.n):
            yield b"x" * self.size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.n):
            yield b"x" * self.size


def _transport(n: int, size: int, declared: str | None) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {} if declared is None else {"content-length": declared}
        return httpx.Response(200, headers=headers, stream=_Chunks(n, size))

    return httpx.MockTransport(answer)


def test_sync_reader_stops_at_the_cap_whatever_the_server_declares() -> None:
    with httpx.Client(transport=_transport(4, 100, None)) as c, c.stream("GET", "http://x/") as r:
        assert read_capped(r, 400) == b"x" * 400  # exactly the cap is allowed
    with (
        httpx.Client(transport=_transport(5, 100, "10")) as c,
        c.stream("GET", "http://x/") as r,
        pytest.raises(OverCap) as lied,  # a Content-Length that lies does not help
    ):
        read_capped(r, 400)
    assert lied.value.declared is None and lied.value.limit == 400
    with (
        httpx.Client(transport=_transport(1, 10, "5000")) as c,
        c.stream("GET", "http://x/") as r,
        pytest.raises(OverCap) as declared,  # refused before reading
    ):
        read_capped(r, 400)
    assert declared.value.declared == 5000


async def test_async_reader_has_the_same_rules() -> None:
    async with httpx.AsyncClient(transport=_transport(3, 100, None)) as c:
        async with c.stream("GET", "http://x/") as r:
            assert await aread_capped(r, 300) == b"x" * 300
        async with c.stream("GET", "http://x/") as r:
            with pytest.raises(OverCap):
                await aread_capped(r, 299)
