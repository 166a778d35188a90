"""The demo corpus as data, drawn from one seed: creators, items with segments, users with
hidden preferences, and interactions sampled from those preferences (DESIGN.md section 5)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from core.demo.vocabulary import (AGE_RATINGS, CATEGORIES, COLOURS, CREATOR_GROUPS, LICENCES,
                                  MOTIONS, SCENE_TITLES, SCENES, SHAPES, USER_GROUPS,
                                  caption, plural)

FPS = 16
START_TIME = 1767225600.0  # 2026-01-01T00:00:00Z
# Weight of each attribute in a user's liking of a segment.
PREFERENCE_WEIGHTS = {"colour": 1.0, "shape": 1.0, "scene": 0.5}


@dataclass
class ItemSpec:
    id: str
    title: str
    creator_id: str
    licence: str
    consent_derivatives: bool
    category: str
    age_rating: str
    segments: list[dict]          # attrs + caption + n_frames
    thumbnail_frame: int          # index into the whole video of the creator's chosen cover
    seed: int

    @property
    def n_frames(self) -> int:
        return sum(s["n_frames"] for s in self.segments)

    @property
    def cover_segment(self) -> dict:
        """The segment the creator's cover (thumbnail) shows."""
        return self.segments[self.thumbnail_frame // self.segments[0]["n_frames"]]


@dataclass
class DemoSpec:
    creators: list[dict]
    items: list[ItemSpec]
    users: list[dict]
    interactions: list[dict] = field(default_factory=list)


def _distinct_segments(rng: np.random.Generator, n: int) -> list[dict]:
    """n segments that differ from their neighbours in scene, shape and colour."""
    segments: list[dict] = []
    colours = list(COLOURS)
    while len(segments) < n:
        attrs = {
            "scene": str(rng.choice(SCENES)),
            "shape": str(rng.choice(SHAPES)),
            "colour": str(rng.choice(colours)),
            "motion": str(rng.choice(MOTIONS)),
            "count": int(rng.integers(1, 4)),
        }
        if any(attrs[k] == s[k] for s in segments for k in ("scene", "shape", "colour")):
            continue
        segments.append(attrs)
    return segments


def segment_affinity(truth: dict, attrs: dict) -> float:
    return sum(w for key, w in PREFERENCE_WEIGHTS.items() if attrs[key] in truth[key + "s"])


def item_affinity(truth: dict, item: ItemSpec) -> float:
    """Users like a video for its best part, a little for the rest."""
    scores = [segment_affinity(truth, s) for s in item.segments]
    return 0.75 * max(scores) + 0.25 * float(np.mean(scores))


def cover_affinity(truth: dict, item: ItemSpec) -> float:
    """How much the user likes what the item's thumbnail shows."""
    return segment_affinity(truth, item.cover_segment)


def engagement(truth: dict, item: ItemSpec) -> float:
    """What drives clicks and likes: the thumbnail seen in the feed, and the video watched."""
    return 0.5 * cover_affinity(truth, item) + 0.5 * item_affinity(truth, item)


def build_spec(n_items: int = 240, n_users: int = 160, seed: int = 0,
               views_per_user: int = 42) -> DemoSpec:
    rng = np.random.default_rng(seed)
    creators = [{"id": f"c{k:02d}", "name": f"Creator {k:02d}",
                 "creator_group": CREATOR_GROUPS[int(k % 3 == 0)]} for k in range(1, 31)]
    items = []
    for k in range(1, n_items + 1):
        n_seg = int(rng.integers(3, 5))
        per_segment = int(rng.integers(16, 128 // n_seg + 1))
        segments = []
        for attrs in _distinct_segments(rng, n_seg):
            segments.append({**attrs, "caption": caption(attrs), "n_frames": per_segment})
        licence, allows = LICENCES[int(rng.integers(len(LICENCES)))]
        cover_segment = int(rng.integers(n_seg))
        cover = segments[cover_segment]   # the title names what the cover shows
        items.append(ItemSpec(
            id=f"demo-{k:04d}",
            title=f"{cover['colour'].title()} {plural(cover['shape'])} {SCENE_TITLES[cover['scene']]} "
                  f"and more #{k}",
            creator_id=creators[int(rng.integers(len(creators)))]["id"],
            licence=licence,
            consent_derivatives=bool(allows and rng.random() < 0.85),
            category=str(rng.choice(CATEGORIES)),
            age_rating=str(rng.choice(AGE_RATINGS)),
            segments=segments,
            thumbnail_frame=cover_segment * per_segment + per_segment // 2,
            seed=int(rng.integers(2**31)),
        ))
    users = []
    colours = list(COLOURS)
    for k in range(1, n_users + 1):
        truth = {
            "colours": sorted(rng.choice(colours, size=int(rng.integers(1, 3)), replace=False).tolist()),
            "shapes": sorted(rng.choice(SHAPES, size=int(rng.integers(1, 3)), replace=False).tolist()),
            "scenes": [str(rng.choice(SCENES))],
        }
        age = int(rng.integers(13, 66))
        users.append({
            "id": f"u{k:04d}",
            "name": f"User {k:04d}",
            "attributes": {
                "age": age,
                "group": USER_GROUPS[int(rng.integers(len(USER_GROUPS)))],
                "account_created": START_TIME - float(rng.integers(1, 1000)) * 86400,
            },
            "truth": truth,
        })
    spec = DemoSpec(creators, items, users)
    spec.interactions = _sample_interactions(spec, rng, views_per_user)
    return spec


def _sample_interactions(spec: DemoSpec, rng: np.random.Generator,
                         views_per_user: int) -> list[dict]:
    """Each view yields dwell, maybe a click, and maybe a like or a dislike."""
    rows = []
    n_items = len(spec.items)
    views_per_user = min(views_per_user, n_items)
    for user_index, user in enumerate(spec.users):
        truth = user["truth"]
        affinity = np.array([engagement(truth, item) for item in spec.items])
        # Feeds are half personalised (by a noisy view of the truth), half random.
        noisy = affinity + rng.normal(0, 0.6, n_items)
        top = np.argsort(-noisy)[: views_per_user * 2]
        chosen = set(rng.choice(top, size=views_per_user // 2, replace=False).tolist())
        while len(chosen) < views_per_user:
            chosen.add(int(rng.integers(n_items)))
        order = rng.permutation(sorted(chosen))
        t = START_TIME + user_index * 37.0
        for idx in order:
            item = spec.items[int(idx)]
            a = affinity[idx]
            t += float(rng.uniform(60, 3600))
            duration = item.n_frames / FPS
            watched = min(duration, max(0.5, duration * (0.15 + 0.3 * a) + rng.normal(0, 0.5)))
            base = {"user_id": user["id"], "item_id": item.id, "timestamp": round(t, 3)}
            rows.append({**base, "kind": "dwell", "value": round(watched, 2)})
            p_click = 1 / (1 + math.exp(-2.5 * (a - 0.7)))
            if rng.random() < p_click:
                rows.append({**base, "kind": "click", "value": 1.0})
                if rng.random() < 1 / (1 + math.exp(-3.0 * (a - 1.2))):
                    rows.append({**base, "kind": "like", "value": 1.0})
                    continue
            if a < 0.8 and rng.random() < 0.4:
                rows.append({**base, "kind": "dislike", "value": 1.0})
    return rows
