"""Persistence: SQLModel tables, the queries, migrations."""
