"""The Preview: the original item beside what the generator made for the selected user —
thumbnail next to thumbnail, the clip's range on the timeline, video beside video."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout,
                               QWidget)

from desktop.timeline import ClipTimeline
from desktop.video_view import LockedPlayback, VideoView


class PreviewPanel(QWidget):
    preview_requested = Signal()

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
        buttons.addWidget(self.play)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addLayout(grid, 1)
        layout.addWidget(self.timeline)
        layout.addLayout(buttons)
        self.clip_start = 0.0

    def show_item(self, item: dict | None, user_id: str, segments: list, outputs: dict) -> None:
        """`outputs` maps task to the latest generation for this user and item."""
        if item is None:
            self.header.setText("Select a user and an item.")
            return
        who = f"for <b>{user_id}</b>" if user_id else "(no user selected)"
        scores = "  ·  ".join(f"{task} cosine {g['scores'].get('cosine', 0):.3f}"
                              for task, g in outputs.items())
        self.header.setText(f"<b>{item['title']}</b> <span style='color:gray'>{item['id']}</span> "
                            f"{who}<br>{scores or 'Not personalized yet: press Ctrl+G.'}")
        self.original_thumb.set_poster(item.get("thumbnail_path"))
        self.original_video.set_source(item["path"], item.get("thumbnail_path"))
        self.timeline.set_video(item.get("duration_s") or 0.0, segments)
        thumb = outputs.get("thumbnail")
        self.personal_thumb.set_poster(thumb["output_path"] if thumb else None,
                                       "" if thumb else "not generated yet")
        clip = outputs.get("clip")
        if clip:
            self.clip_start = clip["params"]["start_s"]
            self.playback.offset_ms = int(self.clip_start * 1000)
            self.timeline.set_clip(clip["params"]["start_s"], clip["params"]["end_s"])
            self.personal_clip.set_source(clip["output_path"],
                                          thumb["output_path"] if thumb else None)
        else:
            self.personal_clip.set_source(None, None, "not generated yet")

    def _toggle(self) -> None:
        playing = self.playback.toggle()
        self.play.setText(("Pause" if playing else "Play side by side") + "  (Space)")

    def _on_clip_position(self, ms: int) -> None:
        self.timeline.set_position(self.clip_start + ms / 1000)
