"""Alembic migrations of the briefcast schema (run through :func:`briefcast.store.db.upgrade`)."""
