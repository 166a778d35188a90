"""Charts drawn with QtCharts (PySide6's Addons): loss curves, bars with their 95% intervals
(a whisker per bar), and grouped bars. Views only: the numbers come from core's reports."""
from __future__ import annotations

import re

from PySide6.QtCharts import (QBarCategoryAxis, QBarSeries, QBarSet, QBoxPlotSeries, QBoxSet,
                              QChart, QChartView, QLineSeries, QScatterSeries, QValueAxis)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter

LOSS_IN_MESSAGE = re.compile(r"loss (-?\d+(?:\.\d+)?(?:e-?\d+)?)")


def loss_from_message(message: str) -> float | None:
    """Trainers report `... loss 0.1234` in their progress messages."""
    found = LOSS_IN_MESSAGE.search(message or "")
    return float(found.group(1)) if found else None


def _view(chart: QChart) -> QChartView:
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(220)
    return view


class LossChart(QChartView):
    """One line per training run: loss against step; `append` adds a live point."""

    def __init__(self, title: str = "Training loss", parent=None) -> None:
        self.chart_ = QChart()
        self.chart_.setTitle(title)
        super().__init__(self.chart_, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(260)
        self.x_axis, self.y_axis = QValueAxis(), QValueAxis()
        self.x_axis.setTitleText("step")
        self.y_axis.setTitleText("loss")
        self.x_axis.setLabelFormat("%d")
        self.chart_.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart_.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.series: dict[str, QLineSeries] = {}

    def clear(self) -> None:
        self.chart_.removeAllSeries()
        self.series = {}

    def set_curve(self, name: str, points) -> None:
        line = self._line(name)
        line.clear()
        for step, loss in points:
            line.append(float(step), float(loss))
        self._rescale()

    def append(self, name: str, step: float, loss: float) -> None:
        self._line(name).append(float(step), float(loss))
        self._rescale()

    def _line(self, name: str) -> QLineSeries:
        if name not in self.series:
            line = QLineSeries()
            line.setName(name)
            self.chart_.addSeries(line)
            line.attachAxis(self.x_axis)
            line.attachAxis(self.y_axis)
            self.series[name] = line
        return self.series[name]

    def _rescale(self) -> None:
        points = [p for line in self.series.values() for p in line.points()]
        if not points:
            return
        xs, ys = [p.x() for p in points], [p.y() for p in points]
        self.x_axis.setRange(min(xs), max(max(xs), min(xs) + 1))
        low, high = min(ys), max(ys)
        pad = (high - low) * 0.05 or abs(high) * 0.05 or 0.1
        self.y_axis.setRange(low - pad, high + pad)

    def point_count(self) -> int:
        return sum(line.count() for line in self.series.values())


def interval_bars(title: str, categories: list[str], values: list[dict | float | None],
                  y_title: str = "") -> QChartView:
    """A bar per category; where a value is {"mean", "ci95": [lo, hi]}, its interval is drawn
    as a whisker over the bar."""
    chart = QChart()
    chart.setTitle(title)
    bars = QBarSet(y_title or "mean")
    whiskers = QBoxPlotSeries()
    whiskers.setName("95% interval")
    whiskers.setBoxWidth(0.15)
    means, lows, highs = [], [], []
    for value in values:
        if isinstance(value, dict):
            mean = float(value["mean"])
            lo, hi = (float(v) for v in value.get("ci95") or (mean, mean))
        else:
            mean = lo = hi = float(value) if value is not None else 0.0
        bars.append(mean)
        means.append(mean), lows.append(lo), highs.append(hi)
        whiskers.append(QBoxSet(lo, mean, mean, mean, hi))
    series = QBarSeries()
    series.append(bars)
    chart.addSeries(series)
    has_intervals = any(lo != hi for lo, hi in zip(lows, highs))
    if has_intervals:
        chart.addSeries(whiskers)
    axis_x = QBarCategoryAxis()
    axis_x.append(categories)
    axis_y = QValueAxis()
    top = max(highs + means + [0.0])
    bottom = min(lows + means + [0.0])
    axis_y.setRange(bottom, top * 1.1 if top > 0 else 1.0)
    if y_title:
        axis_y.setTitleText(y_title)
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    for s in ([series, whiskers] if has_intervals else [series]):
        s.attachAxis(axis_x)
        s.attachAxis(axis_y)
    return _view(chart)


def grouped_bars(title: str, categories: list[str], sets: dict[str, list[float]],
                 y_max: float | None = None) -> QChartView:
    """Bars of several named sets side by side per category (e.g. approved and passed rates
    per user group)."""
    chart = QChart()
    chart.setTitle(title)
    series = QBarSeries()
    for name, numbers in sets.items():
        bar_set = QBarSet(name)
        for number in numbers:
            bar_set.append(float(number or 0.0))
        series.append(bar_set)
    chart.addSeries(series)
    axis_x = QBarCategoryAxis()
    axis_x.append(categories)
    axis_y = QValueAxis()
    top = max([float(n or 0) for numbers in sets.values() for n in numbers] + [0.0])
    axis_y.setRange(0.0, y_max if y_max is not None else (top * 1.1 or 1.0))
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(axis_x)
    series.attachAxis(axis_y)
    return _view(chart)


def ranking_chart(title: str, points: dict[str, list[tuple[int, float]]], k: int,
                  colours: dict[str, str] | None = None) -> QChartView:
    """Items of a ranking as points (position, score), one series per kind, and a dashed
    line after position k (the top-K)."""
    chart = QChart()
    chart.setTitle(title)
    axis_x, axis_y = QValueAxis(), QValueAxis()
    axis_x.setTitleText("position in the user's ranking")
    axis_x.setLabelFormat("%d")
    axis_y.setTitleText("score")
    chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis_y, Qt.AlignmentFlag.AlignLeft)
    every = [p for series in points.values() for p in series]
    xs, ys = [p[0] for p in every] or [1], [p[1] for p in every] or [0.0]
    low, high = min(ys), max(ys)
    pad = (high - low) * 0.08 or 0.1
    axis_x.setRange(0, max(max(xs), k) + 1)
    axis_y.setRange(low - pad, high + pad)
    for name, series_points in points.items():
        scatter = QScatterSeries()
        scatter.setName(name)
        scatter.setMarkerSize(9.0)
        if colours and name in colours:
            scatter.setColor(QColor(colours[name]))
        for x, y in series_points:
            scatter.append(float(x), float(y))
        chart.addSeries(scatter)
        scatter.attachAxis(axis_x)
        scatter.attachAxis(axis_y)
    cut = QLineSeries()
    cut.setName(f"top {k}")
    pen = cut.pen()
    pen.setStyle(Qt.PenStyle.DashLine)
    cut.setPen(pen)
    cut.append(k + 0.5, low - pad)
    cut.append(k + 0.5, high + pad)
    chart.addSeries(cut)
    cut.attachAxis(axis_x)
    cut.attachAxis(axis_y)
    return _view(chart)
