"""The job queue: persisted core jobs run one at a time on a QThread, with progress, ETA,
cancel and retry (Anki's background operations; krita-ai-diffusion's queue)."""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from core.jobs import cancel_queued, create_job, get_job, list_jobs, mark_interrupted, run_job
from core.store import Store, open_store
from desktop.workers import JobRunner, JobWorker


@dataclass
class JobView:
    """What the Jobs panel shows of one job."""
    id: str
    kind: str
    title: str
    params: dict
    state: str
    done: int = 0
    total: int = 0
    message: str = ""
    error: str | None = None
    result: Any = None
    started: float | None = field(default=None, repr=False)

    @property
    def eta_s(self) -> float | None:
        if self.state != "running" or not self.started or self.done <= 0 or self.total <= 0:
            return None
        return (time.monotonic() - self.started) / self.done * (self.total - self.done)


TITLES = {"demo": "Build demo corpus", "import": "Import videos", "index": "Index frames",
          "preview": "Personalized preview", "generate": "Generate", "evaluate": "Evaluate",
          "export": "Export", "train-clip": "Train encoder", "style": "Style transfer", "instruct": "Instruction",
          "check": "Fidelity checks", "train-recommender": "Train recommender",
          "revise": "Revise (diffusion)", "create": "Create video (diffusion)",
          "thumbnail-gen": "Generate thumbnail (diffusion)", "batch": "Batch generation",
          "train-video-model": "Train video model", "train-thumbnail-model": "Train thumbnail model",
          "fairness": "Fairness report", "audit-verify": "Verify audit log",
          "verify-file": "Verify a file", "purge-expired": "Purge expired AI items"}


