"""Chat bots: platform-neutral commands and the Telegram / Slack adapters."""
