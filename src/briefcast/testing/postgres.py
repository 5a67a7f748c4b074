"""Is a PostgreSQL server usable for the tests and the benchmarks? (Both ask the same question.)"""

from __future__ import annotations

import contextlib


def postgres_problem(url: str) -> str | None:
    """None if ``url`` accepts connections and has ``pg_trgm`` in ``public``, else why not (one line).

    Creates the extension if missing; another process may create it at the same moment, which is
    fine.
    """
    import psycopg

    try:
        with (
            psycopg.connect(url, connect_timeout=3, autocommit=True) as conn,
            contextlib.suppress(psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject),
        ):
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    except psycopg.Error as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"PostgreSQL not reachable at {url}: {first}"
    return None
