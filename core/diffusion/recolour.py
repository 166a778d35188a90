"""Revision pairs in which the user signal says what changes (issue 13).

A pair is a window of a demo segment rendered twice from its seed: once as the corpus shows
it (the source) and once with its objects in the user's favourite colour (the target), the
colour that the covers of the user's liked items show most. Shape, scene and motion stay
the same, so a model trained on these pairs learns to read a colour out of User_Hist and to
keep everything else of the source. Without a user signal the target is the source itself:
revising with no signal changes nothing.

The pairs come from the demo spec that the audit log says built the training corpus; they
need no labels at revision time, only User_Hist."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from core.demo.render import render_segment
from core.demo.spec import ItemSpec, build_spec
from core.diffusion.data import to_working
from core.store import Store


@dataclass
class Pair:
    source: np.ndarray      # W x S x S x 3 uint8
    target: np.ndarray      # the same window, recoloured (or the source where nothing changes)
    user: str
    item_id: str


def cover_colour(item: ItemSpec) -> str:
    return item.cover_segment["colour"]


def favourite_colours(items: dict[str, ItemSpec], liked: dict[str, list[str]]) -> dict[str, str]:
    """user -> the colour most of the user's liked covers show (ties: the first liked)."""
    out = {}
    for user, item_ids in liked.items():
        colours = [cover_colour(items[i]) for i in item_ids if i in items]
        if colours:
            out[user] = Counter(colours).most_common(1)[0][0]
    return out


class RecolourPairs:
    def __init__(self, items: list[ItemSpec], favourite: dict[str, str], size: int,
                 window: int) -> None:
        # (item, segment index) of every segment with a window's worth of frames
        self.segments = [(item, k) for item in items for k, s in enumerate(item.segments)
                         if s["n_frames"] >= window]
        if not self.segments or not favourite:
            raise ValueError(f"recolour pairs need demo segments of {window} frames and users "
                             f"with liked items")
        self.favourite, self.size, self.window = favourite, size, window
        self.users = sorted(favourite)

    def sample(self, rng: np.random.Generator) -> Pair:
        user = self.users[rng.integers(len(self.users))]
        item, k = self.segments[rng.integers(len(self.segments))]
        attrs, n, window = item.segments[k], item.segments[k]["n_frames"], self.window
        start = int(rng.integers(n - window + 1))
        frames = range(start, start + window)
        source = self._render(attrs, n, item.seed + k, frames)
        target = source if attrs["colour"] == self.favourite[user] else \
            self._render({**attrs, "colour": self.favourite[user]}, n, item.seed + k, frames)
        return Pair(source, target, user, item.id)

    def _render(self, attrs: dict, n: int, seed: int, frames: range) -> np.ndarray:
        return np.stack([to_working(f, self.size) for f in render_segment(attrs, n, seed, frames)])


def recolour_pairs(store: Store, size: int, window: int) -> RecolourPairs | None:
    """Pairs from the demo corpora built into `store`, or None when it holds no demo corpus."""
    from core.store.corpus import training_likers
    from core.store.evaluation import demo_builds

    items: dict[str, ItemSpec] = {}
    for build in demo_builds(store):
        spec = build_spec(int(build["items"]), int(build["users"]), int(build["seed"]))
        items.update({item.id: item for item in spec.items})
    if not items:
        return None
    liked: dict[str, list[str]] = {}
    for item_id, users in training_likers(store).items():
        for user in users:
            liked.setdefault(user, []).append(item_id)
    favourite = favourite_colours(items, liked)
    return RecolourPairs(list(items.values()), favourite, size, window) if favourite else None
