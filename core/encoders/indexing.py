"""`generec index`: sample N frames per item by time, embed them with an encoder, store them.

Resumable: only items without frame embeddings for this model are done, and each batch of
items is written in one transaction. Decoding runs in a thread pool ahead of inference
(ffmpeg decodes in its own processes, and torch releases the GIL), so the two overlap.
"""
from __future__ import annotations

import math
import os
from collections import deque
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from core.encoders.encoder import Encoder
from core.errors import MediaError
from core.media import VideoInfo, read_image, sample_frames
from core.progress import Progress
from core.store import Store
from core.store.corpus import mark_item_failed
from core.store.embeddings import items_without_embeddings, register_model, save_item_embeddings
from core.store.frame_matrix import MatrixMirror, MatrixRow

DEFAULT_FRAMES = 32
DEFAULT_BATCH = 64
PREFETCH_ITEMS = 8
CORES = os.cpu_count() or 1
# Decoding is the bottleneck: half the cores run inference, decoders get one more than all.
DECODE_WORKERS = CORES + 1
INFERENCE_THREADS = max(1, CORES // 2)


@dataclass
class IndexSummary:
    model_id: str
    indexed: int = 0
    frames: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"model_id": self.model_id, "indexed": self.indexed, "frames": self.frames,
                "failed": [{"item": i, "reason": r} for i, r in self.failed]}


@dataclass
class _Decoded:
    item: dict
    times: list[float]
    frames: list[np.ndarray]
    thumbnail: np.ndarray | None
    error: str | None = None


def decode_max_side(width: int, height: int, image_size: int) -> int:
    """Decode large enough that the shorter side still covers the encoder's input."""
    return int(math.ceil(image_size * max(width, height) / max(1, min(width, height))))


def _info(item: dict) -> VideoInfo:
    """The probe result the import stored, so that indexing does not probe again."""
    return VideoInfo(item["path"], item["width"], item["height"], item["rotation"] or 0,
                     item["duration_s"], item["fps"], item["frames"], item["codec"] or "",
                     bool(item["has_audio"]))


def _decode(item: dict, n_frames: int, image_size: int) -> _Decoded:
    try:
        n = max(1, min(n_frames, item["frames"] or n_frames))
        side = decode_max_side(item["width"], item["height"], image_size)
        # single-threaded decoding: the pool already decodes several videos at once
        sampled = sample_frames(item["path"], n, max_side=side, info=_info(item), threaded=False)
        thumbnail = read_image(item["thumbnail_path"]) if item["thumbnail_path"] else None
        return _Decoded(item, [f.t_s for f in sampled], [f.image for f in sampled], thumbnail)
    except MediaError as exc:
        return _Decoded(item, [], [], None, str(exc))


def index_corpus(store: Store, encoder: Encoder, n_frames: int = DEFAULT_FRAMES,
                 batch: int = DEFAULT_BATCH, progress: Progress | None = None,
                 only: list[str] | None = None) -> IndexSummary:
    """Index every item not yet indexed with this encoder (or only those among `only`)."""
    progress = progress or Progress()
    with store.transaction():
        register_model(store, encoder.model_id, encoder.spec, encoder.sha256, encoder.dim)
    todo = items_without_embeddings(store, encoder.model_id, only)
    summary = IndexSummary(encoder.model_id)
    mirror = MatrixMirror(store, encoder.model_id, n_frames)
    progress.update(0, len(todo), "indexing")
    with _inference_threads(INFERENCE_THREADS), ThreadPoolExecutor(DECODE_WORKERS) as pool:
        queue = deque()
        pending = iter(todo)

        def refill() -> None:
            while len(queue) < PREFETCH_ITEMS:
                item = next(pending, None)
                if item is None:
                    return
                queue.append(pool.submit(_decode, item, n_frames, encoder.image_size))

        refill()
        done = 0
        while queue:
            group: list[_Decoded] = []
            while queue and sum(len(d.frames) for d in group) < batch:
                group.append(queue.popleft().result())
                refill()
            progress.check_cancelled()
            rows = _embed_and_store(store, encoder, group, batch, summary)
            mirror.add(rows)    # the resident fp16 matrix follows what SQLite has committed
            done += len(group)
            progress.update(done, len(todo), group[-1].item["id"])
    return summary


@contextmanager
def _inference_threads(count: int):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _embed_and_store(store: Store, encoder: Encoder, group: list[_Decoded], batch: int,
                     summary: IndexSummary) -> list[MatrixRow]:
    good = [d for d in group if d.error is None]
    images = [f for d in good for f in d.frames] + [d.thumbnail for d in good if d.thumbnail is not None]
    vectors = encoder.encode_images(images, batch=batch) if images else np.zeros((0, encoder.dim))
    titles = encoder.encode_texts([d.item["title"] or d.item["id"] for d in good]) if good else []
    offset, thumb_offset = 0, sum(len(d.frames) for d in good)
    mirrored = []
    with store.transaction():
        for k, decoded in enumerate(good):
            frames = vectors[offset:offset + len(decoded.frames)]
            offset += len(decoded.frames)
            thumbnail = None
            if decoded.thumbnail is not None:
                thumbnail = vectors[thumb_offset]
                thumb_offset += 1
            save_item_embeddings(store, encoder.model_id, decoded.item["id"], decoded.times,
                                 frames, thumbnail, titles[k])
            mirrored.append(MatrixRow(decoded.item["id"], np.asarray(decoded.times, np.float32),
                                      frames, decoded.item["duration_s"] or 0.0))
            summary.indexed += 1
            summary.frames += len(decoded.frames)
        for decoded in group:
            if decoded.error is not None:
                mark_item_failed(store, decoded.item["id"], decoded.error)
                summary.failed.append((decoded.item["id"], decoded.error))
    return mirrored
