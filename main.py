"""Open GeneRec Studio: `python main.py [--db PATH] [--screenshot PNG]`."""
import sys

from desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
