"""Benchmark: MMGCN training time on the demo corpus (target: at most 5 minutes on 2 cores),
and MMGCN against popularity and BPR-MF on MovieLens 100K (official ua.base / ua.test).

    python bench/bench_recommender.py [--db DEMO_DB] [--movielens DIR]

With --microlens, the leave-one-out protocol at MicroLens-50k scale instead: a synthetic log
of 50,000 users, 20,000 items and about 360,000 likes is written and imported into an empty
corpus (target: under a minute), then every model is trained and tuned on validation (target:
each within 15 minutes) and ranked over the full item set for every user (target: within
2 minutes per model). Floor: Popularity; strong baseline: SASRec.

    python bench/bench_recommender.py --microlens [--out DIR] [--no-tuning] [--threads 1]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.recommender.dataset import from_movielens  # noqa: E402
from core.recommender.service import train_on_corpus  # noqa: E402
from core.recommender.train import compare  # noqa: E402
from core.store import open_store  # noqa: E402

TARGET_S = 300
MOVIELENS = ROOT.parent / "shared" / "data" / "movielens-100k"


def summary(report: dict) -> dict:
    keep = ("recall@10", "ndcg@10", "precision@10")
    return {name: {k: report[name][k] for k in keep} for name in ("MMGCN", "BPR-MF", "Popularity")}


IMPORT_TARGET_S, TRAIN_TARGET_S, EVAL_TARGET_S = 60, 900, 120


def microlens(out: Path, tuning: bool, threads: int) -> int:
    """The synthetic MicroLens-50k log through `generec import` and `generec train-recommender
    --protocol leave-one-out`, each timed as a user would run it."""
    out.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "core.cli"]
    subprocess.run([*cli, "synthetic-log", str(out / "log")], cwd=ROOT, check=True,
                   capture_output=True)
    (out / "empty").mkdir(exist_ok=True)
    db = out / "corpus.db"
    start = time.perf_counter()
    subprocess.run([*cli, "import", str(out / "empty"), "--interactions", str(out / "log" / "pairs.tsv"),
                    "--titles", str(out / "log" / "titles.csv"), "--db", str(db), "--quiet"],
                   cwd=ROOT, check=True, capture_output=True)
    import_s = time.perf_counter() - start
    info = json.loads(subprocess.run([*cli, "info", "--json", "--db", str(db)], cwd=ROOT,
                                     check=True, capture_output=True, text=True).stdout)
    start = time.perf_counter()
    run = subprocess.run([*cli, "train-recommender", "--db", str(db), "--protocol", "leave-one-out",
                          "--json", "--quiet", "--threads", str(threads),
                          *([] if tuning else ["--no-tuning"])],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    report = json.loads(run.stdout)
    models = ("Popularity", "BPR-MF", "LightGCN", "MMGCN", "SASRec")
    result = {"import_s": round(import_s, 1), "import_target_s": IMPORT_TARGET_S, "info": info,
              "train_recommender_s": round(time.perf_counter() - start, 1),
              "train_target_s": TRAIN_TARGET_S, "evaluation_target_s": EVAL_TARGET_S,
              "best_on_validation": report["best_on_validation"], "user_emb": report.get("user_emb"),
              **{name: {k: report[name][k] for k in ("hr@10", "ndcg@10", "hr@20", "ndcg@20",
                                                     "cold_hr@10", "training_s", "tuning_s",
                                                     "evaluation_s", "epochs", "config")}
                 for name in models}}
    (out / "report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(result, indent=1))
    ok = import_s <= IMPORT_TARGET_S and info["no_media"] == info["items"] == 20_000
    ok &= all(report[n]["tuning_s"] <= TRAIN_TARGET_S and report[n]["evaluation_s"] <= EVAL_TARGET_S
              for n in models)
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--movielens", type=Path, default=MOVIELENS)
    parser.add_argument("--microlens", action="store_true",
                        help="the leave-one-out protocol on a synthetic MicroLens-50k log")
    parser.add_argument("--out", type=Path, default=None, help="--microlens: working folder")
    parser.add_argument("--no-tuning", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.microlens:
        return microlens(args.out or Path(tempfile.mkdtemp()), not args.no_tuning, args.threads)
    db = args.db
    if db is None:
        db = Path(tempfile.mkdtemp()) / "corpus.db"
        for command in (["demo"], ["index"]):
            subprocess.run([sys.executable, "-m", "core.cli", *command, "--db", str(db), "--quiet"],
                           cwd=ROOT, check=True, capture_output=True)
    with open_store(db) as store:
        start = time.perf_counter()
        report = train_on_corpus(store)
        demo_seconds = time.perf_counter() - start
    result = {"demo_training_s": round(demo_seconds, 1), "target_s": TARGET_S,
              "demo": summary(report),
              "demo_epochs": report["MMGCN"]["training"]["epochs"]}
    if (args.movielens / "ua.base").is_file():
        start = time.perf_counter()
        ml, _ = compare(from_movielens(args.movielens))
        result["movielens"] = summary(ml)
        result["movielens_s"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result, indent=1))
    return 0 if demo_seconds <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
