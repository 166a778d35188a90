"""Benchmark: what the fidelity checks cost per generated clip (64 frames at 256x256): seconds
for each check in the registry (whatever is registered when it runs; the first run, which
loads models, apart from the median of the next runs), for all of them through `run_checks`
(which shares decoded frames and detections between checks, so it costs less than the sum),
and for the watermark: embedding in 64 frames, the export's whole watermarking pass (decode,
embed, H.264) and reading the payload back.

    python bench/bench_checks.py [--repeats 3] [--json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.editor.generations import record_generation  # noqa: E402
from core.editor.outputs import cut_clip  # noqa: E402
from core.fidelity.base import candidate_for, load_rules, run_checks  # noqa: E402
from core.fidelity.registry import CHECKS  # noqa: E402
from core.fidelity.watermark import embed, payload_for, read_payload, watermark_video  # noqa: E402
from core.media import iter_frames, probe  # noqa: E402
from core.store import open_store  # noqa: E402

FRAMES = 64


def generated_clip(store, folder: Path) -> str:
    """A clip generation as the editor records it: 64 frames cut from a demo item for a user."""
    from core.demo.build import build_demo
    from core.demo.spec import FPS

    build_demo(store, n_items=6, n_users=4, seed=0)
    item_id, path = store.conn.execute(
        "SELECT id, path FROM items WHERE frames >= ? ORDER BY id", (FRAMES,)).fetchone()
    user_id = store.conn.execute("SELECT id FROM users ORDER BY id").fetchone()[0]
    params = {"start_s": 0.0, "end_s": FRAMES / FPS}
    clip = cut_clip(path, params["start_s"], params["end_s"], folder / "clip.mp4")
    with store.transaction():
        return record_generation(store, "clip", user_id, item_id, params, {}, [], str(clip))


def timed(fn, repeats: int) -> dict:
    """Seconds of the first call and the median of `repeats` more; the last result."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return {"first_s": round(first, 3),
            "median_s": round(statistics.median(times), 3) if times else None}, result


def time_checks(store, generation_id: str, repeats: int) -> dict:
    """Each check alone, with a fresh context per run: checks that share work through the
    context (the safety and privacy detectors) each pay it here, once in `run_checks`."""
    candidate = candidate_for(store, generation_id)
    rules = load_rules()
    out = {}
    for check in CHECKS:
        try:
            seconds, result = timed(lambda: check.run(candidate, {"rules": rules, "store": store}),
                                    repeats)
            out[check.name] = {**seconds, "status": result.status, "blocking": check.blocking}
        except Exception as exc:  # noqa: BLE001 - a check that crashes is reported, the rest go on
            out[check.name] = {"error": f"{type(exc).__name__}: {exc}"}
    return out


def time_watermark(clip: str, folder: Path, generation_id: str, repeats: int) -> dict:
    payload = payload_for(generation_id)
    frames = [f.image for f in iter_frames(clip)][:FRAMES]
    embedding, _ = timed(lambda: [embed(f, payload) for f in frames], repeats)
    exported = folder / "exported.mp4"
    export, _ = timed(lambda: watermark_video(clip, exported, payload), repeats)
    reading, found = timed(lambda: read_payload(exported), repeats)
    assert found["payload"] == payload.hex(), "the watermark did not read back"
    return {"embed": {**embedding, "frames": len(frames)}, "export_pass": export,
            "read_payload": {**reading, "frames": found["frames"]}}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "corpus.db") as store:
        folder = Path(tmp)
        generation_id = generated_clip(store, folder)
        clip = store.conn.execute("SELECT output_path FROM generations WHERE id = ?",
                                  (generation_id,)).fetchone()[0]
        info = probe(clip)
        checks = time_checks(store, generation_id, args.repeats)
        all_checks, _ = timed(lambda: run_checks(store, generation_id), args.repeats)
        watermark = time_watermark(clip, folder, generation_id, args.repeats)
    result = {"clip": f"{info.frames} frames at {info.width}x{info.height}",
              "repeats": args.repeats, "checks": checks, "run_checks": all_checks,
              "watermark": watermark}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"per generated clip ({result['clip']}); seconds: first run, median of {args.repeats} more")
    rows = {**{f"check {k}": v for k, v in checks.items()}, "run_checks (all, stored)": all_checks,
            **{f"watermark {k}": v for k, v in watermark.items()}}
    for name, row in rows.items():
        detail = row.get("error") or f"{row['first_s']:>8.3f} {row['median_s'] or 0:>8.3f}"
        print(f"{name:<34}{detail}  {row.get('status', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
