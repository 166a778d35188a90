"""`generec train-judge`: the recipe of the bundled judge (issue 12, core/evaluation/judge.py)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.corpus_commands import _positive, progress_bar


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("train-judge", parents=[common],
                       help="train the attribute classifier that judges generated outputs")
    p.add_argument("--out", type=Path, default=None, help="folder (default: resources/judge)")
    p.add_argument("--epochs", type=_positive, default=6)
    p.add_argument("--threads", type=_positive, default=2)
    p.add_argument("--json", action="store_true",
                   help="accepted for uniformity: the report on stdout is JSON either way "
                        "(progress on stderr)")
    p.set_defaults(run=cmd_train_judge)


def cmd_train_judge(args) -> int:
    from core.evaluation.judge import BUNDLED_DIR, train_judge

    with progress_bar(args, "train-judge") as bar:
        report = train_judge(args.out or BUNDLED_DIR, epochs=args.epochs, threads=args.threads,
                             progress=bar)
    print(json.dumps({k: v for k, v in report.items() if k != "loss_curve"}, indent=2))
    return 0
