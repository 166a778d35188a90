"""The Corpus dock: the virtualised grid with a text filter, filters for source, status and
licence, and a sort by the selected user's predicted preference.

Which rows show, in which order, is core.corpus.browser.visible_rows over the corpus's
columns: inline for a small corpus, in a worker thread for a large one, where only the newest
answer is shown (typing "abc" quickly asks three times)."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLineEdit, QVBoxLayout, QWidget

from core.corpus.browser import ANY, ItemColumns, ItemQuery, visible_rows
from desktop.corpus_model import CorpusModel, ItemIdRole
from desktop.corpus_view import CorpusView
from desktop.workers import JobRunner, JobWorker

if TYPE_CHECKING:
    from core.recommender.content import ScoreTable

# Up to this many items the rows are chosen on the GUI thread: it takes under 5 ms, and the
# grid then never shows a stale filter. Larger corpora choose them in a worker.
INLINE_ITEMS = 20_000


@dataclass(frozen=True)
class RowsAnswer:
    """The rows a query shows; `asked` tells the answer to the newest question from older ones,
    `aligned` the scores aligned with `columns` (computed once per columns and scores)."""
    asked: int
    columns: ItemColumns
    scores: ScoreTable | None
    rows: np.ndarray
    aligned: np.ndarray | None


def choose_rows(asked: int, columns: ItemColumns, query: ItemQuery,
                scores: ScoreTable | None, aligned: np.ndarray | None) -> RowsAnswer:
    if query.by_preference and scores is not None and aligned is None:
        aligned = columns.align(scores.item_ids, scores.values)
    return RowsAnswer(asked, columns, scores, visible_rows(columns, query, aligned), aligned)


class CorpusDock(QWidget):
    item_selected = Signal(str)
    rows_shown = Signal(int)      # the grid shows this many rows for the current query

    def __init__(self, parent=None, runner: JobRunner | None = None) -> None:
        super().__init__(parent)
        self.runner = runner or JobRunner(self)
        self.query = ItemQuery()
        self.scores: ScoreTable | None = None            # the selected user's
        self._aligned: tuple | None = None               # (columns, scores, aligned array)
        self._asked = 0
        self.model = CorpusModel(self)
        self.view = CorpusView(self)
        self.view.setModel(self.model)
        self.search = QLineEdit(placeholderText="Filter titles (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda text: self.set_query(text=text))
        self.source = self._combo("source", [ANY, "human", "ai"])
        self.status = self._combo("status", [ANY, "ok", "failed", "pending", "no-media"])
        self.licence = self._combo("licence", [ANY])
        self.sort = QComboBox()
        self.sort.addItems(["Sort: title", "Sort: predicted preference"])
        self.sort.setToolTip("Predicted preference of the selected user: the trained MMGCN's "
                             "score, or, before one is trained, the similarity of the item's "
                             "frames to the thumbnails the user liked")
        self.sort.currentIndexChanged.connect(lambda k: self.set_query(by_preference=k == 1))
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
        self.selected: str | None = None       # kept while a filter hides it
        self.view.selectionModel().currentChanged.connect(self._on_current)

    def _on_current(self, current, _previous) -> None:
        if current.isValid():
            self.selected = current.data(ItemIdRole)
            self.item_selected.emit(self.selected)

    def _combo(self, field: str, values: list[str]) -> QComboBox:
        combo = QComboBox()
        combo.setToolTip(f"Filter by {field}")
        combo.addItems([f"{field}: {v}" for v in values])
        combo.currentTextChanged.connect(
            lambda text: text and self.set_query(**{field: text.split(": ", 1)[1]}))
        return combo

    def set_columns(self, columns: ItemColumns) -> None:
        """A (re)loaded corpus: the licence filter offers its licences; rows follow."""
        current = self.licence.currentText()
        self.licence.blockSignals(True)
        self.licence.clear()
        self.licence.addItems([f"licence: {v}" for v in
                               [ANY, *columns.categories["licence"].values]])
        self.licence.setCurrentText(current if self.licence.findText(current) >= 0 else "licence: any")
        self.licence.blockSignals(False)
        self.query = replace(self.query, licence=self.licence.currentText().split(": ", 1)[1])
        self._ask(columns)

    def set_scores(self, scores: ScoreTable | None) -> None:
        """Predicted preferences of the selected user, used when that sort is chosen."""
        self.scores = scores
        if self.query.by_preference:
            self._ask()

    def set_query(self, **changes) -> None:
        self.query = replace(self.query, **changes)
        self._ask()

    def _ask(self, columns: ItemColumns | None = None) -> None:
        columns = columns if columns is not None else self.model.columns   # empty is falsy
        if columns is None:
            return
        self._asked += 1
        cached = self._aligned
        aligned = cached[2] if cached and cached[0] is columns and cached[1] is self.scores else None
        args = (self._asked, columns, self.query, self.scores, aligned)
        if len(columns) <= INLINE_ITEMS:
            self._show(choose_rows(*args))
            return
        worker = JobWorker(lambda _progress: choose_rows(*args))
        worker.succeeded.connect(self._show)
        self.runner.start(worker)

    def _show(self, answer: RowsAnswer) -> None:
        if answer.asked != self._asked:
            return                            # a newer question is on its way
        if answer.aligned is not None:
            self._aligned = (answer.columns, answer.scores, answer.aligned)
        self.model.set_rows(answer.columns, answer.rows)
        row = self.model.row_of(self.selected) if self.selected else None
        if row is not None:       # the selection survives a new filter or order, or comes back
            self.view.setCurrentIndex(self.model.index(row))
            self.view.scrollTo(self.model.index(row))
        self.rows_shown.emit(len(answer.rows))

    def current_item(self) -> str | None:
        index = self.view.currentIndex()
        return index.data(ItemIdRole) if index.isValid() else None

    def select_first(self) -> None:
        if self.model.rowCount() and not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.model.index(0))

    def select_item(self, item_id: str) -> None:
        row = self.model.row_of(item_id)
        if row is not None:
            self.view.setCurrentIndex(self.model.index(row))
            self.view.scrollTo(self.model.index(row))
