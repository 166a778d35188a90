"""Benchmark: frames per second of each style preset at 256x256 on this machine (target for the
OpenCV presets: at least 25), and the flicker of each against its source's.

    python bench/bench_styles.py [VIDEO]
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.editor.style import PRESETS, TemporalSmoother, flicker  # noqa: E402
from core.media import iter_frames  # noqa: E402

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "media" / "bigbuckbunny.mp4"
TARGET_FPS = 25


def main() -> int:
    video = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    frames = [cv2.resize(f.image, (256, 256), interpolation=cv2.INTER_AREA)
              for f in iter_frames(video, max_side=512)][:64]
    result = {}
    for name, preset in PRESETS.items():
        smoother = TemporalSmoother()
        start = time.perf_counter()
        out = [smoother(f, preset.apply(f)) for f in frames]
        fps = len(frames) / (time.perf_counter() - start)
        result[name] = {"fps": round(fps, 1), "flicker": round(flicker(out), 2),
                        "source_flicker": round(flicker(frames), 2)}
    print(json.dumps({"video": video.name, "frames": len(frames), "size": "256x256",
                      "target_fps": TARGET_FPS, "presets": result}, indent=1))
    return 0 if all(r["fps"] >= TARGET_FPS for r in result.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
