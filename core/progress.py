"""The progress protocol every long operation in core/ takes (DESIGN.md section 2).

A job calls `progress.update(done, total, message)` and `progress.check_cancelled()` at each
step. The CLI drives it with a terminal bar, the desktop app from a QThread worker that turns
calls into signals; both share `Progress`, which holds the cancel flag.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

from core.errors import Cancelled


class Progress:
    """Base progress sink: records the latest state and carries a thread-safe cancel flag."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self.done = 0
        self.total = 0
        self.message = ""
        self.started = time.monotonic()

    def update(self, done: int, total: int, message: str = "") -> None:
        self.done, self.total, self.message = done, total, message
        self.on_update(done, total, message)

    def on_update(self, done: int, total: int, message: str) -> None:
        """Override to display progress."""

    def preview(self, frames, caption: str = "") -> None:
        """A partial result worth showing while the job runs: N x H x W x 3 uint8 frames
        (e.g. a finished block of a diffusion sample)."""
        self.on_preview(frames, caption)

    def on_preview(self, frames, caption: str) -> None:
        """Override to display previews."""

    def cancel(self) -> None:
        self._cancel.set()

    def silent_child(self) -> "Progress":
        """A progress for a sub-step: shares this one's cancel flag, reports nothing."""
        child = Progress()
        child._cancel = self._cancel
        return child

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("cancelled by the operator")

    def eta_seconds(self) -> float | None:
        if self.done <= 0 or self.total <= 0:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.done * (self.total - self.done)


class CallbackProgress(Progress):
    """Forwards each update (and each preview) to a callable, e.g. a Qt signal's `emit`."""

    def __init__(self, callback: Callable[[int, int, str], None],
                 preview_callback: Callable[[object, str], None] | None = None) -> None:
        super().__init__()
        self._callback = callback
        self._preview_callback = preview_callback

    def on_update(self, done: int, total: int, message: str) -> None:
        self._callback(done, total, message)

    def on_preview(self, frames, caption: str) -> None:
        if self._preview_callback is not None:
            self._preview_callback(frames, caption)


class TqdmProgress(Progress):
    """A terminal progress bar on stderr for the CLI."""

    def __init__(self, description: str = "", disable: bool = False) -> None:
        super().__init__()
        self._description = description
        self._disable = disable
        self._bar = None

    def on_update(self, done: int, total: int, message: str) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=total, desc=self._description, unit="step",
                             disable=self._disable, leave=False)
        if self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        self._bar.set_postfix_str(message[:40], refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
