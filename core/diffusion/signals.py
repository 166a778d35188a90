"""The user signals that steer generation: User_Hist (the mean encoder embedding of liked
thumbnails, training likes only) and User_Emb (the user's MMGCN representation)."""
from __future__ import annotations

import numpy as np

from core.editor.history import history_vector
from core.errors import InputError
from core.store import Store


def user_hist(store: Store, encoder_id: str) -> dict[str, np.ndarray]:
    out = {}
    for (user_id,) in store.conn.execute("SELECT id FROM users ORDER BY id").fetchall():
        try:
            out[user_id] = history_vector(store, encoder_id, user_id)
        except InputError:
            continue                       # no training likes: no User_Hist
    return out


def user_emb(store: Store, encoder_id: str) -> dict[str, np.ndarray]:
    """User representations of the recommender that `user_emb_source` names (the time-split
    MMGCN, or the leave-one-out protocol's best model on validation), L2-normalised; empty
    when no recommender is trained."""
    from core.recommender.service import user_emb_vectors

    return user_emb_vectors(store, encoder_id)


def likers(store: Store) -> dict[str, list[str]]:
    """item id -> users who liked it in the training split."""
    out: dict[str, list[str]] = {}
    for user_id, item_id in store.conn.execute(
            "SELECT DISTINCT user_id, item_id FROM interactions WHERE kind = 'like' "
            "AND split = 'train' ORDER BY item_id, user_id"):
        out.setdefault(item_id, []).append(user_id)
    return out
