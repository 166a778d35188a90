"""The user signals that steer generation: User_Hist (the mean encoder embedding of liked
thumbnails, training likes only) and User_Emb (the user's MMGCN representation; for sampling,
through the items it ranks first, `user_preference`)."""
from __future__ import annotations

import numpy as np

from core.editor.history import history_vector
from core.errors import InputError
from core.store import Store
from core.store.corpus import user_ids


def user_hist(store: Store, encoder_id: str) -> dict[str, np.ndarray]:
    out = {}
    for user_id in user_ids(store):
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


def user_preference(store: Store, encoder_id: str, user_id: str) -> tuple[str, dict[str, float]]:
    """(recommender id, item id -> score): User_Emb as the corpus's own trained MMGCN ranks
    the items for the user; its top items' thumbnails are the user's exemplars
    (`conditioning.with_exemplars`)."""
    from core.recommender.service import load_recommender

    try:
        recommender = load_recommender(store, encoder_id)
    except InputError as exc:
        raise InputError(f"User_Emb needs a recommender trained on this corpus: {exc}") from None
    scores = recommender.score_values(user_id)
    return recommender.model_id, dict(zip(recommender.item_ids, scores.tolist()))
