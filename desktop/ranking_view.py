"""The Ranking view: for the selected user, where approved AI items land in that user's
ranking (core.user_ranking), as points on the ranked pool and a table of their positions."""
from __future__ import annotations

from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from desktop.charts import ranking_chart

COLOURS = {"human items": "#9e9e9e", "approved AI items": "#e65100"}


class RankingView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.ranking = None
        self.pending = False     # a ranking is being computed
        self.status = QLabel("Select a user: the panel shows where approved AI items land in "
                             "that user's ranking.")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["position", "AI item", "made for", "score"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(160)
        self.chart = ranking_chart("", {}, 10)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(self.status)
        self.layout_.addWidget(self.chart, 1)
        self.layout_.addWidget(self.table)

    def show_ranking(self, ranking) -> None:
        """A core.user_ranking.UserRanking."""
        self.ranking, self.pending = ranking, False
        ai = ranking.ai_items
        if ai:
            where = (f"{len(ai)} approved AI item(s) in the pool of {len(ranking.items)}; "
                     f"{ranking.ai_in_top_k} in the top {ranking.k}, the best at position "
                     f"{ranking.best_ai_position}")
        else:
            where = (f"no approved AI item in the pool of {len(ranking.items)} yet (AI items "
                     "join the catalogue when they are exported)")
        self.status.setText(f"<b>{ranking.user_id}</b> ranked by {ranking.ranker}: {where}.")
        chart = ranking_chart(
            f"{ranking.user_id}: items not yet seen, best first",
            {"human items": [(i.position, i.score) for i in ranking.items if i.source != "ai"],
             "approved AI items": [(i.position, i.score) for i in ai]},
            ranking.k, COLOURS)
        self.layout_.replaceWidget(self.chart, chart)
        self.chart.deleteLater()
        self.chart = chart
        self.table.setRowCount(len(ai))
        for row, item in enumerate(ai):
            for column, text in enumerate((str(item.position), item.title or item.item_id,
                                           item.made_for, f"{item.score:.3f}")):
                self.table.setItem(row, column, QTableWidgetItem(text))

    def show_error(self, user_id: str, message: str) -> None:
        self.ranking, self.pending = None, False
        self.status.setText(f"<b>{user_id}</b>: no ranking: {message}")
        self.table.setRowCount(0)
