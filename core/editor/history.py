"""A user's taste as a vector: t̄, the mean embedding of the thumbnails of liked items."""
from __future__ import annotations

import numpy as np

from core.errors import InputError
from core.store import Store
from core.store.embeddings import from_blob


def liked_items(store: Store, user_id: str, split: str | None = "train") -> list[str]:
    if store.conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
        raise InputError(f"unknown user {user_id!r}")
    sql = "SELECT DISTINCT item_id FROM interactions WHERE user_id = ? AND kind = 'like'"
    params: tuple = (user_id,)
    if split is not None:
        sql += " AND split = ?"
        params += (split,)
    return [r[0] for r in store.conn.execute(sql + " ORDER BY item_id", params)]


def thumbnail_embeddings(store: Store, model_id: str, item_ids: list[str]) -> np.ndarray:
    if not item_ids:
        return np.zeros((0, 0), np.float32)
    marks = ", ".join("?" * len(item_ids))
    rows = store.conn.execute(
        f"SELECT vector FROM embeddings WHERE model_id = ? AND kind = 'thumbnail' "
        f"AND item_id IN ({marks})", (model_id, *item_ids)).fetchall()
    return np.stack([from_blob(r[0]) for r in rows]) if rows else np.zeros((0, 0), np.float32)


def history_vector(store: Store, model_id: str, user_id: str, split: str | None = "train") -> np.ndarray:
    """L2-normalised mean of the liked thumbnails' embeddings (training likes by default)."""
    liked = liked_items(store, user_id, split)
    vectors = thumbnail_embeddings(store, model_id, liked)
    if len(vectors) == 0:
        where = f" in the {split} split" if split else ""
        raise InputError(f"user {user_id!r} has no liked items{where} indexed with {model_id}; "
                         f"personalization needs at least one like")
    mean = vectors.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)
