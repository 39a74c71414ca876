"""``python -m febm`` runs the command line, through the same entry point as the ``febm`` script."""

from febm.entry import console

if __name__ == "__main__":
    console()
