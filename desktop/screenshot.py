"""`--screenshot PNG`: wait for start-up jobs (demo corpus, index), select the first user and
item, render their personalized preview, save a screenshot of the window and quit. With
`--show VIEW` (evaluation, settings, training, review-queue): open that view once the start-up
jobs are done and capture it instead."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication


class ScreenshotDirector:
    def __init__(self, window, path: Path, poll_ms: int = 200, view: str | None = None) -> None:
        self.window, self.path, self.poll_ms, self.view = window, path, poll_ms, view
        self.target = None
        self.requested = False
        self.captured = False
        window.preview_shown.connect(self._capture_soon)
        window.queue.finished.connect(self._on_job_finished)
        QTimer.singleShot(poll_ms, self._step)

    def _step(self) -> None:
        window = self.window
        # Also wait for the warm-up: quitting while its thread still imports torch would
        # destroy a running QThread (an abort).
        if window.queue.busy or not window.is_warm:
            QTimer.singleShot(self.poll_ms, self._step)
            return
        window.users.users.setCurrentRow(0)
        window.corpus.select_first()
        if self.view:
            self.target = window.show_view(self.view)
            self._capture_soon()
            return
        if not window.preview.has_outputs and not self.requested:
            self.requested = True
            window.request_preview()
        else:
            self._capture_soon()

    def _on_job_finished(self, job_id: str, state: str) -> None:
        if self.window.queue.jobs[job_id].kind == "preview" and state != "done":
            self._capture_soon()     # show what there is, with the failure in the status bar

    def _capture_soon(self, *_args) -> None:
        QTimer.singleShot(600, self._capture)   # let thumbnails and the first frames arrive

    def _capture(self) -> None:
        if self.captured:
            return
        self.captured = True
        window = self.window
        window.model.wait_for_thumbnails()
        QApplication.processEvents()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not (self.target or window).grab().save(str(self.path)):
            print(f"generec-studio: cannot write {self.path}", file=sys.stderr)
            QApplication.exit(1)
            return
        print(f"screenshot saved to {self.path}", file=sys.stderr)
        QApplication.exit(0)


def capture_when_ready(window, path: Path, view: str | None = None) -> ScreenshotDirector:
    return ScreenshotDirector(window, path, view=view)
