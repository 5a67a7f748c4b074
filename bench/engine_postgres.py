"""4b. Engine overhead on PostgreSQL (see :mod:`bench.engine_overhead`): the 1,000/s target."""

from __future__ import annotations

from bench.common import Options, Result
from bench.engine_overhead import measure

NAME = "engine_postgres"


def run(opts: Options) -> Result:
    return measure(opts, NAME, "postgres", rate_target=True)
