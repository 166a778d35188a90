"""The corpus grid: a virtualised QListView in icon mode, painted by CorpusDelegate."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QListView

from desktop.corpus_delegate import CorpusDelegate


class CorpusView(QListView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setMovement(QListView.Movement.Static)
        self.setSpacing(6)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setItemDelegate(CorpusDelegate(self))

    empty_text = "No items yet. Use File → Import videos… or File → Build demo corpus."

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().paintEvent(event)
        if self.model() is not None and self.model().rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
