"""Benchmark: what storing frame embeddings smaller costs Eq. 1 / Eq. 2 (issue 17: at 512
dimensions a million items x 32 frames take 31 GiB in fp16; int8 halves that, 16 frames per
item halve it too).

    python bench/bench_int8_selection.py [--db CORPUS] [--items 20000] [--dim 512] [--users 50] [--json]

Two sets of embeddings:
- real: the frame index of an indexed corpus (`--db`, the bundled encoder's 128 dimensions),
  every user with likes;
- synthetic: `--items` items x 32 frames x `--dim` dimensions as `generec demo --frames-only`
  makes them (scene directions plus noise), `--users` users drawn as means of 5 random items.
For each user, the reference is Eq. 1 (best frame) and Eq. 2 (best window of 8) on the fp16
embeddings. Compared with it:
- int8: each frame quantized symmetrically with its own scale (max |x| / 127), and the user
  vector too; scores are the integer dot products times the scales;
- 16 frames: every other frame kept (the storage of 32 int8 frames at half the dimensions).
Reported per variant: agreement (the same frame or window chosen, over items and users) and
the mean score loss (the reference score minus the true fp16 score of the variant's choice).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.editor.personalize import window_scores  # noqa: E402

CLIP_LEN = 8


def int8(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = np.abs(frames).max(axis=-1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    return np.round(frames / scale).astype(np.int8), scale.astype(np.float32)


def scores_of(frames: np.ndarray, counts: np.ndarray, user: np.ndarray) -> np.ndarray:
    scores = frames @ user
    scores[np.arange(frames.shape[1])[None, :] >= counts[:, None]] = -np.inf
    return scores


def compare(frames: np.ndarray, counts: np.ndarray, users: np.ndarray) -> dict:
    """Agreement and score loss of int8 and of 16 frames against fp16, over users and items."""
    q, scale = int8(frames)
    q = q.astype(np.float32)       # exact: |sums| stay below 2^24, as an int32 accumulation
    half, half_counts = frames[:, ::2], (counts + 1) // 2
    out = {name: {"thumbnail_agreement": [], "clip_agreement": [], "thumbnail_loss": [],
                  "clip_loss": []} for name in ("int8", "16 frames")}
    for user in users:
        ref = scores_of(frames, counts, user)
        ref_windows, _ = window_scores(ref, counts, CLIP_LEN)
        user_q = np.round(user / (np.abs(user).max() / 127.0)).astype(np.float32)
        quantized = (q @ user_q) * scale[..., 0]
        quantized[np.arange(frames.shape[1])[None, :] >= counts[:, None]] = -np.inf
        rows = np.arange(len(frames))
        for name, scores, to_full in (("int8", quantized, 1),
                                      ("16 frames", scores_of(half, half_counts, user), 2)):
            frame = scores.argmax(1) * to_full
            windows, _ = window_scores(scores, half_counts if to_full == 2 else counts,
                                       CLIP_LEN // to_full)
            start = windows.argmax(1) * to_full
            start = np.minimum(start, np.maximum(counts - CLIP_LEN, 0))
            entry = out[name]
            entry["thumbnail_agreement"].append(np.mean(frame == ref.argmax(1)))
            entry["clip_agreement"].append(np.mean(start == ref_windows.argmax(1)))
            entry["thumbnail_loss"].append(np.mean(ref.max(1) - ref[rows, frame]))
            entry["clip_loss"].append(np.mean(ref_windows.max(1) - ref_windows[rows, start]))
    return {name: {k: round(float(np.mean(v)), 4 if "agreement" in k else 6)
                   for k, v in entry.items()} for name, entry in out.items()}


def real_set(db: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from core.editor.history import history_vector
    from core.editor.service import resolve_model_id
    from core.errors import InputError
    from core.store import open_store
    from core.store.corpus import users_with_likes
    from core.store.embeddings import load_frame_index

    with open_store(db) as store:
        model_id = resolve_model_id(store)
        index = load_frame_index(store, model_id)
        users = []
        for user_id in users_with_likes(store):
            try:
                users.append(history_vector(store, model_id, user_id))
            except InputError:
                continue
    return index.frames.astype(np.float16).astype(np.float32), index.counts, np.stack(users)


def synthetic_set(items: int, dim: int, n_users: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    scenes = rng.standard_normal((12, dim)).astype(np.float32)
    scenes /= np.linalg.norm(scenes, axis=1, keepdims=True)
    segment = rng.integers(0, 12, (items, 4))[:, np.arange(32) * 4 // 32]       # 4 segments
    noise = rng.standard_normal((items, 32, dim)).astype(np.float32) / np.sqrt(dim)
    frames = scenes[segment] + 0.5 * noise            # a shot's frames differ a little
    frames /= np.linalg.norm(frames, axis=-1, keepdims=True)
    frames = frames.astype(np.float16).astype(np.float32)
    counts = rng.integers(16, 33, items)
    liked = frames[rng.integers(0, items, (n_users, 5))].mean(axis=(1, 2))
    return frames, counts, liked / np.linalg.norm(liked, axis=1, keepdims=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=None, help="an indexed corpus (real set)")
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = {"clip_len": CLIP_LEN}
    if args.db:
        frames, counts, users = real_set(args.db)
        report["real"] = {"items": len(frames), "dim": frames.shape[2], "users": len(users),
                          **compare(frames, counts, users)}
    frames, counts, users = synthetic_set(args.items, args.dim, args.users)
    report["synthetic"] = {"items": args.items, "dim": args.dim, "users": args.users,
                           **compare(frames, counts, users)}
    print(json.dumps(report, indent=1 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
