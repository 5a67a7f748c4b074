"""Engines and migrations: the only place that knows SQLite and PostgreSQL connection details.

SQLite runs in WAL mode with a busy timeout so a bot, a scheduler and the CLI
can share one file. Python's sqlite3 module opens transactions lazily and only
before DML, which breaks savepoints and makes read-then-write transactions
fail with "database is locked" instead of waiting; we therefore switch the
driver to autocommit and emit ``BEGIN`` ourselves (the recipe from the
SQLAlchemy SQLite dialect docs). Write transactions use ``BEGIN IMMEDIATE`` so
they take the write lock up front and wait for it (busy_timeout) rather than
failing half-way.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool

from briefcast.errors import ConfigError

BUSY_TIMEOUT_MS = 10_000
# Any constant will do: it only has to be the same in every briefcast process.
_PG_MIGRATION_LOCK = 0x62726366  # "brcf"
_IMMEDIATE = "briefcast_immediate"


# Objects schema comparisons must ignore: search-index objects created with raw SQL in the
# migrations, and slack-sdk's OAuth tables (slack_bots, slack_installations, slack_oauth_states),
# which its SQLAlchemy installation store creates and owns.
RAW_SQL_OBJECTS = ("section_fts", "ix_section_text_trgm")
FOREIGN_OBJECTS = ("slack_",)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object`` hook: skip the FTS5 shadow tables, the trigram index, Slack's tables."""
    return not (name or "").startswith(RAW_SQL_OBJECTS + FOREIGN_OBJECTS)


def normalise_url(url: str) -> str:
    """Rewrite ``postgres://`` / ``postgresql://`` to psycopg 3 and reject unknown schemes."""
    u = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if u.startswith(prefix):
            return "postgresql+psycopg://" + u[len(prefix) :]
    try:
        parsed = make_url(u)
    except sa.exc.ArgumentError:
        raise ConfigError(f"database URL {url!r} is not a valid SQLAlchemy URL") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"database URL must be sqlite:/// or postgresql://, not {parsed.drivername}://")
    return u


def redacted_url(url: str) -> str:
    """A database URL fit for logs and messages: the password hidden; if the URL does not parse,
    only what follows its last ``@`` (the host part) is shown."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.rsplit("@", 1)[-1]


def _sqlite_file(url: URL) -> Path | None:
    db = url.database or ""
    if not db or db == ":memory:" or db.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return Path(db)


def create_engine(url: str) -> Engine:
    """An engine for ``url`` with our SQLite pragmas or PostgreSQL pre-ping; creates SQLite's folder."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(parsed, pool_pre_ping=True)
    path = _sqlite_file(parsed)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if path is None:
        kwargs["poolclass"] = StaticPool  # one shared in-memory database
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, **kwargs)
    _install_sqlite_hooks(engine, wal=path is not None)
    return engine


def _install_sqlite_hooks(engine: Engine, *, wal: bool) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see module docstring)
        cur = dbapi_conn.cursor()
        if wal:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions take SQLite's write lock at BEGIN (no-op elsewhere)."""
    return engine.execution_options(**{_IMMEDIATE: True})


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config for the packaged migrations; ``connection`` is handed to ``env.py``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("briefcast.store") / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """``alembic upgrade head`` on ``engine``, in one transaction, serialised across processes.

    PostgreSQL takes a transaction-scoped advisory lock so replicas starting
    together do not race to create tables; SQLite's ``BEGIN IMMEDIATE`` does
    the same job.
    """
    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        command.upgrade(alembic_config(conn), revision)


def ping(engine: Engine) -> bool:
    """``SELECT 1``: the database answers (raises what the driver raises when it does not)."""
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    return True


def current_revision(engine: Engine) -> str | None:
    """The schema revision stamped in the database (None before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
