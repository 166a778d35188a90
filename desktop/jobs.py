"""Bind core job functions to their arguments for the worker threads. No logic of its own:
each job opens its own connection in the worker thread and calls into core/."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from core.progress import Progress
from core.store import open_store

Job = Callable[[Progress], Any]


def build_demo_job(db_path: Path, **options) -> Job:
    def run(progress: Progress):
        from core.demo.build import build_demo

        with open_store(db_path) as store:
            return build_demo(store, progress=progress, **options)
    return run


def import_job(db_path: Path, folder: Path) -> Job:
    def run(progress: Progress):
        from core.corpus.importer import import_folder

        with open_store(db_path) as store:
            return import_folder(store, folder, progress=progress)
    return run
