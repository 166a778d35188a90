"""The corpus side of the watermark: which generation a payload names."""
from __future__ import annotations

from typing import Any

from core.store.database import Store


def generation_by_payload(store: Store, payload_hex: str) -> dict[str, Any] | None:
    """The generation whose id begins with the payload (the first 48 bits of the id), or None.
    Ids are `gen-` and 16 random hex digits, so two sharing 48 bits are 1 in 2^48 per pair."""
    if len(payload_hex) != 12 or any(c not in "0123456789abcdef" for c in payload_hex):
        return None
    row = store.conn.execute("SELECT id, task, item_id, status, expires_at FROM generations "
                             "WHERE id LIKE ? ORDER BY created_at LIMIT 1",
                             (f"gen-{payload_hex}%",)).fetchone()
    return dict(row) if row else None
