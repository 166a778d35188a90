"""`generec batch --ray local|ADDRESS`: making batch outputs over Ray Data.

The driver prepares the orders (core.batch.orders) and Ray Data maps batches of them through
`MakeOrders`, an actor class that keeps a diffusion model loaded between orders. Each actor makes
its orders' output files (by the paths the corpus holds: on a real cluster a shared file system)
and writes one Parquet shard per batch, whole or not at all, holding each generation's record
as JSON. The driver, the one writer, records each row under its deterministic generation id
unless it exists and runs the checks (core.batch.run.record_made), so merging a shard twice, or
after a crash or a killed worker, adds nothing twice; a rerun makes only what is missing.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import time
from pathlib import Path

import numpy as np

from core.batch.orders import Made, Order, make
from core.cluster.runtime import run_on_ray
from core.paths import media_dir
from core.progress import Progress
from core.store import Store

ORDERS_PER_TASK = 4


def batch_shard_dir(store_path) -> Path:
    return media_dir(store_path) / "shards" / "batch"


class MakeOrders:
    """Ray Data callable class: make a batch of orders, one Parquet shard per batch."""

    def __init__(self, out_dir: str, threads: int = 1) -> None:
        import torch

        torch.set_num_threads(threads)
        self.out_dir = Path(out_dir)

    def __call__(self, batch: dict) -> dict:
        orders: list[Order] = [pickle.loads(blob) for blob in batch["order"]]
        made = [make(order) for order in orders]
        path = write_shard(self.out_dir, made)
        return {"shard": np.array([str(path)]), "orders": np.array([len(orders)])}


def write_shard(out_dir: Path, made: list[Made]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out_dir.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256("\n".join(m.generation_id for m in made).encode()).hexdigest()[:24]
    path = out_dir / f"{name}.parquet"
    tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
    pq.write_table(pa.table({"made": [m.to_json() for m in made]}), tmp)
    os.replace(tmp, path)
    return path


def merge_batch_shard(store: Store, path: Path, summary) -> None:
    import pyarrow.parquet as pq

    from core.batch.run import record_made

    for text in pq.read_table(path).column("made").to_pylist():
        record_made(store, Made.from_json(text), summary)
    path.unlink(missing_ok=True)


def merge_leftover_shards(store: Store, summary) -> int:
    """Merge the shards an interrupted run finished; returns how many there were."""
    out_dir = batch_shard_dir(store.path)
    leftovers = sorted(out_dir.glob("*.parquet")) if out_dir.is_dir() else []
    for path in leftovers:
        merge_batch_shard(store, path, summary)
    return len(leftovers)


def make_on_ray(store: Store, orders: list[Order], summary, progress: Progress, address: str,
                workers: int = 2, orders_per_task: int = ORDERS_PER_TASK,
                keep_ray: bool = False) -> dict:
    """Make the orders on Ray Data and merge each shard as it arrives; returns timing facts."""
    facts = {"address": address, "workers": workers, "shards_merged": 0}
    started, done = time.perf_counter(), 0

    def merge(result: dict) -> None:
        nonlocal done
        for path in result["shard"]:
            merge_batch_shard(store, Path(str(path)), summary)
            facts["shards_merged"] += 1
        done += int(result["orders"].sum())
        progress.update(done, len(orders), "making on Ray")
        progress.check_cancelled()

    facts["startup_s"] = run_on_ray(
        address, workers, [{"order": pickle.dumps(order)} for order in orders], MakeOrders,
        dict(out_dir=str(batch_shard_dir(store.path))), orders_per_task, merge, keep_ray)
    facts["seconds"] = round(time.perf_counter() - started, 2)
    return facts
