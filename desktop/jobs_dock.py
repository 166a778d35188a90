"""The Jobs dock: every job with its state, progress and ETA; cancel and retry."""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QHBoxLayout, QHeaderView, QPushButton,
                               QTableView, QVBoxLayout, QWidget)

from desktop.job_queue import JobQueue

COLUMNS = ("Job", "State", "Progress", "ETA", "Message")
STATE_COLOURS = {"running": QColor(30, 100, 200), "done": QColor(30, 140, 60),
                 "failed": QColor(200, 40, 40), "cancelled": QColor(130, 130, 130),
                 "interrupted": QColor(200, 120, 0), "queued": QColor(90, 90, 90)}


class JobsModel(QAbstractTableModel):
    def __init__(self, queue: JobQueue, parent=None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.order = list(reversed(list(queue.jobs)))     # newest first
        queue.changed.connect(self._on_changed)
        queue.reset.connect(self._on_reset)

    def _on_reset(self) -> None:
        self.beginResetModel()
        self.order = list(reversed(list(self.queue.jobs)))
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self.order)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt API
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def job_at(self, row: int):
        return self.queue.jobs[self.order[row]]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        job = self.job_at(index.row())
        column = index.column()
        if role == Qt.ItemDataRole.ForegroundRole and column == 1:
            return STATE_COLOURS.get(job.state)
        if role == Qt.ItemDataRole.ToolTipRole:
            return job.error or job.message
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == 0:
            return job.title
        if column == 1:
            return job.state
        if column == 2:
            return f"{job.done} / {job.total}" if job.total else ""
        if column == 3:
            eta = job.eta_s
            return f"{eta:.0f} s" if eta is not None else ""
        return job.error or job.message

    def _on_changed(self, job_id: str) -> None:
        if job_id not in self.order:
            self.beginInsertRows(QModelIndex(), 0, 0)
            self.order.insert(0, job_id)
            self.endInsertRows()
            return
        row = self.order.index(job_id)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))


class JobsDock(QWidget):
    def __init__(self, queue: JobQueue, parent=None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.model = JobsModel(queue, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.retry_button = QPushButton("Retry")
        self.retry_button.clicked.connect(self.retry_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.retry_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        layout.addLayout(buttons)

    def _selected(self):
        rows = self.table.selectionModel().selectedRows()
        return self.model.job_at(rows[0].row()) if rows else None

    def cancel_selected(self) -> None:
        job = self._selected()
        if job is not None:
            self.queue.cancel(job.id)

    def retry_selected(self) -> None:
        job = self._selected()
        if job is not None and job.state in ("failed", "cancelled", "interrupted", "done"):
            self.queue.retry(job.id)
