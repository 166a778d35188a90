"""Corpora the operator works on: the recent list (QSettings; the first one reopens on start)
and the New corpus dialog (a demo corpus with its seed and size, or an imported folder with
interactions and titles files)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (QButtonGroup, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QRadioButton,
                               QSpinBox, QVBoxLayout, QWidget)

RECENT_KEY = "corpora/recent"
MAX_RECENT = 8


def recent_corpora(existing_only: bool = True) -> list[Path]:
    paths = [Path(p) for p in (QSettings().value(RECENT_KEY, [], type=list) or [])]
    return [p for p in paths if p.is_file()] if existing_only else paths


def remember_corpus(path: Path) -> None:
    path = Path(path).resolve()
    paths = [p for p in recent_corpora(existing_only=False) if p != path]
    QSettings().setValue(RECENT_KEY, [str(p) for p in [path, *paths][:MAX_RECENT]])


def last_corpus() -> Path | None:
    """The corpus to reopen on start: the most recent one that still exists."""
    recent = recent_corpora()
    return recent[0] if recent else None


class _PathField(QWidget):
    """A line edit with a Browse… button."""

    def __init__(self, mode: str, caption: str, placeholder: str = "", parent=None) -> None:
        super().__init__(parent)
        self.mode, self.caption = mode, caption
        self.edit = QLineEdit(placeholderText=placeholder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(browse)

    def _browse(self) -> None:
        if self.mode == "folder":
            chosen = QFileDialog.getExistingDirectory(self, self.caption, self.edit.text())
        elif self.mode == "save":
            chosen, _ = QFileDialog.getSaveFileName(self, self.caption, self.edit.text(),
                                                    "GeneRec corpus (*.db)")
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, self.caption, self.edit.text())
        if chosen:
            self.edit.setText(chosen)

    def text(self) -> str:
        return self.edit.text().strip()


class NewCorpusDialog(QDialog):
    """Where the new corpus goes and what fills it; `request()` says what to run."""

    def __init__(self, data_folder: Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New corpus")
        self.path = _PathField("save", "New corpus database")
        self.path.edit.setText(str(_free_name(data_folder)))
        self.demo = QRadioButton("Demo corpus (synthetic videos and users)")
        self.imported = QRadioButton("Import a folder of videos")
        self.demo.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.demo)
        group.addButton(self.imported)
        self.seed = QSpinBox(maximum=2**31 - 1)
        self.items = QSpinBox(minimum=4, maximum=100000, value=240)
        self.users = QSpinBox(minimum=2, maximum=1000000, value=160)
        self.folder = _PathField("folder", "Folder of videos")
        self.interactions = _PathField("file", "Interactions file",
                                       "optional: CSV user,item,kind,value,timestamp or TSV")
        self.titles = _PathField("file", "Titles file", "optional: CSV item,title")
        form = QFormLayout()
        form.addRow("Database", self.path)
        form.addRow(self.demo)
        form.addRow("    Seed", self.seed)
        form.addRow("    Items", self.items)
        form.addRow("    Users", self.users)
        form.addRow(self.imported)
        form.addRow("    Videos", self.folder)
        form.addRow("    Interactions", self.interactions)
        form.addRow("    Titles", self.titles)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c62828")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.demo.toggled.connect(self._enable)
        self._enable()
        self.resize(620, self.sizeHint().height())

    def _enable(self) -> None:
        demo = self.demo.isChecked()
        for widget in (self.seed, self.items, self.users):
            widget.setEnabled(demo)
        for widget in (self.folder, self.interactions, self.titles):
            widget.setEnabled(not demo)

    def _accept(self) -> None:
        problem = self.problem()
        if problem:
            self.error.setText(problem)
            return
        self.accept()

    def problem(self) -> str:
        path = Path(self.path.text()) if self.path.text() else None
        if path is None:
            return "Name the new corpus database."
        if path.exists():
            return f"{path} exists; use File → Open corpus to open it."
        if self.imported.isChecked():
            if not Path(self.folder.text()).is_dir():
                return "Choose the folder of videos to import."
            for field, what in ((self.interactions, "interactions"), (self.titles, "titles")):
                if field.text() and not Path(field.text()).is_file():
                    return f"The {what} file {field.text()} does not exist."
        return ""

    def request(self) -> tuple[Path, str, dict]:
        """(database path, job kind, job parameters)."""
        path = Path(self.path.text())
        if self.demo.isChecked():
            return path, "demo", {"seed": self.seed.value(), "n_items": self.items.value(),
                                  "n_users": self.users.value()}
        params = {"folder": self.folder.text()}
        if self.interactions.text():
            params["interactions"] = self.interactions.text()
        if self.titles.text():
            params["titles"] = self.titles.text()
        return path, "import", params


def _free_name(folder: Path) -> Path:
    for n in range(1, 1000):
        candidate = Path(folder) / f"corpus-{n}.db"
        if not candidate.exists():
            return candidate
    return Path(folder) / "corpus-new.db"
