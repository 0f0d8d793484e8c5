"""Start LSTM Studio's window: ``python main.py`` (the command line is ``python -m lstm_studio``)."""

import sys

from lstm_studio.gui.app import main

if __name__ == "__main__":
    sys.exit(main())
