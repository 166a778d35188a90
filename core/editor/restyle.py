"""Restyle a whole video: preset filter, temporal smoothing, optional caption and AI label,
H.264 at the source's frame rate and frame count, audio carried over from the source."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.editor.overlay import ai_label, burn_caption
from core.editor.style import PRESETS, TemporalSmoother, flicker
from core.errors import InputError
from core.media import iter_frames, probe, working_size, write_video
from core.media.write import carry_audio
from core.progress import Progress

MAX_SIDE = 720
DEFAULT_SMOOTHING = 0.75      # TemporalSmoother's blend weight where the source is still


@dataclass
class RestyleResult:
    path: str
    frames: int
    fps: float
    flicker: float            # mean |Δ| between consecutive output frames
    source_flicker: float     # the same on the source at the output size


DIFFUSION = "diffusion"


def style_filter(style: str, prompt: str = "", weights: str | None = None,
                 diffusion_options: dict | None = None):
    """The frame filter of a preset, or of the local diffusion pipeline."""
    if style == DIFFUSION:
        from core.editor.img2img import DiffusionStyle

        return DiffusionStyle(prompt or "a stylised video frame", weights,
                              **(diffusion_options or {}))
    if style not in PRESETS:
        raise InputError(f"unknown style {style!r}; choose one of {', '.join(PRESETS)} or "
                         f"{DIFFUSION} (local Stable Diffusion weights)")
    return PRESETS[style].apply


def restyle_video(source: str | os.PathLike, out: str | os.PathLike, style: str,
                  caption: str = "", label: bool = True, max_side: int = MAX_SIDE,
                  progress: Progress | None = None, prompt: str = "",
                  diffusion_weights: str | None = None,
                  diffusion_options: dict | None = None) -> RestyleResult:
    apply = style_filter(style, prompt, diffusion_weights, diffusion_options)
    info = probe(source)
    width, height = working_size(info.width, info.height, max_side)
    label_text = PRESETS[style].label if style in PRESETS else "Diffusion"

    def decorate(styled: np.ndarray) -> np.ndarray:
        styled = burn_caption(styled.copy(), caption)
        return ai_label(styled) if label else styled

    return filter_video(source, out, apply, (width, height), info, label_text, progress,
                        decorate=decorate)


def filter_video(source: str | os.PathLike, out: str | os.PathLike, apply,
                 size: tuple[int, int], info, label_text: str, progress: Progress | None = None,
                 decorate=None, max_seconds: float | None = None,
                 smoothing: float = DEFAULT_SMOOTHING) -> RestyleResult:
    """Run a frame filter over a video (or its first `max_seconds`) at `size` (even sides),
    with motion-aware temporal smoothing (`smoothing` 0 turns it off), at the source's frame
    rate, with its audio; measures flicker against the source's."""
    progress = progress or Progress()
    width, height = size[0] - size[0] % 2, size[1] - size[1] % 2     # H.264 needs even sides
    smoother = TemporalSmoother(strength=smoothing)
    sources, outputs = [], []
    total = info.frames if max_seconds is None else min(info.frames, int(max_seconds * info.fps) + 1)

    def frames():
        for done, frame in enumerate(iter_frames(source, max(width, height), info)):
            if max_seconds is not None and frame.t_s >= max_seconds:
                break
            progress.check_cancelled()
            image = frame.image
            if image.shape[:2] != (height, width):
                image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
            styled = smoother(image, apply(image))
            if decorate is not None:
                styled = decorate(styled)
            sources.append(_small(image))
            outputs.append(_small(styled))
            progress.update(done + 1, total, f"{label_text}: frame {done + 1}")
            yield styled

    out = Path(out)
    silent = out.with_name(f".{out.stem}.video{out.suffix}")
    write_video(silent, frames(), info.fps)
    try:
        carry_audio(source, silent, out, info.has_audio,
                    round(len(outputs) / info.fps, 3) if max_seconds is not None else None)
    finally:
        silent.unlink(missing_ok=True)
    return RestyleResult(str(out), len(outputs), info.fps, round(flicker(outputs), 3),
                         round(flicker(sources), 3))


def _small(image: np.ndarray) -> np.ndarray:
    """Flicker is measured on a 128-px copy: the same for every preset, and cheap."""
    return cv2.resize(image, (128, max(2, int(128 * image.shape[0] / image.shape[1]))),
                      interpolation=cv2.INTER_AREA)
