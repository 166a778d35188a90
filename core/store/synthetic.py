"""Rows of a synthetic-scale corpus (core/demo/synthetic_scale.py): items without media, users,
likes and the liked items' thumbnail embeddings. Call each in a transaction."""
from __future__ import annotations

import numpy as np

from core.store.database import Store
from core.store.embeddings import to_blob


def insert_synthetic_items(store: Store, rows: list[tuple[str, str, float, int]]) -> None:
    """(id, title, duration_s, frames) per item, status no-media (there is no video)."""
    store.conn.executemany(
        "INSERT OR IGNORE INTO items (id, title, path, status, duration_s, frames) "
        "VALUES (?, ?, '', 'no-media', ?, ?)", rows)


def insert_synthetic_users(store: Store, user_ids: list[str]) -> None:
    store.conn.executemany("INSERT OR IGNORE INTO users (id, name) VALUES (?, ?)",
                           [(u, u) for u in user_ids])


def insert_likes(store: Store, rows: list[tuple[str, str, float]]) -> None:
    """(user, item, timestamp) likes in the training split."""
    store.conn.executemany(
        "INSERT OR IGNORE INTO interactions (user_id, item_id, kind, value, timestamp, split) "
        "VALUES (?, ?, 'like', 1.0, ?, 'train')", rows)


def insert_thumbnail_vectors(store: Store, model_id: str,
                             rows: list[tuple[str, np.ndarray]]) -> None:
    store.conn.executemany(
        "INSERT OR REPLACE INTO embeddings (model_id, item_id, kind, idx, vector) "
        "VALUES (?, ?, 'thumbnail', 0, ?)", [(model_id, i, to_blob(v)) for i, v in rows])


def clone_items(store: Store, count: int) -> int:
    """Add copies of the corpus's `ok` items (same media, ids `ID~k`) until it holds `count`
    of them: a corpus of that size for timing, without rendering more videos."""
    have = store.conn.execute("SELECT COUNT(*) FROM items WHERE status = 'ok'").fetchone()[0]
    sources = [r[0] for r in store.conn.execute(
        "SELECT id FROM items WHERE status = 'ok' AND id NOT LIKE '%~%' ORDER BY id")]
    added = 0
    for k in range(max(0, count - have)):
        source = sources[k % len(sources)]
        store.conn.execute(
            "INSERT INTO items (id, title, source, creator_id, licence, path, thumbnail_path, "
            "status, width, height, duration_s, fps, frames, codec, rotation, has_audio) "
            "SELECT ? , title, source, creator_id, licence, path, thumbnail_path, status, width, "
            "height, duration_s, fps, frames, codec, rotation, has_audio FROM items WHERE id = ?",
            (f"{source}~{k // len(sources) + 1}", source))
        added += 1
    return added
