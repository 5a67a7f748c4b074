from briefcast.emulators.slack.server import main

main()
