"""Queries on the models a corpus was indexed with (the model manager's view)."""
from __future__ import annotations

from typing import Any

from core.store.database import Store


def list_models(store: Store) -> list[dict[str, Any]]:
    """Every registered model: id, spec, the checkpoint's sha256, dim, when; newest first."""
    rows = store.conn.execute("SELECT id, spec, sha256, dim, created_at FROM models "
                              "ORDER BY created_at DESC, id").fetchall()
    return [dict(r) for r in rows]


def model_identity(store: Store, model_id: str) -> dict[str, Any] | None:
    """A model's id, spec and checkpoint sha256 (what provenance records), or None."""
    row = store.conn.execute("SELECT id, spec, sha256 FROM models WHERE id = ?",
                             (model_id,)).fetchone()
    return dict(row) if row else None

