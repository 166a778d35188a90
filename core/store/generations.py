"""Queries on generations: recording an AI result with its provenance, and reading it back."""
from __future__ import annotations

import json
from typing import Any

from core.store.database import Store

JSON_FIELDS = ("params", "scores", "provenance")


def insert_generation(store: Store, generation_id: str, task: str, user_id: str | None,
                      item_id: str | None, *, job_id: str | None, output_path: str | None,
                      params: dict[str, Any], scores: dict[str, Any], provenance: dict[str, Any],
                      seed: int | None) -> None:
    """Insert one generation (params, scores and provenance as sorted-key JSON). Call inside a
    transaction, with its audit entry."""
    store.conn.execute(
        "INSERT INTO generations (id, task, user_id, item_id, job_id, output_path, params, "
        "scores, provenance, seed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (generation_id, task, user_id, item_id, job_id, output_path,
         json.dumps(params, sort_keys=True), json.dumps(scores, sort_keys=True),
         json.dumps(provenance, sort_keys=True), seed))


def generation_by_id(store: Store, generation_id: str) -> dict[str, Any] | None:
    """Every column of one generation, its params, scores and provenance decoded; None if absent."""
    row = store.conn.execute("SELECT * FROM generations WHERE id = ?", (generation_id,)).fetchone()
    if row is None:
        return None
    out = dict(row)
    for key in JSON_FIELDS:
        out[key] = json.loads(out[key])
    return out
