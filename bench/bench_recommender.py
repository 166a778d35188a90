"""Benchmark: MMGCN training time on the demo corpus (target: at most 5 minutes on 2 cores),
and MMGCN against popularity and BPR-MF on MovieLens 100K (official ua.base / ua.test).

    python bench/bench_recommender.py [--db DEMO_DB] [--movielens DIR]
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--movielens", type=Path, default=MOVIELENS)
    args = parser.parse_args()
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
