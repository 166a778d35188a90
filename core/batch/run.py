"""`generec batch`: make a task's output for many (user, item) pairs, in this process or on
Ray, and record each one checked. Recording is the one writer's work wherever outputs are made:
a generation is inserted under its deterministic id unless it exists, then every check runs."""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from core.batch.orders import BatchRequest, Made, make, prepare
from core.progress import Progress
from core.store import Store

MAX_REPORTED_FAILURES = 20


@dataclass
class BatchSummary:
    task: str
    pairs: int = 0                  # (user, item) pairs asked for
    made: int = 0                   # recorded and checked by this run
    already_made: int = 0           # recorded by an earlier run: skipped
    skipped: Counter = field(default_factory=Counter)       # reason -> pairs
    failed: list[tuple[str, str]] = field(default_factory=list)   # (generation id, reason)
    checks: Counter = field(default_factory=Counter)        # "name: status" -> count
    generation_ids: list[str] = field(default_factory=list)
    ray: dict | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"task": self.task, "pairs": self.pairs, "made": self.made,
                "already_made": self.already_made, "skipped": dict(self.skipped),
                "failed": len(self.failed),
                "failures": [{"generation_id": g, "reason": r}
                             for g, r in self.failed[:MAX_REPORTED_FAILURES]],
                "checks": dict(sorted(self.checks.items())),
                "generation_ids": self.generation_ids, "ray": self.ray,
                "seconds": round(self.seconds, 2)}


def record_made(store: Store, made: Made, summary: BatchSummary) -> None:
    """The one writer: record a made output (once) and run every check on it."""
    from core.editor.generations import record_generation
    from core.fidelity.base import run_checks
    from core.store.corpus import existing_generations

    if made.error is not None:
        summary.failed.append((made.generation_id, made.error))
        return
    if existing_generations(store, [made.generation_id]):
        summary.already_made += 1
        return
    with store.transaction():
        record_generation(store, made.task, made.user_id, made.item_id, made.params, made.scores,
                          made.models, made.output_path, seed=made.params.get("seed"),
                          generation_id=made.generation_id)
    for result in run_checks(store, made.generation_id):
        summary.checks[f"{result['name']}: {result['status']}"] += 1
    summary.made += 1
    summary.generation_ids.append(made.generation_id)


def run_batch(store: Store, request: BatchRequest, progress: Progress | None = None,
              ray: str | None = None, workers: int = 2) -> BatchSummary:
    """Screen the request's steering text, prepare the orders still missing, make them here or
    on Ray (`ray`: 'local' or a cluster address), record and check each."""
    from core.jobs.generation import screen_request

    progress = progress or Progress()
    started = time.perf_counter()
    screen_request(store, "batch", request.options)
    summary = BatchSummary(request.task)
    if ray:
        from core.cluster.batch import merge_leftover_shards

        merge_leftover_shards(store, summary)     # an interrupted run's finished work
    progress.update(0, 1, "preparing")
    plan = prepare(store, request)
    summary.pairs, summary.skipped = plan.pairs, plan.skipped
    summary.already_made += plan.already_made
    total = len(plan.orders)
    progress.update(0, total, f"{total} to make")
    if ray and plan.orders:
        from core.cluster.batch import make_on_ray

        summary.ray = make_on_ray(store, plan.orders, summary, progress, ray, workers)
    else:
        for done, order in enumerate(plan.orders):
            progress.check_cancelled()
            record_made(store, make(order, progress.silent_child()), summary)
            progress.update(done + 1, total, f"{order.task} {order.user_id} {order.item_id}")
    summary.seconds = time.perf_counter() - started
    return summary
