"""`--screenshot PNG`: wait until no job runs and thumbnails are loaded, save, quit."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


def capture_when_ready(window, path: Path, poll_ms: int = 200) -> None:
    def attempt() -> None:
        if window.runner.active:
            QTimer.singleShot(poll_ms, attempt)
            return
        window.model.wait_for_thumbnails()
        QApplication.processEvents()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(path)):
            print(f"generec-studio: cannot write {path}", file=sys.stderr)
            QApplication.exit(1)
            return
        print(f"screenshot saved to {path}", file=sys.stderr)
        QApplication.exit(0)

    QTimer.singleShot(poll_ms, attempt)
