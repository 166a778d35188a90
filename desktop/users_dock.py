"""The Users dock: a searchable list of users, the selected user's profile and history, the
instruction box, and the diffusion tasks (revise, create, generate a thumbnail) for the user."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel,
                               QLineEdit, QListWidget, QListWidgetItem, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

FEEDBACK_MARKS = {"like": "♥ liked", "dislike": "✕ disliked"}
# The user signals of core.diffusion.service.SIGNALS (importing it loads torch), with labels.
SIGNAL_CHOICES = (("User_Hist", "the mean of the user's liked thumbnails"),
                  ("User_Emb", "the trained recommender's taste: the thumbnails it ranks first"),
                  ("both", "User_Hist and User_Emb"), ("none", "no user signal (unconditional)"))

BUNDLED_LABEL = "Model: bundled video model"


class UsersDock(QWidget):
    user_selected = Signal(str)
    instruction_sent = Signal(str)
    revise_requested = Signal()
    create_requested = Signal()
    thumbnail_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search users")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.users = QListWidget()
        self.users.setMaximumHeight(150)
        self.users.currentItemChanged.connect(
            lambda item, _prev: item is not None and self.user_selected.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.summary = QLabel("Pick a user to see their profile.")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.history = QListWidget()
        self.history.setViewMode(QListWidget.ViewMode.IconMode)
        self.history.setIconSize(QSize(72, 72))
        self.history.setGridSize(QSize(96, 104))
        self.history.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.history.setMovement(QListWidget.Movement.Static)
        self.instruction = QLineEdit(placeholderText="Instruction, e.g. “only the part with the red star”")
        self.send = QPushButton("Send")
        self.last_instruction = ""
        self.answer = QLabel("")
        self.answer.setWordWrap(True)
        self.answer.setTextFormat(Qt.TextFormat.RichText)
        self.send.clicked.connect(self._send)
        self.instruction.returnPressed.connect(self._send)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.users)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("<b>History</b> (liked and disliked)"))
        layout.addWidget(self.history, 1)
        row = QHBoxLayout()
        row.addWidget(self.instruction, 1)
        row.addWidget(self.send)
        layout.addLayout(row)
        layout.addWidget(self.answer)
        layout.addWidget(self._diffusion_box())

    def _diffusion_box(self) -> QWidget:
        """Signal, strength and steps, and one button per diffusion task (the shortcuts are
        the Generate menu's)."""
        self.signal = QComboBox()
        for n, (name, meaning) in enumerate(SIGNAL_CHOICES):
            self.signal.addItem(name, name)
            self.signal.setItemData(n, meaning, Qt.ItemDataRole.ToolTipRole)
        self.signal.setToolTip("Which of the user's signals steers the model")
        # 0 stands for the service's default strength and steps.
        self.strength = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2,
                                       prefix="strength ", specialValueText="strength: default")
        self.strength.setToolTip("Revision strength: how far the revision may depart from the source")
        self.steps = QSpinBox(minimum=0, maximum=1000, prefix="steps ",
                              specialValueText="steps: default")
        self.steps.setToolTip("Denoising steps")
        self.revise_button = QPushButton("AI revise")
        self.revise_button.setToolTip("Revise the selected item toward this user's taste "
                                      "(Ctrl+Shift+R)")
        self.create_button = QPushButton("AI create")
        self.create_button.setToolTip("Create a new video from the instruction text and the "
                                      "user's signal (Ctrl+Shift+N)")
        self.thumbnail_button = QPushButton("AI thumbnail")
        self.thumbnail_button.setToolTip("Generate a thumbnail of the selected item for this user "
                                         "(Ctrl+Shift+T)")
        self.revise_button.clicked.connect(self.revise_requested)
        self.create_button.clicked.connect(self.create_requested)
        self.thumbnail_button.clicked.connect(self.thumbnail_requested)
        self.model = QComboBox()
        self.model.addItem(BUNDLED_LABEL, None)
        self.model.setToolTip("What revises and creates: the bundled video model, or a "
                              "pretrained diffusers pipeline found in the pipelines folder "
                              "(Settings)")
        box = QWidget()    # no frame or title: the dock must fit a 950-pixel-high screen
        box.setToolTip("The diffusion models (Generate menu: Ctrl+Shift+R, N, T)")
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.model, 0, 0, 1, 3)
        for column, widget in enumerate((self.signal, self.strength, self.steps)):
            grid.addWidget(widget, 1, column)
        for column, button in enumerate((self.revise_button, self.create_button,
                                         self.thumbnail_button)):
            grid.addWidget(button, 2, column)
        return box

    def set_pipelines(self, pipelines: list) -> None:
        """The usable pipeline folders (core.diffusion.pipelines.PipelineInfo) to choose from;
        the choice survives a refresh when its folder is still there."""
        chosen = self.model.currentData()
        self.model.blockSignals(True)
        while self.model.count() > 1:
            self.model.removeItem(1)
        for info in pipelines:
            if info.error is None:
                self.model.addItem(f"{Path(info.path).name}: {info.summary}", info.path)
                self.model.setItemData(self.model.count() - 1, f"{info.class_name}\n{info.path}",
                                       Qt.ItemDataRole.ToolTipRole)
        self.model.setCurrentIndex(max(self.model.findData(chosen), 0) if chosen else 0)
        self.model.blockSignals(False)

    def diffusion_options(self, names: tuple[str, ...]) -> dict:
        """Those of signal, strength, steps and pipeline that a task takes; strength and steps
        only where the operator set them (otherwise the service's defaults apply), the pipeline
        only where one is chosen instead of the bundled model."""
        options = {"signal": self.signal.currentData(),
                   "strength": round(self.strength.value(), 2) or None,
                   "steps": self.steps.value() or None, "pipeline": self.model.currentData()}
        return {k: v for k, v in options.items() if k in names and v is not None}

    def instruction_text(self) -> str:
        """The text in the instruction box, else the instruction sent last."""
        return self.instruction.text().strip() or self.last_instruction

    def set_users(self, users: list[dict]) -> None:
        current = self.current_user()
        self.users.blockSignals(True)
        self.users.clear()
        for user in users:
            attrs = user["attributes"]
            detail = ", ".join(f"{k} {v}" for k, v in attrs.items() if k in ("age", "group"))
            item = QListWidgetItem(f"{user['id']}  {detail}".strip())
            item.setData(Qt.ItemDataRole.UserRole, user["id"])
            self.users.addItem(item)
        self.users.blockSignals(False)
        if current:
            self.select(current)

    def current_user(self) -> str:
        item = self.users.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else ""

    def select(self, user_id: str) -> None:
        for row in range(self.users.count()):
            if self.users.item(row).data(Qt.ItemDataRole.UserRole) == user_id:
                self.users.setCurrentRow(row)
                return

    def _filter(self, text: str) -> None:
        for row in range(self.users.count()):
            item = self.users.item(row)
            item.setHidden(text.lower() not in item.text().lower())

    def show_profile(self, summary: dict, history: list[dict]) -> None:
        feedback = summary["feedback"]
        lines = [", ".join(f"{feedback.get(k, 0)} {k}s" for k in ("like", "dislike", "click"))]
        if summary["top_categories"]:
            lines.append("Likes most: " + ", ".join(summary["top_categories"]))
        truth = summary.get("truth")
        if truth:
            prefers = ", ".join(truth["colours"] + truth["shapes"] + truth["scenes"])
            lines.append(f"<span style='color:gray'>Demo ground truth: prefers {prefers}</span>")
        self.summary.setText("<br>".join(lines))
        self.history.clear()
        for row in history:
            if row["kind"] not in FEEDBACK_MARKS:
                continue
            item = QListWidgetItem(f"{FEEDBACK_MARKS[row['kind']]}\n{row['item_id']}")
            item.setToolTip(f"{row['title']} ({row['split']})")
            pixmap = QPixmap(row["thumbnail_path"] or "")
            if pixmap.isNull():
                pixmap = QPixmap(72, 72)
                pixmap.fill(QColor(200, 200, 200))
            item.setIcon(QIcon(pixmap))
            self.history.addItem(item)

    def show_answer(self, response: dict) -> None:
        """The instructor's decision, and its question where it asks one."""
        params = ", ".join(f"{k} {v}" for k, v in response["parameters"].items() if v)
        text = (f"<b>Instructor:</b> {response['decision']} · {response['intent']}"
                f"{' (' + params + ')' if params else ''}<br><span style='color:gray'>"
                f"{response['reason']}</span>")
        if response["question"]:
            text += f"<br><b>{response['question']}</b>"
        self.answer.setText(text)

    def _send(self) -> None:
        text = self.instruction.text().strip()
        if text:
            self.last_instruction = text
            self.instruction_sent.emit(text)
            self.instruction.clear()
