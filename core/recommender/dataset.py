"""Training data for the recommender: users, items, positive pairs split into train and
held-out parts, and item features per modality. From the corpus or from MovieLens 100K."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.store import Store
from core.store.corpus import user_ids
from core.store.embeddings import item_vectors, load_frame_index
from core.store.recommender import like_splits

LIKE_RATING = 4       # MovieLens: ratings of 4 and 5 count as likes


@dataclass
class RecDataset:
    name: str
    users: list[str]
    items: list[str]
    train: np.ndarray                       # P x 2 (user index, item index)
    test: dict[int, set[int]]               # held-out positives per user index
    features: dict[str, np.ndarray]         # modality -> items x f
    split: str = ""
    validation: dict[int, set[int]] = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def hold_out_validation(self, seed: int = 0, fraction: float = 0.1) -> None:
        """Move a random `fraction` of each user's training positives (at least one, for users
        with 3 or more) into `validation`, for early stopping."""
        rng = np.random.default_rng(seed)
        by_user: dict[int, list[int]] = {}
        for row, (u, _) in enumerate(self.train):
            by_user.setdefault(int(u), []).append(row)
        moved = []
        for u, rows in by_user.items():
            if len(rows) >= 3:
                take = rng.choice(rows, size=max(1, int(len(rows) * fraction)), replace=False)
                self.validation.setdefault(u, set()).update(int(self.train[r, 1]) for r in take)
                moved.extend(int(r) for r in take)
        self.train = np.delete(self.train, moved, axis=0)

    def known(self) -> dict[int, set[int]]:
        """Items each user is known to like in training (excluded when ranking)."""
        out: dict[int, set[int]] = {}
        for u, i in self.train:
            out.setdefault(int(u), set()).add(int(i))
        return out


def _standardise(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    return (x - x.mean(axis=0)) / (x.std(axis=0) + 1e-6)


def from_corpus(store: Store, model_id: str) -> RecDataset:
    """Likes as positives (split column decides train or held-out). Modalities: `visual`
    (original thumbnail and mean frame embedding), `text` (title embedding)."""
    index = load_frame_index(store, model_id)
    items = index.item_ids
    row_of = {item_id: r for r, item_id in enumerate(items)}
    users = user_ids(store)
    user_of = {u: k for k, u in enumerate(users)}
    train, test = [], {}
    for user_id, item_id, split in like_splits(store):
        if item_id not in row_of:
            continue
        u, i = user_of[user_id], row_of[item_id]
        if split == "train":
            train.append((u, i))
        else:
            test.setdefault(u, set()).add(i)
    if not train:
        raise InputError("no liked items in the training split: nothing to train on")
    mean_frames = index.frames.sum(axis=1) / np.maximum(index.counts, 1)[:, None]
    titles = item_vectors(store, model_id, "title")    # titles are stored at index 0 only
    dim = index.frames.shape[2]
    text = np.stack([titles.get(i, np.zeros(dim, np.float32)) for i in items])
    features = {"visual": np.concatenate([index.thumbnails, mean_frames], axis=1).astype(np.float32),
                "text": text.astype(np.float32)}
    return RecDataset(f"corpus {store.path.name}", users, items, np.array(train, np.int64),
                      test, features, split="likes by the time split of each user (latest 20% held out)")


def movielens_genres(folder: Path) -> dict[str, np.ndarray]:
    """item id -> its 19 genre flags, from MovieLens 100K's `u.item`."""
    if not (folder / "u.item").is_file():
        raise InputError(f"{folder / 'u.item'}: not found (expected MovieLens 100K)")
    genres = {}
    for line in (folder / "u.item").read_text(encoding="latin-1").splitlines():
        fields = line.split("|")
        if len(fields) >= 24:
            genres[fields[0]] = np.array([int(g) for g in fields[5:24]], np.float32)
    return genres


def from_movielens(folder: str | Path) -> RecDataset:
    """MovieLens 100K with the official ua.base / ua.test split; genres are the item features."""
    folder = Path(folder)
    for name in ("ua.base", "ua.test"):
        if not (folder / name).is_file():
            raise InputError(f"{folder / name}: not found (expected MovieLens 100K)")
    genres = movielens_genres(folder)
    items = sorted(genres, key=int)
    row_of = {item_id: r for r, item_id in enumerate(items)}

    def read(name: str) -> list[tuple[str, str]]:
        pairs = []
        for line in (folder / name).read_text().splitlines():
            user, item, rating, _ = line.split("\t")
            if int(rating) >= LIKE_RATING:
                pairs.append((user, item))
        return pairs

    base, held = read("ua.base"), read("ua.test")
    users = sorted({u for u, _ in base + held}, key=int)
    user_of = {u: k for k, u in enumerate(users)}
    train = np.array([(user_of[u], row_of[i]) for u, i in base], np.int64)
    test: dict[int, set[int]] = {}
    for u, i in held:
        test.setdefault(user_of[u], set()).add(row_of[i])
    features = {"genre": _standardise(np.stack([genres[i] for i in items]))}
    return RecDataset("MovieLens 100K", users, items, train, test, features,
                      split="official ua.base / ua.test; ratings of 4 and 5 are likes")
