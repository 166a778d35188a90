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
            self._capture_when_view_ready()
            return
        if not window.preview.has_outputs and not self.requested:
            self.requested = True
            window.request_preview()
        else:
            self._capture_soon()

    def _capture_when_view_ready(self) -> None:
        if self.view == "ranking" and self.window.ranking.pending:   # computed in a thread
            QTimer.singleShot(self.poll_ms, self._capture_when_view_ready)
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
        self.window.model.wait_for_thumbnails()
        QApplication.processEvents()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._save()

    def _save(self) -> None:
        if not (self.target or self.window).grab().save(str(self.path)):
            print(f"generec-studio: cannot write {self.path}", file=sys.stderr)
            QApplication.exit(1)
            return
        print(f"screenshot saved to {self.path}", file=sys.stderr)
        QApplication.exit(0)


def capture_when_ready(window, path: Path, view: str | None = None) -> ScreenshotDirector:
    return ScreenshotDirector(window, path, view=view)


# -- `--screenshots DIR`: every dock and view at the screen's size, in one process ----------
# name -> how to open it on a ready window (a MainWindow method or attribute path); each
# returns the widget to capture.
def _dock(title):
    def show(window):
        dock = window._docks[title]
        dock.show()
        dock.raise_()
        return dock
    return show


def _analysis(tab):
    def show(window):
        window.show_evaluation()
        window.analysis.setCurrentWidget(getattr(window.analysis, tab))
        return window._docks["Evaluation"]
    return show


def _new_corpus(window):
    from desktop.corpora import NewCorpusDialog

    window.new_corpus_dialog = NewCorpusDialog(window.db_path.parent, window)
    window.new_corpus_dialog.show()
    return window.new_corpus_dialog


def _palette(window):
    window.open_palette()
    return window.command_palette


def _ranking(window, timeout_s: float = 60.0):
    import time

    dock = window.show_view("ranking")
    end = time.monotonic() + timeout_s
    while window.ranking.pending and time.monotonic() < end:   # computed in a thread
        QApplication.processEvents()
        time.sleep(0.05)
    return dock


CAPTURES = {
    "main-window": lambda window: window,
    "corpus": _dock("Corpus"),
    "users": _dock("Users"),
    "preview": lambda window: window.preview,
    "jobs": _dock("Jobs"),
    "review": _dock("Review"),
    "settings": lambda window: window.open_settings(),
    "review-queue": lambda window: window.show_view("review-queue"),
    "evaluation": _analysis("evaluation"),
    "fairness": _analysis("fairness"),
    "training": lambda window: window.show_view("training"),
    "ranking": _ranking,
    "verify-file": lambda window: window.verify_file_dialog(),
    "command-palette": _palette,
    "new-corpus": _new_corpus,
}


def _text_width(widget, text: str) -> int:
    return widget.fontMetrics().horizontalAdvance(text.replace("&&", "\0").replace("&", "")
                                                  .replace("\0", "&"))


def clipped_texts(root) -> list[str]:
    """Visible labels and buttons under `root` whose text does not fit their size: a plain
    label narrower than its text, a word-wrapped one lower than its wrapped text, a button
    narrower than its text, or any of them lower than a line. A label elided on purpose sets
    the property `elided`."""
    from PySide6.QtWidgets import QAbstractButton, QCheckBox, QLabel, QRadioButton, QStyle

    found = []
    widgets = [root, *root.findChildren(QLabel), *root.findChildren(QAbstractButton)]
    for w in widgets:
        if not isinstance(w, (QLabel, QAbstractButton)) or not w.isVisible() or \
                w.property("elided") or not w.text():
            continue
        name = f"{type(w).__name__} {w.text()[:40]!r} ({w.width()}x{w.height()})"
        if isinstance(w, QLabel):
            if w.pixmap() is not None and not w.pixmap().isNull():
                continue
            if w.wordWrap():
                need_h = w.heightForWidth(w.width())
                if need_h > w.height() + 1:
                    found.append(f"{name}: wrapped text needs {need_h} px high")
                continue
            need_w = w.minimumSizeHint().width()
        else:
            style = w.style()
            extra = 12
            if isinstance(w, (QCheckBox, QRadioButton)):
                extra = style.pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth) + \
                    style.pixelMetric(QStyle.PixelMetric.PM_CheckBoxLabelSpacing) + 2
            if not w.icon().isNull():
                extra += w.iconSize().width() + 4
            need_w = min(w.sizeHint().width(), _text_width(w, w.text()) + extra)
        if w.width() + 1 < need_w:
            found.append(f"{name}: needs {need_w} px wide")
        if w.height() + 1 < w.fontMetrics().height():
            found.append(f"{name}: lower than a line of text")
    return found


class AllScreenshotsDirector(ScreenshotDirector):
    """Like `--screenshot`, then captures every entry of CAPTURES into `folder` as NAME.png
    and writes `folder/report.json`: per view its size and its clipped texts, and whether the
    main window fits the screen."""

    def __init__(self, window, folder: Path, poll_ms: int = 200) -> None:
        super().__init__(window, folder / "main-window.png", poll_ms)
        self.folder = folder

    def _save(self) -> None:
        import json

        window = self.window
        screen = window.screen().availableGeometry()
        frame = window.frameGeometry()
        report = {"screen": [screen.width(), screen.height()],
                  "window": [frame.width(), frame.height()],
                  "window_minimum": [window.minimumSizeHint().width(),
                                     window.minimumSizeHint().height()],
                  "views": {}}
        for name, opener in CAPTURES.items():
            widget = opener(window)
            for _ in range(3):
                QApplication.processEvents()
            path = self.folder / f"{name}.png"
            saved = widget.grab().save(str(path))
            report["views"][name] = {"png": path.name, "saved": saved,
                                     "size": [widget.width(), widget.height()],
                                     "minimum": [widget.minimumSizeHint().width(),
                                                 widget.minimumSizeHint().height()],
                                     "clipped": clipped_texts(widget)}
            if widget is not window and widget.isWindow() and hasattr(widget, "reject"):
                widget.reject()   # a dialog: close it before the next
            elif widget is not window and widget.isWindow():
                widget.hide()
        (self.folder / "report.json").write_text(json.dumps(report, indent=1))
        print(f"screenshots saved to {self.folder}", file=sys.stderr)
        QApplication.exit(0)


def capture_all_when_ready(window, folder: Path) -> AllScreenshotsDirector:
    return AllScreenshotsDirector(window, folder)
