"""Queries of the export gate and of expiry: marking a generation exported, its copy in the
corpus as an AI item, and removing expired AI items without leaving a dangling reference."""
from __future__ import annotations

from typing import Any

from core.store.database import Store

AI_ITEM_COLUMNS = ("id", "title", "parent_id", "creator_id", "licence", "category", "age_rating",
                   "path", "thumbnail_path", "width", "height", "duration_s", "fps", "frames",
                   "codec", "rotation", "has_audio", "expires_at")


def mark_exported(store: Store, generation_id: str, expires_at: str | None) -> None:
    """The generation's status becomes `exported`, with its expiry. Call inside a transaction."""
    store.conn.execute("UPDATE generations SET status = 'exported', expires_at = ? "
                       "WHERE id = ?", (expires_at, generation_id))


def upsert_ai_item(store: Store, item: dict[str, Any]) -> None:
    """Add (or replace) an AI item, status `ok`, from the keys of AI_ITEM_COLUMNS. Call inside a
    transaction."""
    store.conn.execute(
        "INSERT OR REPLACE INTO items (id, title, source, parent_id, creator_id, licence, "
        "category, age_rating, path, thumbnail_path, status, width, height, duration_s, fps, "
        "frames, codec, rotation, has_audio, expires_at) "
        "VALUES (?, ?, 'ai', ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        tuple(item[c] for c in AI_ITEM_COLUMNS))


def expired_ai_items(store: Store, now: str) -> list[dict[str, Any]]:
    """id, expires_at, path, thumbnail_path and the generation's output_path of each AI item whose
    expiry is at or before `now` ('YYYY-MM-DDTHH:MM:SSZ'), soonest expired first."""
    rows = store.conn.execute(
        "SELECT i.id, i.expires_at, i.path, i.thumbnail_path, g.output_path FROM items i "
        "LEFT JOIN generations g ON g.id = i.id WHERE i.source = 'ai' "
        "AND i.expires_at IS NOT NULL AND i.expires_at <= ? ORDER BY i.expires_at, i.id",
        (now,)).fetchall()
    return [dict(r) for r in rows]


def delete_ai_item(store: Store, item_id: str) -> None:
    """Delete the item if it is an AI item (never a human one); its interactions, frames and
    embeddings cascade. Call inside a transaction, after `clear_item_references`."""
    store.conn.execute("DELETE FROM items WHERE id = ? AND source = 'ai'", (item_id,))


def clear_item_references(store: Store, item_id: str) -> None:
    """Set to NULL every nullable column, in any table, whose foreign key to items does not
    cascade (ON DELETE NO ACTION) and that names the item, so that deleting the item keeps every
    foreign key intact. Call inside a transaction."""
    tables = [r[0] for r in
              store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        columns = {c["name"]: c for c in store.conn.execute(f"PRAGMA table_info({table})")}
        for fk in store.conn.execute(f"PRAGMA foreign_key_list({table})"):
            if (fk["table"] == "items" and fk["on_delete"].upper() == "NO ACTION"
                    and not columns[fk["from"]]["notnull"]):
                store.conn.execute(f'UPDATE "{table}" SET "{fk["from"]}" = NULL '
                                   f'WHERE "{fk["from"]}" = ?', (item_id,))
