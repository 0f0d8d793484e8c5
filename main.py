"""Start LSTM Studio: ``python main.py`` (the command line is ``python -m lstm_studio``)."""

import sys

from lstm_studio.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["--help"]))
