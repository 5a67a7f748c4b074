"""Shared fixtures: databases (SQLite and PostgreSQL), a migrated Store, the sample issue.

``db_url`` / ``store`` are parametrised over ``sqlite`` (a file in tmp_path) and
``postgres`` (marked ``postgres``). Each PostgreSQL test gets a fresh schema in
the ``test`` database, reached through ``search_path`` in the URL itself, so
the URL is all a test (or a subprocess) needs and parallel runs never share
tables. Without a reachable server those params are skipped, unless
``BRIEFCAST_REQUIRE_POSTGRES=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from briefcast.config import Settings
from briefcast.store import Store
from briefcast.testing.postgres import postgres_problem

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("BRIEFCAST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@lru_cache(maxsize=1)
def _postgres_problem() -> str | None:
    """None if the test server is usable (pg_trgm installed in ``public``), else why not."""
    return postgres_problem(PG_URL)


def _require_postgres() -> None:
    problem = _postgres_problem()
    if problem is None:
        return
    if os.environ.get("BRIEFCAST_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{problem} (BRIEFCAST_REQUIRE_POSTGRES=1)", pytrace=False)
    pytest.skip(problem)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose ``search_path`` is a fresh schema, dropped afterwards."""
    _require_postgres()
    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    options = quote(f"-csearch_path={schema},public", safe="")
    base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={options}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'briefcast.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'briefcast.db'}"
    else:
        yield request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated Store with default settings (env and config files ignored), once per backend."""
    st = Store.open(db_url, settings=Settings())
    try:
        yield st
    finally:
        st.close()


@pytest.fixture
def sample_md() -> Path:
    return REPO / "examples" / "sample-issue.md"


@pytest.fixture
def sample_en_md() -> Path:
    return REPO / "examples" / "sample-issue-en.md"


@pytest.fixture
def sample_html() -> Path:
    return REPO / "examples" / "sample-issue.html"
