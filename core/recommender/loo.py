"""Data for the leave-one-out protocol (MicroLens's benchmarks): each user's likes in order;
the last is the test item, the one before it the validation item, the rest train. Users with
fewer than 3 likes only train. Ranking is over the full item set.

From the corpus (every item that is not failed, with or without a video; features: the
encoder's title embedding, and the thumbnail or cover with the mean frame embedding where an
item has them) or from MovieLens 100K (ratings of 4 and 5 by time; features: genres).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.progress import Progress
from core.store import Store

MIN_LIKES = 3


@dataclass
class LooData:
    name: str
    users: list[str]
    items: list[str]
    sequences: list[np.ndarray]           # per user, item indices in order
    features: dict[str, np.ndarray]       # modality -> items x f (standardised or unit rows)
    order: str = ""                       # how the sequences were ordered
    encoder: str | None = None            # the encoder (model id) behind the features

    def __post_init__(self) -> None:
        evaluated = np.array([len(s) >= MIN_LIKES for s in self.sequences])
        self.evaluated = np.flatnonzero(evaluated)           # users with a test and valid item
        self.valid_target = np.full(self.n_users, -1, np.int64)
        self.test_target = np.full(self.n_users, -1, np.int64)
        self.train_seqs: list[np.ndarray] = []
        for u, seq in enumerate(self.sequences):
            if evaluated[u]:
                self.valid_target[u], self.test_target[u] = seq[-2], seq[-1]
                self.train_seqs.append(seq[:-2])
            else:
                self.train_seqs.append(seq)
        lengths = np.array([len(s) for s in self.train_seqs])
        self.train = np.stack([np.repeat(np.arange(self.n_users), lengths),
                               np.concatenate(self.train_seqs) if lengths.sum() else
                               np.zeros(0, np.int64)], axis=1).astype(np.int64)
        self.train = np.unique(self.train, axis=0)
        self.item_counts = np.bincount(self.train[:, 1], minlength=self.n_items)

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    @property
    def warm(self) -> np.ndarray:
        """Items with at least one training interaction; the others are cold."""
        return self.item_counts > 0

    def history(self, split: str) -> list[np.ndarray]:
        """What a model may read for predicting `split` ('valid' or 'test'): the training
        sequence, plus the validation item for the test."""
        if split == "valid":
            return self.train_seqs
        return [np.append(s, self.valid_target[u]) if self.valid_target[u] >= 0 else s
                for u, s in enumerate(self.train_seqs)]

    def targets(self, split: str) -> np.ndarray:
        return self.valid_target if split == "valid" else self.test_target

    def describe(self) -> dict:
        cold = ~self.warm[self.test_target[self.evaluated]]
        return {"users": self.n_users, "items": self.n_items, "evaluated_users": int(len(self.evaluated)),
                "interactions": int(sum(len(s) for s in self.sequences)),
                "train_pairs": int(len(self.train)), "cold_test_users": int(cold.sum()),
                "features": {m: int(x.shape[1]) for m, x in self.features.items()},
                "order": self.order}


def _sequences(rows, user_of: dict[str, int], item_of: dict[str, int]) -> list[np.ndarray]:
    """rows: (user, item) in order; an item liked twice counts at its first like."""
    per_user: list[list[int]] = [[] for _ in user_of]
    seen: list[set[int]] = [set() for _ in user_of]
    for user_id, item_id in rows:
        u, i = user_of[user_id], item_of.get(item_id)
        if i is None or i in seen[u]:
            continue
        seen[u].add(i)
        per_user[u].append(i)
    return [np.array(s, np.int64) for s in per_user]


def loo_from_corpus(store: Store, encoder_spec: str | None = None,
                    progress: Progress | None = None) -> LooData:
    """Likes from the corpus, ordered by time (ties by the order they were imported in)."""
    from core.recommender.features import corpus_item_features
    from core.store.corpus import ordered_likes, recommendable_items

    items = recommendable_items(store)
    if not items:
        raise InputError("the corpus has no items to recommend")
    item_of = {item_id: r for r, item_id in enumerate(items)}
    likes = ordered_likes(store)
    users = sorted({u for u, _ in likes})
    if not users:
        raise InputError("no likes in the corpus: nothing to train on")
    user_of = {u: k for k, u in enumerate(users)}
    encoder_id, features = corpus_item_features(store, items, encoder_spec, progress)
    return LooData(f"corpus {store.path.name}", users, items, _sequences(likes, user_of, item_of),
                   features, order="likes by timestamp, then import order (MicroLens TSV: file "
                                   "order)", encoder=encoder_id)


def loo_from_movielens(folder: str | Path) -> LooData:
    """MovieLens 100K, all of `u.data`: ratings of 4 and 5 are likes, ordered by timestamp."""
    from core.recommender.dataset import LIKE_RATING, _standardise, movielens_genres

    folder = Path(folder)
    if not (folder / "u.data").is_file():
        raise InputError(f"{folder / 'u.data'}: not found (expected MovieLens 100K)")
    genres = movielens_genres(folder)
    items = sorted(genres, key=int)
    rows = []
    for line in (folder / "u.data").read_text().splitlines():
        user, item, rating, ts = line.split("\t")
        if int(rating) >= LIKE_RATING:
            rows.append((int(ts), int(user), user, item))
    rows.sort()
    users = sorted({r[2] for r in rows}, key=int)
    user_of = {u: k for k, u in enumerate(users)}
    item_of = {i: r for r, i in enumerate(items)}
    features = {"genre": _standardise(np.stack([genres[i] for i in items]))}
    return LooData("MovieLens 100K", users, items,
                   _sequences([(r[2], r[3]) for r in rows], user_of, item_of), features,
                   order="u.data by timestamp; ratings of 4 and 5 are likes")
