"""Judged preference hit and instruction hit (DESIGN.md section 4), the validation and test
split of users, and the intervals of per-user means.

- A frame *shows a preferred attribute* when the judge (`core/evaluation/judge.py`, not the
  conditioning encoder) labels its object colour as one of the user's true colours or its
  shape as one of the user's true shapes (the same rule as the ground-truth `preference_hit`).
- The judged hit of an output is the share of its frames that do; a user's value is the mean
  over that user's outputs; a method's figure is the mean over users with a 95% interval
  (normal approximation: mean ± 1.96 standard errors, clipped to [0, 1]).
- The instruction hit of a created clip is the share of its frames whose judged colour, shape
  and scene are all the ones the instruction names.
- Users are split once, by a hash of their id: one in four is a validation user (parameters
  such as strength, guidance and steps are chosen on them, `bench/bench_video_diffusion.py`),
  the others are test users (`generec evaluate` reports on them).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from core.progress import Progress
from core.store import Store

VALIDATION_EVERY = 4
SPLIT_RULE = ("validation: users whose sha256('generec-validation:' + id) is 0 modulo 4; "
              "test: the others")

Attrs = tuple  # (colour, shape, scene); None where unknown or not confidently judged
ATTRIBUTES = ("colour", "shape", "scene")


def is_validation_user(user_id: str) -> bool:
    digest = hashlib.sha256(f"generec-validation:{user_id}".encode()).hexdigest()
    return int(digest[:8], 16) % VALIDATION_EVERY == 0


@dataclass
class UserSplit:
    validation: list[str]
    test: list[str]

    def as_dict(self) -> dict:
        return {"validation": len(self.validation), "test": len(self.test), "rule": SPLIT_RULE}


def split_users(user_ids) -> UserSplit:
    ids = list(user_ids)
    return UserSplit([u for u in ids if is_validation_user(u)],
                     [u for u in ids if not is_validation_user(u)])


def interval(per_user: list[float]) -> dict | None:
    """{"mean", "ci95": [lo, hi], "users"} of per-user values."""
    values = np.asarray([v for v in per_user if v is not None], float)
    if not len(values):
        return None
    mean = float(values.mean())
    half = 1.96 * float(values.std(ddof=1)) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return {"mean": round(mean, 4),
            "ci95": [round(max(0.0, mean - half), 4), round(min(1.0, mean + half), 4)],
            "users": int(len(values))}


def shows_preferred(attrs: Attrs, truth: dict) -> bool:
    return attrs[0] in truth["colours"] or attrs[1] in truth["shapes"]


def preference_share(frames: list[Attrs], truth: dict) -> float:
    return float(np.mean([shows_preferred(a, truth) for a in frames])) if frames else 0.0


def shape_share(frames: list[Attrs], sources: list[Attrs]) -> float | None:
    """Share of frames whose judged shape is that of the source frame at the same place, over
    the source frames whose shape the judge names; None where it names none."""
    pairs = [(a[1], s[1]) for a, s in zip(frames, sources) if s[1] is not None]
    return float(np.mean([a == s for a, s in pairs])) if pairs else None


def instruction_share(frames: list[Attrs], wanted: Attrs) -> float:
    return float(np.mean([tuple(a) == tuple(wanted) for a in frames])) if frames else 0.0


def attribute_share(frames: list[Attrs], wanted: Attrs, attribute: str) -> float:
    """Share of frames whose one judged attribute (of ATTRIBUTES) is the instruction's."""
    j = ATTRIBUTES.index(attribute)
    return float(np.mean([a[j] == wanted[j] for a in frames])) if frames else 0.0


@dataclass
class HitTable:
    """Per method, per user, the shares of single outputs."""
    values: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def add(self, method: str, user_id: str, share: float | None) -> None:
        """One output's share; None (nothing to measure in that output) is left out."""
        if share is not None:
            self.values.setdefault(method, {}).setdefault(user_id, []).append(float(share))

    def summary(self) -> dict:
        return {method: interval([float(np.mean(v)) for v in users.values()])
                for method, users in self.values.items()}


def judged_attrs(judgement) -> list[Attrs]:
    labels = judgement.labels
    return list(zip(labels["colour"], labels["shape"], labels["scene"]))


@dataclass
class JudgedIndex:
    """The judge's labels of the indexed frames (row -> one Attrs per frame) and of each item's
    original thumbnail, for the rows judged."""
    frames: dict[int, list[Attrs]]
    originals: dict[int, Attrs]


def judge_index(store: Store, index, judge, rows=None, progress: Progress | None = None) -> JudgedIndex:
    """Decode the indexed frames of `rows` (default: all) and the original thumbnails, judge them."""
    from core.evaluation.judge import SIZE
    from core.media import iter_frames, read_image
    from core.store.evaluation import item_media

    import cv2

    progress = progress or Progress()
    rows = sorted(set(int(r) for r in (range(len(index.item_ids)) if rows is None else rows)))
    media = item_media(store, [index.item_ids[r] for r in rows])
    images, owners = [], []
    for n, row in enumerate(rows):
        progress.check_cancelled()
        progress.update(n, len(rows), "decoding frames for the judge")
        item = media[index.item_ids[row]]
        times = index.times[row, :index.counts[row]]
        decoded = [(f.t_s, cv2.resize(f.image, (SIZE, SIZE), interpolation=cv2.INTER_AREA))
                   for f in iter_frames(item["path"], max_side=128)]
        stamps = np.array([t for t, _ in decoded])
        for t in times:
            images.append(decoded[int(np.argmin(np.abs(stamps - t)))][1])
            owners.append((row, "frame"))
        if item["thumbnail_path"]:
            images.append(read_image(item["thumbnail_path"]))
            owners.append((row, "original"))
    attrs = judged_attrs(judge.judge(images)) if images else []
    frames: dict[int, list[Attrs]] = {r: [] for r in rows}
    originals: dict[int, Attrs] = {r: (None, None, None) for r in rows}
    for (row, kind), a in zip(owners, attrs):
        if kind == "frame":
            frames[row].append(a)
        else:
            originals[row] = a
    return JudgedIndex(frames, originals)


def judge_accuracy(judged: dict[int, list[Attrs]], truth: dict[int, list[Attrs]]) -> dict:
    """Per attribute, the share of judged frames whose label is the segment's true one."""
    pairs = [(j, t) for row, frames in judged.items()
             for j, t in zip(frames, truth.get(row, [])) if t[0] is not None]
    out = {name: round(float(np.mean([j[k] == t[k] for j, t in pairs])), 4) if pairs else None
           for k, name in enumerate(("colour", "shape", "scene"))}
    return {"accuracy": out, "frames": len(pairs)}
