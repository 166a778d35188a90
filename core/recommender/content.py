"""Content-based predicted preference: the mean cosine between the user's history vector t̄
and the item's frames. It scores items with no interactions (new AI items) as well, and is what
the corpus browser sorts by until a trained recommender is available.

It is one pass of the resident fp16 frame matrix's scan (the window of Eq. 2 widened to the
whole item), so a million items score in well under a second instead of being read back from
SQLite blobs (issue 17)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.editor.history import history_vector
from core.store import Store
from core.store.frame_matrix import open_frame_matrix


@dataclass(frozen=True)
class ScoreTable:
    """Predicted preferences as two aligned sequences. A million-entry dict is built by
    rehashing it in single GIL-held steps of up to 100 ms; the corpus browser aligns a table to
    its columns in short steps instead (core.corpus.browser.ItemColumns.align)."""
    item_ids: list[str]
    values: np.ndarray

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.item_ids, self.values.tolist()))


def content_score_table(store: Store, model_id: str, user_id: str) -> ScoreTable:
    user = history_vector(store, model_id, user_id)
    matrix = open_frame_matrix(store, model_id)
    whole = max(matrix.n_frames, 1)       # one window per item: all of its frames
    picks = matrix.scan(user, clip_len=whole, stride=whole)
    return ScoreTable(picks.item_ids, picks.clip_score)
