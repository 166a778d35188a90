"""Before a diffusion job (revise, create, thumbnail-gen) is queued, say whether its model was
trained on videos like these. The check reads the frame index off the GUI thread; where the
model's training corpus is far from the job's videos, the operator sees the warning and chooses
to run anyway or cancel. A job that runs still records the warning, and its review card shows it."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from core.errors import GenerecError
from core.store import open_store
from desktop.workers import JobRunner, JobWorker

TITLE = "Model trained on other videos"


def _domain_warning(db_path: Path, kind: str, params: dict) -> tuple[str, dict, str | None]:
    """(kind, params, warning or None); advisory, so an unreadable index gives no warning and
    the job itself reports what is wrong."""
    from core.diffusion.domain import preflight

    if params.get("pipeline"):      # a pretrained pipeline: the bundled model's domain is moot
        return kind, params, None
    try:
        with open_store(db_path) as store:
            warning = preflight(store, kind, params.get("item_id"), params.get("checkpoint"))
    except (GenerecError, OSError, ValueError):
        warning = None
    return kind, params, warning


class DomainPreflight(QObject):
    """`request(db_path, kind, params)` queues the job now when in domain, else after the operator's
    "Run anyway"."""
    warned = Signal(str, str)      # job kind, the warning shown (before the job is queued)

    def __init__(self, parent: QWidget, runner: JobRunner, submit) -> None:
        super().__init__(parent)
        self._parent, self._runner, self._submit = parent, runner, submit
        self.box: QMessageBox | None = None      # the open warning, if any

    def request(self, db_path: Path, kind: str, params: dict) -> None:
        worker = JobWorker(lambda _progress: _domain_warning(db_path, kind, params))
        worker.succeeded.connect(self._checked)     # a bound method: runs on the GUI thread
        self._runner.start(worker)

    def _checked(self, result: tuple[str, dict, str | None]) -> None:
        kind, params, warning = result
        if warning is None:
            self._submit(kind, params)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, TITLE,
                          f"{warning[:1].upper()}{warning[1:]}.\n\nRun the {kind} job anyway?",
                          parent=self._parent)
        run = box.addButton("Run anyway", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(run)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: button is run and self._submit(kind, params))
        box.finished.connect(lambda _code: setattr(self, "box", None))
        self.box = box
        box.open()
        self.warned.emit(kind, warning)

