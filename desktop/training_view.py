"""The Training view: loss curves of the training jobs, live while one runs (points come from
the trainers' progress messages) and from the stored curve of a finished one."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.charts import LossChart, loss_from_message

TRAINING_KINDS = ("train-clip", "train-video-model", "train-thumbnail-model", "train-recommender")


class TrainingView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.status = QLabel("No training yet. Models → Train encoder, video model, thumbnail "
                             "model or recommender runs one as a job; its loss is drawn here "
                             "as it trains.")
        self.status.setWordWrap(True)
        self.chart = LossChart()
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.chart, 1)

    def on_progress(self, job) -> None:
        """A training job reported progress: add its loss at this step, if it said one."""
        loss = loss_from_message(job.message)
        self.status.setText(f"<b>{job.title}</b>: {job.message or job.state}")
        if loss is not None and job.done:
            self.chart.append(f"{job.title} ({job.id[:8]})", job.done, loss)

    def show_result(self, job) -> None:
        """A finished training job: its stored curve replaces the live points."""
        self.status.setText(f"<b>{job.title}</b>: {job.state}")
        curve = (job.result or {}).get("loss_curve") if isinstance(job.result, dict) else None
        if curve:
            self.chart.set_curve(f"{job.title} ({job.id[:8]})", curve)
