"""`generec index --ray local|ADDRESS`: indexing over Ray Data.

The driver lists the items still to index (as the in-process path does), and Ray Data maps
batches of them through `EmbedBatch`, an actor class that loads the encoder once. Each actor
decodes its items with ffmpeg processes (the same sampling code as in-process: core.encoders.indexing),
embeds frames, thumbnail and title, and writes the result as one Parquet shard, a file named
by the batch's item ids, written whole or not at all (temporary name, then rename). Only the
shard's path travels back. The driver is the one writer: it merges each shard into SQLite in
one transaction, keyed by (item, model, frame): an item that already has this model's frame
embeddings is skipped, so merging a shard twice, or after a crash or a killed worker, adds
nothing twice. Shards left by an interrupted run are merged first; then only the items still
missing are sent out. Merged shards are deleted.

Workers need the project installed (`pip install 'generec-studio[cluster]'` on each machine)
and read media by the paths the corpus holds, so on a real cluster those paths must be on a
shared file system.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.cluster import require_ray
from core.cluster.runtime import run_on_ray
from core.encoders.indexing import DEFAULT_BATCH, DEFAULT_FRAMES, IndexSummary
from core.paths import media_dir
from core.progress import Progress
from core.store import Store
from core.store.corpus import item_duration, mark_item_failed
from core.store.embeddings import items_without_embeddings, register_model, save_item_embeddings
from core.store.frame_matrix import MatrixMirror, MatrixRow, matrix_dir

ITEMS_PER_TASK = 8
SHARD_COLUMNS = ("item_id", "kind", "idx", "t_s", "vector", "error")


@dataclass
class ClusterIndexSummary(IndexSummary):
    address: str = ""
    workers: int = 0
    startup_s: float = 0.0
    shards_merged: int = 0
    leftover_shards: int = 0
    seconds: float = 0.0
    skipped_present: int = 0     # items a shard held that SQLite already had
    merge_s: float = 0.0         # time the one writer spent merging

    def as_dict(self) -> dict:
        return {**super().as_dict(), "ray": {
            "address": self.address, "workers": self.workers, "startup_s": self.startup_s,
            "shards_merged": self.shards_merged, "leftover_shards": self.leftover_shards,
            "skipped_present": self.skipped_present, "merge_s": round(self.merge_s, 2),
            "seconds": self.seconds}}


def shard_dir(store_path, model_id: str) -> Path:
    return media_dir(store_path) / "shards" / f"index-{matrix_dir(store_path, model_id).name}"


class EmbedBatch:
    """Ray Data callable class: one encoder per actor, one Parquet shard per batch."""

    def __init__(self, spec: str, model_id: str, n_frames: int, batch: int, out_dir: str,
                 threads: int = 1) -> None:
        import torch

        from core.encoders import load_encoder

        torch.set_num_threads(threads)
        self.encoder = load_encoder(spec)
        if self.encoder.model_id != model_id:
            raise RuntimeError(f"this worker's encoder {spec!r} is {self.encoder.model_id}, the "
                               f"driver's {model_id}: install the same checkpoint everywhere")
        self.n_frames, self.batch, self.out_dir = n_frames, batch, Path(out_dir)

    def __call__(self, batch: dict) -> dict:
        from core.encoders.indexing import _decode

        items = [json.loads(text) for text in batch["item"]]
        decoded = [_decode(item, self.n_frames, self.encoder.image_size) for item in items]
        table = self._table(decoded)
        path = self._write(table, [item["id"] for item in items])
        return {"shard": np.array([str(path)]), "items": np.array([len(items)])}

    def _table(self, decoded) -> dict:
        good = [d for d in decoded if d.error is None]
        images = [f for d in good for f in d.frames] + \
            [d.thumbnail for d in good if d.thumbnail is not None]
        vectors = self.encoder.encode_images(images, batch=self.batch) if images else None
        titles = self.encoder.encode_texts([d.item["title"] or d.item["id"] for d in good]) \
            if good else None
        columns = {name: [] for name in SHARD_COLUMNS}

        def add(item_id, kind, idx, t_s, vector, error=None):
            for name, value in zip(SHARD_COLUMNS, (item_id, kind, idx, t_s, vector, error)):
                columns[name].append(value)

        offset, thumb_offset = 0, sum(len(d.frames) for d in good)
        for k, d in enumerate(good):
            item_id = d.item["id"]
            for idx, t in enumerate(d.times):
                add(item_id, "frame", idx, float(t), _fp16(vectors[offset + idx]))
            offset += len(d.frames)
            if d.thumbnail is not None:
                add(item_id, "thumbnail", 0, None, _fp16(vectors[thumb_offset]))
                thumb_offset += 1
            add(item_id, "title", 0, None, _fp16(titles[k]))
        for d in decoded:
            if d.error is not None:
                add(d.item["id"], "error", 0, None, None, d.error)
        return columns

    def _write(self, columns: dict, item_ids: list[str]) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.out_dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256("\n".join(item_ids).encode()).hexdigest()[:24]
        path = self.out_dir / f"{name}.parquet"
        schema = pa.schema([("item_id", pa.string()), ("kind", pa.string()),
                            ("idx", pa.int32()), ("t_s", pa.float64()),
                            ("vector", pa.binary()), ("error", pa.string())])
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        pq.write_table(pa.table(columns, schema=schema), tmp)
        os.replace(tmp, path)
        return path


def _fp16(vector: np.ndarray) -> bytes:
    return np.asarray(vector, np.float16).tobytes()


def merge_shard(store: Store, model_id: str, path: Path, summary: ClusterIndexSummary,
                frames_per_item: int, mirror: MatrixMirror | None = None) -> None:
    """The one writer: a shard into SQLite (one transaction) and the resident matrix."""
    import pyarrow.parquet as pq

    started = time.perf_counter()
    table = pq.read_table(path).to_pydict()
    per_item: dict[str, dict] = {}
    for item_id, kind, idx, t_s, vector, error in zip(*(table[c] for c in SHARD_COLUMNS)):
        entry = per_item.setdefault(item_id, {"frame": [], "thumbnail": None, "title": None,
                                              "error": None})
        if kind == "frame":
            entry["frame"].append((idx, t_s, vector))
        elif kind == "error":
            entry["error"] = error
        else:
            entry[kind] = np.frombuffer(vector, np.float16).astype(np.float32)
    todo = set(i["id"] for i in items_without_embeddings(store, model_id, list(per_item)))
    mirrored = []
    with store.transaction():
        for item_id, entry in per_item.items():
            if item_id not in todo:
                summary.skipped_present += 1
                continue
            if entry["error"] is not None:
                mark_item_failed(store, item_id, entry["error"])
                summary.failed.append((item_id, entry["error"]))
                continue
            frames = sorted(entry["frame"])
            times = [t for _, t, _ in frames]
            vectors = np.stack([np.frombuffer(v, np.float16) for _, _, v in frames])
            save_item_embeddings(store, model_id, item_id, times, vectors.astype(np.float32),
                                 entry["thumbnail"], entry["title"])
            mirrored.append(MatrixRow(item_id, np.asarray(times, np.float32), vectors,
                                      item_duration(store, item_id)))
            summary.indexed += 1
            summary.frames += len(frames)
    (mirror or MatrixMirror(store, model_id, frames_per_item)).add(mirrored)
    summary.shards_merged += 1
    path.unlink(missing_ok=True)
    summary.merge_s += time.perf_counter() - started


def index_on_ray(store: Store, spec: str = "bundled", address: str = "local",
                 n_frames: int = DEFAULT_FRAMES, batch: int = DEFAULT_BATCH, workers: int = 2,
                 items_per_task: int = ITEMS_PER_TASK, progress: Progress | None = None,
                 only: list[str] | None = None, keep_ray: bool = False) -> ClusterIndexSummary:
    """Index what is not indexed yet with `spec`, on Ray Data; see the module's docstring."""
    from core.encoders import load_encoder

    require_ray()
    progress = progress or Progress()
    started = time.perf_counter()
    encoder = load_encoder(spec)
    model_id = encoder.model_id
    with store.transaction():
        register_model(store, model_id, encoder.spec, encoder.sha256, encoder.dim)
    summary = ClusterIndexSummary(model_id, address=address, workers=workers)
    out_dir = shard_dir(store.path, model_id)
    leftovers = sorted(out_dir.glob("*.parquet")) if out_dir.is_dir() else []
    summary.leftover_shards = len(leftovers)
    mirror = MatrixMirror(store, model_id, n_frames)
    for path in leftovers:              # an interrupted run's finished work
        merge_shard(store, model_id, path, summary, n_frames, mirror)
    todo = items_without_embeddings(store, model_id, only)
    progress.update(0, len(todo), "starting Ray")
    if not todo:
        summary.seconds = round(time.perf_counter() - started, 2)
        return summary
    done = 0

    def merge(result: dict) -> None:
        nonlocal done
        for path in result["shard"]:
            merge_shard(store, model_id, Path(str(path)), summary, n_frames, mirror)
        done += int(result["items"].sum())
        progress.update(done, len(todo), "indexing on Ray")
        progress.check_cancelled()

    summary.startup_s = run_on_ray(
        address, workers, [{"item": json.dumps(item)} for item in todo], EmbedBatch,
        dict(spec=spec, model_id=model_id, n_frames=n_frames, batch=batch, out_dir=str(out_dir)),
        items_per_task, merge, keep_ray)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary
