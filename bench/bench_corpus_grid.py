"""Benchmark: the corpus grid with 10,000 items: time to load the model, to repaint while
scrolling page by page (thumbnails arrive lazily), and to apply a text filter.
Target: every repaint and filter under 50 ms on 2 cores.

    python bench/bench_corpus_grid.py [--items 10000]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.media import save_image  # noqa: E402
from core.corpus.browser import ItemColumns  # noqa: E402
from desktop.corpus_dock import CorpusDock  # noqa: E402

TARGET_MS = 50


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    app = QApplication([])
    folder = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    thumbs = [str(save_image(folder / f"t{k}.jpg", rng.integers(0, 255, (256, 256, 3), np.uint8)))
              for k in range(50)]
    items = [{"id": f"item-{k:05d}", "title": f"Item number {k}", "source": "human",
              "status": "ok", "licence": "CC-BY-4.0", "thumbnail_path": thumbs[k % 50]}
             for k in range(args.items)]
    dock = CorpusDock()
    dock.resize(900, 800)
    dock.show()
    start = time.perf_counter()
    dock.set_columns(ItemColumns.from_items(items))
    app.processEvents()
    load_ms = (time.perf_counter() - start) * 1000
    bar = dock.view.verticalScrollBar()
    repaint = []
    for _ in range(60):
        bar.setValue(bar.value() + bar.pageStep())
        start = time.perf_counter()
        dock.view.viewport().repaint()
        app.processEvents()
        repaint.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    dock.search.setText("number 99")
    app.processEvents()
    filter_ms = (time.perf_counter() - start) * 1000
    result = {"items": args.items, "load_ms": round(load_ms, 1),
              "repaint_max_ms": round(max(repaint), 1),
              "repaint_median_ms": round(float(np.median(repaint)), 1),
              "filter_ms": round(filter_ms, 1), "shown_after_filter": dock.model.rowCount(),
              "target_ms": TARGET_MS}
    print(json.dumps(result))
    dock.model.wait_for_thumbnails()
    dock.close()
    del dock
    app.processEvents()
    return 0 if max(repaint) < TARGET_MS and filter_ms < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
