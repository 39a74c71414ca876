"""``python -m febm`` runs the command line."""

import sys

from febm.dynamics.commands.cli import main

if __name__ == "__main__":
    sys.exit(main())
