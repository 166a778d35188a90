"""Human review of a generation: approve, reject or skip, with a reason, in the audit log.

Approving a generation whose latest result of a blocking check is `fail` or `error` needs an
override reason; the rule lives here so that every caller (GUI, CLI) obeys it.
"""
from __future__ import annotations

import json

from core.errors import InputError
from core.store import Store

DECISIONS = {"approve": "approved", "reject": "rejected", "skip": None}


class OverrideRequired(InputError):
    """Approval blocked by failing checks until an override reason is given."""

    def __init__(self, generation_id: str, failing: list[str]) -> None:
        self.failing = failing
        super().__init__(f"generation {generation_id}: blocking checks failed "
                         f"({', '.join(failing)}); approving needs an override reason")


def latest_checks(store: Store, generation_id: str) -> list[dict]:
    """The newest result of each check for a generation."""
    rows = store.conn.execute(
        "SELECT name, version, blocking, status, score, evidence, created_at FROM checks c "
        "WHERE generation_id = ? AND id = (SELECT MAX(id) FROM checks WHERE "
        "generation_id = c.generation_id AND name = c.name) ORDER BY name", (generation_id,))
    return [{**dict(r), "evidence": json.loads(r["evidence"])} for r in rows.fetchall()]


def failing_blocking_checks(store: Store, generation_id: str) -> list[str]:
    return [c["name"] for c in latest_checks(store, generation_id)
            if c["blocking"] and c["status"] in ("fail", "error")]


def record_decision(store: Store, generation_id: str, decision: str, reason: str = "",
                    override_reason: str | None = None, reviewer: str = "") -> str:
    """Returns the generation's new status."""
    if decision not in DECISIONS:
        raise InputError(f"unknown decision {decision!r}; expected approve, reject or skip")
    row = store.conn.execute("SELECT status FROM generations WHERE id = ?",
                             (generation_id,)).fetchone()
    if row is None:
        raise InputError(f"unknown generation {generation_id!r}")
    if decision == "reject" and not reason.strip():
        raise InputError("rejecting needs a reason")
    if decision == "approve":
        failing = failing_blocking_checks(store, generation_id)
        if failing and not (override_reason or "").strip():
            raise OverrideRequired(generation_id, failing)
    status = DECISIONS[decision] or row["status"]
    with store.transaction():
        store.conn.execute(
            "INSERT INTO reviews (generation_id, decision, reason, override_reason, reviewer) "
            "VALUES (?, ?, ?, ?, ?)", (generation_id, decision, reason, override_reason, reviewer))
        store.conn.execute("UPDATE generations SET status = ? WHERE id = ?", (status, generation_id))
        store.audit(f"review.{decision}", generation_id,
                    {"reason": reason, "override_reason": override_reason, "status": status},
                    actor=reviewer)
    return status
