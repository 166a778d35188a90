"""The main window: the corpus grid, a job progress area and the menus that start jobs."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar,
                               QPushButton)

from core.store import open_store
from core.store.corpus import counts, list_items
from desktop import jobs
from desktop.corpus_model import CorpusModel
from desktop.corpus_view import CorpusView
from desktop.workers import JobRunner, JobWorker


class MainWindow(QMainWindow):
    corpus_loaded = Signal(int)   # number of items shown
    job_ended = Signal(str, str)  # title, outcome: done, failed or cancelled (GUI thread)

    def __init__(self, db_path: Path, build_demo_if_empty: bool = True) -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.runner = JobRunner(self)
        self._current: JobWorker | None = None
        self._current_title = ""
        self.setWindowTitle(f"GeneRec Studio — {self.db_path.name}")
        self.model = CorpusModel(self)
        self.view = CorpusView(self)
        self.view.setModel(self.model)
        self.setCentralWidget(self.view)
        self._build_status_bar()
        self._build_menus()
        self._restore_geometry()
        self.reload()
        if build_demo_if_empty and self.model.rowCount() == 0:
            self.build_demo()

    # -- layout ---------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.corpus_label = QLabel()
        self.job_label = QLabel()
        self.job_bar = QProgressBar()
        self.job_bar.setMaximumWidth(240)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_button.clicked.connect(self.cancel_job)
        bar = self.statusBar()
        bar.addWidget(self.corpus_label, 1)
        for widget in (self.job_label, self.job_bar, self.cancel_button):
            bar.addPermanentWidget(widget)
        self._show_job(False)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "&Import videos…", self.import_videos, QKeySequence("Ctrl+I"))
        self._action(file_menu, "Build &demo corpus", self.build_demo, None)
        self._action(file_menu, "&Reload", self.reload, QKeySequence.StandardKey.Refresh)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

    def _action(self, menu, text, slot, shortcut) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 800)

    # -- corpus ---------------------------------------------------------------------------
    def reload(self) -> None:
        with open_store(self.db_path) as store:
            items = list_items(store, extra=("thumbnail_path",))
            summary = counts(store)
        self.model.set_items(items)
        self.corpus_label.setText(
            f"{self.db_path}  ·  {summary['items']} items ({summary['failed']} failed)  ·  "
            f"{summary['users']} users  ·  {summary['interactions']} interactions")
        self.view.viewport().update()
        self.corpus_loaded.emit(len(items))

    # -- jobs -----------------------------------------------------------------------------
    def build_demo(self) -> None:
        if self.start_job("Building the demo corpus", jobs.build_demo_job(self.db_path)):
            self.view.empty_text = "Building the demo corpus… (progress below)"

    def import_videos(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of videos")
        if folder:
            self.start_job(f"Importing {Path(folder).name}",
                           jobs.import_job(self.db_path, Path(folder)))

    def start_job(self, title: str, fn) -> JobWorker | None:
        if self._current is not None:
            QMessageBox.information(self, "A job is running",
                                    "Wait for the running job to finish or cancel it first.")
            return None
        worker = JobWorker(fn)
        # Bound methods of this window, not lambdas: Qt then queues the calls onto the GUI
        # thread (a lambda would run in the worker's thread).
        worker.progressed.connect(self._on_progress)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        self._current, self._current_title = worker, title
        self.job_label.setText(title)
        self._show_job(True)
        self.runner.start(worker)
        return worker

    def cancel_job(self) -> None:
        if self._current is not None:
            self._current.cancel()
            self.job_label.setText("Cancelling…")

    def _on_progress(self, done: int, total: int, message: str) -> None:
        self.job_bar.setMaximum(max(total, 1))
        self.job_bar.setValue(done)
        self.job_bar.setFormat("%v / %m")
        self.job_label.setText(f"{self._current_title}: {message}" if message else self._current_title)

    def _on_succeeded(self, _result) -> None:
        self._job_ended("done")

    def _on_cancelled(self) -> None:
        self._job_ended("cancelled")

    def _on_failed(self, message: str) -> None:
        title = self._current_title
        self._job_ended("failed")
        QMessageBox.warning(self, title, message)

    def _job_ended(self, outcome: str) -> None:
        title = self._current_title
        self._current = None
        self._show_job(False)
        self.statusBar().showMessage(f"{title}: {outcome}", 8000)
        self.reload()
        self.job_ended.emit(title, outcome)

    def _show_job(self, visible: bool) -> None:
        for widget in (self.job_label, self.job_bar, self.cancel_button):
            widget.setVisible(visible)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        QSettings().setValue("main_window/geometry", self.saveGeometry())
        self.runner.shutdown()
        super().closeEvent(event)
