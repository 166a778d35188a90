"""Calibrate authenticity's "keeps too little of the source" threshold on the real clips in
../shared/media: the mean SSIM that the authenticity check measures between a source and

- legitimate edits of it: every style preset, and a revision by the bundled video model at
  strength 0.3 (the model's lightest documented setting);
- replacements: another real clip in its place, and the bundled model's revision at strength
  0.9 (which, on real clips, returns noise: issue 12).

A threshold between the highest replacement and the lowest legitimate edit separates them.

    python bench/calibrate_authenticity.py [--seconds 1.5] [--json]
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
    """Mean SSIM and mean coarse-layout correlation, as the authenticity check measures them."""
    from core.fidelity.checks.authenticity import _compare

    found = _compare(str(source), str(output), 0.0, 0.5)
    return {k: round(sum(found[k]) / len(found[k]), 3) for k in ("ssim", "layout")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="seconds revised per clip")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    from core.corpus.importer import import_folder
    from core.diffusion.service import generate_revision
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
                row = {"clip": source.name, "replaced by another clip": kept(source, other)}
                for style in PRESETS:
                    out = tmp / f"{source.stem}.{style}.mp4"
                    restyle_video(source, out, style, caption="", label=True)
                    row[f"style {style}"] = kept(source, out)
                for strength in (0.3, 0.9):
                    made = generate_revision(store, None, item["id"], signal="none",
                                             strength=strength, steps=args.steps,
                                             max_seconds=args.seconds)
                    row[f"revision s={strength}"] = kept(source, Path(made["output_path"]))
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
    summary = {"clips": len(rows), "rows": rows}
    for metric in ("ssim", "layout"):
        legit = [v[metric] for r in rows for k, v in r.items()
                 if k.startswith("style") or k.endswith("0.3")]
        replaced = [v[metric] for r in rows for k, v in r.items()
                    if k.startswith("replaced") or k.endswith("0.9")]
        summary[metric] = {"lowest legitimate edit": min(legit), "highest replacement": max(replaced)}
    print(json.dumps(summary, indent=1) if args.json else
          "\n".join(f"{m}: {summary[m]}" for m in ("ssim", "layout")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
