"""Queries of the fidelity checks: what a candidate is made of (user, captions), exposure and
parity for the fairness check, and the like histories the shilling signal reads."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from core.store.corpus import _rows_for_ids, captioned_segments
from core.store.database import Store


def get_user(store: Store, user_id: str) -> dict[str, Any] | None:
    """{"id", "attributes"} of a user (attributes parsed), or None for an unknown one."""
    row = store.conn.execute("SELECT id, attributes FROM users WHERE id = ?", (user_id,)).fetchone()
    return {"id": row[0], "attributes": json.loads(row[1])} if row else None


def item_captions(store: Store, item_id: str) -> list[str]:
    """The caption of each of the item's segments, in segment order."""
    return [caption for _, _, caption in captioned_segments(store, item_id)]


# -- fairness ------------------------------------------------------------------------------
def has_user_vector(store: Store, model_id: str, user_id: str) -> bool:
    """Whether the recommender `model_id` learned a vector for the user."""
    return store.conn.execute("SELECT 1 FROM user_embeddings WHERE model_id = ? AND user_id = ?",
                              (model_id, user_id)).fetchone() is not None


def item_groupings(store: Store) -> list[tuple[str, str, str | None]]:
    """(id, source, creator group or None) of every item."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT i.id, i.source, c.creator_group FROM items i "
        "LEFT JOIN creators c ON c.id = i.creator_id").fetchall()]


def generation_outcome(store: Store, generation_id: str) -> tuple[str, dict[str, Any]] | None:
    """(status, attributes of its user; {} without one) of a generation, None for an unknown one."""
    row = store.conn.execute("SELECT g.status, u.attributes FROM generations g LEFT JOIN users u "
                             "ON u.id = g.user_id WHERE g.id = ?", (generation_id,)).fetchone()
    return (row[0], json.loads(row[1] or "{}")) if row else None


# -- shilling ------------------------------------------------------------------------------
def _first_likes(store: Store, where: str, params: tuple) -> list[tuple[str, str, float]]:
    """(user, item, time of the first like) of the likes that `where` selects."""
    return store.conn.execute(
        f"SELECT user_id, item_id, MIN(timestamp) FROM interactions WHERE kind = 'like' AND {where} "
        f"GROUP BY user_id, item_id", params).fetchall()


def first_like_times(store: Store, user_id: str,
                     split: str | None = None) -> list[tuple[str, str, float]]:
    """(user, item, first like time) of each item the user liked (in one split, or all)."""
    if split is None:
        return _first_likes(store, "user_id = ?", (user_id,))
    return _first_likes(store, "user_id = ? AND split = ?", (user_id, split))


def co_like_times(store: Store, user_id: str,
                  item_ids: Iterable[str]) -> list[tuple[str, str, float]]:
    """(user, item, first like time) of the other accounts' likes of these items."""
    ids = list(item_ids)
    return _first_likes(store, f"user_id != ? AND item_id IN ({', '.join('?' * len(ids))})",
                        (user_id, *ids))


def co_liker_like_times(store: Store, user_id: str,
                        item_ids: Iterable[str]) -> list[tuple[str, str, float]]:
    """(user, item, first like time) of every like of the other accounts that liked any of
    these items (their whole like histories)."""
    ids = list(item_ids)
    return _first_likes(
        store, f"user_id != ? AND user_id IN (SELECT user_id FROM interactions WHERE "
               f"kind = 'like' AND item_id IN ({', '.join('?' * len(ids))}))", (user_id, *ids))


def user_creation_rows(store: Store, user_ids: Iterable[str]) -> list[tuple[str, str, str | None]]:
    """(id, attributes JSON, created_at) of those of the users that exist."""
    return [tuple(r) for r in _rows_for_ids(
        store, "SELECT id, attributes, created_at FROM users WHERE id IN ({})", user_ids)]


def insert_users_with_attributes(store: Store, rows: Iterable[tuple[str, str, str]]) -> None:
    """Add users, (id, name, attributes JSON) each; an existing id is an IntegrityError. Call
    inside a transaction."""
    store.conn.executemany("INSERT INTO users (id, name, attributes) VALUES (?, ?, ?)", rows)
