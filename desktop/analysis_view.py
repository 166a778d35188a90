"""The Evaluation view: the last evaluation report as tables (intervals shown) and a bar chart
per task, and the last fairness report as approval and pass rates per user group."""
from __future__ import annotations

from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QScrollArea, QTableWidget,
                               QTableWidgetItem, QTabWidget, QVBoxLayout, QWidget)

from core.evaluation.report import report_tables
from desktop.charts import grouped_bars, interval_bars


def cell_text(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, dict):
        lo, hi = value.get("ci95") or (value["mean"], value["mean"])
        return f"{value['mean']:.3f} [{lo:.2f}, {hi:.2f}]"
    return f"{value:.4f}"


def _table(headers: list[str], rows: list[tuple[str, list]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers) + 1)
    table.setHorizontalHeaderLabels(["method", *headers])
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    for r, (method, values) in enumerate(rows):
        table.setItem(r, 0, QTableWidgetItem(method))
        for c, value in enumerate(values):
            table.setItem(r, c + 1, QTableWidgetItem(cell_text(value)))
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth() + sum(
        table.rowHeight(r) for r in range(len(rows)))
    table.setFixedHeight(min(height + 2, 320))
    return table


class _Page(QScrollArea):
    """A scrolling column of widgets, replaced as a whole when a new report arrives."""

    def __init__(self, empty_text: str, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.empty_text = empty_text
        self.clear()

    def clear(self) -> QVBoxLayout:
        body = QWidget()
        self.column = QVBoxLayout(body)
        self.setWidget(body)
        return self.column

    def show_empty(self) -> None:
        column = self.clear()
        label = QLabel(self.empty_text)
        label.setWordWrap(True)
        column.addWidget(label)
        column.addStretch(1)


class AnalysisView(QTabWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.evaluation = _Page("No evaluation yet. Analyse → Evaluate personalization "
                                "(Ctrl+Shift+L) runs one as a job; its report shows here.")
        self.fairness = _Page("No fairness report yet. Analyse → Fairness report computes "
                              "approval and pass rates per user group.")
        self.addTab(self.evaluation, "Evaluation")
        self.addTab(self.fairness, "Fairness")
        self.evaluation.show_empty()
        self.fairness.show_empty()
        self.tables: list[QTableWidget] = []

    def show_evaluation(self, report: dict | None) -> None:
        if not report:
            self.evaluation.show_empty()
            return
        column = self.evaluation.clear()
        self.tables = []
        header = QLabel(f"<b>Evaluation</b> · encoder {report.get('encoder', '?')} · "
                        f"{report.get('users', '?')} users · {report.get('runs', '?')} runs · "
                        "mean [95% interval]")
        header.setWordWrap(True)
        column.addWidget(header)
        for table in report_tables(report):
            column.addWidget(QLabel(f"<b>{table['task']}</b>"))
            if "skipped" in table:
                column.addWidget(QLabel(f"skipped: {table['skipped']}"))
                continue
            widget = _table(table["headers"], table["rows"])
            self.tables.append(widget)
            column.addWidget(widget)
            if table["headers"] and table["rows"]:
                # chart the first measure that carries intervals, else the first one
                with_ci = [c for c in range(len(table["headers"]))
                           if any(isinstance(values[c], dict) for _, values in table["rows"])]
                c = with_ci[0] if with_ci else 0
                column.addWidget(interval_bars(
                    f"{table['task']}: {table['headers'][c]}" + (" (95% interval)" if with_ci else ""),
                    [method for method, _ in table["rows"]],
                    [values[c] for _, values in table["rows"]]))
        column.addStretch(1)

    def show_fairness(self, report: dict | None) -> None:
        if not report:
            self.fairness.show_empty()
            return
        column = self.fairness.clear()
        column.addWidget(QLabel(f"<b>Fairness</b> · {report['generations']} generations"))
        for attribute, entry in report["attributes"].items():
            groups = list(entry["groups"])
            column.addWidget(grouped_bars(
                f"{attribute}: approval gap {entry['approved_gap']}, pass gap {entry['passed_gap']}",
                groups,
                {"approved": [entry["groups"][g]["approved_rate"] for g in groups],
                 "passed checks": [entry["groups"][g]["passed_rate"] for g in groups]},
                y_max=1.0))
        for flag in report.get("flags", []):
            warning = QLabel(f"⚠ {flag}")
            warning.setWordWrap(True)
            column.addWidget(warning)
        column.addStretch(1)
