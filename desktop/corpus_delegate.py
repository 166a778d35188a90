"""Paints one corpus tile: thumbnail (or a placeholder while it loads), title, badges."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from desktop.corpus_model import THUMB_SIZE, item_of

PADDING = 6
TEXT_LINES = 2
BADGE_COLOURS = {"failed": QColor(200, 40, 40), "pending": QColor(200, 140, 0),
                 "ai": QColor(90, 60, 200), "no-media": QColor(110, 110, 110)}


class CorpusDelegate(QStyledItemDelegate):
    def sizeHint(self, option, index) -> QSize:  # noqa: N802 - Qt API
        line = QFontMetrics(option.font).lineSpacing()
        return QSize(THUMB_SIZE.width() + 2 * PADDING,
                     THUMB_SIZE.height() + TEXT_LINES * line + 3 * PADDING)

    def paint(self, painter: QPainter, option, index) -> None:
        item = item_of(index)
        painter.save()
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(option.rect, palette.color(QPalette.ColorRole.Highlight))
        thumb_rect = QRect(option.rect.x() + PADDING, option.rect.y() + PADDING,
                           THUMB_SIZE.width(), THUMB_SIZE.height())
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is None:
            painter.fillRect(thumb_rect, palette.color(QPalette.ColorRole.Midlight))
        else:
            target = pixmap.rect()
            target.moveCenter(thumb_rect.center())
            painter.drawPixmap(target, pixmap)
        badge = item["status"] if item["status"] != "ok" else (
            "ai" if item.get("source") == "ai" else None)
        if badge:
            self._badge(painter, thumb_rect, badge.upper(), BADGE_COLOURS[badge])
        text_rect = QRect(option.rect.x() + PADDING, thumb_rect.bottom() + PADDING,
                          THUMB_SIZE.width(), option.rect.bottom() - thumb_rect.bottom() - PADDING)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        metrics = QFontMetrics(option.font)
        title = metrics.elidedText(item["title"], Qt.TextElideMode.ElideRight,
                                   THUMB_SIZE.width() * TEXT_LINES - metrics.averageCharWidth())
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap, title)
        painter.restore()

    @staticmethod
    def _badge(painter: QPainter, rect: QRect, text: str, colour: QColor) -> None:
        metrics = painter.fontMetrics()
        box = QRect(rect.x() + 4, rect.y() + 4, metrics.horizontalAdvance(text) + 10,
                    metrics.height() + 4)
        painter.fillRect(box, colour)
        painter.setPen(Qt.GlobalColor.white)
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
