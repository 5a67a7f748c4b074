"""`python -m briefcast.emulators.slack`: serve the fake Slack Web API on loopback."""

from briefcast.emulators.slack.server import main

main()
