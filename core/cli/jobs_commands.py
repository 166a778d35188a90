"""`generec jobs`, and how CLI commands run as jobs: the same persisted job protocol as the GUI's
queue, so `generec jobs` lists the work of both and every job can be retried from its spec."""
from __future__ import annotations

import argparse
import json
from typing import Any

from core.cli.corpus_commands import corpus, progress_bar
from core.paths import default_db_path


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("jobs", parents=[common], help="jobs run from the GUI and the CLI, newest first")
    p.add_argument("--limit", type=int, default=50, help="how many jobs to list (default: 50)")
    p.add_argument("--json", action="store_true", help="print the jobs, with their parameters, as JSON")
    p.set_defaults(run=cmd_jobs)


def run_as_job(args, kind: str, params: dict[str, Any]) -> Any:
    """Record a CLI job, run it here with a progress bar, return its result (raises what it
    raised; the job row says how it ended)."""
    from core.jobs import create_job, run_job

    with corpus(args) as store:
        job_id = create_job(store, kind, params, origin="cli")
    with progress_bar(args, kind) as bar:
        return run_job(args.db or default_db_path(), job_id, bar)


def cmd_jobs(args) -> int:
    from core.jobs import list_jobs

    with corpus(args) as store:
        jobs = list_jobs(store, limit=args.limit)
    if args.json:
        print(json.dumps(jobs, indent=1, default=str))
        return 0
    for job in jobs:
        ended = f"  {job['error']}" if job["error"] else ""
        print(f"{job['id']}  {job['created_at'][:19]}  {job['origin']:<3}  {job['kind']:<17} "
              f"{job['state']:<11}{ended}")
    return 0
