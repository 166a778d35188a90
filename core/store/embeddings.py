"""Embeddings in the corpus: float16 blobs per (model, item, kind, index), and the frame index
that personalization works on: one dense array for the whole corpus."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.store.corpus import _rows_for_ids
from core.store.database import Store


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, np.float16).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, np.float16).astype(np.float32)


def register_model(store: Store, model_id: str, spec: str, sha256: str | None, dim: int) -> None:
    store.conn.execute("INSERT OR IGNORE INTO models (id, spec, sha256, dim) VALUES (?, ?, ?, ?)",
                       (model_id, spec, sha256, dim))


def encoder_spec(store: Store, model_id: str) -> str:
    """The spec that loads the encoder behind `model_id` (what `generec index --model` took)."""
    from core.errors import InputError

    row = store.conn.execute("SELECT spec FROM models WHERE id = ?", (model_id,)).fetchone()
    if row is None:
        raise InputError(f"the corpus has no embeddings from encoder {model_id!r}; run "
                         f"'generec index' first")
    return row[0]


def items_without_embeddings(store: Store, model_id: str,
                             among: list[str] | None = None) -> list[dict]:
    rows = store.conn.execute(
        "SELECT id, path, thumbnail_path, title, width, height, duration_s, fps, frames, codec, "
        "rotation, has_audio FROM items "
        "WHERE status = 'ok' AND id NOT IN (SELECT DISTINCT item_id FROM embeddings "
        "WHERE model_id = ? AND kind = 'frame') ORDER BY id", (model_id,)).fetchall()
    wanted = set(among) if among is not None else None
    return [dict(r) for r in rows if wanted is None or r["id"] in wanted]


def save_item_embeddings(store: Store, model_id: str, item_id: str, times: list[float],
                         frames: np.ndarray, thumbnail: np.ndarray | None,
                         title: np.ndarray | None) -> None:
    """Replace an item's sampled frames when their times changed (other models' frame
    embeddings of the item go with them), then store this model's vectors. Call in a transaction."""
    old = [r[0] for r in store.conn.execute(
        "SELECT t_s FROM frames WHERE item_id = ? ORDER BY idx", (item_id,))]
    unchanged = len(old) == len(times) and np.allclose(old, times)
    if not unchanged:
        store.conn.execute("DELETE FROM frames WHERE item_id = ?", (item_id,))
        store.conn.execute("DELETE FROM embeddings WHERE item_id = ? AND kind = 'frame'", (item_id,))
        store.conn.executemany("INSERT INTO frames (item_id, idx, t_s) VALUES (?, ?, ?)",
                               [(item_id, k, t) for k, t in enumerate(times)])
    rows = [(model_id, item_id, "frame", k, to_blob(v)) for k, v in enumerate(frames)]
    if thumbnail is not None:
        rows.append((model_id, item_id, "thumbnail", 0, to_blob(thumbnail)))
    if title is not None:
        rows.append((model_id, item_id, "title", 0, to_blob(title)))
    store.conn.executemany(
        "INSERT OR REPLACE INTO embeddings (model_id, item_id, kind, idx, vector) "
        "VALUES (?, ?, ?, ?, ?)", rows)


def item_vectors(store: Store, model_id: str, kind: str) -> dict[str, np.ndarray]:
    """item id -> its vector of `kind` ('title' or 'thumbnail', index 0) from one model."""
    return {item_id: from_blob(blob) for item_id, blob in store.conn.execute(
        "SELECT item_id, vector FROM embeddings WHERE model_id = ? AND kind = ? AND idx = 0",
        (model_id, kind))}


def item_vectors_of(store: Store, model_id: str, kind: str, item_ids: list[str]) -> np.ndarray:
    """The stored `kind` vectors of those items that have one (n x d; 0 x 0 for none)."""
    if not item_ids:
        return np.zeros((0, 0), np.float32)
    # One IN over every id returned each item once, in id order (SQLite walks the IN list sorted
    # along the primary key); distinct sorted chunks keep that across chunks.
    rows = _rows_for_ids(
        store, "SELECT vector FROM embeddings WHERE model_id = ? AND kind = ? AND item_id IN ({})",
        sorted(set(item_ids)), (model_id, kind))
    return np.stack([from_blob(r[0]) for r in rows]) if rows else np.zeros((0, 0), np.float32)


def save_item_vectors(store: Store, model_id: str, kind: str,
                      rows: list[tuple[str, np.ndarray]]) -> None:
    """Store one vector of `kind` per item (replacing it). Call in a transaction."""
    store.conn.executemany(
        "INSERT OR REPLACE INTO embeddings (model_id, item_id, kind, idx, vector) "
        "VALUES (?, ?, ?, 0, ?)", [(model_id, item_id, kind, to_blob(v)) for item_id, v in rows])


