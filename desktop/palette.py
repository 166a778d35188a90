"""The command palette (Ctrl+K): type to filter every action of the registry by name or menu,
Enter runs the highlighted one; each row shows its menu path and shortcut."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from desktop.actions import ACTIONS


class CommandPalette(QDialog):
    def __init__(self, actions: dict[str, QAction], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Command palette")
        self.actions_by_key = actions
        self.query = QLineEdit(placeholderText="Type a command… (Enter runs it, Esc closes)")
        self.list = QListWidget()
        self.list.itemActivated.connect(self._run_item)
        self.query.textChanged.connect(self.refilter)
        self.query.returnPressed.connect(self.run_current)
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.list)
        self.resize(560, 420)
        self.refilter("")

    def refilter(self, text: str) -> None:
        words = text.lower().split()
        self.list.clear()
        for spec in ACTIONS:
            haystack = f"{spec.name} {spec.menu} {spec.key}".lower()
            if all(word in haystack for word in words):
                shortcut = QKeySequence(spec.shortcut).toString(
                    QKeySequence.SequenceFormat.NativeText) if spec.shortcut else ""
                row = QListWidgetItem(f"{spec.name.rstrip('…')}    ·  {spec.menu}"
                                      + (f"    [{shortcut}]" if shortcut else ""))
                row.setData(Qt.ItemDataRole.UserRole, spec.key)
                row.setToolTip(spec.menu_path)
                self.list.addItem(row)
        if self.list.count():
            self.list.setCurrentRow(0)

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            step = 1 if event.key() == Qt.Key.Key_Down else -1
            row = min(max(self.list.currentRow() + step, 0), self.list.count() - 1)
            self.list.setCurrentRow(row)
            return
        super().keyPressEvent(event)

    def visible_keys(self) -> list[str]:
        return [self.list.item(r).data(Qt.ItemDataRole.UserRole) for r in range(self.list.count())]

    def run_current(self) -> None:
        if self.list.currentItem() is not None:
            self._run_item(self.list.currentItem())

    def _run_item(self, row: QListWidgetItem) -> None:
        key = row.data(Qt.ItemDataRole.UserRole)
        self.accept()
        self.actions_by_key[key].trigger()
