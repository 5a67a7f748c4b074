"""Test-only checks: payloads Telegram (TDLib) and Slack (Block Kit) would accept, the PostgreSQL probe.

The fake platforms are a runtime component of their own: :mod:`briefcast.emulators`.
"""
