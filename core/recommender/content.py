"""Content-based predicted preference: cosine between the user's history vector t̄ and each
item's mean frame embedding. It scores items with no interactions (new AI items) as well, and
is what the corpus browser sorts by until a trained recommender is available."""
from __future__ import annotations

import numpy as np

from core.editor.history import history_vector
from core.store import Store
from core.store.embeddings import load_frame_index


def content_scores(store: Store, model_id: str, user_id: str) -> dict[str, float]:
    user = history_vector(store, model_id, user_id)
    index = load_frame_index(store, model_id)
    sums = index.frames.sum(axis=1)
    means = sums / np.maximum(index.counts, 1)[:, None]
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    return {item_id: float(score) for item_id, score in zip(index.item_ids, means @ user)}
