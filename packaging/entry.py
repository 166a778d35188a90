"""Entry script of the bundled executable (see generec-studio.spec): started as `generec` (the
symbolic link beside it, or one to that) it runs the command line, under any other name
(`generec-studio`) the GUI, as `python main.py` does. The name is argv[0]'s: sys.executable is
the resolved executable, always generec-studio.

freeze_support() comes first: the demo builder renders videos in spawned worker processes,
and in a frozen app a worker is this same executable started with `--multiprocessing-fork`;
PyInstaller's runtime hook makes freeze_support() run the worker and exit there. It must be
called from the entry script itself, whose path the workers compare with their parent's."""
import multiprocessing
import sys
from pathlib import Path

multiprocessing.freeze_support()

if Path(sys.argv[0]).stem == "generec":
    from core.cli import main
else:
    from desktop.app import main

sys.exit(main())
