"""Personalized thumbnails (Eq. 1) and clips (Eq. 2), one matrix product for the whole corpus.

Eq. 1: among the sampled frames v_i of an item, pick argmax_i t̄ᵀf(v_i).
Eq. 2: among windows of L consecutive sampled frames, pick the one whose mean embedding c̄
maximises t̄ᵀc̄. Since t̄ᵀc̄ is the mean of the window's frame scores, windows are scored with
a cumulative sum over frame scores. An item with fewer than L frames is one window.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.store.embeddings import FrameIndex
from core.store.frame_matrix import FrameMatrix, Selections

DEFAULT_CLIP_LEN = 8


@dataclass(frozen=True)
class ThumbnailChoice:
    item_id: str
    frame_idx: int
    t_s: float
    score: float


@dataclass(frozen=True)
class ClipChoice:
    item_id: str
    start_idx: int
    end_idx: int       # exclusive
    start_s: float
    end_s: float
    score: float


def frame_scores(index: FrameIndex, user: np.ndarray) -> np.ndarray:
    """I x N cosine scores; padding frames get -inf."""
    n_items, n_frames, dim = index.frames.shape
    scores = (index.frames.reshape(-1, dim) @ user.astype(np.float32)).reshape(n_items, n_frames)
    scores[np.arange(n_frames)[None, :] >= index.counts[:, None]] = -np.inf
    return scores


def select_thumbnails(index: FrameIndex, user: np.ndarray,
                      scores: np.ndarray | None = None) -> list[ThumbnailChoice]:
    """Eq. 1 for every item; pass `scores` (from frame_scores) to share the product with clips."""
    scores = frame_scores(index, user) if scores is None else scores
    rows = np.arange(len(index.item_ids))
    best = scores.argmax(axis=1)
    return [ThumbnailChoice(*fields) for fields in zip(
        index.item_ids, best.tolist(), index.times[rows, best].tolist(),
        scores[rows, best].tolist())]


def window_scores(scores: np.ndarray, counts: np.ndarray, clip_len: int, stride: int = 1
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Mean frame score of every window start (I x N, -inf where no window starts) and each
    item's window length min(L, n). Starts are 0, stride, 2·stride, … and the last full window."""
    if clip_len < 1 or stride < 1:
        raise ValueError("clip length and stride must be at least 1")
    n_items, n_frames = scores.shape
    finite = np.where(np.isfinite(scores), scores, 0.0)
    cumulative = np.concatenate([np.zeros((n_items, 1)), np.cumsum(finite, axis=1)], axis=1)
    length = np.minimum(clip_len, counts)                                   # I
    starts = np.arange(n_frames)[None, :]                                   # 1 x N
    last_start = (counts - length)[:, None]                                 # I x 1
    ends = np.minimum(starts + length[:, None], n_frames)
    sums = np.take_along_axis(cumulative, ends, axis=1) - cumulative[:, :n_frames]
    means = sums / np.maximum(length, 1)[:, None]
    valid = (starts <= last_start) & ((starts % stride == 0) | (starts == last_start))
    return np.where(valid, means, -np.inf), length


def select_clips(index: FrameIndex, user: np.ndarray, clip_len: int = DEFAULT_CLIP_LEN,
                 stride: int = 1, scores: np.ndarray | None = None) -> list[ClipChoice]:
    """Eq. 2 for every item; frame k of an item of n frames stands for [k, k+1)·D/n seconds."""
    scores = frame_scores(index, user) if scores is None else scores
    means, length = window_scores(scores, index.counts, clip_len, stride)
    rows = np.arange(len(index.item_ids))
    start = means.argmax(axis=1)
    end = start + length
    step = index.durations / np.maximum(index.counts, 1)
    return [ClipChoice(*fields) for fields in zip(
        index.item_ids, start.tolist(), end.tolist(), np.round(start * step, 4).tolist(),
        np.round(end * step, 4).tolist(), means[rows, start].tolist())]


def thumbnails_from_scan(matrix: FrameMatrix, picks: Selections) -> list[ThumbnailChoice]:
    """Eq. 1's choices from the resident matrix's one-pass scan (FrameMatrix.scan)."""
    rows = np.arange(matrix.rows)
    times = np.asarray(matrix.times[rows, picks.frame_idx]) if matrix.rows else np.zeros(0)
    return [ThumbnailChoice(*fields) for fields in zip(
        picks.item_ids, picks.frame_idx.tolist(), times.tolist(), picks.frame_score.tolist())]


def clips_from_scan(matrix: FrameMatrix, picks: Selections) -> list[ClipChoice]:
    """Eq. 2's choices from the scan; times as select_clips gives them."""
    step = np.asarray(matrix.durations) / np.maximum(np.asarray(matrix.counts), 1)
    return [ClipChoice(*fields) for fields in zip(
        picks.item_ids, picks.clip_start.tolist(), picks.clip_end.tolist(),
        np.round(picks.clip_start * step, 4).tolist(), np.round(picks.clip_end * step, 4).tolist(),
        picks.clip_score.tolist())]
