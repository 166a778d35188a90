"""Queries the recommender and the per-user ranking make: likes with their split, and the
catalogue's sources."""
from __future__ import annotations

from core.store.database import Store


def like_splits(store: Store) -> list[tuple[str, str, str]]:
    """(user, item, split) of every like, without repeats (in SQLite's order)."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT DISTINCT user_id, item_id, split FROM interactions WHERE kind = 'like'")]


def catalogue_sources(store: Store) -> dict[str, tuple[str, str, str]]:
    """item id -> (source, title, the user an AI item was generated for; '' otherwise)."""
    rows = store.conn.execute(
        "SELECT i.id, i.source, i.title, COALESCE(g.user_id, '') FROM items i "
        "LEFT JOIN generations g ON g.id = i.id AND i.source = 'ai'").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}
