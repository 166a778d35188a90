"""Run core jobs off the GUI thread: a QThread per job, progress and results as signals.

A job is a plain function `fn(progress) -> result` from core/ (DESIGN.md section 2); it opens
its own database connection, since SQLite connections belong to one thread.
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.errors import Cancelled, GenerecError
from core.progress import CallbackProgress, Progress


class JobWorker(QObject):
    progressed = Signal(int, int, str)
    previewed = Signal(object, str)     # N x H x W x 3 uint8 frames, caption
    succeeded = Signal(object)
    failed = Signal(str)
    raised = Signal(object)             # the GenerecError behind `failed`, for callers that branch on it
    cancelled = Signal()
    finished = Signal()     # after any of the three outcomes

    def __init__(self, fn: Callable[[Progress], Any]) -> None:
        super().__init__()
        self._fn = fn
        self.progress = CallbackProgress(self.progressed.emit, self.previewed.emit)

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(self.progress)
        except Cancelled:
            self.cancelled.emit()
        except GenerecError as exc:
            self.raised.emit(exc)
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback dialog
            self.failed.emit(f"Internal error: {type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit(result)
        finally:
            self.finished.emit()

    def cancel(self) -> None:
        self.progress.cancel()


_LIVE: set[QThread] = set()     # every started thread, until the GUI thread saw it finish


class JobRunner(QObject):
    """Owns the threads of running jobs and joins them on shutdown."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running: dict[JobWorker, QThread] = {}
        self._closed = False

    def start(self, worker: JobWorker) -> JobWorker:
        if self._closed:     # after shutdown (a timer firing as the window closes): start nothing
            worker.deleteLater()
            return worker
        # No Qt parent: deleting the runner's owner (a closed window) must never destroy a
        # thread that still runs (Qt aborts the process); _LIVE holds it until it has ended.
        thread = QThread()
        _LIVE.add(thread)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)
        self._running[worker] = thread
        thread.start()
        return worker

    @Slot()
    def _on_thread_finished(self) -> None:
        # A bound slot runs on this object's (the GUI) thread; sender() is the QThread.
        thread = self.sender()
        _LIVE.discard(thread)
        for worker, running in list(self._running.items()):
            if running is thread:
                del self._running[worker]
                worker.deleteLater()
        thread.deleteLater()

    @property
    def active(self) -> int:
        return len(self._running)

    def shutdown(self, timeout_ms: int = 120000) -> None:
        """Cancel every job and wait for its thread to end (cancellation is cooperative and
        prompt; an import of torch in a warm-up thread cannot be cancelled, only awaited: on a
        busy machine that took over 30 s, hence the long limit). Nothing starts after this."""
        self._closed = True
        for worker, thread in list(self._running.items()):
            worker.cancel()
            thread.quit()
            if not thread.wait(timeout_ms):
                # Still importing: keep the worker too (the thread is in _LIVE already).
                _STILL_RUNNING.append(worker)
        self._running.clear()


_STILL_RUNNING: list[JobWorker] = []
