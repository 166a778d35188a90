"""Benchmark: start-up to the first painted main window on the demo corpus (target: at most
3 s on 2 cores; torch must not load on this path). Builds the demo corpus first if needed.

    python bench/bench_startup.py [--db PATH] [--runs 3]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 3.0

# Runs in a fresh interpreter: everything from `python` starting to the first paint counts.
CHILD = """
import sys, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication
from desktop.main_window import MainWindow

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print("painted", "torch" in sys.modules, flush=True)
            QApplication.exit(0)
        return False

app = QApplication([])
window = MainWindow(sys.argv[1], build_demo_if_empty=False)
spy = FirstPaint()
window.installEventFilter(spy)
window.show()
app.exec()
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.mkdtemp()
    db = args.db or Path(folder) / "corpus.db"
    if not db.exists():
        subprocess.run([sys.executable, "-m", "core.cli", "demo", "--db", str(db), "--quiet"],
                       cwd=ROOT, check=True)
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "XDG_CONFIG_HOME": folder}
    timings, torch_loaded = [], False
    for _ in range(args.runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, str(db)], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True).stdout
        timings.append(time.perf_counter() - start)
        torch_loaded |= "True" in out
    result = {"first_paint_s": round(min(timings), 2), "runs": [round(t, 2) for t in timings],
              "torch_loaded": torch_loaded, "target_s": TARGET_S}
    print(json.dumps(result))
    return 0 if min(timings) <= TARGET_S and not torch_loaded else 1


if __name__ == "__main__":
    sys.exit(main())
