"""The Review dock: generations to judge, one card per fidelity check, and approve / reject /
skip by keyboard (A, R, S; J and K move between items). Decisions go through core's rules."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from core.fidelity import CHECK_NAMES

STATUS_STYLE = {"pass": "#2e8b57", "warn": "#d08a00", "fail": "#c62828", "error": "#6a1b9a",
                None: "#808080"}


class CheckCard(QFrame):
    def __init__(self, name: str, check: dict | None, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        status = check["status"] if check else None
        colour = STATUS_STYLE[status]
        title = name.replace("_", " ")
        text = (f"<b>{title}</b> <span style='color:{colour}'>"
                f"{status.upper() if status else 'not run yet'}</span>")
        if check:
            if check.get("score") is not None:
                text += f" · score {check['score']:.2f}"
            if check["blocking"]:
                text += " · blocking"
            evidence = check["evidence"].get("text") if isinstance(check["evidence"], dict) else None
            if evidence:
                text += f"<br><span style='color:gray'>{evidence}</span>"
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        if check:
            label.setToolTip(json.dumps(check["evidence"], indent=1, default=str)[:2000])
        QVBoxLayout(self).addWidget(label)
        self.status = status


class ReviewDock(QWidget):
    generation_selected = Signal(str)
    decision_requested = Signal(str, str, str)     # generation id, decision, reason
    export_requested = Signal(str)                 # generation id

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._on_current)
        self.cards = QGridLayout()
        cards = QWidget()
        cards.setLayout(self.cards)
        self.cards_area = QScrollArea()
        self.cards_area.setWidgetResizable(True)
        self.cards_area.setWidget(cards)
        self.cards_area.setMinimumHeight(170)
        self.reason = QLineEdit(placeholderText="Reason for the decision")
        self.approve = QPushButton("Approve (A)")
        self.reject = QPushButton("Reject (R)")
        self.skip = QPushButton("Skip (S)")
        self.export = QPushButton("Export… (Ctrl+E)")
        self.export.setShortcut(QKeySequence("Ctrl+E"))
        for button, decision in ((self.approve, "approve"), (self.reject, "reject"),
                                 (self.skip, "skip")):
            button.clicked.connect(lambda _=False, d=decision: self.decide(d))
        self.export.clicked.connect(lambda: self.current() and self.export_requested.emit(self.current()))
        for key, slot in (("A", lambda: self.decide("approve")), ("R", lambda: self.decide("reject")),
                          ("S", lambda: self.decide("skip")), ("J", lambda: self.move(1)),
                          ("K", lambda: self.move(-1))):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        buttons = QHBoxLayout()
        for button in (self.approve, self.reject, self.skip, self.export):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(QLabel("<b>Generations</b> (pending first; J / K to move)"))
        layout.addWidget(self.list, 1)
        layout.addWidget(QLabel("<b>Fidelity checks</b>"))
        layout.addWidget(self.cards_area, 2)
        layout.addWidget(self.reason)
        layout.addLayout(buttons)
        self.show_checks([])

    def set_generations(self, generations: list[dict], keep: str | None = None) -> None:
        keep = keep or self.current()
        self.list.blockSignals(True)
        self.list.clear()
        order = sorted(generations, key=lambda g: (g["status"] != "pending",))
        for g in order:
            item = QListWidgetItem(f"[{g['status']}] {g['task']} · {g['item_id']} · {g['user_id']}")
            item.setData(Qt.ItemDataRole.UserRole, g["id"])
            item.setData(Qt.ItemDataRole.UserRole + 1, g["status"])
            item.setToolTip(g["id"])
            self.list.addItem(item)
        self.list.blockSignals(False)
        rows = [self.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.list.count())]
        if keep in rows:
            self.list.setCurrentRow(rows.index(keep))
        elif rows:
            self.list.setCurrentRow(0)

    def current(self) -> str:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else ""

    def _on_current(self, item, _previous) -> None:
        if item is not None:
            self.generation_selected.emit(item.data(Qt.ItemDataRole.UserRole))

    def show_checks(self, checks: list[dict]) -> None:
        while self.cards.count():
            self.cards.takeAt(0).widget().deleteLater()
        by_name = {c["name"]: c for c in checks}
        names = list(CHECK_NAMES) + [n for n in by_name if n not in CHECK_NAMES]
        for k, name in enumerate(names):
            self.cards.addWidget(CheckCard(name, by_name.get(name)), k // 2, k % 2)

    def decide(self, decision: str) -> None:
        if self.current():
            self.decision_requested.emit(self.current(), decision, self.reason.text().strip())

    def decided(self, generations: list[dict]) -> None:
        """After a recorded decision: clear the reason and go to the next pending item."""
        self.reason.clear()
        self.set_generations(generations)
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole + 1) == "pending":
                self.list.setCurrentRow(row)
                return

    def move(self, step: int) -> None:
        row = self.list.currentRow() + step
        if 0 <= row < self.list.count():
            self.list.setCurrentRow(row)
