from briefcast.emulators.telegram.server import main

main()
