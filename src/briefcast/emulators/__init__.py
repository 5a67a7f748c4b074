"""Emulators of the chat platforms: a fake Telegram Bot API and a fake Slack Web API.

Real python-telegram-bot and slack-sdk clients talk to them unchanged. They are a runtime
component: the playground ships them, the tests and the benchmarks run against them. Nothing
else in briefcast imports them (``tests/test_layers.py`` checks).

* :mod:`briefcast.emulators.telegram` — :class:`FakeTelegram`;
* :mod:`briefcast.emulators.slack` — :class:`FakeSlack` and the builders of signed bolt requests;
* :mod:`briefcast.emulators.limits` — flood limits, clocks and fault plans both share;
* :mod:`briefcast.emulators._http` — the aiohttp server underneath.
"""
