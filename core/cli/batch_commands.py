"""`generec batch`: one task for many users and items, as one recorded job (the GUI's protocol),
in this process or on Ray Data."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.corpus_commands import _positive, report_failures
from core.errors import InputError


def register(sub, common: argparse.ArgumentParser) -> None:
    from core.batch.orders import BATCH_TASKS

    p = sub.add_parser("batch", parents=[common],
                       help="make a task's output for many users and items, each checked")
    p.add_argument("--task", required=True, choices=BATCH_TASKS, help="what to make for each pair")
    p.add_argument("--users", required=True, metavar="FILE|all",
                   help="a file of user ids, one a line, or 'all' (every user with a like)")
    p.add_argument("--items", required=True, metavar="FILE|all",
                   help="a file of item ids, one a line, or 'all' (every item with a video)")
    p.add_argument("--style", default=None, help="the style preset (--task style)")
    p.add_argument("--clip-len", type=_positive, default=None, help="frames per clip (--task clip)")
    p.add_argument("--signal", default=None, choices=("User_Hist", "User_Emb", "both", "none"),
                   help="user signal of a revision (default: User_Hist)")
    p.add_argument("--instruction", default=None, help="text that conditions a revision")
    p.add_argument("--strength", type=float, default=None, help="revision strength (0, 1]")
    p.add_argument("--steps", type=_positive, default=None, help="denoising steps of a revision")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="revise only each item's first seconds")
    p.add_argument("--model", default="bundled", help="encoder spec of the index (thumbnail, clip)")
    p.add_argument("--ray", metavar="ADDRESS", default=None,
                   help="make outputs on Ray Data: 'local' starts a cluster on this machine, "
                        "ray://HOST:PORT or HOST:PORT joins one (needs the cluster extra)")
    p.add_argument("--workers", type=_positive, default=2, help="Ray actors (with --ray)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_batch)


def read_ids(value: str, what: str) -> list[str] | None:
    """'all' -> None; else the ids of a file, one a line (blank lines and # comments skipped)."""
    if value == "all":
        return None
    path = Path(value)
    if not path.is_file():
        raise InputError(f"--{what}: {value} is neither 'all' nor a file of {what[:-1]} ids")
    ids = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    ids = list(dict.fromkeys(i for i in ids if i))
    if not ids:
        raise InputError(f"--{what}: {path} lists no {what[:-1]} ids")
    return ids


def cmd_batch(args) -> int:
    from core.batch.orders import TASK_OPTIONS, BatchRequest
    from core.cli.jobs_commands import run_as_job

    if args.ray:
        from core.cluster import require_ray

        require_ray()          # before any work: say how to install it
    given = {"style": args.style, "clip_len": args.clip_len, "signal": args.signal,
             "instruction": args.instruction, "strength": args.strength, "steps": args.steps,
             "max_seconds": args.max_seconds}
    options = {k: v for k, v in given.items() if v is not None}
    stray = set(options) - set(TASK_OPTIONS[args.task])
    if stray:
        raise InputError(f"--task {args.task} takes no "
                         f"{', '.join('--' + s.replace('_', '-') for s in sorted(stray))}")
    params = {"task": args.task, "users": read_ids(args.users, "users"),
              "items": read_ids(args.items, "items"), "options": options, "spec": args.model}
    BatchRequest(**params)     # bad options fail here, before a job is recorded
    summary = run_as_job(args, "batch", {**params, "ray": args.ray, "workers": args.workers})
    report_failures([(f["generation_id"], f["reason"]) for f in summary["failures"]])
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    skipped = "; ".join(f"{n} {reason}" for reason, n in summary["skipped"].items())
    print(f"{summary['made']} {args.task} generations made and checked, "
          f"{summary['already_made']} already made, {summary['failed']} failed"
          f"{'; skipped: ' + skipped if skipped else ''} ({summary['seconds']} s)")
    return 0
