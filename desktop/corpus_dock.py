"""The Corpus dock: the virtualised grid with a text filter, filters for source, status and
licence, and a sort by the selected user's predicted preference."""
from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLineEdit, QVBoxLayout, QWidget

from desktop.corpus_model import CorpusModel, ItemIdRole
from desktop.corpus_view import CorpusView

ANY = "any"


class CorpusFilter(QSortFilterProxyModel):
    """Filters on fields of the item dicts; sorts by title or by a score per item id."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.text = ""
        self.fields: dict[str, str] = {}
        self.scores: dict[str, float] | None = None

    def set_filter(self, text: str | None = None, **fields: str) -> None:
        modern = hasattr(self, "beginFilterChange")   # Qt 6.9 replaced invalidateFilter()
        if modern:
            self.beginFilterChange()
        if text is not None:
            self.text = text.lower()
        self.fields.update(fields)
        if modern:
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802 - Qt API
        item = self.sourceModel().item_at(row)
        if self.text and self.text not in (item["title"] + " " + item["id"]).lower():
            return False
        return all(value == ANY or str(item.get(key)) == value for key, value in self.fields.items())

    def lessThan(self, left, right) -> bool:  # noqa: N802 - Qt API
        a, b = self.sourceModel().item_at(left.row()), self.sourceModel().item_at(right.row())
        if self.scores is not None:
            # highest predicted preference first; unscored items last
            return self.scores.get(a["id"], -2.0) > self.scores.get(b["id"], -2.0)
        return a["title"].lower() < b["title"].lower()


class CorpusDock(QWidget):
    item_selected = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._scores: dict[str, float] | None = None
        self.model = CorpusModel(self)
        self.proxy = CorpusFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = CorpusView(self)
        self.view.setModel(self.proxy)
        self.search = QLineEdit(placeholderText="Filter titles (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda text: self.proxy.set_filter(text))
        self.source = self._combo("source", [ANY, "human", "ai"])
        self.status = self._combo("status", [ANY, "ok", "failed", "pending", "no-media"])
        self.licence = self._combo("licence", [ANY])
        self.sort = QComboBox()
        self.sort.addItems(["Sort: title", "Sort: predicted preference"])
        self.sort.setToolTip("Predicted preference of the selected user: the trained MMGCN's "
                             "score, or, before one is trained, the similarity of the item's "
                             "frames to the thumbnails the user liked")
        self.sort.currentIndexChanged.connect(self._apply_sort)
        row = QGridLayout()
        for k, widget in enumerate((self.source, self.status, self.licence, self.sort)):
            # Two by two, narrow enough for the window to fit a 1280 x 800 screen.
            widget.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            widget.setMinimumContentsLength(8)
            row.addWidget(widget, k // 2, k % 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addLayout(row)
        layout.addWidget(self.view)
        self.view.selectionModel().currentChanged.connect(
            lambda current, _previous: current.isValid()
            and self.item_selected.emit(current.data(ItemIdRole)))

    def _combo(self, field: str, values: list[str]) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(f"Filter by {field}")
        combo.addItems([f"{field}: {v}" for v in values])
        combo.currentTextChanged.connect(
            lambda text: self.proxy.set_filter(**{field: text.split(": ", 1)[1]}))
        return combo

    def set_items(self, items: list[dict]) -> None:
        self.model.set_items(items)
        current = self.licence.currentText()
        self.licence.blockSignals(True)
        self.licence.clear()
        self.licence.addItems([f"licence: {v}" for v in
                               [ANY, *sorted({i.get("licence") or "unknown" for i in items})]])
        self.licence.setCurrentText(current if self.licence.findText(current) >= 0 else "licence: any")
        self.licence.blockSignals(False)
        self._apply_sort()

    def set_scores(self, scores: dict[str, float] | None) -> None:
        """Predicted preferences of the selected user, used when that sort is chosen."""
        self._scores = scores
        self._apply_sort()

    def _apply_sort(self) -> None:
        self.proxy.scores = self._scores if self.sort.currentIndex() == 1 else None
        self.proxy.invalidate()
        self.proxy.sort(0)

    def select_first(self) -> None:
        if self.proxy.rowCount() and not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.proxy.index(0, 0))

    def select_item(self, item_id: str) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(ItemIdRole) == item_id:
                self.view.setCurrentIndex(index)
                self.view.scrollTo(index)
                return
