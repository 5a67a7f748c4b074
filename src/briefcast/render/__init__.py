"""Pure renderers: model -> platform payloads (Telegram HTML, Slack Block Kit, plain text)."""
