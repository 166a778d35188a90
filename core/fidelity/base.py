"""The check framework: a check has `name`, `blocking`, `version` and `run(candidate, context)`
returning a CheckResult; the registry runs them all and stores each result. A check that
raises is recorded as `error` with the reason, never as a pass."""
from __future__ import annotations

import json
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from core.editor.generations import get_generation
from core.errors import InputError
from core.hashing import file_sha256
from core.paths import RESOURCES
from core.store import Store
from core.store.corpus import get_item
from core.store.fidelity import get_user, item_captions
from core.store.reviews import insert_checks, instructions_before

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


RULES_FILE = RESOURCES / "fidelity_rules.json"
# Generation parameters that steered what was made: screened like the user's instructions.
STEERING_PARAMS = {"instruction": "instruction", "caption": "burned-in caption",
                   "prompt": "prompt", "topic": "topic"}


def load_rules() -> dict:
    return json.loads(RULES_FILE.read_text())


def rules_sha256() -> str:
    """The rules' fingerprint: a check that ran under other rules is stale."""
    return file_sha256(RULES_FILE)


def output_sha256(generation: dict) -> str | None:
    """The sha256 of the generation's output file, None when it has none or it is missing."""
    path = generation.get("output_path")
    return file_sha256(path) if path and Path(path).is_file() else None


def candidate_for(store: Store, generation_id: str) -> Candidate:
    generation = get_generation(store, generation_id)
    if generation is None:
        raise InputError(f"unknown generation {generation_id!r}")
    item = get_item(store, generation["item_id"]) if generation["item_id"] else None
    user = None
    if generation["user_id"]:
        user = get_user(store, generation["user_id"])
    texts = {}
    if item:
        texts["title"] = item["title"]
        captions = item_captions(store, item["id"])
        if captions:
            texts["captions"] = " | ".join(captions)
    texts.update(steering_texts(generation["params"]))
    if generation["user_id"]:
        instructions = instructions_before(store, generation["user_id"], generation["created_at"])
        if instructions:
            texts["instructions"] = " | ".join(instructions)
    return Candidate(generation, item, user, texts)


def steering_texts(params: dict) -> dict[str, str]:
    """Where -> text of what the operator or user asked for in the generation's parameters."""
    return {where: str(params[key]) for key, where in STEERING_PARAMS.items()
            if str(params.get(key) or "").strip()}


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
    sha = output_sha256(candidate.generation)
    with store.transaction():
        insert_checks(store, generation_id, stored, sha, rules_sha256())
        store.audit("checks.run", generation_id,
                    {**{r["name"]: r["status"] for r in stored}, "output_sha256": sha})
    return stored
