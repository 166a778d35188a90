"""The GUI's last line of defence: an exception that escapes a slot becomes a non-modal message
with "Copy details", the app keeps running, and the traceback goes to stderr for the log."""
from __future__ import annotations

import sys
import traceback
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from core.errors import GenerecError


class ErrorReporter:
    """Installed as `sys.excepthook`; `shown` keeps the messages it opened (tests read it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent
        self.shown: list[QMessageBox] = []
        self._previous = sys.excepthook

    def install(self) -> "ErrorReporter":
        sys.excepthook = self
        return self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self._previous

    def __call__(self, kind: type[BaseException], exc: BaseException,
                 tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self._previous(kind, exc, tb)
            return
        details = "".join(traceback.format_exception(kind, exc, tb))
        print(details, file=sys.stderr, end="")
        if QApplication.instance() is None:
            return
        if isinstance(exc, GenerecError):
            text = str(exc)
        else:
            text = (f"Something went wrong: {kind.__name__}: {exc}\n\nThe app is still running; "
                    f"what you were doing may not have finished. Copy the details into a bug report.")
        self.shown = [box for box in self.shown if box.isVisible()]
        box = QMessageBox(QMessageBox.Icon.Critical, "GeneRec Studio: error", text,
                          QMessageBox.StandardButton.Close, self.parent)
        box.setDetailedText(details)
        copy = box.addButton("Copy details", QMessageBox.ButtonRole.ActionRole)
        copy.clicked.disconnect()      # keep the box open after copying
        copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
        box.setModal(False)
        box.show()
        self.shown.append(box)
