"""The Settings dialog: reviewer, data folder, threads, the encoder with a model manager (local
weights with their sha256, verified against what the corpus was indexed with), and the default
task parameters. Each field's tooltip names its CLI flag or environment variable."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDialogButtonBox,
                               QDoubleSpinBox, QFormLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from desktop import settings as app_settings
from desktop.settings import BY_KEY, SAMPLERS, SETTINGS


def _placeholders() -> dict[str, str]:
    from core.operator import operator_name
    from core.paths import data_home

    return {"review/reviewer": f"default: {operator_name(None)}",
            "general/data_folder": f"default: {data_home()}",
            "models/pipelines_folder": f"optional; always searched: {data_home() / 'models' / 'pipelines'}"}


def _tooltip(key: str) -> str:
    s = BY_KEY[key]
    parts = [s.help] if s.help else []
    if s.cli:
        parts.append(f"command line: {s.cli}")
    if s.env:
        parts.append(f"environment: {s.env}")
    return "; ".join(parts)


class SettingsDialog(QDialog):
    verify_requested = Signal()      # hash the local weights and check the corpus's models

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.fields: dict[str, QWidget] = {}
        self.tabs = QTabWidget()
        self.tabs.addTab(self._page(("review/reviewer", "general/data_folder", "general/threads")),
                         "General")
        self.tabs.addTab(self._models_page(), "Encoder and models")
        self.tabs.addTab(self._page(("tasks/clip_len", "tasks/strength", "tasks/steps",
                                     "tasks/guidance", "tasks/source_guidance", "tasks/sampler",
                                     "tasks/seed", "tasks/evaluation_runs")), "Task defaults")
        precedence = QLabel("A command-line flag wins over its environment variable, which wins "
                            "over these settings, which win over the defaults.")
        precedence.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.reset_button = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        self.reset_button.setText("Reset to defaults")
        self.reset_button.clicked.connect(self.reset_fields)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(precedence)
        layout.addWidget(buttons)
        self.load()
        self.resize(720, 480)

    def _field(self, key: str) -> QWidget:
        default = BY_KEY[key].default
        if key == "tasks/sampler":
            widget = QComboBox()
            widget.addItems(SAMPLERS)
        elif isinstance(default, float):
            widget = QDoubleSpinBox(decimals=2, minimum=0.0, maximum=50.0, singleStep=0.05)
            if key == "tasks/source_guidance":
                widget.setMinimum(1.0)      # 1 switches it off; below 1 the service refuses
        elif isinstance(default, int):
            widget = QSpinBox(minimum=0, maximum=2**31 - 1)
            if key == "tasks/clip_len":
                widget.setMinimum(1)
            if key == "tasks/steps":
                widget.setSpecialValueText("task default")
            if key == "tasks/evaluation_runs":
                widget.setRange(1, 1000)
        else:
            widget = QLineEdit()
            widget.setPlaceholderText(_placeholders().get(key, ""))
        widget.setToolTip(_tooltip(key))
        self.fields[key] = widget
        return widget

    def _page(self, keys) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        for key in keys:
            form.addRow(BY_KEY[key].label, self._field(key))
            source = BY_KEY[key].cli or BY_KEY[key].env
            if source:
                hint = QLabel(f"<small>{_tooltip(key)}</small>")
                hint.setWordWrap(True)
                form.addRow("", hint)
        return page

    def _models_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        form = QFormLayout()
        form.addRow(BY_KEY["models/encoder"].label, self._field("models/encoder"))
        layout.addLayout(form)
        self.models = QTableWidget(0, 4)
        self.models.setHorizontalHeaderLabels(("Weights", "Size", "sha256", "State"))
        self.models.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.models.verticalHeader().hide()
        self.models.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.models.horizontalHeader().setStretchLastSection(True)
        self.verify_button = QPushButton("List and verify local weights")
        self.verify_button.clicked.connect(self.verify_requested.emit)
        self.models_status = QLabel("Weights are hashed off the GUI thread; a corpus's models "
                                    "are verified against the sha256 they were indexed with.")
        self.models_status.setWordWrap(True)
        layout.addWidget(self.models, 1)
        layout.addWidget(self.models_status)
        layout.addWidget(self.verify_button)
        layout.addWidget(self._pipelines_box())
        return page

    def _pipelines_box(self) -> QWidget:
        """Pretrained pipeline folders (generate --pipeline): found in the models folder, the
        GENEREC_PIPELINES folders and the folder set here; reading their model_index.json files
        is quick, so this runs on the GUI thread."""
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.addRow(BY_KEY["models/pipelines_folder"].label,
                    self._field("models/pipelines_folder"))
        layout.addLayout(form)
        self.pipelines = QTableWidget(0, 4)
        self.pipelines.setHorizontalHeaderLabels(("Pipeline", "Class", "Does", "State"))
        self.pipelines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.pipelines.verticalHeader().hide()
        header = self.pipelines.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.pipelines_status = QLabel()
        self.pipelines_status.setWordWrap(True)
        refresh = QPushButton("Look for pipelines")
        refresh.clicked.connect(self.refresh_pipelines)
        self.fields["models/pipelines_folder"].editingFinished.connect(self.refresh_pipelines)
        layout.addWidget(self.pipelines, 1)
        layout.addWidget(self.pipelines_status)
        layout.addWidget(refresh)
        return box

    def refresh_pipelines(self) -> None:
        from pathlib import Path

        from core.diffusion.pipelines import discover_pipelines, pipeline_folders

        extra = self.fields["models/pipelines_folder"].text().strip()
        folders = pipeline_folders([extra] if extra else [])
        found = discover_pipelines(folders)
        self.pipelines.setRowCount(len(found))
        for r, p in enumerate(found):
            cells = (Path(p.path).name, p.class_name, p.summary, p.error or "ready")
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(p.path if c == 0 else text)
                self.pipelines.setItem(r, c, item)
        ready = sum(1 for p in found if not p.error)
        self.pipelines_status.setText(
            f"{ready} of {len(found)} pipelines ready in "
            + "; ".join(str(f) for f in folders)
            + ". Local files only, safetensors only; an ip_adapter/ subfolder makes the user's "
              "liked thumbnails the image prompt.")

    # -- values ----------------------------------------------------------------------------
    def load(self) -> None:
        for key in self.fields:
            self._set(key, app_settings.value(key))
        self.refresh_pipelines()

    def reset_fields(self) -> None:
        for s in SETTINGS:
            if s.key in self.fields:
                self._set(s.key, s.default)

    def _set(self, key: str, value) -> None:
        widget = self.fields[key]
        if isinstance(widget, QComboBox):
            widget.setCurrentIndex(max(0, widget.findText(str(value))))
        elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            widget.setValue(value)
        else:
            widget.setText(str(value))

    def values(self) -> dict:
        out = {}
        for key, widget in self.fields.items():
            if isinstance(widget, QComboBox):
                out[key] = widget.currentText()
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                out[key] = widget.value()
            else:
                out[key] = widget.text().strip()
        return out

    def show_models(self, weights: list[dict], models: list[dict]) -> None:
        """Local weight files, then the corpus's registered models with their state."""
        rows = [(w["path"], f"{w['bytes'] / 1e6:.1f} MB", w["sha256"][:16], "local file")
                for w in weights]
        rows += [(m["spec"], f"dim {m['dim']}", (m["sha256"] or "–")[:16],
                  f"{m['state']} (indexed as {m['id']})") for m in models]
        self.models.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.models.setItem(r, c, QTableWidgetItem(text))
        missing = [m["spec"] for m in models if m["state"] == "missing"]
        self.models_status.setText(
            f"{len(weights)} local weight files; {len(models)} models in this corpus"
            + (f"; no local file matches: {', '.join(missing)}" if missing else
               ("; every recorded checkpoint verified" if models else "")))
