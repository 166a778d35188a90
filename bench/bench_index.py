"""Benchmark: indexing throughput (indexed frames per second) of `generec index`'s pipeline
against the plain approach (decode every frame at full size, encode one frame at a time), on
the same files and encoder, in one process. Target: at least 3x.

It also measures the floor: the encoder's forward pass alone (every thread torch has) on the
same frames, thumbnails and titles, decoded beforehand, in the pipeline's batch size. The
pipeline's time over that floor says how well decoding hides behind inference (target 1.3).

    python bench/bench_index.py [VIDEO_DIR] [--frames 32]     # prints JSON
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
from core.encoders.indexing import DEFAULT_BATCH, index_corpus  # noqa: E402
from core.media import iter_frames, probe, sample_times  # noqa: E402
from core.store import open_store  # noqa: E402
from core.store.embeddings import items_without_embeddings  # noqa: E402

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


def forward_floor(items: list[dict], encoder, n_frames: int, batch: int) -> dict:
    """Decode the pipeline's frames first (timed apart), then time only the forward passes."""
    from core.encoders.indexing import _decode

    start = time.perf_counter()
    decoded = [d for d in (_decode(item, n_frames, encoder.image_size) for item in items)
               if d.error is None]
    decode_s = time.perf_counter() - start
    images = [f for d in decoded for f in d.frames] + \
        [d.thumbnail for d in decoded if d.thumbnail is not None]
    titles = [d.item["title"] or d.item["id"] for d in decoded]
    start = time.perf_counter()
    for k in range(0, len(images), batch):
        encoder.encode_images(images[k:k + batch], batch=batch)
    encoder.encode_texts(titles)
    return {"decode_s": round(decode_s, 2), "forward_s": round(time.perf_counter() - start, 2),
            "images": len(images)}


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
            floor = forward_floor(items_without_embeddings(store, encoder.model_id), encoder,
                                  args.frames, DEFAULT_BATCH)
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
              "target_speedup": 3,
              "pipeline_s": round(ours, 2), "floor": floor,
              "pipeline_over_forward_floor": round(ours / floor["forward_s"], 2),
              "target_over_floor": 1.3}
    print(json.dumps(result, indent=1))
    return 0 if result["speedup"] >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
