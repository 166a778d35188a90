"""Benchmark: indexing throughput (indexed frames per second) of `generec index`'s pipeline
against the plain approach (decode every frame at full size, encode one frame at a time), on
the same files and encoder, in one process. Target: at least 3x.

    python bench/bench_index.py [VIDEO_DIR] [--frames 32]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.corpus.importer import import_folder  # noqa: E402
from core.encoders import load_encoder  # noqa: E402
from core.encoders.indexing import index_corpus  # noqa: E402
from core.media import iter_frames, probe, sample_times  # noqa: E402
from core.store import open_store  # noqa: E402

DEFAULT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "media"


def plain_index(paths: list[Path], encoder, n_frames: int) -> int:
    done = 0
    for path in paths:
        info = probe(path)
        targets = sample_times(info.duration_s, min(n_frames, info.frames))
        frames = list(iter_frames(path, info=info))   # every frame, full size
        for target in targets:
            nearest = min(frames, key=lambda f: abs(f.t_s - target))
            encoder.encode_images([nearest.image], batch=1)
            done += 1
    return done


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("video_dir", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--model", default="bundled")
    args = parser.parse_args()
    encoder = load_encoder(args.model)
    encoder.encode_images([__import__("numpy").zeros((64, 64, 3), "uint8")])   # warm up
    with tempfile.TemporaryDirectory() as folder:
        with open_store(Path(folder) / "c.db") as store:
            import_folder(store, args.video_dir)
            paths = [Path(r[0]) for r in store.conn.execute(
                "SELECT path FROM items WHERE status = 'ok' ORDER BY id")]
            start = time.perf_counter()
            summary = index_corpus(store, encoder, args.frames)
            ours = time.perf_counter() - start
    start = time.perf_counter()
    plain_frames = plain_index(paths, encoder, args.frames)
    plain = time.perf_counter() - start
    result = {"files": len(paths), "encoder": encoder.model_id,
              "pipeline_fps": round(summary.frames / ours, 1),
              "plain_fps": round(plain_frames / plain, 1),
              "speedup": round((summary.frames / ours) / (plain_frames / plain), 2),
              "target_speedup": 3}
    print(json.dumps(result))
    return 0 if result["speedup"] >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
