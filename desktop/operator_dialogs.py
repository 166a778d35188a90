"""Small dialogs of the operator's day: verify a file (drag and drop a video; payload,
provenance and C2PA state), compare two generations side by side with their parameters, and
the options of a training job."""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog,
                               QFormLayout, QGridLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QPushButton, QSpinBox, QVBoxLayout)


class VerifyFileDialog(QDialog):
    verify_requested = Signal(str)      # path of the file to verify

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Verify a file")
        self.setAcceptDrops(True)
        self.drop = QLabel("Drop a video or image here, or choose one…")
        self.drop.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop.setMinimumHeight(90)
        self.drop.setStyleSheet("border: 2px dashed #888; border-radius: 6px; padding: 12px")
        choose = QPushButton("Choose a file…")
        choose.clicked.connect(self._choose)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setPlaceholderText("The watermark payload, the generation it names, its "
                                        "provenance and the Content Credentials state show here.")
        layout = QVBoxLayout(self)
        layout.addWidget(self.drop)
        layout.addWidget(choose)
        layout.addWidget(self.summary)
        layout.addWidget(self.details, 1)
        self.resize(640, 480)

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt API
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt API
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.request(urls[0])

    def _choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Verify a file")
        if path:
            self.request(path)

    def request(self, path: str) -> None:
        self.drop.setText(f"Verifying {Path(path).name}…")
        self.verify_requested.emit(path)

    def show_result(self, result: dict) -> None:
        name = Path(result["file"]).name
        if result.get("generation_id"):
            head = (f"<b>{name}</b>: AI-generated, generation {result['generation_id']} "
                    f"(watermark {result['payload']}, {result['agreement']:.0%} agreement)")
        elif result.get("payload"):
            head = (f"<b>{name}</b>: watermark {result['payload']} "
                    f"({result['agreement']:.0%} agreement); no generation of this corpus carries it")
        else:
            head = f"<b>{name}</b>: no watermark found"
        c2pa = (result.get("c2pa") or {}).get("summary", "unknown")
        head += f"<br>Content Credentials: {c2pa}"
        if result.get("expires_at"):
            head += f"<br>{'expired' if result.get('expired') else 'expires'} {result['expires_at']}"
        if result.get("provenance") is not None:
            head += f"<br>provenance {'matches' if result.get('provenance_matches') else 'does not match'}"
        self.drop.setText("Drop another file here, or choose one…")
        self.summary.setText(head)
        self.details.setPlainText(json.dumps(result, indent=1, default=str))


