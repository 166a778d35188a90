"""Benchmark: `generec batch` in-process and on a local Ray cluster (N actors), per task.

    python bench/bench_batch.py [--items 48] [--users 4] [--tasks clip style] [--workers 2] [--json]

The corpus: a demo corpus of `--items` rendered items and 4 x `--users` users, indexed with the
bundled encoder (built once under bench/results/batch). For each task, each path makes the
same orders (`--users` users x every item) on its own copy of it:
- in-process: prepare, make, record and check each order in turn;
- Ray: the same orders made by Ray Data actors, recorded and checked by the one writer as
  shards arrive; start-up = from the call to the first merged shard.
Reported: wall seconds, seconds per order, Ray's start-up and its per-order time after it, the
writer's share (recording and checking), and whether both paths recorded the same parameters.
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

from core.batch.orders import BatchRequest  # noqa: E402
from core.batch.run import run_batch  # noqa: E402
from core.demo.build import build_demo  # noqa: E402
from core.encoders import load_encoder  # noqa: E402
from core.encoders.indexing import index_corpus  # noqa: E402
from core.store import open_store  # noqa: E402
from core.store.corpus import list_generations, users_with_likes  # noqa: E402
from scale_helpers import copy_corpus  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "batch"
OPTIONS = {"clip": {"clip_len": 8}, "thumbnail": {}, "style": {"style": "cartoon"},
           "revise": {"steps": 4, "max_seconds": 1.0}}


def corpus(items: int, users: int) -> Path:
    db = RESULTS / f"demo-{items}x{users}.db"
    if not db.exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        with open_store(db) as store:
            build_demo(store, n_items=items, n_users=4 * users, seed=21)
            index_corpus(store, load_encoder("bundled"), n_frames=16)
    return db


def params_of(db: Path, task: str) -> dict:
    with open_store(db) as store:
        return {(g["user_id"], g["item_id"]): {k: v for k, v in g["params"].items()
                                               if k != "domain"}
                for g in list_generations(store) if g["task"] == task}


def run(db: Path, request: BatchRequest, ray: str | None, workers: int) -> dict:
    with open_store(db) as store:
        started = time.perf_counter()
        summary = run_batch(store, request, ray=ray, workers=workers)
        seconds = time.perf_counter() - started
    out = {"seconds": round(seconds, 2), "made": summary.made, "failed": len(summary.failed),
           "per_order_s": round(seconds / max(summary.made, 1), 3)}
    if summary.ray:
        after = seconds - summary.ray["startup_s"]
        out.update(startup_s=summary.ray["startup_s"],
                   per_order_after_startup_s=round(after / max(summary.made, 1), 3))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=48)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--tasks", nargs="+", default=["clip", "style"], choices=list(OPTIONS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    base = corpus(args.items, args.users)
    with open_store(base) as store:
        users = users_with_likes(store)[:args.users]
    report = {"items": args.items, "users": users, "workers": args.workers, "tasks": {}}
    for task in args.tasks:
        request = BatchRequest(task, users, None, OPTIONS[task])
        shutil.rmtree(RESULTS / task, ignore_errors=True)     # outputs and shards of a last run
        local_db = copy_corpus(base, RESULTS / task / "local.db")
        ray_db = copy_corpus(base, RESULTS / task / "ray.db")
        local = run(local_db, request, None, args.workers)
        on_ray = run(ray_db, request, "local", args.workers)
        report["tasks"][task] = {"in_process": local, "ray": on_ray,
                                 "same_params": params_of(local_db, task) == params_of(ray_db, task)}
        if not args.json:
            print(task, json.dumps(report["tasks"][task]))
    if args.json:
        print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
