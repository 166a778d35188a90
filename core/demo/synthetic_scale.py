"""A synthetic-scale corpus: a million items without rendering a million videos.

Items are `no-media` rows with a duration; their frame embeddings go straight into the
resident matrix (core/store/frame_matrix.py; fp16, or int8 with `dtype="int8"`), drawn around a few hundred random unit
"scene" directions so that frames of one item resemble each other (as the encoder's do for a
multi-segment clip) and users' tastes have something to find. Users get a handful of likes,
and the liked items get a thumbnail embedding in SQLite, so that `history_vector` and
`generec personalize` work unchanged. The embeddings are registered under their own model id
(`synthetic:D`), never under a real encoder's: they only measure scale. Every block of items
can be drawn again in float32 (`synthetic_block`), which is how a benchmark measures what
storing them as fp16 or int8 costs against the exact embeddings.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.progress import Progress
from core.store import Store
from core.store.embeddings import register_model
from core.store.frame_matrix import MatrixWriter, matrix_dir
from core.store.synthetic import (insert_likes, insert_synthetic_items, insert_synthetic_users,
                                  insert_thumbnail_vectors)

BLOCK = 8192          # items per write: 64 MB of fp16 at 32 x 128
SCENES = 256
SEGMENTS = 4          # scenes per item, as the demo's multi-segment clips


@dataclass(frozen=True)
class SyntheticScaleSummary:
    model_id: str
    items: int
    users: int
    likes: int
    frames_per_item: int
    dim: int
    dtype: str
    matrix_path: str
    matrix_bytes: int
    seconds: float


@dataclass(frozen=True)
class SyntheticBlock:
    item_ids: list[str]
    counts: np.ndarray         # int
    vectors: np.ndarray        # items x frames x dim float32, unit rows, zeros past the count
    durations: np.ndarray      # float32
    times: np.ndarray          # items x frames float


def _bank(seed: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The scene directions and the noise bank every block draws from."""
    rng = np.random.default_rng(seed)
    scenes = rng.standard_normal((SCENES, dim)).astype(np.float32)
    scenes /= np.linalg.norm(scenes, axis=1, keepdims=True)
    # per-frame noise drawn from a bank: a million items' worth of normals takes minutes
    noise = 0.35 * rng.standard_normal((1 << 16, dim)).astype(np.float32)
    return scenes, noise


def synthetic_block(lo: int, hi: int, frames: int, dim: int, seed: int = 0,
                    bank: tuple[np.ndarray, np.ndarray] | None = None) -> SyntheticBlock:
    """Items lo..hi of the corpus `seed` makes, in float32 (the same whatever else is drawn;
    `lo` must be a multiple of BLOCK)."""
    scenes, noise = bank or _bank(seed, dim)
    block = np.random.default_rng([seed, lo])      # the same corpus whatever the resume point
    counts = block.integers(frames // 2, frames + 1, hi - lo)
    segment = np.minimum(np.arange(frames)[None, :] * SEGMENTS // frames, SEGMENTS - 1)
    picks = block.integers(0, SCENES, (hi - lo, SEGMENTS))
    vectors = scenes[np.take_along_axis(picks, np.broadcast_to(segment, (hi - lo, frames)), 1)]
    vectors = vectors + noise[block.integers(0, len(noise), (hi - lo, frames))]
    vectors /= np.linalg.norm(vectors, axis=2, keepdims=True)
    vectors[np.arange(frames)[None, :] >= counts[:, None]] = 0.0
    durations = block.uniform(5.0, 60.0, hi - lo).astype(np.float32)
    times = (np.arange(frames)[None, :] + 0.5) / counts[:, None] * durations[:, None]
    times[np.arange(frames)[None, :] >= counts[:, None]] = 0.0
    return SyntheticBlock([f"s{k:07d}" for k in range(lo, hi)], counts, vectors, durations, times)


def build_synthetic_scale(store: Store, items: int, users: int, frames: int = 32, dim: int = 128,
                          likes_per_user: int = 5, seed: int = 0,
                          progress: Progress | None = None,
                          dtype: str | None = None) -> SyntheticScaleSummary:
    """Add `items` synthetic items and `users` users to `store` (resumable by block). `dtype`:
    the matrix's storage, "float16" or "int8" (None: $GENEREC_MATRIX_DTYPE, else float16; an
    existing matrix keeps its own)."""
    from core.store.frame_matrix import FrameMatrix

    progress = progress or Progress()
    started = time.perf_counter()
    bank = _bank(seed, dim)
    model_id = f"synthetic:{dim}"
    with store.transaction():
        register_model(store, model_id, model_id, None, dim)
    folder = matrix_dir(store.path, model_id)
    try:
        writer = MatrixWriter(folder, model_id, dim, frames, "synthetic", dtype)
    except ValueError as error:
        raise ValueError(f"{error} (remove it to build {dtype})") from error
    if writer.n_frames != frames or writer.dim != dim:
        raise ValueError(f"{folder} holds {writer.n_frames} x {writer.dim} per item; "
                         f"remove it to build {frames} x {dim}")
    for lo in range(writer.rows, items, BLOCK):
        progress.check_cancelled()
        hi = min(lo + BLOCK, items)
        made = synthetic_block(lo, hi, frames, dim, seed, bank)
        with store.transaction():
            insert_synthetic_items(store, [(i, f"synthetic item {i}", float(d), int(c))
                                           for i, d, c in zip(made.item_ids, made.durations,
                                                              made.counts)])
        writer.write_block(made.vectors, made.times, made.counts, made.durations, made.item_ids)
        writer.commit()
        progress.update(hi, items, "items")
    matrix = FrameMatrix(folder)
    likes = _users(store, matrix, users, items, likes_per_user, seed)
    return SyntheticScaleSummary(model_id, writer.rows, users, likes, frames, dim, writer.dtype,
                                 str(folder), matrix.nbytes,
                                 round(time.perf_counter() - started, 1))


def _users(store: Store, matrix, users: int, items: int, likes_per_user: int,
           seed: int) -> int:
    """Users with a few likes each; the liked items' thumbnails are their first frame."""
    model_id = matrix.model_id
    rng = np.random.default_rng([seed, 1])
    user_ids = [f"u{k:07d}" for k in range(users)]
    liked = rng.integers(0, items, (users, likes_per_user))
    rows = [(u, f"s{int(i):07d}", float(t)) for u, picks in zip(user_ids, liked)
            for t, i in enumerate(picks)]
    liked_items = np.unique(liked)
    with store.transaction():
        insert_synthetic_users(store, user_ids)
        insert_likes(store, rows)
        insert_thumbnail_vectors(store, model_id, [
            (f"s{int(i):07d}", matrix.vectors((i, 0))) for i in liked_items])
    return len(rows)
