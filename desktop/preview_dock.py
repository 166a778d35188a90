"""The Preview: the original item beside what the generator made for the selected user —
thumbnail next to thumbnail, the clip's range on the timeline, video beside video."""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton,
                               QVBoxLayout, QWidget)

from core.editor.style import PRESETS

from desktop.timeline import ClipTimeline
from desktop.video_view import LockedPlayback, VideoView


# The captions of the views, by the task whose output they show.
THUMB_TASKS = {"thumbnail": "Personalized thumbnail", "thumbnail-gen": "Generated thumbnail (diffusion)"}
VIDEO_TASKS = {"clip": "Personalized clip", "style": "Style", "revise": "Revision (diffusion)"}
DIFFUSION_VERBS = {"revise": "Revising", "create": "Creating"}


def _score_text(task: str, generation: dict) -> str:
    scores = generation.get("scores") or {}
    if "cosine" in scores:
        return f"{task} cosine {scores['cosine']:.3f}"
    if "flicker" in scores:
        return f"{task} flicker {scores['flicker']:.1f} (source {scores['source_flicker']:.1f})"
    if task in ("revise", "thumbnail-gen"):
        return f"{task} ({_diffusion_text(generation)})"
    return task


def _diffusion_text(generation: dict) -> str:
    """The settings a diffusion generation was made with, in a few words."""
    params = generation.get("params") or generation
    parts = [params.get("signal"), params.get("instruction") and f"“{params['instruction']}”",
             params.get("strength") not in (None, 1.0) and f"strength {params['strength']}",
             params.get("steps") and f"{params['steps']} {params.get('sampler', '')} steps"]
    return ", ".join(str(p) for p in parts if p)


def _video_caption(video: dict) -> str:
    if video["task"] == "style":
        style = video["params"]["style"]
        return f"Style: {PRESETS[style].label if style in PRESETS else style}"   # `diffusion` has no preset
    if video["task"] == "revise":
        return f"Revision: {video['params']['signal']}, strength {video['params']['strength']}"
    return VIDEO_TASKS[video["task"]]


def _latest(outputs: dict, tasks: dict) -> dict | None:
    return max((outputs[t] for t in tasks if t in outputs), key=lambda g: g["created_at"],
               default=None)


def _qimage(frame) -> QImage:
    """An H x W x 3 RGB uint8 array as a QImage that owns its pixels."""
    height, width = frame.shape[:2]
    data = frame.copy(order="C")
    return QImage(data.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


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
        self.generate = QPushButton("Personalize  (Ctrl+G)")
        # Ctrl+G is the registry's "Personalized thumbnail and clip" (desktop/actions.py)
        self.generate.setToolTip("Personalized thumbnail and clip of this item for this user")
        self.generate.clicked.connect(self.preview_requested)
        self.style = QComboBox()
        for name, preset in PRESETS.items():
            self.style.addItem(preset.label, name)
        self.style.setToolTip("Style preset")
        self.restyle = QPushButton("Restyle  (Ctrl+T)")
        self.restyle.setShortcut(QKeySequence("Ctrl+T"))
        self.restyle.clicked.connect(lambda: self.style_requested.emit(self.style.currentData()))
        self.play = QPushButton("Play both  (Space)")
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
        self._show_source(True)
        self.has_outputs = bool(outputs)
        if item is None:
            self.header.setText("Select a user and an item.")
            return
        who = f"for <b>{user_id}</b>" if user_id else "(no user selected)"
        scores = escape("  ·  ".join(_score_text(task, g) for task, g in outputs.items()))
        self.header.setText(f"<b>{item['title']}</b> <span style='color:gray'>{item['id']}</span> "
                            f"{who}<br>{scores or 'Not personalized yet: press Ctrl+G.'}")
        self.original_thumb.set_poster(item.get("thumbnail_path"))
        self.original_video.set_source(item["path"], item.get("thumbnail_path"))
        self.timeline.set_video(item.get("duration_s") or 0.0, segments)
        thumb = _latest(outputs, THUMB_TASKS)
        self.personal_thumb.caption = THUMB_TASKS.get(thumb["task"] if thumb else "thumbnail")
        self.personal_thumb.set_poster(thumb["output_path"] if thumb else None,
                                       "" if thumb else "not generated yet")
        video = _latest(outputs, VIDEO_TASKS)
        self.clip_start = video["params"]["start_s"] if video and video["task"] == "clip" else 0.0
        self.playback.offset_ms = int(self.clip_start * 1000)
        if video is None:
            self.personal_clip.caption = VIDEO_TASKS["clip"]
            self.personal_clip.set_source(None, None, "not generated yet")
            return
        self.personal_clip.caption = _video_caption(video)
        if video["task"] == "clip":     # the clip is the item's own frames: its cover fits
            self.timeline.set_clip(video["params"]["start_s"], video["params"]["end_s"])
            poster = thumb["output_path"] if thumb else item.get("thumbnail_path")
            self.personal_clip.set_source(video["output_path"], poster)
        else:   # a revised or restyled video: the source's cover would pass for the result
            self.personal_clip.set_source(video["output_path"], None,
                                          "Play both (Space) to see it beside its source")

    def show_creation(self, generation: dict) -> None:
        """A created video has no source: it plays alone."""
        self._show_source(False)
        self.has_outputs = True
        who = f"for <b>{generation['user_id']}</b>" if generation.get("user_id") else ""
        self.header.setText(f"<b>Created</b> {who} <span style='color:gray'>"
                            f"{generation['generation_id']}</span><br>"
                            f"{escape(_diffusion_text(generation))}")
        self.clip_start, self.playback.offset_ms = 0.0, 0
        self.original_video.set_source(None)
        self.personal_clip.caption = "Created video"
        self.personal_clip.set_source(generation["output_path"])

    def show_block(self, task: str, frames, caption: str) -> None:
        """The latest finished block of a running revise or create job, looping in the
        result's place (beside the source for a revision, alone for a creation)."""
        if task == "create":
            self._show_source(False)
            self.header.setText("<b>Creating a new video…</b>")
        self.personal_clip.caption = f"{DIFFUSION_VERBS[task]}… {caption}"
        self.personal_clip.show_loop([_qimage(frame) for frame in frames])

    def play_from_start(self) -> None:
        """Play the result (and its source) from the start."""
        for view in (self.personal_clip, self.original_video):
            if view.player is not None:
                view.player.setPosition(0)
        if not self.playback.playing():
            self._toggle()

    def _show_source(self, visible: bool) -> None:
        for widget in (self.original_thumb, self.personal_thumb, self.original_video,
                       self.timeline):
            widget.setVisible(visible)

    def _toggle(self) -> None:
        playing = self.playback.toggle()
        self.play.setText(("Pause" if playing else "Play both") + "  (Space)")

    def _on_clip_position(self, ms: int) -> None:
        self.timeline.set_position(self.clip_start + ms / 1000)
