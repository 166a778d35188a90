"""The corpus as a list model; thumbnails load lazily off the GUI thread and are cached."""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import (QAbstractListModel, QAbstractProxyModel, QModelIndex, QObject,
                            QRunnable, QSize, Qt, QThreadPool, Signal)
from PySide6.QtGui import QImage, QPixmap

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
    """The item dict behind an index of the model or of a proxy over it. Dicts are read from
    the model directly: passed through QVariant, PySide6 6.12 miscounts their references."""
    model = index.model()
    while isinstance(model, QAbstractProxyModel):
        index = model.mapToSource(index)
        model = index.model()
    return model.item_at(index.row())


class CorpusModel(QAbstractListModel):
    """Items as dicts (from core.store.corpus.list_items); decoration loaded on demand."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[dict[str, Any]] = []
        self._row_of: dict[str, int] = {}
        self._pixmaps: dict[str, QPixmap] = {}
        self._requested: set[str] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._signals = _ThumbnailSignals()
        self._signals.loaded.connect(self._on_loaded)

    def set_items(self, items: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._items = items
        self._row_of = {item["id"]: row for row, item in enumerate(items)}
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802 - Qt API
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item["title"] if item["status"] == "ok" else f"{item['title']} ({item['status']})"
        if role == Qt.ItemDataRole.ToolTipRole:
            if item["status"] == "no-media":
                return f"{item['id']}: {item['title']} (no video: tasks that need frames are unavailable)"
            return item.get("error") or f"{item['id']}: {item['title']}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._thumbnail(item)
        if role == ItemIdRole:
            return item["id"]
        return None

    def item_at(self, row: int) -> dict[str, Any]:
        return self._items[row]

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
        if image.isNull() or item_id not in self._row_of:
            return
        self._pixmaps[item_id] = QPixmap.fromImage(image)
        index = self.index(self._row_of[item_id])
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    def wait_for_thumbnails(self, msecs: int = 5000) -> bool:
        return self._pool.waitForDone(msecs)
