"""`generec verify FILE`: read the watermark, name the generation it identifies, and load the
provenance record that was exported beside the file."""
from __future__ import annotations

import json
from pathlib import Path

from core.errors import InputError
from core.fidelity.watermark import read_payload
from core.store import Store

MIN_AGREEMENT = 0.9


def verify_file(store: Store, path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    found = read_payload(path)
    generation_id = None
    if found["agreement"] >= MIN_AGREEMENT:
        row = store.conn.execute("SELECT id FROM generations WHERE id LIKE ?",
                                 (f"gen-{found['payload']}%",)).fetchone()
        generation_id = row[0] if row else None
    sidecar = path.with_name(f"{path.stem}.provenance.json")
    provenance = json.loads(sidecar.read_text()) if sidecar.is_file() else None
    return {"file": str(path), **found, "generation_id": generation_id,
            "provenance": provenance,
            "provenance_matches": bool(provenance and generation_id
                                       and provenance.get("generation_id") == generation_id)}
