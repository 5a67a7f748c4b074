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
import shutil
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


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head per test session: copying it is ~100x cheaper than running
    the migrations again (0.2 s each, the largest setup cost of the fast tier)."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    Store.open(f"sqlite:///{path}", settings=Settings()).close()
    return path


@pytest.fixture
def store(db_url: str, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A migrated Store with default settings (env and config files ignored), once per backend.

    On SQLite the database starts as a copy of the session's migrated file; ``Store.open`` still
    runs the (then no-op) upgrade, so a missing migration would show."""
    if db_url.startswith("sqlite:///"):
        target = Path(db_url.removeprefix("sqlite:///"))
        if not target.exists():
            shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), target)
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


# ------------------------------------------------------------------ test tiers
#
# Markers (``pytest -m``): ``postgres`` (the PostgreSQL server), ``browser`` (Debian's Chromium
# through Playwright) and ``slow`` (real processes, benchmark smokes, multi-megabyte inputs: a
# second or more each). ``make test-fast`` runs ``-m "not slow and not browser and not postgres"``.
# They are applied here, by file and by fixture, so a new test in those files is tiered without
# anyone remembering to decorate it; a test elsewhere can still say ``@pytest.mark.slow``.

_BROWSER_FILES = frozenset({"test_browser.py", "test_archive_browser.py"})
# Whole files whose tests start processes (briefcast run/push/worker, crash workers, the bench).
_SLOW_FILES = frozenset(
    {"test_cli.py", "test_cli_delivery.py", "test_delivery_crash.py", "test_bench_smoke.py", "test_faults.py"}
)
# Single tests elsewhere that take a second or more on a 2-core machine.
_SLOW_TESTS = frozenset(
    {
        "test_newsletters.py::test_two_megabytes",
        "test_delivery_engine.py::test_one_slow_subscriber_does_not_delay_the_others",
        "test_delivery_engine.py::test_retry_after_is_honoured",
        "test_delivery_slack.py::test_slack_posts_retries_after_429_and_deactivates_archived",
        "test_slot_scale.py::test_cost_of_a_slot_grows_linearly_not_quadratically",
        "test_commands_dispatch.py::test_declared_admin_commands_are_exactly_those_that_change_a_chat",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        name = item.path.name
        test = f"{name}::{getattr(item, 'originalname', item.name)}"
        if name in _BROWSER_FILES:
            item.add_marker(pytest.mark.browser)
        if name in _SLOW_FILES or test in _SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
        if "pg_url" in getattr(item, "fixturenames", ()) and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)
