"""Queries of the instructor: its stored turns per user, and the feedback it weighs."""
from __future__ import annotations

import json
from typing import Any

from core.store.database import Store


def latest_feedback_time(store: Store, user_id: str) -> float | None:
    """The timestamp of the user's latest interaction, or None when there is none."""
    return store.conn.execute("SELECT MAX(timestamp) FROM interactions WHERE user_id = ?",
                              (user_id,)).fetchone()[0]


def human_dislikes_since(store: Store, user_id: str, since: float) -> int:
    """How many dislikes of human-made items the user gave at or after `since`."""
    return store.conn.execute(
        "SELECT COUNT(*) FROM interactions i JOIN items it ON it.id = i.item_id "
        "WHERE i.user_id = ? AND i.kind = 'dislike' AND it.source = 'human' AND i.timestamp >= ?",
        (user_id, since)).fetchone()[0]


def last_response_json(store: Store, user_id: str) -> str | None:
    """The response (JSON text) of the user's latest instruction that has one, or None."""
    row = store.conn.execute("SELECT response FROM instructions WHERE user_id = ? AND response "
                             "IS NOT NULL ORDER BY id DESC LIMIT 1", (user_id,)).fetchone()
    return row[0] if row else None


def insert_instruction(store: Store, user_id: str, item_id: str | None, text: str,
                       response: dict[str, Any]) -> None:
    """Store one instruction with the instructor's response (as JSON)."""
    store.conn.execute("INSERT INTO instructions (user_id, item_id, text, response) "
                       "VALUES (?, ?, ?, ?)", (user_id, item_id, text, json.dumps(response)))
