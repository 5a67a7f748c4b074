"""Tools for tests, benchmarks and the local playground: fake Telegram and Slack servers."""
