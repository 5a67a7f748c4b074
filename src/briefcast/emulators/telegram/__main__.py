"""`python -m briefcast.emulators.telegram`: serve the fake Telegram Bot API on loopback."""

from briefcast.emulators.telegram.server import main

main()
