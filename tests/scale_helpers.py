"""Helpers of the scale and cluster tests: private copies of a corpus."""
from __future__ import annotations

import sqlite3
from pathlib import Path


def copy_corpus(source: Path, target: Path) -> Path:
    """A consistent copy of a corpus database (SQLite's backup API; WAL included). Item paths
    stay absolute, so the copy reads the source's videos and thumbnails."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target
