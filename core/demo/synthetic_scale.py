"""A synthetic-scale corpus: a million items without rendering a million videos.

Items are `no-media` rows with a duration; their frame embeddings go straight into the
resident fp16 matrix (core/store/frame_matrix.py), drawn around a few hundred random unit
"scene" directions so that frames of one item resemble each other (as the encoder's do for a
multi-segment clip) and users' tastes have something to find. Users get a handful of likes,
and the liked items get a thumbnail embedding in SQLite, so that `history_vector` and
`generec personalize` work unchanged. The embeddings are registered under their own model id
(`synthetic:D`), never under a real encoder's: they only measure scale.
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
    matrix_path: str
    matrix_bytes: int
    seconds: float


def build_synthetic_scale(store: Store, items: int, users: int, frames: int = 32, dim: int = 128,
                          likes_per_user: int = 5, seed: int = 0,
                          progress: Progress | None = None) -> SyntheticScaleSummary:
    """Add `items` synthetic items and `users` users to `store` (resumable by block)."""
    progress = progress or Progress()
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    scenes = rng.standard_normal((SCENES, dim)).astype(np.float32)
    scenes /= np.linalg.norm(scenes, axis=1, keepdims=True)
    # per-frame noise drawn from a bank: a million items' worth of normals takes minutes
    noise = 0.35 * rng.standard_normal((1 << 16, dim)).astype(np.float32)
    model_id = f"synthetic:{dim}"
    with store.transaction():
        register_model(store, model_id, model_id, None, dim)
    folder = matrix_dir(store.path, model_id)
    writer = MatrixWriter(folder, model_id, dim, frames, "synthetic")
    if writer.n_frames != frames or writer.dim != dim:
        raise ValueError(f"{folder} holds {writer.n_frames} x {writer.dim} per item; "
                         f"remove it to build {frames} x {dim}")
    for lo in range(writer.rows, items, BLOCK):
        progress.check_cancelled()
        hi = min(lo + BLOCK, items)
        block = np.random.default_rng([seed, lo])      # the same corpus whatever the resume point
        ids = [f"s{k:07d}" for k in range(lo, hi)]
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
        with store.transaction():
            insert_synthetic_items(store, [(i, f"synthetic item {i}", float(d), int(c))
                                           for i, d, c in zip(ids, durations, counts)])
        writer.write_block(vectors.astype(np.float16), times, counts, durations, ids)
        writer.commit()
        progress.update(hi, items, "items")
    likes = _users(store, model_id, users, items, likes_per_user, seed)
    matrix_bytes = writer.rows * frames * dim * 2
    return SyntheticScaleSummary(model_id, writer.rows, users, likes, frames, dim, str(folder),
                                 matrix_bytes, round(time.perf_counter() - started, 1))


def _users(store: Store, model_id: str, users: int, items: int, likes_per_user: int,
           seed: int) -> int:
    """Users with a few likes each; the liked items' thumbnails are their first frame."""
    from core.store.frame_matrix import FrameMatrix

    rng = np.random.default_rng([seed, 1])
    matrix = FrameMatrix(matrix_dir(store.path, model_id))
    user_ids = [f"u{k:07d}" for k in range(users)]
    liked = rng.integers(0, items, (users, likes_per_user))
    rows = [(u, f"s{int(i):07d}", float(t)) for u, picks in zip(user_ids, liked)
            for t, i in enumerate(picks)]
    liked_items = np.unique(liked)
    with store.transaction():
        insert_synthetic_users(store, user_ids)
        insert_likes(store, rows)
        insert_thumbnail_vectors(store, model_id, [
            (f"s{int(i):07d}", np.asarray(matrix.frames[i, 0], np.float32)) for i in liked_items])
    return len(rows)
