"""Generations: every AI result, with what is needed to reproduce it (DESIGN.md section 2)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core import __version__
from core.store import Store
from core.store.generations import generation_by_id, insert_generation


def new_generation_id() -> str:
    return "gen-" + uuid.uuid4().hex[:16]


def generation_path(store: Store, generation_id: str, suffix: str) -> Path:
    """Where a generation's output file goes: the corpus's media folder, generations/."""
    from core.paths import media_dir

    return media_dir(store.path) / "generations" / f"{generation_id}{suffix}"


def record_generation(store: Store, task: str, user_id: str | None, item_id: str | None,
                      params: dict[str, Any], scores: dict[str, Any], models: list[dict],
                      output_path: str | None = None, seed: int | None = None,
                      job_id: str | None = None, generation_id: str | None = None) -> str:
    """Insert a generation and its audit entry; call inside a transaction."""
    generation_id = generation_id or new_generation_id()
    provenance = {
        "generation_id": generation_id, "task": task, "user_id": user_id, "item_id": item_id,
        "params": params, "seed": seed, "models": models, "app": "GeneRec Studio",
        "app_version": __version__, "created_at": datetime.now(timezone.utc).isoformat(),
    }
    insert_generation(store, generation_id, task, user_id, item_id, job_id=job_id,
                      output_path=output_path, params=params, scores=scores,
                      provenance=provenance, seed=seed)
    store.audit("generation.created", generation_id, {"task": task, "user": user_id,
                                                      "item": item_id})
    return generation_id


def get_generation(store: Store, generation_id: str) -> dict[str, Any] | None:
    return generation_by_id(store, generation_id)
