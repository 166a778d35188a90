"""A user's taste as a vector: t̄, the mean embedding of the thumbnails of liked items."""
from __future__ import annotations

import numpy as np

from core.errors import InputError
from core.store import Store
from core.store.corpus import liked_item_ids
from core.store.embeddings import item_vectors_of


def liked_items(store: Store, user_id: str, split: str | None = "train") -> list[str]:
    liked = liked_item_ids(store, user_id, split)
    if liked is None:
        raise InputError(f"unknown user {user_id!r}")
    return liked


def thumbnail_embeddings(store: Store, model_id: str, item_ids: list[str]) -> np.ndarray:
    return item_vectors_of(store, model_id, "thumbnail", item_ids)


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
