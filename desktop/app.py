"""`generec-studio` / `python main.py`: open the main window on a corpus."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from core.errors import GenerecError
from core.paths import default_db_path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from desktop.actions import VIEWS

    parser = argparse.ArgumentParser(prog="generec-studio", description="GeneRec Studio")
    parser.add_argument("--db", type=Path, default=None,
                        help="corpus database (default: the corpus opened last, else "
                             f"{default_db_path()})")
    parser.add_argument("--screenshot", type=Path, metavar="PNG",
                        help="open the window, save a screenshot to PNG and exit")
    parser.add_argument("--show", choices=VIEWS, default=None,
                        help="with --screenshot: open this view and capture it instead")
    parser.add_argument("--screenshots", type=Path, metavar="DIR",
                        help="open the window, save every dock and view as DIR/NAME.png with "
                             "DIR/report.json (sizes, clipped labels) and exit")
    parser.add_argument("--list-commands", action="store_true",
                        help="print every command of the app (name, shortcut, menu path) and exit")
    parser.add_argument("--json", action="store_true", help="with --list-commands: as JSON")
    args = parser.parse_args(argv)
    if args.show and not args.screenshot:
        parser.error("--show needs --screenshot PNG")
    return args


def list_commands(as_json: bool) -> int:
    """The action registry, without a window (no display needed)."""
    import json

    from desktop.actions import commands

    rows = commands()
    if as_json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
    else:
        for row in rows:
            print(f"{row['shortcut'] or '':<14} {row['menu']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = parse_args(argv)
    if args.list_commands:
        return list_commands(args.json)
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("GeneRec")
    app.setApplicationName("GeneRec Studio")
    from desktop.corpora import last_corpus

    try:
        window = MainWindow(args.db or last_corpus() or default_db_path())
    except GenerecError as exc:
        QMessageBox.critical(None, "GeneRec Studio", str(exc))
        print(f"generec-studio: {exc}", file=sys.stderr)
        return 2
    window.show()
    if args.screenshots:
        from desktop.screenshot import capture_all_when_ready

        director = capture_all_when_ready(window, args.screenshots)  # noqa: F841 - kept alive
    elif args.screenshot:
        from desktop.screenshot import capture_when_ready

        director = capture_when_ready(window, args.screenshot, args.show)  # noqa: F841 - kept alive
    return app.exec()
