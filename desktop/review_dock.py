"""The Review dock: generations to judge, one card per fidelity check, and approve / reject /
skip by keyboard (A, R, S; J and K move between items). Decisions go through core's rules.
Each card shows its evidence: boxes drawn on thumbnails of the frames they refer to (decoded
off the GUI thread) and matched text highlighted in its context."""
from __future__ import annotations

import html
import json

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPen, QPixmap, QShortcut
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QScrollArea, QVBoxLayout, QWidget)

from core.errors import GenerecError
from core.fidelity import CHECK_NAMES
from core.fidelity.evidence import frame_rgb, frames_with_boxes, text_excerpts
from desktop.workers import JobRunner, JobWorker

STATUS_STYLE = {"pass": "#2e8b57", "warn": "#d08a00", "fail": "#c62828", "error": "#6a1b9a",
                None: "#808080"}
BOX_COLOUR = "#ff1744"
HIGHLIGHT = "#ffd54f"
THUMB_WIDTH = 104   # three side by side fit the Review dock's default width
MAX_THUMBS = 3      # frames with boxes shown per card
MAX_SPANS = 5
FRAME_CACHE = 32


def boxed_thumbnail(rgb: np.ndarray, boxes: list[dict], width: int = THUMB_WIDTH) -> QPixmap:
    """The frame scaled to `width` (never up) with each box and its label drawn over it."""
    rgb = np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8)
    h, w = rgb.shape[:2]
    scale = min(1.0, width / w)
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).scaled(
        max(1, round(w * scale)), max(1, round(h * scale)), Qt.AspectRatioMode.IgnoreAspectRatio,
        Qt.TransformationMode.SmoothTransformation).convertToFormat(QImage.Format.Format_RGB32)
    painter = QPainter(image)
    font = painter.font()
    font.setPixelSize(10)
    painter.setFont(font)
    for box in boxes:
        x, y, bw, bh = (float(v) * scale for v in box["box"])
        painter.setPen(QPen(QColor(BOX_COLOUR), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(x, y, bw, bh))
        caption = " ".join(str(part) for part in (
            str(box.get("label", "")).replace("_", " ").lower(),
            f"{box['score']:.2f}" if box.get("score") is not None else "") if part)
        if caption:
            text_w = painter.fontMetrics().horizontalAdvance(caption) + 4
            left = max(0.0, min(x - 1, image.width() - text_w))     # keep the label on the image
            top = y - 12 if y >= 12 else min(y + bh, image.height() - 12)
            painter.fillRect(QRectF(left, top, text_w, 12), QColor(BOX_COLOUR))
            painter.setPen(QColor("white"))
            painter.drawText(QRectF(left + 2, top, text_w, 12), Qt.AlignmentFlag.AlignVCenter, caption)
    painter.end()
    return QPixmap.fromImage(image)


def highlighted(excerpt: dict) -> str:
    """Rich text: where, then the excerpt with the match on a coloured background."""
    return (f"<i>{html.escape(excerpt['where'])}</i>: {html.escape(excerpt['before'])}"
            f"<span style='background-color:{HIGHLIGHT}'>{html.escape(excerpt['match'])}</span>"
            f"{html.escape(excerpt['after'])}")


class CheckCard(QFrame):
    def __init__(self, name: str, check: dict | None, texts: dict | None = None,
                 parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.name = name
        status = check["status"] if check else None
        colour = STATUS_STYLE[status]
        evidence = check["evidence"] if check and isinstance(check["evidence"], dict) else {}
        text = (f"<b>{name.replace('_', ' ')}</b> <span style='color:{colour}'>"
                f"{status.upper() if status else 'not run yet'}</span>")
        if check:
            if check.get("score") is not None:
                text += f" · score {check['score']:.2f}"
            if check["blocking"]:
                text += " · blocking"
            if evidence.get("text"):
                text += f"<br><span style='color:gray'>{html.escape(str(evidence['text']))}</span>"
        layout = QVBoxLayout(self)
        layout.addWidget(self._rich(text))
        if check:
            self.setToolTip(json.dumps(check["evidence"], indent=1, default=str)[:2000])
        self.spans = None
        excerpts = text_excerpts((evidence.get("spans") or [])[:MAX_SPANS], texts or {})
        if excerpts:
            self.spans = self._rich("<br>".join(highlighted(e) for e in excerpts))
            layout.addWidget(self.spans)
        self.boxes = frames_with_boxes(evidence)
        self.thumbnails: dict[int, QLabel] = {}
        if self.boxes:
            row = QHBoxLayout()
            for index in list(self.boxes)[:MAX_THUMBS]:
                thumb = QLabel(f"frame {index}…")
                thumb.setFixedSize(THUMB_WIDTH, THUMB_WIDTH * 3 // 4)
                thumb.setWordWrap(True)
                thumb.setToolTip("\n".join(f"frame {index}: {b.get('label', '')} {b['box']}"
                                            for b in self.boxes[index]))
                self.thumbnails[index] = thumb
                row.addWidget(thumb)
            row.addStretch(1)
            layout.addLayout(row)
            if len(self.boxes) > MAX_THUMBS:
                layout.addWidget(self._rich(f"<span style='color:gray'>boxes on {len(self.boxes)} "
                                            f"frames; the first {MAX_THUMBS} shown</span>"))
        self.status = status

    @staticmethod
    def _rich(text: str) -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        return label

    def show_frame(self, index: int, rgb: np.ndarray) -> None:
        pixmap = boxed_thumbnail(rgb, self.boxes[index])
        self.thumbnails[index].setFixedSize(pixmap.size())
        self.thumbnails[index].setPixmap(pixmap)

    def frame_failed(self, index: int, message: str) -> None:
        self.thumbnails[index].setText(f"frame {index}: {message}")


def _decode(key: tuple[str, int]) -> tuple:
    """(key, frame, "") or (key, None, why): a card shows the reason instead of the frame."""
    try:
        return key, frame_rgb(*key), ""
    except Exception as exc:  # noqa: BLE001 - shown on the card, never a traceback
        return key, None, str(exc) if isinstance(exc, GenerecError) else f"{type(exc).__name__}: {exc}"


class ReviewDock(QWidget):
    generation_selected = Signal(str)
    decision_requested = Signal(str, str, str)     # generation id, decision, reason
    export_requested = Signal(str)                 # generation id
    recheck_requested = Signal()                   # re-run the checks of the current one

    def __init__(self, parent=None, runner: JobRunner | None = None) -> None:
        super().__init__(parent)
        self.runner = runner or JobRunner(self)   # decodes the frames that boxes are drawn on
        self._frames: dict[tuple[str, int], np.ndarray] = {}
        self._waiting: dict[tuple[str, int], list[CheckCard]] = {}
        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._on_current)
        self.cards = QGridLayout()
        cards = QWidget()
        cards.setLayout(self.cards)
        self.cards_area = QScrollArea()
        self.cards_area.setWidgetResizable(True)
        self.cards_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cards_area.setWidget(cards)
        self.cards_area.setMinimumHeight(170)
        self.check_state = QLabel()
        self.check_state.setWordWrap(True)
        self.check_state.setStyleSheet(f"color: {STATUS_STYLE['fail']}")
        self.recheck = QPushButton("Re-run checks")
        self.recheck.setToolTip("Run every fidelity check again on this generation (Ctrl+Shift+K)")
        self.recheck.clicked.connect(self.recheck_requested.emit)
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
        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Fidelity checks</b>"), 1)
        header.addWidget(self.recheck)
        layout.addLayout(header)
        layout.addWidget(self.check_state)
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
            item = QListWidgetItem(
                f"[{g['status']}] {g['task']} · {g['item_id'] or 'new item'} · {g['user_id'] or 'no user'}")
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

    def show_checks(self, checks: list[dict], sources: dict | None = None,
                    not_current: str = "") -> None:
        """One card per check; `sources` (core.fidelity.evidence.evidence_sources) holds the
        output file that boxes refer to and the texts that spans refer to; `not_current` says
        why the checks do not allow approval yet (missing, stale, errored)."""
        sources = sources or {}
        self.check_state.setText(f"Approval needs current checks: {not_current}" if not_current else "")
        self.check_state.setVisible(bool(not_current))
        while self.cards.count():
            self.cards.takeAt(0).widget().deleteLater()
        self._waiting = {}
        by_name = {c["name"]: c for c in checks}
        names = list(CHECK_NAMES) + [n for n in by_name if n not in CHECK_NAMES]
        for k, name in enumerate(names):
            card = CheckCard(name, by_name.get(name), sources.get("texts"))
            self.cards.addWidget(card, k, 0)   # one column: the dock is narrow
            for index in card.thumbnails:
                self._request_frame(card, sources.get("output_path"), index)

    def _request_frame(self, card: CheckCard, path: str | None, index: int) -> None:
        if not path:
            card.frame_failed(index, "the generation has no output file")
            return
        key = (path, index)
        if key in self._frames:
            card.show_frame(index, self._frames[key])
            return
        if key in self._waiting:
            self._waiting[key].append(card)
            return
        self._waiting[key] = [card]
        worker = JobWorker(lambda _progress: _decode(key))
        worker.succeeded.connect(self._on_frame)   # a bound slot: runs on the GUI thread
        self.runner.start(worker)

    def _on_frame(self, result: tuple) -> None:
        key, rgb, message = result
        if rgb is not None:
            if len(self._frames) >= FRAME_CACHE:
                self._frames.pop(next(iter(self._frames)))
            self._frames[key] = rgb
        for card in self._waiting.pop(key, []):
            if rgb is not None:
                card.show_frame(key[1], rgb)
            else:
                card.frame_failed(key[1], message)

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