class CompareDialog(QDialog):
    """Two generations side by side: a frame of each output and the parameters that made it."""

    def __init__(self, generations: list[dict], frames: list, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare generations")
        grid = QGridLayout(self)
        for column, (g, rgb) in enumerate(zip(generations, frames)):
            title = QLabel(f"<b>{g['id']}</b><br>{g['task']} · user {g['user_id'] or '–'} · "
                           f"item {g['item_id'] or 'new'} · {g['status']}")
            title.setWordWrap(True)
            picture = QLabel("no frame")
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            if rgb is not None:
                h, w = rgb.shape[:2]
                image = QImage(rgb.copy(order="C").data, w, h, 3 * w,
                               QImage.Format.Format_RGB888).copy()
                picture.setPixmap(QPixmap.fromImage(image).scaledToWidth(
                    min(w, 420), Qt.TransformationMode.SmoothTransformation))
            params = QPlainTextEdit(readOnly=True)
            params.setPlainText(json.dumps({"params": g["params"], "scores": g["scores"]},
                                           indent=1, default=str))
            grid.addWidget(title, 0, column)
            grid.addWidget(picture, 1, column)
            grid.addWidget(params, 2, column)
        self.resize(900, 620)


class WhyDialog(QDialog):
    """"Why this result": the user's liked items that conditioned the generation (their
    thumbnails) and the parameters that made it."""

    def __init__(self, why: dict, parent=None, per_row: int = 6) -> None:
        super().__init__(parent)
        g = why["generation"]
        self.setWindowTitle(f"Why this result — {g['id']}")
        layout = QVBoxLayout(self)
        head = QLabel(f"<b>{g['task']}</b> for user {g['user_id'] or '–'} from item "
                      f"{g['item_id'] or '(new)'}: conditioned on {len(why['drivers'])} liked "
                      "items of the user's history (training split)")
        head.setWordWrap(True)
        layout.addWidget(head)
        grid = QGridLayout()
        self.thumbnails = 0
        for k, row in enumerate(why["drivers"][:24]):
            cell = QLabel()
            cell.setAlignment(Qt.AlignmentFlag.AlignCenter)
            pixmap = QPixmap(row["thumbnail_path"] or "")
            if not pixmap.isNull():
                cell.setPixmap(pixmap.scaledToWidth(96, Qt.TransformationMode.SmoothTransformation))
                self.thumbnails += 1
            else:
                cell.setText(row["item_id"])
            cell.setToolTip(f"{row['item_id']}: {row['title']}")
            grid.addWidget(cell, k // per_row, k % per_row)
        layout.addLayout(grid)
        params = QPlainTextEdit(readOnly=True)
        params.setPlainText(json.dumps(why["parameters"], indent=1, default=str))
        layout.addWidget(QLabel("<b>Parameters</b> (a retry from the Jobs panel repeats them)"))
        layout.addWidget(params, 1)
        self.resize(720, 560)


class TrainingDialog(QDialog):
    """Options of a training job; `params()` is what the job records (so a retry repeats it)."""

    def __init__(self, title: str, fields: dict[str, tuple], parent=None) -> None:
        """`fields`: name -> (label, default, minimum, maximum); float defaults get a decimal box,
        str defaults a line edit."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.widgets = {}
        form = QFormLayout()
        for name, (label, default, low, high) in fields.items():
            if isinstance(default, float):
                widget = QDoubleSpinBox(decimals=5, minimum=low, maximum=high, value=default)
            elif isinstance(default, int):
                widget = QSpinBox(minimum=low, maximum=high, value=default)
            else:
                widget = QLineEdit(str(default or ""))
            self.widgets[name] = widget
            form.addRow(label, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Runs as a job: progress, ETA and cancel in the Jobs panel; "
                                "the loss is drawn in View → Training charts."))
        layout.addWidget(buttons)

    def params(self) -> dict:
        out = {}
        for name, widget in self.widgets.items():
            value = widget.value() if hasattr(widget, "value") else widget.text().strip()
            if value != "":
                out[name] = value
        return out


class BatchDialog(QDialog):
    """The options of a batch generation job: the task, whose users and which items."""

    def __init__(self, user_id: str, item_id: str, parent=None) -> None:
        from core.batch.orders import BATCH_TASKS
        from core.editor.style import PRESETS

        super().__init__(parent)
        self.setWindowTitle("Batch generation")
        self.setMinimumWidth(460)
        self.user_id, self.item_id = user_id, item_id
        self.task = QComboBox()
        self.task.addItems(BATCH_TASKS)
        self.style = QComboBox()
        self.style.addItems(list(PRESETS))
        self.users = QComboBox()
        self.users.addItems(["every user with a like"] +
                            ([f"the selected user ({user_id})"] if user_id else []))
        self.items = QComboBox()
        self.items.addItems(["every item with a video"] +
                            ([f"the selected item ({item_id})"] if item_id else []))
        self.ray = QLineEdit(placeholderText="blank: in this process; 'local' or HOST:PORT: Ray")
        self.task.currentTextChanged.connect(lambda t: self.style.setEnabled(t == "style"))
        self.style.setEnabled(False)
        form = QFormLayout(self)
        form.addRow("Task:", self.task)
        form.addRow("Style:", self.style)
        form.addRow("Users:", self.users)
        form.addRow("Items:", self.items)
        form.addRow("Ray:", self.ray)
        note = QLabel("Each generation is checked as it is made; a rerun makes only what is "
                      "missing.")
        note.setWordWrap(True)
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def params(self, spec: str) -> dict:
        task = self.task.currentText()
        return {"task": task,
                "users": [self.user_id] if self.users.currentIndex() == 1 else None,
                "items": [self.item_id] if self.items.currentIndex() == 1 else None,
                "options": {"style": self.style.currentText()} if task == "style" else {},
                "spec": spec, "ray": self.ray.text().strip() or None}
