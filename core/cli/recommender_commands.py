"""`generec train-recommender`: the time-split protocol (MMGCN against Popularity and BPR-MF,
MMGCN saved for scoring and PS@K) or the leave-one-out protocol (Popularity, BPR-MF, LightGCN,
MMGCN and SASRec over the full item set; the best on validation gives User_Emb)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.corpus_commands import _positive, corpus, progress_bar
from core.recommender import LOO_MODELS

PROTOCOLS = ("time-split", "leave-one-out")
TIME_SPLIT_EPOCHS = 200


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("train-recommender", parents=[common],
                       help="train and compare recommenders; ranking metrics")
    p.add_argument("--protocol", choices=PROTOCOLS, default="time-split",
                   help="time-split: latest 20%% of each user's events held out (MMGCN, BPR-MF, "
                        "Popularity); leave-one-out: last like test, the one before validation, "
                        "full ranking (the MicroLens protocol)")
    p.add_argument("--movielens", type=Path, default=None, metavar="DIR",
                   help="train and evaluate on MovieLens 100K instead (time-split: ua.base / "
                        "ua.test; leave-one-out: u.data by time)")
    p.add_argument("--epochs", type=_positive, default=None,
                   help=f"most epochs per model (default: {TIME_SPLIT_EPOCHS} for time-split; "
                        f"leave-one-out: the protocol's own, with early stopping)")
    p.add_argument("--model", default="bundled", help="encoder spec of the content features")
    p.add_argument("--models", nargs="+", choices=LOO_MODELS, default=None,
                   help="leave-one-out: which models (default: all)")
    p.add_argument("--no-tuning", action="store_true",
                   help="leave-one-out: the first grid point of each model only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=_positive, default=1,
                   help="torch threads (default 1: on shared cores, more is often slower)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_train_recommender)


def cmd_train_recommender(args) -> int:
    import torch

    torch.set_num_threads(args.threads)
    if args.protocol == "leave-one-out":
        report = _leave_one_out(args)
    else:
        report = _time_split(args)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    if args.protocol == "leave-one-out":
        for name in (n for n in LOO_MODELS if n in report):
            m = report[name]
            cold = "-" if m["cold_hr@10"] is None else f"{m['cold_hr@10']:.4f}"
            print(f"{name:<11} hr@10 {m['hr@10']:.4f}  ndcg@10 {m['ndcg@10']:.4f}  "
                  f"hr@20 {m['hr@20']:.4f}  ndcg@20 {m['ndcg@20']:.4f}  cold_hr@10 {cold}  "
                  f"{m['training_s']:.0f} s")
        print(f"leave-one-out on {report['dataset']}: {report['users']} users, "
              f"{report['items']} items; best on validation: {report['best_on_validation']}")
        return 0
    for name in ("MMGCN", "BPR-MF", "Popularity"):
        m = report[name]
        print(f"{name:<11} recall@10 {m['recall@10']:.4f}  ndcg@10 {m['ndcg@10']:.4f}  "
              f"precision@10 {m['precision@10']:.4f}")
    print(f"split: {report['split']}")
    return 0


def _time_split(args) -> dict:
    epochs = args.epochs or TIME_SPLIT_EPOCHS
    if args.movielens:
        from core.recommender.dataset import from_movielens
        from core.recommender.train import compare

        with progress_bar(args, "train-recommender") as bar:
            report, _ = compare(from_movielens(args.movielens), epochs=epochs, progress=bar)
    else:
        from core.recommender.service import train_on_corpus

        with corpus(args) as store, progress_bar(args, "train-recommender") as bar:
            report = train_on_corpus(store, args.model, epochs, bar)
    for name in ("MMGCN", "BPR-MF"):
        report[name]["training"].pop("validation_curve", None)
    return report


def _leave_one_out(args) -> dict:
    from core.recommender.loo_train import GRID

    models = tuple(n for n in LOO_MODELS if n in (args.models or LOO_MODELS))
    grid = {name: points[:1] for name, points in GRID.items()} if args.no_tuning else None
    overrides = {"max_epochs": args.epochs} if args.epochs else None
    if args.movielens:
        from core.recommender.loo import loo_from_movielens
        from core.recommender.loo_train import compare_loo

        with progress_bar(args, "train-recommender") as bar:
            report, _ = compare_loo(loo_from_movielens(args.movielens), models, args.seed, grid,
                                    overrides, bar)
        return report.as_dict()
    from core.recommender.service import train_loo_on_corpus

    with corpus(args) as store, progress_bar(args, "train-recommender") as bar:
        return train_loo_on_corpus(store, args.model, models, args.seed, grid, overrides, bar)
