"""4a. Engine overhead on SQLite (see :mod:`bench.engine_overhead`)."""

from __future__ import annotations

from bench.common import Options, Result
from bench.engine_overhead import measure

NAME = "engine_sqlite"


def run(opts: Options) -> Result:
    return measure(opts, NAME, "sqlite", rate_target=False)
