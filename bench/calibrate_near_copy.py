"""Calibrate the legal check's near-copy threshold (rules["legal"]["near_copy"]["fail_at_ssim"])
on a demo corpus built from a seed that no bundled model trained on:

- near-copies, which must fail: items re-encoded at CRF 28 and half size, brightened by 10%, and
  cut to their middle half;
- not copies, which must pass: the bundled video model's creations (from noise, conditioned on
  instructions), and each item's nearest *other* item (demo items that share colour, shape and
  scene look alike without being copies).

It prints the pixel-similarity score (core.fidelity.memorisation) of each, and the gap.

    python bench/calibrate_near_copy.py [--items 60] [--seed 11] [--json]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# name -> duration -> (input options, output options) of ffmpeg
ATTACKS = {"crf28 half size": lambda d: ([], ["-vf", "scale=iw/2:-2", "-crf", "28"]),
           "brightness +10%": lambda d: ([], ["-vf", "eq=brightness=0.06:contrast=1.1"]),
           "middle half": lambda d: (["-ss", f"{d / 4:.3f}", "-t", f"{d / 2:.3f}"], [])}


def ffmpeg(source: str, out: Path, attack: str) -> Path:
    import imageio_ffmpeg

    from core.media import probe

    before, after = ATTACKS[attack](probe(source).duration_s)
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *before,
                    "-i", source, *after, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-an",
                    str(out)], check=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--copies", type=int, default=8, help="items copied per attack")
    parser.add_argument("--creations", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import torch

    from core.demo.build import build_demo
    from core.diffusion.service import generate_creation
    from core.editor.service import resolve_model_id
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus
    from core.fidelity.memorisation import nearest_items
    from core.store import open_store
    from core.store.corpus import list_items

    rows: dict[str, list] = {"copy": [], "not a copy": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with open_store(tmp / "demo.db") as store:
            build_demo(store, n_items=args.items, n_users=8, seed=args.seed)
            index_corpus(store, load_encoder("bundled"), n_frames=16)
            torch.set_num_threads(1)
            encoder = resolve_model_id(store, "bundled")
            items = [i for i in list_items(store, extra=("path",)) if i["status"] == "ok"]
            for item in items[:args.copies]:
                for attack in ATTACKS:
                    copy = ffmpeg(item["path"], tmp / f"{item['id']}.{len(rows['copy'])}.mp4", attack)
                    [top, *_] = nearest_items(store, encoder, str(copy), set(), 3)
                    rows["copy"].append({"item": item["id"], "attack": attack,
                                         "found": top.item_id, "ssim": top.ssim})
            for item in items[:args.copies]:
                [top, *_] = nearest_items(store, encoder, item["path"], {item["id"]}, 3)
                rows["not a copy"].append({"item": item["id"], "kind": "nearest other item",
                                           "found": top.item_id, "ssim": top.ssim})
            instructions = ["a red circle on a beach", "a blue star in a forest",
                            "a green square in the city", "a yellow triangle in the snow"]
            for n in range(args.creations):
                made = generate_creation(store, None, instructions[n % len(instructions)],
                                         signal="none", n_frames=16, steps=10, seed=n)
                [top, *_] = nearest_items(store, encoder, made["output_path"], set(), 3)
                rows["not a copy"].append({"kind": "creation", "found": top.item_id,
                                           "ssim": top.ssim})
    lowest_copy = min(r["ssim"] for r in rows["copy"])
    highest_other = max(r["ssim"] for r in rows["not a copy"])
    summary = {"lowest near-copy": lowest_copy, "highest non-copy": highest_other,
               "copies found as their source": sum(r["found"] == r["item"] for r in rows["copy"]),
               "copies": len(rows["copy"]), **rows}
    print(json.dumps(summary, indent=1) if args.json else
          f"near-copies: lowest {lowest_copy}; non-copies: highest {highest_other}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
