"""``python -m lstm_studio``: the command line."""

from lstm_studio.cli import main_entry

main_entry()
