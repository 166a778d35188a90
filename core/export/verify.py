"""`generec verify FILE`: read the watermark, name the generation it identifies, load the
provenance record exported beside the file, and validate the file's Content Credentials."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from core.errors import GenerecError, InputError
from core.export.content_credentials import read_credentials
from core.export.expiry import parse_instant
from core.export.gate import file_sha256
from core.fidelity.watermark import read_payload
from core.store import Store

MIN_AGREEMENT = 0.9


def verify_file(store: Store | None, path: str | Path) -> dict:
    """Without a store, the generation is not looked up (the payload is still reported)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        found = read_payload(path)
    except GenerecError as exc:      # not decodable (e.g. damaged): report, do not stop
        found = {"payload": None, "agreement": 0.0, "frames": 0, "watermark_error": str(exc)}
    generation = None
    if store is not None and found["agreement"] >= MIN_AGREEMENT:
        row = store.conn.execute("SELECT id, task, item_id, status, expires_at FROM generations "
                                 "WHERE id LIKE ?", (f"gen-{found['payload']}%",)).fetchone()
        generation = dict(row) if row else None
    generation_id = generation["id"] if generation else None
    provenance = _sidecar(path)
    credentials = read_credentials(path)
    expires_at = (provenance or {}).get("expires_at") or (credentials.get("provenance") or {}).get(
        "expires_at")
    return {"file": str(path), **found, "generation_id": generation_id, "generation": generation,
            "provenance": provenance,
            "provenance_matches": bool(provenance and generation_id
                                       and provenance.get("generation_id") == generation_id),
            "sha256_matches": (provenance.get("sha256") == file_sha256(path)
                               if provenance and provenance.get("sha256") else None),
            "c2pa": credentials, "expires_at": expires_at,
            "expired": (parse_instant(expires_at, "expires_at") <= datetime.now(timezone.utc)
                        if expires_at else False)}


def _sidecar(path: Path) -> dict | None:
    sidecar = path.with_name(f"{path.stem}.provenance.json")
    if not sidecar.is_file():
        return None
    try:
        return json.loads(sidecar.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{sidecar}: not a readable provenance record ({exc})") from None
