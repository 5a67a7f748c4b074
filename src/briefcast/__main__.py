"""``python -m briefcast`` = the ``briefcast`` command."""

from briefcast.cli import main

if __name__ == "__main__":
    main()
