"""Benchmark: build the default demo corpus from scratch (target: at most 60 s on 2 cores).

    python bench/bench_demo.py [--items 240] [--users 160]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.demo.build import build_demo  # noqa: E402
from core.store import open_store  # noqa: E402
from core.store.corpus import counts  # noqa: E402

TARGET_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=240)
    parser.add_argument("--users", type=int, default=160)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        with open_store(Path(folder) / "corpus.db") as store:
            build_demo(store, args.items, args.users)
            elapsed = time.perf_counter() - start
            result = {"seconds": round(elapsed, 2), "cores": os.cpu_count(),
                      "target_s": TARGET_S, **counts(store)}
    print(json.dumps(result))
    return 0 if elapsed <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
