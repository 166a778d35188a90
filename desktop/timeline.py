"""A video's timeline with the personalized clip's range highlighted and a playhead."""
from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QWidget


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{seconds % 60:05.2f}"


class ClipTimeline(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.duration = 0.0
        self.clip: tuple[float, float] | None = None
        self.segments: list[tuple[float, float]] = []
        self.position: float | None = None
        self.setMinimumHeight(46)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(400, 46)

    def set_video(self, duration: float, segments: list[tuple[float, float]] | None = None) -> None:
        self.duration, self.segments, self.clip, self.position = duration, segments or [], None, None
        self.update()

    def set_clip(self, start: float, end: float) -> None:
        self.clip = (start, end)
        self.update()

    def set_position(self, seconds: float | None) -> None:
        self.position = seconds
        self.update()

    def _x(self, seconds: float, bar: QRectF) -> float:
        return bar.left() + bar.width() * (seconds / self.duration if self.duration else 0)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = QRectF(8, 6, self.width() - 16, 14)
        painter.fillRect(bar, QColor(210, 210, 215))
        for k, (start, end) in enumerate(self.segments):   # alternate shading per segment
            if k % 2:
                painter.fillRect(QRectF(self._x(start, bar), bar.top(),
                                        self._x(end, bar) - self._x(start, bar), bar.height()),
                                 QColor(190, 190, 198))
        label = f"0:00.00 – {_clock(self.duration)}"
        if self.clip and self.duration:
            start, end = self.clip
            painter.fillRect(QRectF(self._x(start, bar), bar.top() - 3,
                                    max(2.0, self._x(end, bar) - self._x(start, bar)),
                                    bar.height() + 6), QColor(230, 120, 20))
            label = f"personalized clip {_clock(start)} – {_clock(end)} of {_clock(self.duration)}"
        if self.position is not None and self.duration:
            x = self._x(self.position, bar)
            painter.setPen(QColor(20, 20, 20))
            painter.drawLine(int(x), int(bar.top()) - 5, int(x), int(bar.bottom()) + 5)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(QRectF(8, bar.bottom() + 6, self.width() - 16, 18),
                         Qt.AlignmentFlag.AlignLeft, label)
