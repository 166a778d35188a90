"""Job rows in the corpus and the runner that moves them through their states."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from core.errors import Cancelled, GenerecError, InputError
from core.jobs.kinds import JOB_KINDS, jsonable
from core.progress import Progress
from core.store import Store, open_store

NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


ORIGINS = ("gui", "cli")


def create_job(store: Store, kind: str, params: dict[str, Any], origin: str = "gui") -> str:
    """Queue a job; `origin` says who asked (the GUI or the CLI), so `generec jobs` lists both."""
    if kind not in JOB_KINDS:
        raise InputError(f"unknown job kind {kind!r}")
    if origin not in ORIGINS:
        raise InputError(f"unknown job origin {origin!r}; expected one of {', '.join(ORIGINS)}")
    job_id = "job-" + uuid.uuid4().hex[:12]
    with store.transaction():
        store.conn.execute("INSERT INTO jobs (id, kind, params, origin) VALUES (?, ?, ?, ?)",
                           (job_id, kind, json.dumps(params, sort_keys=True, default=str), origin))
    return job_id


def get_job(store: Store, job_id: str) -> dict[str, Any]:
    row = store.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise InputError(f"unknown job {job_id!r}")
    job = dict(row)
    job["params"] = json.loads(job["params"])
    job["result"] = json.loads(job["result"]) if job["result"] else None
    return job


def list_jobs(store: Store, limit: int = 200) -> list[dict[str, Any]]:
    rows = store.conn.execute("SELECT id FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,))
    return [get_job(store, r[0]) for r in rows.fetchall()]


def mark_interrupted(store: Store) -> int:
    """At start-up: jobs still marked running died with the last process."""
    with store.transaction():
        cursor = store.conn.execute(
            f"UPDATE jobs SET state = 'interrupted', finished_at = {NOW}, "
            "error = 'the application stopped while this job ran' WHERE state = 'running'")
    return cursor.rowcount


def cancel_queued(store: Store, job_id: str) -> None:
    """Cancel a job that never started."""
    with store.transaction():
        store.conn.execute(f"UPDATE jobs SET state = 'cancelled', finished_at = {NOW} "
                           "WHERE id = ? AND state = 'queued'", (job_id,))
        store.audit("job.cancelled", job_id, {"before_start": True})


def _finish(store: Store, job_id: str, state: str, error: str | None = None,
            result: Any = None, progress: Progress | None = None) -> None:
    with store.transaction():
        store.conn.execute(
            f"UPDATE jobs SET state = ?, error = ?, result = ?, finished_at = {NOW}, "
            "done = ?, total = ?, message = ? WHERE id = ?",
            (state, error, json.dumps(jsonable(result), default=str) if result is not None else None,
             progress.done if progress else 0, progress.total if progress else 0,
             progress.message if progress else "", job_id))
        store.audit(f"job.{state}", job_id, {"error": error} if error else {})


def run_job(db_path: str | Path, job_id: str, progress: Progress | None = None) -> Any:
    """Run a queued job in this thread with its own connection; record how it ended.
    Re-raises what the job raised, so that callers can report it."""
    progress = progress or Progress()
    with open_store(db_path) as store:
        job = get_job(store, job_id)
        with store.transaction():
            store.conn.execute(f"UPDATE jobs SET state = 'running', started_at = {NOW} "
                               "WHERE id = ?", (job_id,))
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
