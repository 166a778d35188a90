"""Memorisation: is a created video or a generated thumbnail a near-copy of an existing item?

Retrieval by meaning, verdict by pixels. The encoder that indexed the corpus embeds sampled
output frames; the items whose frames come closest (cosine) are the candidates; for each, the
mean over output frames of the best greyscale SSIM against the item's own sampled frames, at a
small size, says how much of it was copied. A near-copy is that item's derivative: the legal
check judges it against the item's licence and consent like any other derivative, and fails it
outright above `rules["legal"]["near_copy"]["fail_at_ssim"]` (calibrated by
`bench/calibrate_near_copy.py`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from core.store import Store

FRAMES = 8          # output frames sampled
ITEM_FRAMES = 16    # frames sampled from each candidate item
SIDE = 64           # pixel comparison size


@dataclass
class Neighbour:
    item_id: str
    cosine: float      # the closest pair of frame embeddings
    ssim: float        # mean over output frames of the best SSIM against the item's frames

    def as_dict(self) -> dict:
        return asdict(self)


def output_frames(path: str, n: int = FRAMES) -> list[np.ndarray]:
    """RGB frames of a generation's output: a video's sampled frames, or the image itself."""
    from core.media import sample_frames

    if Path(path).suffix.lower() in (".png", ".jpg", ".jpeg"):
        image = cv2.imread(path, cv2.IMREAD_COLOR)
        return [cv2.cvtColor(image, cv2.COLOR_BGR2RGB)] if image is not None else []
    return [f.image for f in sample_frames(path, n, max_side=256)]


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), (SIDE, SIDE),
                      interpolation=cv2.INTER_AREA)


def pixel_copy_score(frames: list[np.ndarray], item_path: str) -> float:
    """Mean over `frames` of the best SSIM against the item's sampled frames."""
    from core.fidelity.checks.authenticity import ssim
    from core.media import sample_frames

    theirs = [_grey(f.image) for f in sample_frames(item_path, ITEM_FRAMES, max_side=128)]
    if not theirs or not frames:
        return 0.0
    return float(np.mean([max(ssim(_grey(f), t) for t in theirs) for f in frames]))


def nearest_items(store: Store, encoder_id: str, output_path: str, exclude: set[str],
                  k: int) -> list[Neighbour]:
    """The `k` items nearest to the output, nearest first by pixel copy score."""
    from core.encoders import load_encoder
    from core.store.corpus import item_paths
    from core.store.embeddings import encoder_spec, load_frame_index

    frames = output_frames(output_path)
    if not frames:
        return []
    encoder = load_encoder(encoder_spec(store, encoder_id))
    mine = encoder.encode_images(frames)                       # F x d
    index = load_frame_index(store, encoder_id)
    keep = [r for r, item in enumerate(index.item_ids) if item not in exclude]
    if not keep:
        return []
    index = index.subset(keep)
    similarity = np.einsum("ind,fd->inf", index.frames, mine)  # zero-padded frames score 0
    best = similarity.reshape(len(index.item_ids), -1).max(axis=1)
    order = np.argsort(-best)[:k]
    paths = item_paths(store, [index.item_ids[r] for r in order])
    found = [Neighbour(index.item_ids[r], round(float(best[r]), 4),
                       round(pixel_copy_score(frames, paths[index.item_ids[r]]), 4))
             for r in order if paths.get(index.item_ids[r])]
    return sorted(found, key=lambda n: -n.ssim)