class JobQueue(QObject):
    changed = Signal(str)                  # job id: state or progress changed
    finished = Signal(str, str)            # job id, final state (done, failed, cancelled)
    idle = Signal()                        # nothing queued or running
    previewed = Signal(str, object, str)   # job id, N x H x W x 3 uint8 frames, caption
    reset = Signal()                       # another corpus: every job was replaced

    def __init__(self, db_path: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.runner = JobRunner(self)
        self.jobs: dict[str, JobView] = {}
        self._waiting: deque[str] = deque()
        self._running: tuple[str, JobWorker] | None = None
        self._load()

    def _load(self) -> None:
        with open_store(self.db_path) as store:
            self.interrupted_at_start = mark_interrupted(store)
            for job in reversed(list_jobs(store, limit=100)):
                self.jobs[job["id"]] = JobView(
                    job["id"], job["kind"], TITLES.get(job["kind"], job["kind"]), job["params"],
                    job["state"], job["done"], job["total"], job["message"], job["error"],
                    job["result"])

    def reopen(self, db_path: Path) -> None:
        """Switch to another corpus's job record; only while nothing is queued or running."""
        if self.busy:
            raise RuntimeError("jobs are still queued or running")
        self.db_path = Path(db_path)
        self.jobs = {}
        self._load()
        self.reset.emit()

    # -- submitting ------------------------------------------------------------------------
    def submit(self, kind: str, params: dict, title: str | None = None) -> str:
        with open_store(self.db_path) as store:
            job_id = create_job(store, kind, params)
        self.jobs[job_id] = JobView(job_id, kind, title or TITLES.get(kind, kind), params, "queued")
        self._waiting.append(job_id)
        self.changed.emit(job_id)
        self._start_next()
        return job_id

    def retry(self, job_id: str) -> str:
        job = self.jobs[job_id]
        return self.submit(job.kind, job.params, job.title)

    def cancel(self, job_id: str) -> None:
        if self._running and self._running[0] == job_id:
            self._running[1].cancel()
            self.jobs[job_id].message = "cancelling…"
            self.changed.emit(job_id)
        elif job_id in self._waiting:
            self._waiting.remove(job_id)
            self._record_end(job_id, "cancelled")

    @property
    def busy(self) -> bool:
        return self._running is not None or bool(self._waiting)

    @property
    def running_id(self) -> str | None:
        return self._running[0] if self._running else None

    # -- running ---------------------------------------------------------------------------
    def _start_next(self) -> None:
        if self._running is not None or not self._waiting:
            return
        job_id = self._waiting.popleft()
        db_path = self.db_path
        worker = JobWorker(lambda progress: run_job(db_path, job_id, progress))
        # Bound methods: Qt queues these calls onto the GUI thread.
        worker.progressed.connect(self._on_progress)
        worker.previewed.connect(self._on_preview)
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        view = self.jobs[job_id]
        view.state, view.started = "running", time.monotonic()
        self._running = (job_id, worker)
        self.changed.emit(job_id)
        self.runner.start(worker)

    def _on_progress(self, done: int, total: int, message: str) -> None:
        if self._running:
            view = self.jobs[self._running[0]]
            view.done, view.total, view.message = done, total, message
            self.changed.emit(view.id)

    def _on_preview(self, frames, caption: str) -> None:
        if self._running:
            self.previewed.emit(self._running[0], frames, caption)

    def _on_succeeded(self, result) -> None:
        self._end("done", result=result)

    def _on_failed(self, message: str) -> None:
        self._end("failed", error=message)

    def _on_cancelled(self) -> None:
        self._end("cancelled")

    def _end(self, state: str, error: str | None = None, result: Any = None) -> None:
        job_id, _ = self._running
        self._running = None
        view = self.jobs[job_id]
        view.error, view.result = error, result
        self._record_end(job_id, state)
        self._start_next()
        if not self.busy:
            self.idle.emit()

    def _record_end(self, job_id: str, state: str) -> None:
        view = self.jobs[job_id]
        view.state = state
        if state == "cancelled" and view.started is None:
            with open_store(self.db_path) as store:
                cancel_queued(store, job_id)
        else:
            with open_store(self.db_path) as store:
                view.error = get_job(store, job_id)["error"] or view.error
        self.changed.emit(job_id)
        self.finished.emit(job_id, state)

    def shutdown(self) -> None:
        self._waiting.clear()
        self.runner.shutdown()


@dataclass
class _Write:
    fn: Callable[[Store], Any]
    on_done: Callable[[Any], None] | None
    on_error: Callable[[Exception], None] | None


class DatabaseWriter(QObject):
    """The GUI's one writer for short database operations (a review decision, a setting in the
    audit log): each runs off the GUI thread, in order, with its own connection, and reports
    back on the GUI thread (Anki's `CollectionOp`). Long work goes through `JobQueue` instead."""

    def __init__(self, db_path: Path, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.runner = runner
        self._pending: deque[_Write] = deque()
        self._current: _Write | None = None
        self._error: Exception | None = None

    def write(self, fn: Callable[[Store], Any], on_done: Callable[[Any], None] | None = None,
              on_error: Callable[[Exception], None] | None = None) -> None:
        self._pending.append(_Write(fn, on_done, on_error))
        self._next()

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._pending)

    def _next(self) -> None:
        if self._current is not None or not self._pending:
            return
        self._current, self._error = self._pending.popleft(), None
        db_path, fn = self.db_path, self._current.fn

        def run(_progress):
            with open_store(db_path) as store:
                return fn(store)

        worker = JobWorker(run)
        worker.raised.connect(self._on_raised)       # bound slots: run on the GUI thread
        worker.succeeded.connect(self._on_succeeded)
        worker.failed.connect(self._on_failed)
        self.runner.start(worker)

    def _on_raised(self, exc: Exception) -> None:
        self._error = exc

    def _on_succeeded(self, result: Any) -> None:
        done, self._current = self._current, None
        try:
            if done.on_done:
                done.on_done(result)
        finally:
            self._next()

    def _on_failed(self, message: str) -> None:
        done, self._current = self._current, None
        error = self._error or RuntimeError(message)
        try:
            if done.on_error:
                done.on_error(error)
            else:
                raise error       # reaches the GUI's exception handler: shown, never silent
        finally:
            self._next()
