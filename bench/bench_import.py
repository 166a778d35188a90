"""Benchmark: `generec import` of a large interactions file with bad rows, against a floor
and a plain baseline measured in the same run.

    python bench/bench_import.py [--rows 1000000] [--bad 0.10] [--json]

- the file: CSV `user,item,kind,value,timestamp`, 50,000 users and 20,000 items (no videos,
  so the items arrive as no-media), a share `--bad` of the rows broken in four ways (unknown
  kind, bad timestamp, missing field, bad value), written once per size and seed;
- floor: reading the file with Python's csv module and nothing else;
- baseline: the plain load, csv parsing and one executemany into a bare SQLite table of the
  same columns in one transaction, no checks;
- project: the `generec import` command line on a fresh corpus, in a subprocess.

Times are wall clock; the import's CPU seconds are reported beside them, since the machine may
be shared. Targets: at least 1,000,000 rows a minute, and a stderr summary of at most 30 lines (counts
per reason, the first 20 rows, the log file with all of them).
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET_ROWS_PER_MINUTE = 1_000_000
TARGET_SUMMARY_LINES = 30
KINDS = ["click", "like", "dislike", "dwell", "rating"]


def write_file(path: Path, rows: int, bad: float, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    users = rng.integers(0, 50_000, rows)
    items = rng.integers(0, 20_000, rows)
    kinds = rng.integers(0, len(KINDS), rows)
    stamps = 1_600_000_000 + np.arange(rows) * 3 + rng.integers(0, 3, rows)
    broken = rng.random(rows) < bad
    how = rng.integers(0, 4, rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("user,item,kind,value,timestamp\n")
        lines = []
        for k in range(rows):
            user, item, kind, value, stamp = (f"u{users[k]}", f"i{items[k]}", KINDS[kinds[k]],
                                              "1", str(int(stamps[k])))
            if broken[k]:
                if how[k] == 0:
                    kind = "share"
                elif how[k] == 1:
                    stamp = "yesterday"
                elif how[k] == 2:
                    item = ""
                else:
                    value = "lots"
            lines.append(f"{user},{item},{kind},{value},{stamp}\n")
            if len(lines) == 100_000:
                handle.writelines(lines)
                lines = []
        handle.writelines(lines)
    return {"rows": rows, "bad_rows": int(broken.sum())}


def floor(path: Path) -> float:
    start = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as handle:
        for _ in csv.reader(handle):
            pass
    return time.perf_counter() - start


def baseline(path: Path, db: Path) -> float:
    start = time.perf_counter()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("CREATE TABLE interactions (user_id TEXT, item_id TEXT, kind TEXT, value REAL, "
                 "timestamp REAL)")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO interactions VALUES (?, ?, ?, ?, ?)", reader)
        conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--bad", type=float, default=0.10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cache = ROOT / "bench" / "results" / "import"
    cache.mkdir(parents=True, exist_ok=True)
    data = cache / f"interactions-{args.rows}-{args.bad}.csv"
    if not data.exists():
        made = write_file(data.with_suffix(".tmp"), args.rows, args.bad)
        data.with_suffix(".tmp").rename(data)
        (cache / f"{data.stem}.json").write_text(json.dumps(made))
    made = json.loads((cache / f"{data.stem}.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        floor_s = floor(data)
        baseline_s = baseline(data, work / "plain.db")
        (work / "videos").mkdir()
        command = [sys.executable, "-m", "core.cli", "import", str(work / "videos"),
                   "--interactions", str(data), "--db", str(work / "corpus.db")]
        start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        project_s = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        project_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        info = subprocess.run([sys.executable, "-m", "core.cli", "info", "--json", "--db",
                               str(work / "corpus.db")], capture_output=True, text=True, cwd=ROOT)
        counts = json.loads(info.stdout) if info.returncode == 0 else {}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary_lines = [line for line in run.stderr.splitlines() if line.strip()]
    rows_per_minute = args.rows / project_s * 60
    result = {"rows": args.rows, "bad_rows": made["bad_rows"], "exit_status": run.returncode,
              "floor_s": round(floor_s, 2), "baseline_s": round(baseline_s, 2),
              "project_s": round(project_s, 2), "project_cpu_s": round(project_cpu, 2), "project_vs_floor": round(project_s / floor_s, 2),
              "project_vs_baseline": round(project_s / baseline_s, 2),
              "rows_per_minute": int(rows_per_minute),
              "stderr_lines": len(summary_lines), "stdout_lines": len(run.stdout.splitlines()),
              "interactions_in_corpus": counts.get("interactions"),
              "target_rows_per_minute": TARGET_ROWS_PER_MINUTE,
              "target_summary_lines": TARGET_SUMMARY_LINES}
    if not args.json:
        result["stderr"] = summary_lines
    print(json.dumps(result, indent=None if args.json else 1))
    ok = (run.returncode == 0 and rows_per_minute >= TARGET_ROWS_PER_MINUTE
          and len(summary_lines) <= TARGET_SUMMARY_LINES)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
