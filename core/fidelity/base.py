"""The check framework: a check has `name`, `blocking`, `version` and `run(candidate, context)`
returning a CheckResult; the registry runs them all and stores each result. A check that
raises is recorded as `error` with the reason, never as a pass."""
from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field
from typing import Any, Protocol

from core.editor.generations import get_generation
from core.errors import InputError
from core.paths import RESOURCES
from core.store import Store
from core.store.corpus import get_item

STATUSES = ("pass", "warn", "fail", "error")


@dataclass
class CheckResult:
    status: str
    score: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)   # text, frames, boxes, spans

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")


@dataclass
class Candidate:
    """What a check looks at: the generation, its source item and the user it is for."""
    generation: dict
    item: dict | None
    user: dict | None
    texts: dict[str, str]            # where -> text (title, captions, instructions)


class Check(Protocol):
    name: str
    blocking: bool
    version: str

    def run(self, candidate: Candidate, context: dict) -> CheckResult: ...


def load_rules() -> dict:
    return json.loads((RESOURCES / "fidelity_rules.json").read_text())


def candidate_for(store: Store, generation_id: str) -> Candidate:
    generation = get_generation(store, generation_id)
    if generation is None:
        raise InputError(f"unknown generation {generation_id!r}")
    item = get_item(store, generation["item_id"]) if generation["item_id"] else None
    user = None
    if generation["user_id"]:
        row = store.conn.execute("SELECT id, attributes FROM users WHERE id = ?",
                                 (generation["user_id"],)).fetchone()
        user = {"id": row[0], "attributes": json.loads(row[1])} if row else None
    texts = {}
    if item:
        texts["title"] = item["title"]
        captions = [r[0] for r in store.conn.execute(
            "SELECT caption FROM segments WHERE item_id = ? ORDER BY idx", (item["id"],))]
        if captions:
            texts["captions"] = " | ".join(captions)
    if generation["params"].get("caption"):
        texts["burned-in caption"] = generation["params"]["caption"]
    if generation["user_id"]:
        instructions = [r[0] for r in store.conn.execute(
            "SELECT text FROM instructions WHERE user_id = ? ORDER BY id DESC LIMIT 5",
            (generation["user_id"],))]
        if instructions:
            texts["instructions"] = " | ".join(instructions)
    return Candidate(generation, item, user, texts)


def run_checks(store: Store, generation_id: str, checks: list | None = None) -> list[dict]:
    """Run every registered check on a generation and store the results."""
    from core.fidelity.registry import CHECKS

    candidate = candidate_for(store, generation_id)
    context = {"rules": load_rules(), "store": store}
    stored = []
    for check in checks or CHECKS:
        try:
            result = check.run(candidate, context)
        except Exception as exc:  # noqa: BLE001 - a crash is an `error`, never a pass
            result = CheckResult("error", None, {"text": f"{type(exc).__name__}: {exc}",
                                                 "traceback": traceback.format_exc(limit=3)})
        stored.append({"name": check.name, "version": check.version, "blocking": check.blocking,
                       "status": result.status, "score": result.score, "evidence": result.evidence})
    with store.transaction():
        for r in stored:
            store.conn.execute(
                "INSERT INTO checks (generation_id, name, version, blocking, status, score, evidence) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (generation_id, r["name"], r["version"], int(r["blocking"]), r["status"], r["score"],
                 json.dumps(r["evidence"], default=str)))
        store.audit("checks.run", generation_id, {r["name"]: r["status"] for r in stored})
    return stored
