"""Calibrate the out-of-domain threshold of the bundled diffusion models and write their domain
records (core/diffusion/domain.py): the FD-enc statistics and reference frames of the training
corpus, and the threshold on the median nearest-training-frame cosine, calibrated on the real
clips of ../shared/media against demo items of a seed no model trained on.

    generec demo --db /tmp/e0/corpus.db --seed 0          # the corpus the bundled models saw
    generec demo --db /tmp/e7/corpus.db --seed 7          # unseen demo items
    python bench/calibrate_domain.py --train-db /tmp/e0/corpus.db --demo-db /tmp/e7/corpus.db \\
        [--media ../shared/media] [--items 16] [--write resources/diffusion] [--json]

Each clip is described as a revision sees it: up to 32 frames evenly spread, squeezed to the
64 px working size, embedded by the bundled encoder. The threshold is the midpoint between the
lowest demo item and the highest real clip that lies below it (a real clip above the lowest demo
item, such as a flat-coloured cartoon, is counted as a miss and reported).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.diffusion.data import build_frame_bank, to_working  # noqa: E402
from core.diffusion.domain import (distance, nearest_cosine, read_domain,  # noqa: E402
                                   write_domain)
from core.encoders.encoder import load_encoder  # noqa: E402
from core.media import iter_frames  # noqa: E402
from core.store import open_store  # noqa: E402
from core.store.evaluation import demo_seeds  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def clip_embeddings(encoder, path: str, frames: int = 32) -> np.ndarray:
    images = [to_working(f.image, 64) for f in iter_frames(path, max_side=128)]
    pick = np.linspace(0, len(images) - 1, min(frames, len(images))).round().astype(int)
    return encoder.encode_images([images[i] for i in pick])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-db", required=True, type=Path)
    parser.add_argument("--demo-db", required=True, type=Path)
    parser.add_argument("--media", type=Path, default=ROOT.parent / "shared" / "media")
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--write", type=Path, default=None, help="folder of the checkpoints")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    encoder = load_encoder("bundled")
    with open_store(args.train_db) as store:
        bank = build_frame_bank(store, encoder)
        seeds = demo_seeds(store)
    with open_store(args.demo_db) as store:
        demo_paths = [r[0] for r in store.conn.execute(
            "SELECT path FROM items WHERE source != 'ai' ORDER BY id LIMIT ?", (args.items,))]
        unseen = demo_seeds(store)
    real_paths = sorted(p for p in args.media.iterdir() if p.is_file() and p.suffix != ".md")
    corpus = f"the demo corpus (seed {', '.join(map(str, seeds))}, procedural shapes)"
    scratch = Path("/tmp") / "generec-calibration" / "video.safetensors"
    write_domain(scratch, bank.embeddings, corpus, seeds, encoder.model_id)
    stats = read_domain(scratch)
    measured = {}
    for group, paths in (("demo", demo_paths), ("real", real_paths)):
        for path in paths:
            e = clip_embeddings(encoder, str(path))
            measured[f"{group}/{Path(path).name}"] = {"nn_cosine": round(nearest_cosine(stats, e), 4),
                                                      "fd_enc": round(distance(stats, e), 4)}
            print(Path(path).name, measured[f"{group}/{Path(path).name}"], file=sys.stderr)
    demo = [v["nn_cosine"] for k, v in measured.items() if k.startswith("demo/")]
    real = [v["nn_cosine"] for k, v in measured.items() if k.startswith("real/")]
    below = [r for r in real if r < min(demo)]
    threshold = round((min(demo) + max(below)) / 2, 3)
    calibration = {
        "statistic": "median nearest-training-frame cosine",
        "demo_items": f"{len(demo)} items of the demo corpus seed {', '.join(map(str, unseen))}",
        "real_clips": f"{len(real)} clips of ../shared/media",
        "demo_range": [min(demo), max(demo)], "real_range": [min(real), max(real)],
        "threshold": threshold,
        "missed_real_clips": sorted(k for k, v in measured.items()
                                    if k.startswith("real/") and v["nn_cosine"] >= threshold),
        "flagged_demo_items": sorted(k for k, v in measured.items()
                                     if k.startswith("demo/") and v["nn_cosine"] < threshold),
        "fd_enc_demo_range": [min(v["fd_enc"] for k, v in measured.items() if k.startswith("demo/")),
                              max(v["fd_enc"] for k, v in measured.items() if k.startswith("demo/"))],
        "fd_enc_real_range": [min(v["fd_enc"] for k, v in measured.items() if k.startswith("real/")),
                              max(v["fd_enc"] for k, v in measured.items() if k.startswith("real/"))],
        "per_clip": measured,
        "command": "python bench/calibrate_domain.py --train-db SEED0.db --demo-db SEED7.db "
                   "--write resources/diffusion",
    }
    if args.write:
        for kind in ("video", "thumbnail"):
            write_domain(args.write / f"{kind}.safetensors", bank.embeddings, corpus, seeds,
                         encoder.model_id, threshold, calibration, calibration["command"])
    print(json.dumps(calibration, indent=1 if args.json else None))


if __name__ == "__main__":
    main()
