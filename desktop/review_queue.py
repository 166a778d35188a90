"""The Review queue: every generation with where its checks stand, filtered by task, check
state, user, source item, age and status (filters can be saved by name), with bulk approve and
reject under one reason. The rows and the decisions come from core.review_queue."""
from __future__ import annotations

import json

from PySide6.QtCore import QSettings, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QFormLayout, QHBoxLayout,
                               QHeaderView, QInputDialog, QLabel, QLineEdit, QPushButton,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from core.review_queue import AGES, CHECK_STATES, QueueFilter

SAVED_KEY = "review_queue/saved_filters"
TASKS = ("thumbnail", "clip", "style", "revise", "create", "thumbnail-gen")
STATUSES = ("pending", "approved", "rejected")
COLUMNS = ("Generation", "Task", "User", "Source item", "Status", "Checks", "Created")
CHECK_COLOURS = {"passed": QColor(46, 139, 87), "failed": QColor(198, 40, 40),
                 "not current": QColor(208, 138, 0)}


def _combo(choices, any_text: str = "any") -> QComboBox:
    box = QComboBox()
    box.addItem(any_text, "")
    for choice in choices:
        box.addItem(choice, choice)
    return box


class ReviewQueue(QWidget):
    filter_changed = Signal()
    bulk_requested = Signal(list, str, str)     # generation ids, approve | reject, reason
    compare_requested = Signal(list)            # two generation ids
    generation_selected = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.task = _combo(TASKS)
        self.checks = _combo(CHECK_STATES)
        self.status = _combo(STATUSES)
        self.status.setCurrentIndex(1)     # pending
        self.age = QComboBox()
        for age in AGES:
            self.age.addItem(age, age)
        self.user = QLineEdit(placeholderText="any user")
        self.item = QLineEdit(placeholderText="any source item")
        self.saved = QComboBox()
        self.saved.setMinimumContentsLength(12)
        self.save_button = QPushButton("Save filter…")
        self.save_button.clicked.connect(self.save_filter)
        self.saved.activated.connect(self._load_saved)
        for box in (self.task, self.checks, self.status, self.age):
            box.currentIndexChanged.connect(lambda _=0: self.filter_changed.emit())
        for edit in (self.user, self.item):
            edit.editingFinished.connect(self.filter_changed.emit)
        filters = QFormLayout()
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        for label, widget, row in (("Task", self.task, row1), ("Checks", self.checks, row1),
                                   ("Status", self.status, row1), ("Age", self.age, row1),
                                   ("User", self.user, row2), ("Source", self.item, row2)):
            row.addWidget(QLabel(label))
            row.addWidget(widget, 1)
        row2.addWidget(self.saved, 1)
        row2.addWidget(self.save_button)
        filters.addRow(row1)
        filters.addRow(row2)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.summary = QLabel()
        self.reason = QLineEdit(placeholderText="One reason for every selected decision")
        self.approve = QPushButton("Approve selected")
        self.reject = QPushButton("Reject selected")
        self.compare = QPushButton("Compare two")
        self.approve.setToolTip("Each goes through the same rules as one decision: refused "
                                "where checks are missing, out of date or a blocking one failed")
        self.approve.clicked.connect(lambda: self.request_bulk("approve"))
        self.reject.clicked.connect(lambda: self.request_bulk("reject"))
        self.compare.clicked.connect(self.request_compare)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reason, 1)
        for button in (self.approve, self.reject, self.compare):
            buttons.addWidget(button)
        self.result = QLabel()
        self.result.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)
        layout.addWidget(self.result)
        self.rows: list[dict] = []
        self._refresh_saved()

    # -- filters ---------------------------------------------------------------------------
    def current_filter(self) -> QueueFilter:
        return QueueFilter(task=self.task.currentData(), checks=self.checks.currentData(),
                           user_id=self.user.text().strip(), item_id=self.item.text().strip(),
                           age=self.age.currentData(), status=self.status.currentData())

    def set_filter(self, flt: QueueFilter) -> None:
        for box, value in ((self.task, flt.task), (self.checks, flt.checks),
                           (self.status, flt.status), (self.age, flt.age)):
            box.blockSignals(True)
            box.setCurrentIndex(max(0, box.findData(value)))
            box.blockSignals(False)
        self.user.setText(flt.user_id)
        self.item.setText(flt.item_id)
        self.filter_changed.emit()

    def saved_filters(self) -> dict[str, dict]:
        raw = QSettings().value(SAVED_KEY, "{}", type=str)
        try:
            return json.loads(raw) or {}
        except ValueError:
            return {}

    def save_filter(self, name: str | None = None) -> None:
        if name is None:
            name, ok = QInputDialog.getText(self, "Save filter", "Name of this filter:")
            if not ok:
                return
        if not name.strip():
            return
        saved = self.saved_filters()
        saved[name.strip()] = self.current_filter().as_dict()
        QSettings().setValue(SAVED_KEY, json.dumps(saved))
        self._refresh_saved()
        self.saved.setCurrentIndex(self.saved.findText(name.strip()))

    def _refresh_saved(self) -> None:
        self.saved.clear()
        self.saved.addItem("Saved filters…")
        for name in sorted(self.saved_filters()):
            self.saved.addItem(name)

    def _load_saved(self, index: int) -> None:
        if index > 0:
            self.set_filter(QueueFilter.from_dict(self.saved_filters()[self.saved.itemText(index)]))

    # -- rows ------------------------------------------------------------------------------
    def set_rows(self, rows: list[dict]) -> None:
        selected = set(self.selected_ids())
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, g in enumerate(rows):
            values = (g["id"], g["task"], g["user_id"] or "–", g["item_id"] or "new item",
                      g["status"], g["checks"], g["created_at"][:16].replace("T", " "))
            for c, value in enumerate(values):
                cell = QTableWidgetItem(str(value))
                if c == 5:
                    cell.setForeground(CHECK_COLOURS.get(g["checks"], QColor("gray")))
                    cell.setToolTip(g["checks_reason"])
                self.table.setItem(r, c, cell)
        self.select_ids(selected)
        counts = {state: sum(g["checks"] == state for g in rows) for state in CHECK_STATES}
        self.summary.setText(f"{len(rows)} generations · " + " · ".join(
            f"{n} {state}" for state, n in counts.items()))

    def selected_ids(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.rows[r]["id"] for r in rows if r < len(self.rows)]

    def select_ids(self, ids) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for r, g in enumerate(self.rows):
            if g["id"] in ids:
                self.table.selectRow(r)
        self.table.setSelectionMode(mode)

    def _on_selection(self) -> None:
        ids = self.selected_ids()
        if len(ids) == 1:
            self.generation_selected.emit(ids[0])

    def request_bulk(self, decision: str) -> None:
        self.bulk_requested.emit(self.selected_ids(), decision, self.reason.text().strip())

    def request_compare(self) -> None:
        self.compare_requested.emit(self.selected_ids())

    def show_result(self, result: dict, decision: str) -> None:
        """What a bulk decision did: how many recorded, and each refusal with its reason."""
        done = {"approve": "approved", "reject": "rejected"}.get(decision, decision)
        lines = [f"{len(result['recorded'])} {done}, {len(result['refused'])} refused"]
        lines += [f"refused {gid}: {why}" for gid, why in result["refused"].items()]
        self.result.setText("\n".join(lines))
        self.result.setStyleSheet("color: #c62828" if result["refused"] else "color: #2e8b57")
        if not result["refused"]:
            self.reason.clear()
