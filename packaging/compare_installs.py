"""Compare the `generate --json` results of two installs (the installed copy and the developer
install) that ran the same tasks on copies of the same corpus (packaging/build.sh):
the same frames and clips selected, the same check verdicts, and outputs whose pixels differ by
at most TOLERANCE on average (in [0, 1] units). Prints one line per task; exit 1 on a mismatch.
Usage: python packaging/compare_installs.py INSTALLED_DIR DEVELOPER_DIR
(each holding TASK.json files)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

TOLERANCE = 1e-3
SELECTION = ("frame_idx", "t_s", "start_idx", "end_idx", "start_s", "end_s")


def pixels(path: str) -> np.ndarray:
    if path.endswith(".png"):
        from PIL import Image

        return np.asarray(Image.open(path).convert("RGB"), np.float64) / 255
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))   # the checkout's core/
    from core.media import iter_frames

    return np.stack([f.image for f in iter_frames(path)]) / 255


def differences(ours: dict, theirs: dict) -> list[str]:
    problems = [f"{key} {ours.get(key)} != {theirs.get(key)}" for key in SELECTION
                if ours.get(key) != theirs.get(key)]
    if "score" in ours and abs(ours["score"] - theirs.get("score", np.inf)) > 1e-5:
        problems.append(f"score {ours['score']} != {theirs.get('score')}")
    verdicts = [{c["name"]: c["status"] for c in side.get("checks", [])} for side in (ours, theirs)]
    if verdicts[0] != verdicts[1]:
        problems.append(f"check verdicts {verdicts[0]} != {verdicts[1]}")
    a, b = pixels(ours["output_path"]), pixels(theirs["output_path"])
    if a.shape != b.shape:
        problems.append(f"output shape {a.shape} != {b.shape}")
    elif (mean := float(np.abs(a - b).mean())) > TOLERANCE:
        problems.append(f"output pixels differ by {mean:.2e} on average")
    return problems


def main(installed: Path, developer: Path) -> int:
    failed = False
    tasks = sorted(p.stem for p in installed.glob("*.json"))
    if not tasks:
        print(f"compare_installs: no results in {installed}", file=sys.stderr)
        return 1
    for task in tasks:
        other = developer / f"{task}.json"
        if not other.is_file():
            print(f"{task:>14}: no developer-install result")
            failed = True
            continue
        problems = differences(json.loads((installed / f"{task}.json").read_text()),
                               json.loads(other.read_text()))
        print(f"{task:>14}: {'same' if not problems else '; '.join(problems)}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
