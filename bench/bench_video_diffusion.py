"""Benchmark: the video diffusion model's speed and quality trade-off on the demo corpus.

1. Samplers: seconds per 4-frame block at 64x64 (one clip, with classifier-free guidance, as
   the app runs it) for DDIM and DPM-Solver++ at 10, 25 and 50 steps against the 100-step
   ancestral (DDPM) sampler of the original MCVD recipe, and the Fréchet distance on the
   encoder's clip features (FD-enc) of clips each one creates (conditioned on User_Hist)
   against real demo clips.
2. Revision settings: leakage-free Cosine@5, judged preference hit, shape kept and FD-enc of
   revised clips for several SDEdit strengths and source guidances, on the validation users
   (core/evaluation/judged.py), which is how the defaults are to be chosen; `generec evaluate`
   reports on the test users.

    python bench/bench_video_diffusion.py --db DEMO.db [--clips 32] [--json]

DEMO.db must be an indexed demo corpus (generec demo && generec index); the video model is
the corpus's own or the bundled one (--checkpoint to override).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.diffusion.conditioning import Condition  # noqa: E402
from core.diffusion.data import build_frame_bank  # noqa: E402
from core.diffusion.service import model_for  # noqa: E402
from core.diffusion.video import run_blocks  # noqa: E402
from core.editor.service import resolve_model_id  # noqa: E402
from core.encoders.encoder import load_encoder  # noqa: E402
from core.evaluation.generative import (clip_features, evaluate_generative,  # noqa: E402
                                        frechet_distance, real_clip_starts)
from core.store import open_store  # noqa: E402

SAMPLER_SETTINGS = [("ddim", 10), ("ddim", 25), ("ddim", 50), ("dpm", 10), ("dpm", 25),
                    ("dpm", 50), ("ddpm", 100)]
STRENGTHS = (0.3, 0.45, 0.6, 0.75, 0.9, 1.0)
SOURCE_GUIDANCES = (1.5, 2.0, 3.0)


def samplers(store, model, encoder, bank, clips: int) -> list[dict]:
    rng = np.random.default_rng(0)
    real = clip_features([bank.embeddings[s:s + 8] for s in real_clip_starts(bank, rng, 8, 256)])
    hists = [bank.embeddings[bank.item_frames(int(i))].mean(axis=0)
             for i in rng.integers(len(bank.item_ids), size=clips)]
    conds = [Condition(hist=h / np.linalg.norm(h)) for h in hists]
    rows = []
    for sampler, steps in SAMPLER_SETTINGS:
        start = time.perf_counter()
        run_blocks(model, 4, conds[:1], sampler=sampler, steps=steps, seed=1)
        per_block = time.perf_counter() - start
        made = run_blocks(model, 8, conds, sampler=sampler, steps=steps, seed=2)
        features = clip_features([encoder.encode_images(list(c)) for c in made])
        rows.append({"sampler": sampler, "steps": steps, "seconds_per_block": round(per_block, 2),
                     "fd_enc": round(frechet_distance(features, real), 4)})
        print(rows[-1], file=sys.stderr)
    return rows


def revision_settings(store, encoder_id: str, users: int) -> list[dict]:
    """Each SDEdit strength with plain guidance, then each source guidance at the default
    strength; judged hit and shape kept say what a setting trades."""
    import core.diffusion.video as video

    rows = []
    settings = [(s, 1.0) for s in STRENGTHS] + [(video.DEFAULT_STRENGTH, g) for g in SOURCE_GUIDANCES]
    for strength, source_guidance in settings:
        # Chosen on the validation users; `generec evaluate` reports on the test users.
        report = evaluate_generative(store, encoder_id, (5,), users, steps=video.REVISION_STEPS,
                                     strength=strength, source_guidance=source_guidance,
                                     tasks=("revision",), users_split="validation")["revision"]
        rows.append({"strength": strength, "source_guidance": source_guidance,
                     **{m: v["cosine@5"] for m, v in report["heldout"].items()},
                     "fd_enc": report["frechet"].get("User_Hist")})
        for signal in ("User_Hist", "User_Emb"):     # User_Emb where the corpus has a recommender
            for measure in ("judged_hit", "shape_kept"):
                value = report.get(measure, {}).get(signal)
                rows[-1][f"{measure}_{signal}"] = value["mean"] if value else None
        print(rows[-1], file=sys.stderr)
    rows.append({"default": [video.DEFAULT_STRENGTH, video.SOURCE_GUIDANCE]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--skip-strengths", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with open_store(args.db) as store:
        encoder_id = resolve_model_id(store, "bundled")
        encoder = load_encoder("bundled")
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)   # after the encoder, which sets its own
        model = model_for(store, "video", args.checkpoint)
        bank = build_frame_bank(store, encoder)
        result = {"model": model.model_id, "samplers": samplers(store, model, encoder, bank, args.clips)}
        if not args.skip_strengths:
            from core.evaluation.judged import SPLIT_RULE

            result["strengths"] = revision_settings(store, encoder_id, args.users)
            result["users"] = f"strengths compared on validation users only ({SPLIT_RULE})"
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{'sampler':<8}{'steps':>6}{'s / block':>12}{'FD-enc':>10}")
    for row in result["samplers"]:
        print(f"{row['sampler']:<8}{row['steps']:>6}{row['seconds_per_block']:>12.2f}{row['fd_enc']:>10.3f}")
    for row in result.get("strengths", []):
        print(row)


if __name__ == "__main__":
    main()
