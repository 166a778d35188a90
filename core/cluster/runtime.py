"""Starting or joining Ray, and mapping rows through an actor class with Ray Data: the part the
Ray paths (indexing, batch generation) share."""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterator

from core.cluster import require_ray


def start_ray(address: str, workers: int):
    """Join `address` or, for 'local', start a cluster on 127.0.0.1 with `workers` CPUs.
    Returns (ray, started_here)."""
    ray = require_ray()
    if ray.is_initialized():
        return ray, False
    options = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                   configure_logging=True)
    if address == "local":
        ray.init(num_cpus=workers, _node_ip_address="127.0.0.1", **options)
    else:
        ray.init(address=address, **options)
    return ray, True


def map_batches(rows: list[dict], actor_class, constructor_kwargs: dict, rows_per_task: int,
                workers: int) -> Iterator[dict]:
    """Each result batch (numpy columns) of `actor_class` over the rows, as it arrives; one
    block per task so that every actor gets work from the start. Leaving the loop stops the
    dataset's tasks. Ray must be started."""
    import ray.data

    logging.getLogger("ray.data").setLevel(logging.ERROR)   # its INFO lines go to stderr
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    blocks = -(-len(rows) // rows_per_task)
    dataset = ray.data.from_items(rows, override_num_blocks=blocks)
    actors = max(1, min(workers, blocks))       # no idle actor loading a model for nothing
    mapped = dataset.map_batches(actor_class, batch_size=rows_per_task, batch_format="numpy",
                                 compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=1,
                                 fn_constructor_kwargs=constructor_kwargs)
    yield from mapped.iter_batches(batch_size=1, batch_format="numpy", prefetch_batches=0)


def run_on_ray(address: str, workers: int, rows: list[dict], actor_class,
               constructor_kwargs: dict, rows_per_task: int, on_result: Callable[[dict], None],
               keep_ray: bool = False) -> float:
    """Start or join Ray, map the rows through `actor_class` and hand each result batch to
    `on_result` on this (the driver's) thread; an exception there (a cancel) stops the
    dataset's tasks. Returns Ray's start-up: the seconds until the first result."""
    before, startup = time.perf_counter(), 0.0
    ray, started_here = start_ray(address, workers)
    try:
        for result in map_batches(rows, actor_class, constructor_kwargs, rows_per_task, workers):
            startup = startup or round(time.perf_counter() - before, 2)
            on_result(result)
    finally:
        if started_here and not keep_ray:
            ray.shutdown()
    return startup
