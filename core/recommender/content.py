"""Content-based predicted preference: the mean cosine between the user's history vector t̄
and the item's frames. It scores items with no interactions (new AI items) as well, and is what
the corpus browser sorts by until a trained recommender is available.

It is one pass of the resident fp16 frame matrix's scan (the window of Eq. 2 widened to the
whole item), so a million items score in well under a second instead of being read back from
SQLite blobs (issue 17)."""
from __future__ import annotations

from core.editor.history import history_vector
from core.store import Store
from core.store.frame_matrix import open_frame_matrix

CHUNK = 20_000


def content_scores(store: Store, model_id: str, user_id: str) -> dict[str, float]:
    user = history_vector(store, model_id, user_id)
    matrix = open_frame_matrix(store, model_id)
    whole = max(matrix.n_frames, 1)       # one window per item: all of its frames
    picks = matrix.scan(user, clip_len=whole, stride=whole)
    scores: dict[str, float] = {}
    for lo in range(0, len(picks.item_ids), CHUNK):     # short steps: a GUI may be painting
        scores.update(zip(picks.item_ids[lo:lo + CHUNK], picks.clip_score[lo:lo + CHUNK].tolist()))
    return scores
