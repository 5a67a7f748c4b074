"""Alembic environment: runs on the connection the Store hands over.

``briefcast db upgrade`` and ``Store.open(migrate=True)`` pass an open
connection in ``config.attributes["connection"]``; the database URL therefore
always comes from the Store (settings / ``--db``), never from an alembic.ini.
Run by hand (``alembic -x url=...``) it falls back to that URL or the settings.
"""

from __future__ import annotations

from typing import Any

from alembic import context

from briefcast.store.db import include_object
from briefcast.store.tables import METADATA


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from briefcast.config import load_settings
    from briefcast.store.db import create_engine, writer

    url = context.get_x_argument(as_dictionary=True).get("url") or load_settings().database_url
    engine = create_engine(url)
    try:
        with writer(engine).connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("briefcast migrations need a live connection; use `briefcast db upgrade`")
run_migrations_online()
