"""Calibrate authenticity's "keeps too little of the source" threshold
(rules["authenticity"]["fail_below_structure"]) on the real clips in ../shared/media. For each clip
it measures, as the authenticity check does, the mean SSIM and the mean structure kept
between the source and

- legitimate edits, which must pass: every style preset (cartoon and comic change texture and
  colour the most), and with --revisions, the bundled video model's revision at the default
  strength (slow on 2 cores);
- replacements, which must fail: another real clip in the source's place, and coloured noise.

A threshold between the highest replacement and the lowest legitimate edit separates them; the
summary gives the lowest score of each kind of edit.

    python bench/calibrate_authenticity.py [--revisions] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MEDIA = ROOT.parent / "shared" / "media"


def kept(source: Path, output: Path) -> dict:
    """Mean SSIM and mean structure kept, as the authenticity check measures them."""
    from core.fidelity.checks.authenticity import _compare

    found = _compare(str(source), str(output), 0.0, 0.5)
    return {k: round(sum(found[k]) / len(found[k]), 3) for k in ("ssim", "structure")}


def noise_video(like: Path, out: Path) -> Path:
    """Coloured noise with the clip's size, frame rate and duration (at most 2 s)."""
    import numpy as np

    from core.media import probe, write_video

    info = probe(like)
    rng = np.random.default_rng(0)
    shape = (min(info.height, 256) // 2 * 2, min(info.width, 256) // 2 * 2, 3)
    frames = (rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(int(min(info.duration_s, 2.0) * info.fps)))
    return write_video(out, frames, info.fps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", action="store_true",
                        help="also revise each clip with the bundled video model (slow)")
    parser.add_argument("--seconds", type=float, default=1.0, help="seconds revised per clip")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from core.corpus.importer import import_folder
    from core.editor.restyle import restyle_video
    from core.editor.style import PRESETS
    from core.store import open_store
    from core.store.corpus import list_items

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        with open_store(tmp / "real.db") as store:
            import_folder(store, MEDIA)
            items = [i for i in list_items(store, extra=("path",)) if i["status"] == "ok"]
            for n, item in enumerate(items):
                source = Path(item["path"])
                other = Path(items[(n + 1) % len(items)]["path"])
                row = {"clip": source.name, "replaced by another clip": kept(source, other),
                       "replaced by noise": kept(source, noise_video(source, tmp / "noise.mp4"))}
                for style in PRESETS:
                    out = tmp / f"{source.stem}.{style}.mp4"
                    restyle_video(source, out, style, caption="", label=True)
                    row[f"style {style}"] = kept(source, out)
                if args.revisions:
                    import torch

                    from core.diffusion.service import generate_revision
                    from core.diffusion.video import DEFAULT_STRENGTH

                    torch.set_num_threads(1)
                    made = generate_revision(store, None, item["id"], signal="none",
                                             steps=args.steps, max_seconds=args.seconds)
                    row[f"revision s={DEFAULT_STRENGTH}"] = kept(source, Path(made["output_path"]))
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
    summary = {"clips": len(rows), "rows": rows}
    edits = sorted({k for r in rows for k in r if k.startswith(("style", "revision"))})
    for metric in ("ssim", "structure"):
        replaced = [v[metric] for r in rows for k, v in r.items() if k.startswith("replaced")]
        summary[metric] = {"highest replacement": max(replaced), "lowest per edit": {
            edit: min(r[edit][metric] for r in rows if edit in r) for edit in edits}}
    print(json.dumps(summary, indent=1) if args.json else
          "\n".join(f"{m}: {summary[m]}" for m in ("ssim", "structure")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
