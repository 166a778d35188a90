"""The corpus as a list model over columns; thumbnails load lazily off the GUI thread and are
cached."""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import (QAbstractListModel, QModelIndex, QObject, QRunnable, QSize, Qt,
                            QThreadPool, Signal)
from PySide6.QtGui import QImage, QPixmap

from core.corpus.browser import ItemColumns

THUMB_SIZE = QSize(160, 120)
ItemIdRole = Qt.ItemDataRole.UserRole + 1


class _ThumbnailSignals(QObject):
    loaded = Signal(str, QImage)


class _ThumbnailTask(QRunnable):
    def __init__(self, item_id: str, path: str, signals: _ThumbnailSignals) -> None:
        super().__init__()
        self.item_id, self.path, self.signals = item_id, path, signals

    def run(self) -> None:
        image = QImage(self.path)
        if not image.isNull():
            image = image.scaled(THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation)
        self.signals.loaded.emit(self.item_id, image)


def item_of(index: QModelIndex) -> dict[str, Any]:
    """The item dict behind an index of the model (built for the tile being painted)."""
    return index.model().item_at(index.row())


class CorpusModel(QAbstractListModel):
    """The rows of ItemColumns that the current filter and sort show, in that order (chosen
    by core.corpus.browser.visible_rows); decoration loaded on demand."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns: ItemColumns | None = None
        self._rows = np.zeros(0, dtype=np.int64)       # column index of each visible row
        self._row_of = np.zeros(0, dtype=np.int64)     # visible row of each column index, or -1
        self._pixmaps: dict[str, QPixmap] = {}
        self._requested: set[str] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._signals = _ThumbnailSignals()
        self._signals.loaded.connect(self._on_loaded)

    def set_rows(self, columns: ItemColumns, rows: np.ndarray) -> None:
        self.beginResetModel()
        self.columns, self._rows = columns, rows
        self._row_of = np.full(len(columns), -1, dtype=np.int64)
        self._row_of[rows] = np.arange(len(rows))
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == ItemIdRole:
            return self.columns.ids[self._rows[index.row()]]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
                        Qt.ItemDataRole.DecorationRole):
            return None
        item = self.item_at(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return item["title"] if item["status"] == "ok" else f"{item['title']} ({item['status']})"
        if role == Qt.ItemDataRole.ToolTipRole:
            if item["status"] == "no-media":
                return f"{item['id']}: {item['title']} (no video: tasks that need frames are unavailable)"
            return item.get("error") or f"{item['id']}: {item['title']}"
        return self._thumbnail(item)

    def item_at(self, row: int) -> dict[str, Any]:
        return self.columns.item(int(self._rows[row]))

    def row_of(self, item_id: str) -> int | None:
        """The visible row of an item; None when it is filtered out or unknown."""
        k = self.columns.position(item_id) if self.columns else None
        row = -1 if k is None else int(self._row_of[k])
        return row if row >= 0 else None

    def visible_ids(self) -> list[str]:
        return [self.columns.ids[k] for k in self._rows] if self.columns else []

    def _thumbnail(self, item: dict[str, Any]) -> QPixmap | None:
        item_id = item["id"]
        if item_id in self._pixmaps:
            return self._pixmaps[item_id]
        path = item.get("thumbnail_path")
        if path and item_id not in self._requested:
            self._requested.add(item_id)
            self._pool.start(_ThumbnailTask(item_id, path, self._signals))
        return None

    def _on_loaded(self, item_id: str, image: QImage) -> None:
        row = None if image.isNull() else self.row_of(item_id)
        if row is None:
            return
        self._pixmaps[item_id] = QPixmap.fromImage(image)
        index = self.index(row)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def wait_for_thumbnails(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)
