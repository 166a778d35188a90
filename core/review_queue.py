"""A day's review: the queue of generations with where their checks stand, filters over it,
and bulk decisions that go one by one through `record_decision` (so every refusal of the single
path holds in bulk: missing, stale or errored checks, and failed blocking checks, which bulk
never overrides)."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from core.errors import GenerecError, InputError
from core.fidelity.review import check_state, record_decision
from core.store import Store
from core.store.corpus import list_generations

CHECK_STATES = ("passed", "failed", "not current")
AGES = {"any": None, "today": 1, "last 7 days": 7, "last 30 days": 30}


@dataclass
class QueueFilter:
    task: str = ""            # "" for any
    checks: str = ""          # one of CHECK_STATES, "" for any
    user_id: str = ""
    item_id: str = ""         # the source item
    age: str = "any"          # a key of AGES
    status: str = "pending"   # "" for any

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "QueueFilter":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def checks_summary(store: Store, generation_id: str) -> tuple[str, str]:
    """("passed" | "failed" | "not current", a one-line reason)."""
    state = check_state(store, generation_id)
    if not state.current:
        return "not current", state.problem()
    if state.failing:
        return "failed", f"blocking checks failed: {', '.join(state.failing)}"
    return "passed", "every check current, no blocking check failed"


def queue_rows(store: Store, flt: QueueFilter | None = None,
               now: datetime | None = None) -> list[dict[str, Any]]:
    """Generations with an output, newest first, with `checks` and `checks_reason`, filtered."""
    flt = flt or QueueFilter()
    if flt.age not in AGES:
        raise InputError(f"unknown age filter {flt.age!r}; expected one of {', '.join(AGES)}")
    since = None
    if AGES[flt.age] is not None:
        since = (now or datetime.now(timezone.utc)) - timedelta(days=AGES[flt.age])
    rows = []
    for g in list_generations(store, flt.user_id or None):
        if flt.task and g["task"] != flt.task:
            continue
        if flt.item_id and (g["item_id"] or "") != flt.item_id:
            continue
        if flt.status and g["status"] != flt.status:
            continue
        if since is not None and _instant(g["created_at"]) < since:
            continue
        state, reason = checks_summary(store, g["id"])
        if flt.checks and state != flt.checks:
            continue
        rows.append({**g, "checks": state, "checks_reason": reason})
    return rows


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def bulk_decide(store: Store, generation_ids: list[str], decision: str, reason: str,
                reviewer: str | None = None) -> dict[str, dict[str, str]]:
    """One decision with one reason for each generation; each goes through `record_decision`
    on its own, with no override. Returns {"recorded": {id: new status}, "refused": {id: why}}."""
    if decision not in ("approve", "reject"):
        raise InputError(f"bulk decisions are approve or reject, not {decision!r}")
    if not reason.strip():
        raise InputError("a bulk decision needs a reason (it goes on every decision)")
    recorded, refused = {}, {}
    for generation_id in generation_ids:
        try:
            recorded[generation_id] = record_decision(store, generation_id, decision, reason,
                                                      None, reviewer)
        except GenerecError as exc:
            refused[generation_id] = str(exc)
    return {"recorded": recorded, "refused": refused}


def why_this_result(store: Store, generation_id: str) -> dict[str, Any]:
    """What drove a generation: its parameters, and the user's liked items (the training split,
    which is what the User_Hist signal and the personalized thumbnail and clip condition on)."""
    from core.editor.generations import get_generation
    from core.editor.history import liked_items
    from core.store.corpus import user_history

    generation = get_generation(store, generation_id)
    if generation is None:
        raise InputError(f"unknown generation {generation_id!r}")
    drivers: list[dict] = []
    if generation["user_id"]:
        liked = set(liked_items(store, generation["user_id"]))
        seen: set[str] = set()
        for row in user_history(store, generation["user_id"]):
            if row["kind"] == "like" and row["item_id"] in liked and row["item_id"] not in seen:
                seen.add(row["item_id"])
                drivers.append(row)
    return {"generation": generation, "parameters": generation["params"], "drivers": drivers}


UNDOABLE = ("approved", "rejected")


def undo_decision(store: Store, generation_id: str, reviewer: str | None = None) -> str:
    """Take back the decision on a generation until it is exported: it goes back to pending (an
    approval no longer counts; approving again needs current checks again). The reviews table
    and the audit log keep both the decision and its undoing. Returns the new status."""
    from core.operator import operator_name
    from core.store.reviews import generation_status, insert_review

    status = generation_status(store, generation_id)
    if status is None:
        raise InputError(f"unknown generation {generation_id!r}")
    if status == "exported":
        raise InputError(f"generation {generation_id} was exported; a decision cannot be undone "
                         "once the item left this installation")
    if status not in UNDOABLE:
        raise InputError(f"generation {generation_id} is {status}: there is no decision to undo")
    reviewer = operator_name(reviewer)
    with store.transaction():
        insert_review(store, generation_id, "skip", f"undo: was {status}", None, reviewer, None,
                      "pending")
        store.audit("review.undo", generation_id, {"from": status, "status": "pending"},
                    actor=reviewer)
    return "pending"
