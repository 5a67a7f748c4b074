"""Folder sources: new or changed Markdown/HTML files, read once they have stopped changing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from briefcast.errors import SourceError
from briefcast.ingest.service import IngestOutcome, kind_for
from briefcast.ingest.sources.poller import Polled, SourcePoller
from briefcast.store.sources import SourceState

FOLDER_SUFFIXES = (".md", ".markdown", ".html", ".htm")
_TEMP_SUFFIXES = ("~", ".tmp", ".part", ".partial", ".swp", ".crdownload", ".download")


class FolderPoller(SourcePoller):
    """New or changed ``.md`` / ``.html`` files of one folder (not recursive; hidden/temp files skipped)."""

    kind = "folder"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._seen: dict[Path, tuple[int, int]] = {}  # last observed (size, mtime_ns)
        self._done: dict[Path, tuple[int, int]] = {}  # (size, mtime_ns) last read

    def _candidates(self, folder: Path) -> list[Path]:
        try:
            entries = sorted(folder.iterdir())
        except OSError as e:
            raise SourceError(f"cannot list folder {folder}: {e.strerror or e}") from None
        return [
            p
            for p in entries
            if p.suffix.lower() in FOLDER_SUFFIXES
            and not p.name.startswith((".", "~"))
            and not p.name.endswith(_TEMP_SUFFIXES)
            and p.is_file()
        ]

    async def _poll(self, state: SourceState) -> Polled:
        folder = Path(self.config.location).expanduser()
        if not folder.is_dir():
            raise SourceError(f"folder {folder} does not exist or is not a directory")
        done = Polled()
        paths = self._candidates(folder)
        for gone in set(self._seen) - set(paths):
            self._seen.pop(gone, None)
            self._done.pop(gone, None)
        for path in paths:
            outcome = await self._poll_file(path, done)
            if outcome is not None:
                done.outcomes.append(outcome)
                if not outcome.ok:
                    done.warning = outcome.reason
        return done

    async def _poll_file(self, path: Path, done: Polled) -> IngestOutcome | None:
        try:
            st = path.stat()
        except OSError:
            return None  # deleted between listing and stat
        sig = (st.st_size, st.st_mtime_ns)
        if self._done.get(path) == sig:
            return None
        previous, self._seen[path] = self._seen.get(path), sig
        if previous != sig and self.clock() - st.st_mtime < self.config.settle_seconds:
            done.pending += 1  # possibly still being written: wait for it to settle
            return None
        if st.st_size > self.config.max_bytes:
            self._done[path] = sig
            reason = f"{path.name} is {st.st_size:,} bytes, over the {self.config.max_bytes:,}-byte limit"
            return self.service.record_failure(self.name, reason, source=str(path))
        try:
            data = await asyncio.to_thread(path.read_bytes)
            after = path.stat()
        except OSError as e:
            self._done[path] = sig
            reason = f"cannot read {path.name}: {e.strerror or e}"
            return self.service.record_failure(self.name, reason, source=str(path))
        if (after.st_size, after.st_mtime_ns) != sig:
            self._seen[path] = (after.st_size, after.st_mtime_ns)
            done.pending += 1  # changed while we read it
            return None
        self._done[path] = sig
        return await self.service.ingest_bytes(
            data,
            origin=self.name,
            source=str(path),
            kind=kind_for(path.name),
            name=path.name,
            publish=self.config.publish,
        )