def save_user_vectors(store: Store, model_id: str, rows: list[tuple[str, np.ndarray]]) -> None:
    """User_Emb of a trained recommender, per user. Call in a transaction."""
    store.conn.executemany(
        "INSERT OR REPLACE INTO user_embeddings (model_id, user_id, vector) VALUES (?, ?, ?)",
        [(model_id, user_id, to_blob(v)) for user_id, v in rows])


def record_model(store: Store, model_id: str, spec: str, sha256: str, dim: int,
                 path: str | None, metrics: str) -> None:
    """Register a trained model (recommender) with its metrics JSON. Call in a transaction."""
    store.conn.execute(
        "INSERT OR REPLACE INTO models (id, spec, sha256, dim, path, metrics) "
        "VALUES (?, ?, ?, ?, ?, ?)", (model_id, spec, sha256, dim, path, metrics))


def latest_model(store: Store, specs: list[str]):
    """The models row (id, spec, path) registered last under any of `specs`, or None."""
    marks = ", ".join("?" * len(specs))
    return store.conn.execute(f"SELECT id, spec, path FROM models WHERE spec IN ({marks}) "
                              "ORDER BY created_at DESC, rowid DESC", specs).fetchone()


def user_vectors(store: Store, model_id: str) -> dict[str, np.ndarray]:
    return {user_id: from_blob(blob) for user_id, blob in store.conn.execute(
        "SELECT user_id, vector FROM user_embeddings WHERE model_id = ?", (model_id,))}


@dataclass
class FrameIndex:
    """Frame embeddings of many items as one array, padded to the longest item.

    `frames[i, k]` is frame k of item i (zeros past `counts[i]`), `times[i, k]` its time,
    `thumbnails[i]` the embedding of the item's original thumbnail.
    """
    model_id: str
    item_ids: list[str]
    frames: np.ndarray        # I x N x d, float32
    counts: np.ndarray        # I
    times: np.ndarray         # I x N
    durations: np.ndarray     # I
    thumbnails: np.ndarray    # I x d

    def position(self, item_id: str) -> int:
        return self.item_ids.index(item_id)

    def subset(self, rows: list[int] | np.ndarray) -> "FrameIndex":
        rows = np.asarray(rows, int)
        return FrameIndex(self.model_id, [self.item_ids[r] for r in rows], self.frames[rows],
                          self.counts[rows], self.times[rows], self.durations[rows],
                          self.thumbnails[rows])


def load_frame_index(store: Store, model_id: str, item_ids: list[str] | None = None) -> FrameIndex:
    sql = ("SELECT e.item_id, e.idx, e.vector, f.t_s FROM embeddings e JOIN frames f "
           "ON f.item_id = e.item_id AND f.idx = e.idx WHERE e.model_id = ? AND e.kind = 'frame'")
    rows = store.conn.execute(sql + " ORDER BY e.item_id, e.idx", (model_id,)).fetchall()
    per_item: dict[str, list] = {}
    for item_id, idx, blob, t in rows:
        per_item.setdefault(item_id, []).append((from_blob(blob), t))
    wanted = item_ids if item_ids is not None else sorted(per_item)
    missing = [i for i in wanted if i not in per_item]
    if missing:
        from core.errors import InputError

        raise InputError(f"not indexed with {model_id}: {', '.join(missing[:5])}"
                         f"{' …' if len(missing) > 5 else ''}; run 'generec index' first")
    n_max = max((len(per_item[i]) for i in wanted), default=0)
    dim = len(next(iter(per_item.values()))[0][0]) if per_item else 0
    frames = np.zeros((len(wanted), n_max, dim), np.float32)
    times = np.zeros((len(wanted), n_max), np.float32)
    counts = np.zeros(len(wanted), np.int64)
    for r, item_id in enumerate(wanted):
        entries = per_item[item_id]
        counts[r] = len(entries)
        frames[r, :len(entries)] = np.stack([v for v, _ in entries])
        times[r, :len(entries)] = [t for _, t in entries]
    meta = {row[0]: row[1:] for row in store.conn.execute(
        "SELECT id, duration_s FROM items")}
    durations = np.array([meta[i][0] or 0.0 for i in wanted], np.float32)
    thumbs = {item_id: from_blob(blob) for item_id, blob in store.conn.execute(
        "SELECT item_id, vector FROM embeddings WHERE model_id = ? AND kind = 'thumbnail'",
        (model_id,))}
    thumbnails = np.stack([thumbs.get(i, np.zeros(dim, np.float32)) for i in wanted]) \
        if wanted else np.zeros((0, dim), np.float32)
    return FrameIndex(model_id, list(wanted), frames, counts, times, durations, thumbnails)
