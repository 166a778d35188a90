"""Video playback that also works offscreen: QMediaPlayer renders into a QVideoSink and the
widget paints the sink's latest frame (QVideoWidget.grab() is blank offscreen). Two players
can be locked together for side-by-side comparison."""
from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

try:   # QtMultimedia needs system libraries (PulseAudio client); degrade to posters without it
    from PySide6.QtMultimedia import QMediaPlayer, QVideoSink
    MULTIMEDIA_ERROR = ""
except ImportError as exc:  # pragma: no cover - depends on the machine
    QMediaPlayer = QVideoSink = None
    MULTIMEDIA_ERROR = str(exc)


class VideoView(QWidget):
    """Shows a poster image, or the current frame of its player while one plays."""
    position_changed = Signal(int)     # milliseconds

    def __init__(self, caption: str = "", playable: bool = True, parent=None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.poster = QPixmap()
        self.frame = QImage()
        self.note = ""
        self.player = None
        self.loop: list[QImage] = []       # frames shown in a loop (a partial result)
        self._loop_index = 0
        self._loop_timer = QTimer(self)
        self._loop_timer.timeout.connect(self._next_loop_frame)
        self.setMinimumSize(QSize(200, 150))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        if playable and QMediaPlayer is not None:
            self.player = QMediaPlayer(self)
            self.sink = QVideoSink(self)
            self.player.setVideoSink(self.sink)
            self.sink.videoFrameChanged.connect(self._on_frame)
            self.player.positionChanged.connect(self._on_position)
            self.player.errorOccurred.connect(self._on_error)

    def set_source(self, path: str | None, poster: str | None = None, note: str = "") -> None:
        self._stop_loop()
        self.poster = QPixmap(poster) if poster else QPixmap()
        self.frame = QImage()
        self.note = note
        if self.player is not None:
            self.player.stop()
            self.player.setSource(QUrl.fromLocalFile(path) if path else QUrl())
        elif path and QMediaPlayer is None:
            self.note = f"playback unavailable: {MULTIMEDIA_ERROR}"
        self.update()

    def set_poster(self, image_path: str | None, note: str = "") -> None:
        self.set_source(None, image_path, note)

    def show_loop(self, frames: list[QImage], fps: float = 8.0) -> None:
        """Play a few frames over and over in place of the player (e.g. the latest finished
        block of a diffusion sample), scaled up to the view."""
        self.set_source(None)
        self.loop, self._loop_index = frames, 0
        self.frame = frames[0] if frames else QImage()
        if len(frames) > 1:
            self._loop_timer.start(max(1, int(1000 / fps)))
        self.update()

    def _next_loop_frame(self) -> None:
        self._loop_index = (self._loop_index + 1) % len(self.loop)
        self.frame = self.loop[self._loop_index]
        self.update()

    def _stop_loop(self) -> None:
        self._loop_timer.stop()
        self.loop = []

    def _on_error(self, _error, text: str) -> None:
        self.note = text
        self.update()

    def _on_position(self, ms) -> None:
        self.position_changed.emit(int(ms))

    def _on_frame(self, frame) -> None:
        image = frame.toImage()
        if not image.isNull():
            self.frame, self.note = image, ""
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(30, 30, 34))
        picture = self.frame if not self.frame.isNull() else (
            self.poster.toImage() if not self.poster.isNull() else None)
        caption_h = 22
        area = self.rect().adjusted(4, caption_h, -4, -4)
        if picture is not None:
            scaled = picture.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                    Qt.TransformationMode.SmoothTransformation)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(area.center())
            painter.drawImage(target, scaled)
        painter.setPen(QColor(235, 235, 235))
        caption = painter.fontMetrics().elidedText(self.caption, Qt.TextElideMode.ElideRight,
                                                   self.width() - 12)
        painter.drawText(QRect(6, 2, self.width() - 12, caption_h - 2),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, caption)
        if self.note:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.note)


class LockedPlayback:
    """Plays a result and its source together: the follower stays at leader time + offset."""

    TOLERANCE_MS = 120

    def __init__(self, leader: VideoView, follower: VideoView) -> None:
        self.leader, self.follower = leader, follower
        self.offset_ms = 0
        leader.position_changed.connect(self._follow)

    def _follow(self, position: int) -> None:
        player = self.follower.player
        if player is None:
            return
        target = position + self.offset_ms
        if abs(player.position() - target) > self.TOLERANCE_MS:
            player.setPosition(target)

    def playing(self) -> bool:
        player = self.leader.player
        return player is not None and player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def toggle(self) -> bool:
        """Play both from the start of the comparison, or pause both; returns playing."""
        leader, follower = self.leader.player, self.follower.player
        if leader is None:
            return False
        if self.playing():
            leader.pause()
            if follower is not None:
                follower.pause()
            return False
        if follower is not None:
            follower.setPosition(leader.position() + self.offset_ms)
            follower.play()
        leader.play()
        return True
