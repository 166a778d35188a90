"""Job rows in the corpus and the runner that moves them through their states (the rows' SQL
is core.store.jobs's)."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from core.errors import Cancelled, GenerecError, InputError
from core.jobs.kinds import JOB_KINDS, jsonable
from core.progress import Progress
from core.store import Store, open_store
from core.store.jobs import (cancel_queued_job, finish_job, insert_job, interrupt_running_jobs,
                             job_row, mark_job_running, recent_job_ids)


ORIGINS = ("gui", "cli")


def create_job(store: Store, kind: str, params: dict[str, Any], origin: str = "gui") -> str:
    """Queue a job; `origin` says who asked (the GUI or the CLI), so `generec jobs` lists both."""
    if kind not in JOB_KINDS:
        raise InputError(f"unknown job kind {kind!r}")
    if origin not in ORIGINS:
        raise InputError(f"unknown job origin {origin!r}; expected one of {', '.join(ORIGINS)}")
    job_id = "job-" + uuid.uuid4().hex[:12]
    with store.transaction():
        insert_job(store, job_id, kind, params, origin)
    return job_id


def get_job(store: Store, job_id: str) -> dict[str, Any]:
    job = job_row(store, job_id)
    if job is None:
        raise InputError(f"unknown job {job_id!r}")
    return job


def list_jobs(store: Store, limit: int = 200) -> list[dict[str, Any]]:
    return [get_job(store, job_id) for job_id in recent_job_ids(store, limit)]


def mark_interrupted(store: Store) -> int:
    """At start-up: jobs still marked running died with the last process."""
    with store.transaction():
        return interrupt_running_jobs(store)


def cancel_queued(store: Store, job_id: str) -> None:
    """Cancel a job that never started."""
    with store.transaction():
        cancel_queued_job(store, job_id)
        store.audit("job.cancelled", job_id, {"before_start": True})


def _finish(store: Store, job_id: str, state: str, error: str | None = None,
            result: Any = None, progress: Progress | None = None) -> None:
    with store.transaction():
        finish_job(store, job_id, state, error, jsonable(result),
                   progress.done if progress else 0, progress.total if progress else 0,
                   progress.message if progress else "")
        store.audit(f"job.{state}", job_id, {"error": error} if error else {})


def run_job(db_path: str | Path, job_id: str, progress: Progress | None = None) -> Any:
    """Run a queued job in this thread with its own connection; record how it ended.
    Re-raises what the job raised, so that callers can report it."""
    progress = progress or Progress()
    with open_store(db_path) as store:
        job = get_job(store, job_id)
        with store.transaction():
            mark_job_running(store, job_id)
        try:
            result = JOB_KINDS[job["kind"]](store, job["params"], progress)
        except Cancelled:
            _finish(store, job_id, "cancelled", progress=progress)
            raise
        except GenerecError as exc:
            _finish(store, job_id, "failed", str(exc), progress=progress)
            raise
        except Exception as exc:
            _finish(store, job_id, "failed", f"internal error: {type(exc).__name__}: {exc}",
                    progress=progress)
            raise
        _finish(store, job_id, "done", result=result, progress=progress)
        return jsonable(result)
