"""Training material for the diffusion models: every frame of every usable corpus item at the
working size, with its encoder embedding and the caption of the segment it belongs to.
Decoding and embedding take a while, so the result is cached beside the corpus and rebuilt
only when the set of items or the encoder changes."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.media import iter_frames, probe
from core.paths import media_dir
from core.progress import Progress
from core.store import Store
from core.store.corpus import captioned_segments, human_videos


@dataclass
class FrameBank:
    item_ids: list[str]
    offsets: np.ndarray        # I + 1: frames of item i are offsets[i]:offsets[i+1]
    frames: np.ndarray         # F x S x S x 3 uint8
    embeddings: np.ndarray     # F x d float32, L2-normalised
    caption_of: np.ndarray     # F: index into captions
    captions: list[str]
    caption_embeddings: np.ndarray  # C x d

    def item_frames(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))


def to_working(image: np.ndarray, size: int) -> np.ndarray:
    """A frame squeezed to size x size; `from_working` restores the aspect ratio later."""
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def from_working(image: np.ndarray, width: int, height: int) -> np.ndarray:
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC)


def frames_to_tensor(frames: np.ndarray):
    """N x S x S x 3 uint8 -> N x 3 x S x S float in [-1, 1]."""
    import torch

    return torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def tensor_to_frames(x) -> np.ndarray:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def _caption_at(segments, t: float, title: str) -> str:
    for start, end, caption in segments:
        if start <= t < end:
            return caption
    return segments[-1][2] if segments else title


def build_frame_bank(store: Store, encoder, size: int = 64, max_frames_per_item: int = 256,
                     progress: Progress | None = None) -> FrameBank:
    progress = progress or Progress()
    items = human_videos(store)
    key = hashlib.sha256(("|".join(i["id"] for i in items) + encoder.model_id
                          + f"|{size}|{max_frames_per_item}").encode()).hexdigest()[:16]
    cache = media_dir(store.path) / "diffusion" / f"frames-{size}-{key}.npz"
    if cache.is_file():
        return _load(cache)
    frames, caption_of, offsets, captions = [], [], [0], {}
    for n, item in enumerate(items):
        progress.check_cancelled()
        progress.update(n, len(items), f"decoding {item['id']}")
        segments = captioned_segments(store, item["id"])
        info = probe(item["path"])
        step = max(1, -(-info.frames // max_frames_per_item))
        for k, frame in enumerate(iter_frames(item["path"], max_side=max(size * 2, 128), info=info)):
            if k % step:
                continue
            frames.append(to_working(frame.image, size))
            text = _caption_at(segments, frame.t_s, item["title"])
            caption_of.append(captions.setdefault(text, len(captions)))
        offsets.append(len(frames))
    progress.update(len(items), len(items), "embedding frames")
    frames_array = np.stack(frames)
    embeddings = encoder.encode_images(list(frames_array), batch=256)
    caption_list = list(captions)
    bank = FrameBank([i["id"] for i in items], np.array(offsets), frames_array,
                     embeddings.astype(np.float32), np.array(caption_of, np.int32), caption_list,
                     encoder.encode_texts(caption_list).astype(np.float32))
    _save(cache, bank)
    return bank


def _save(path: Path, bank: FrameBank) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".partial.npz")
    np.savez(partial, item_ids=np.array(bank.item_ids), offsets=bank.offsets, frames=bank.frames,
             embeddings=bank.embeddings.astype(np.float16), caption_of=bank.caption_of,
             captions=np.array(bank.captions), caption_embeddings=bank.caption_embeddings)
    partial.replace(path)


def _load(path: Path) -> FrameBank:
    data = np.load(path, allow_pickle=False)
    return FrameBank(data["item_ids"].tolist(), data["offsets"], data["frames"],
                     data["embeddings"].astype(np.float32), data["caption_of"],
                     data["captions"].tolist(), data["caption_embeddings"])
