"""Job rows: the persistence of the job queue (core.jobs validates, runs and audits them).
Each write is one statement; the caller wraps it, with its audit entry, in a transaction."""
from __future__ import annotations

import json
from typing import Any

from core.store.database import Store

NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"


def insert_job(store: Store, job_id: str, kind: str, params: dict[str, Any], origin: str) -> None:
    """Add a queued job with its parameters; call inside a transaction."""
    store.conn.execute("INSERT INTO jobs (id, kind, params, origin) VALUES (?, ?, ?, ?)",
                       (job_id, kind, json.dumps(params, sort_keys=True, default=str), origin))


def job_row(store: Store, job_id: str) -> dict[str, Any] | None:
    """The job's row with its params and result decoded, or None for an unknown job."""
    row = store.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        return None
    job = dict(row)
    job["params"] = json.loads(job["params"])
    job["result"] = json.loads(job["result"]) if job["result"] else None
    return job


def recent_job_ids(store: Store, limit: int) -> list[str]:
    """The ids of the `limit` newest jobs, newest first."""
    rows = store.conn.execute("SELECT id FROM jobs ORDER BY created_at DESC LIMIT ?", (limit,))
    return [r[0] for r in rows.fetchall()]


def interrupt_running_jobs(store: Store) -> int:
    """Mark every running job interrupted (it died with the last process); returns how many.
    Call inside a transaction."""
    cursor = store.conn.execute(
        f"UPDATE jobs SET state = 'interrupted', finished_at = {NOW}, "
        "error = 'the application stopped while this job ran' WHERE state = 'running'")
    return cursor.rowcount


def cancel_queued_job(store: Store, job_id: str) -> None:
    """Cancel the job if it is still queued (a started one is left as it is); call inside a
    transaction."""
    store.conn.execute(f"UPDATE jobs SET state = 'cancelled', finished_at = {NOW} "
                       "WHERE id = ? AND state = 'queued'", (job_id,))


def mark_job_running(store: Store, job_id: str) -> None:
    """The job has started now; call inside a transaction."""
    store.conn.execute(f"UPDATE jobs SET state = 'running', started_at = {NOW} "
                       "WHERE id = ?", (job_id,))


def finish_job(store: Store, job_id: str, state: str, error: str | None, result: Any,
               done: int, total: int, message: str) -> None:
    """Record how a job ended, its result (JSON; NULL for None) and its last progress; call
    inside a transaction."""
    store.conn.execute(
        f"UPDATE jobs SET state = ?, error = ?, result = ?, finished_at = {NOW}, "
        "done = ?, total = ?, message = ? WHERE id = ?",
        (state, error, json.dumps(result, default=str) if result is not None else None,
         done, total, message, job_id))
