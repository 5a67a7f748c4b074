"""What :func:`briefcast.runtime.serve` runs: the protocol every long-running part implements."""

from __future__ import annotations

from typing import Protocol

from starlette.routing import BaseRoute


class Component(Protocol):
    """A long-running part of the service (bot, scheduler) managed by :func:`serve`."""

    name: str

    @property
    def started(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def routes(self) -> list[BaseRoute]: ...
