"""`generec-studio` / `python main.py`: open the main window on a corpus."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.errors import GenerecError
from core.paths import default_db_path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="generec-studio", description="GeneRec Studio")
    parser.add_argument("--db", type=Path, default=None,
                        help=f"corpus database (default: {default_db_path()})")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="open the window, save a screenshot to PNG and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = parse_args(argv)
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("GeneRec")
    app.setApplicationName("GeneRec Studio")
    try:
        window = MainWindow(args.db or default_db_path())
    except GenerecError as exc:
        QMessageBox.critical(None, "GeneRec Studio", str(exc))
        print(f"generec-studio: {exc}", file=sys.stderr)
        return 2
    window.show()
    if args.screenshot:
        from desktop.screenshot import capture_when_ready

        director = capture_when_ready(window, args.screenshot)  # noqa: F841 - kept alive
    return app.exec()
