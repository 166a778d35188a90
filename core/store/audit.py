"""The audit log's hash chain: write with `Store.audit`, check with `verify_chain`."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from core.store.database import Store

FIELDS = ("ts", "actor", "action", "target", "details")


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(prev_hash: str, entry: dict) -> str:
    content = json.dumps([prev_hash, *(entry[f] for f in FIELDS)], ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def verify_chain(store: Store) -> dict:
    """Recompute the chain; the first entry that does not match names where it was broken.
    Entries written before the chain existed (no hash) are counted, not judged."""
    prev, checked, legacy = "", 0, 0
    for row in store.conn.execute(f"SELECT id, {', '.join(FIELDS)}, prev_hash, hash "
                                  "FROM audit_log ORDER BY id"):
        if row["hash"] is None:
            legacy += 1
            continue
        if row["prev_hash"] != prev:
            return {"ok": False, "entries": checked, "legacy": legacy, "broken_at": row["id"],
                    "reason": "an earlier entry was deleted or edited (the chain link differs)"}
        if entry_hash(prev, dict(row)) != row["hash"]:
            return {"ok": False, "entries": checked, "legacy": legacy, "broken_at": row["id"],
                    "reason": "this entry was edited after it was written"}
        prev = row["hash"]
        checked += 1
    return {"ok": True, "entries": checked, "legacy": legacy, "broken_at": None, "reason": ""}
