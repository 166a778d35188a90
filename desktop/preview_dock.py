"""The Preview: the original item beside what the generator made for the selected user —
thumbnail next to thumbnail, the clip's range on the timeline, video beside video."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from core.editor.style import PRESETS

from desktop.timeline import ClipTimeline
from desktop.video_view import LockedPlayback, VideoView


def _score_text(task: str, scores: dict) -> str:
    if "cosine" in scores:
        return f"{task} cosine {scores['cosine']:.3f}"
    if "flicker" in scores:
        return f"{task} flicker {scores['flicker']:.1f} (source {scores['source_flicker']:.1f})"
    return task


class PreviewPanel(QWidget):
    preview_requested = Signal()
    style_requested = Signal(str)     # preset name

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.header = QLabel("Select a user and an item.")
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.original_thumb = VideoView("Original thumbnail", playable=False)
        self.personal_thumb = VideoView("Personalized thumbnail", playable=False)
        self.timeline = ClipTimeline()
        self.original_video = VideoView("Original video")
        self.personal_clip = VideoView("Personalized clip")
        self.playback = LockedPlayback(self.personal_clip, self.original_video)
        self.personal_clip.position_changed.connect(self._on_clip_position)
        self.generate = QPushButton("Personalize for this user  (Ctrl+G)")
        self.generate.setShortcut(QKeySequence("Ctrl+G"))
        self.generate.clicked.connect(self.preview_requested)
        self.style = QComboBox()
        for name, preset in PRESETS.items():
            self.style.addItem(preset.label, name)
        self.style.setToolTip("Style preset")
        self.restyle = QPushButton("Restyle  (Ctrl+T)")
        self.restyle.setShortcut(QKeySequence("Ctrl+T"))
        self.restyle.clicked.connect(lambda: self.style_requested.emit(self.style.currentData()))
        self.play = QPushButton("Play side by side  (Space)")
        self.play.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play.clicked.connect(self._toggle)
        grid = QGridLayout()
        grid.addWidget(self.original_thumb, 0, 0)
        grid.addWidget(self.personal_thumb, 0, 1)
        grid.addWidget(self.original_video, 1, 0)
        grid.addWidget(self.personal_clip, 1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate)
        buttons.addWidget(self.style)
        buttons.addWidget(self.restyle)
        buttons.addWidget(self.play)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(grid, 1)
        layout.addWidget(self.timeline)
        layout.addLayout(buttons)
        self.clip_start = 0.0
        self.has_outputs = False

    def show_item(self, item: dict | None, user_id: str, segments: list, outputs: dict) -> None:
        """`outputs` maps task to the latest generation for this user and item."""
        self.has_outputs = bool(outputs)
        if item is None:
            self.header.setText("Select a user and an item.")
            return
        who = f"for <b>{user_id}</b>" if user_id else "(no user selected)"
        scores = "  ·  ".join(_score_text(task, g["scores"]) for task, g in outputs.items())
        self.header.setText(f"<b>{item['title']}</b> <span style='color:gray'>{item['id']}</span> "
                            f"{who}<br>{scores or 'Not personalized yet: press Ctrl+G.'}")
        self.original_thumb.set_poster(item.get("thumbnail_path"))
        self.original_video.set_source(item["path"], item.get("thumbnail_path"))
        self.timeline.set_video(item.get("duration_s") or 0.0, segments)
        thumb = outputs.get("thumbnail")
        self.personal_thumb.set_poster(thumb["output_path"] if thumb else None,
                                       "" if thumb else "not generated yet")
        video = max((outputs[t] for t in ("clip", "style") if t in outputs),
                    key=lambda g: g["created_at"], default=None)
        if video is None:
            self.personal_clip.caption = "Personalized clip"
            self.personal_clip.set_source(None, None, "not generated yet")
        elif video["task"] == "clip":
            self.clip_start = video["params"]["start_s"]
            self.playback.offset_ms = int(self.clip_start * 1000)
            self.timeline.set_clip(video["params"]["start_s"], video["params"]["end_s"])
            self.personal_clip.caption = "Personalized clip"
            self.personal_clip.set_source(video["output_path"],
                                          thumb["output_path"] if thumb else None)
        else:
            self.clip_start = 0.0
            self.playback.offset_ms = 0
            self.personal_clip.caption = f"Style: {PRESETS[video['params']['style']].label}"
            self.personal_clip.set_source(video["output_path"], item.get("thumbnail_path"))

    def _toggle(self) -> None:
        playing = self.playback.toggle()
        self.play.setText(("Pause" if playing else "Play side by side") + "  (Space)")

    def _on_clip_position(self, ms: int) -> None:
        self.timeline.set_position(self.clip_start + ms / 1000)
