"""Queries of the review trail: check results, human decisions and the instructions that steered
a generation."""
from __future__ import annotations

import json
from typing import Any, Iterable

from core.store.database import Store


def latest_checks(store: Store, generation_id: str) -> list[dict[str, Any]]:
    """The newest result of each check for a generation, by name."""
    rows = store.conn.execute(
        "SELECT name, version, blocking, status, score, evidence, output_sha256, rules_sha256, "
        "created_at FROM checks c WHERE generation_id = ? AND id = (SELECT MAX(id) FROM checks "
        "WHERE generation_id = c.generation_id AND name = c.name) ORDER BY name", (generation_id,))
    return [{**dict(r), "evidence": json.loads(r["evidence"])} for r in rows.fetchall()]


def insert_checks(store: Store, generation_id: str, results: Iterable[dict[str, Any]],
                  output_sha256: str | None, rules_sha256: str | None) -> None:
    """Store one run of checks; call inside a transaction."""
    store.conn.executemany(
        "INSERT INTO checks (generation_id, name, version, blocking, status, score, evidence, "
        "output_sha256, rules_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(generation_id, r["name"], r["version"], int(r["blocking"]), r["status"], r["score"],
          json.dumps(r["evidence"], default=str), output_sha256, rules_sha256) for r in results])


def insert_review(store: Store, generation_id: str, decision: str, reason: str,
                  override_reason: str | None, reviewer: str, output_sha256: str | None,
                  status: str) -> None:
    """Record a decision and the generation's new status; call inside a transaction."""
    store.conn.execute(
        "INSERT INTO reviews (generation_id, decision, reason, override_reason, reviewer, "
        "output_sha256) VALUES (?, ?, ?, ?, ?, ?)",
        (generation_id, decision, reason, override_reason, reviewer, output_sha256))
    store.conn.execute("UPDATE generations SET status = ? WHERE id = ?", (status, generation_id))


def generation_status(store: Store, generation_id: str) -> str | None:
    row = store.conn.execute("SELECT status FROM generations WHERE id = ?",
                             (generation_id,)).fetchone()
    return row[0] if row else None


def approved_output_sha256(store: Store, generation_id: str) -> tuple[bool, str | None]:
    """(whether an approval exists, the output sha256 it recorded) for the latest approval."""
    row = store.conn.execute(
        "SELECT output_sha256 FROM reviews WHERE generation_id = ? AND decision = 'approve' "
        "ORDER BY id DESC LIMIT 1", (generation_id,)).fetchone()
    return (row is not None, row[0] if row else None)


def instructions_before(store: Store, user_id: str, until: str, limit: int = 5) -> list[str]:
    """The user's latest instructions up to a moment (the conversation that led to it)."""
    return [r[0] for r in store.conn.execute(
        "SELECT text FROM instructions WHERE user_id = ? AND created_at <= ? "
        "ORDER BY id DESC LIMIT ?", (user_id, until, limit))]


def generation_ids(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT id FROM generations ORDER BY created_at, id")]
