"""Errors that carry a message fit to show a user or operator (never a stack trace)."""

from __future__ import annotations


class BriefcastError(Exception):
    """Base class: ``str(err)`` is a clear, one-line, user-facing message without secrets."""


class SourceError(BriefcastError):
    """A source could not be read: missing file, undecodable bytes, HTTP failure, too large."""


class BriefingError(BriefcastError):
    """A source was read but is not a usable briefing (empty, no sections...)."""


class ConfigError(BriefcastError):
    """Configuration is missing or invalid."""
