"""briefcast: parse sector briefings and push per-sector digests to Telegram and Slack."""

__version__ = "0.1.0"
