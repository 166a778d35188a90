"""Benchmark: the same indexing in-process and on a local Ray cluster (Ray Data, N actors), with
Ray's fixed start-up cost and its per-item overhead.

    python bench/bench_cluster.py [--items 2000] [--frames 32] [--workers 2] [--json]

The corpus: a demo corpus of `--base` rendered items (built once under bench/results/cluster),
its rows copied (same videos, new ids) up to `--items`, so the work per item is a real clip's.
Each path indexes its own copy from scratch with the bundled encoder (the in-process
per-item time leaves out loading it once; Ray's start-up includes loading it per actor).
- floor: the in-process path (decoding threads ahead of one inference thread, one writer);
- Ray: `index_on_ray(address='local')`, including `ray.init`; start-up = from the call to the
  first merged shard (cluster, actors, encoder per actor, first batch); per-item overhead =
  (Ray's time after start-up) / items - in-process time / items; the writer's rate = items
  merged / seconds the driver spent merging shards into SQLite and the matrix.
Both must give the same number of embeddings.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from core.cluster.index import ITEMS_PER_TASK, index_on_ray  # noqa: E402
from core.demo.build import build_demo  # noqa: E402
from core.encoders import load_encoder  # noqa: E402
from core.encoders.indexing import index_corpus  # noqa: E402
from core.progress import Progress  # noqa: E402
from core.store import open_store  # noqa: E402
from core.store.synthetic import clone_items  # noqa: E402
from scale_helpers import copy_corpus  # noqa: E402


class FirstResult(Progress):
    def __init__(self) -> None:
        super().__init__()
        self.first = None

    def on_update(self, done, total, message):
        if done and self.first is None:
            self.first = time.perf_counter()


def count_embeddings(db: Path) -> int:
    with open_store(db) as store:
        return store.conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--base", type=int, default=48, help="rendered demo items")
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(__file__).resolve().parent / "results" / "cluster"
    base = folder / f"base-{args.base}.db"
    if not base.exists():
        with open_store(folder / f"building-{args.base}.db") as store:
            build_demo(store, n_items=args.base, n_users=8, seed=11)
        copy_corpus(folder / f"building-{args.base}.db", base)
    runs = folder / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    dbs = {}
    for name in ("in_process", "ray"):
        dbs[name] = copy_corpus(base, runs / name / "corpus.db")
        with open_store(dbs[name]) as store, store.transaction():
            clone_items(store, args.items)

    start = time.perf_counter()
    encoder = load_encoder("bundled")
    load_s = time.perf_counter() - start
    with open_store(dbs["in_process"]) as store:
        local = index_corpus(store, encoder, n_frames=args.frames)
    in_process_s = time.perf_counter() - start

    progress = FirstResult()
    start = time.perf_counter()
    with open_store(dbs["ray"]) as store:
        remote = index_on_ray(store, "bundled", "local", n_frames=args.frames,
                              workers=args.workers, progress=progress)
    ray_s = time.perf_counter() - start
    startup_s = (progress.first or time.perf_counter()) - start
    per_item_local = (in_process_s - load_s) / max(1, local.indexed)
    per_item_ray = (ray_s - startup_s) / max(1, remote.indexed - ITEMS_PER_TASK)
    result = {"items": args.items, "frames": args.frames, "workers": args.workers,
              "in_process_s": round(in_process_s, 1), "encoder_load_s": round(load_s, 1),
              "ray_s": round(ray_s, 1),
              "ray_startup_s": round(startup_s, 1),
              "in_process_ms_per_item": round(per_item_local * 1000, 1),
              "ray_ms_per_item_after_startup": round(per_item_ray * 1000, 1),
              "ray_overhead_ms_per_item": round((per_item_ray - per_item_local) * 1000, 1),
              "writer_items_per_s": round(remote.indexed / max(remote.merge_s, 1e-9), 1),
              "indexed": {"in_process": local.indexed, "ray": remote.indexed},
              "embeddings": {"in_process": count_embeddings(dbs["in_process"]),
                             "ray": count_embeddings(dbs["ray"])}}
    shutil.rmtree(runs, ignore_errors=True)
    print(json.dumps(result, indent=None if args.json else 1))
    same = result["embeddings"]["in_process"] == result["embeddings"]["ray"]
    return 0 if same and local.indexed == remote.indexed == args.items else 1


if __name__ == "__main__":
    sys.exit(main())
