"""Human review of a generation: approve, reject or skip, with a reason and the reviewer's name,
in the audit log. The rules live here so that every caller (GUI, CLI, batch) obeys them:

- approval needs every registered check current: run, not errored, and not stale (run by an
  older version of the check, under another rules file, or on other bytes than the output now
  holds); re-running the checks is `generec check ID` or the Review panel's "Re-run checks";
- approval with a failed blocking check needs an override reason;
- approval records the output's sha256, and the export gate refuses any other bytes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.editor.generations import get_generation
from core.errors import InputError
from core.fidelity.base import output_sha256, rules_sha256
from core.operator import operator_name
from core.store import Store
from core.store.reviews import generation_status, insert_review, latest_checks

DECISIONS = {"approve": "approved", "reject": "rejected", "skip": None}

__all__ = ["CheckState", "ChecksNotCurrent", "OverrideRequired", "check_state", "latest_checks",
           "record_decision"]


class OverrideRequired(InputError):
    """Approval blocked by failing checks until an override reason is given."""

    def __init__(self, generation_id: str, failing: list[str]) -> None:
        self.failing = failing
        super().__init__(f"generation {generation_id}: blocking checks failed "
                         f"({', '.join(failing)}); approving needs an override reason")


class ChecksNotCurrent(InputError):
    """Approval refused: a check is missing, stale or errored. No override gets past this."""

    def __init__(self, generation_id: str, state: "CheckState") -> None:
        self.state = state
        super().__init__(f"generation {generation_id}: cannot approve, {state.problem()}; "
                         f"re-run the checks (generec check {generation_id}, or Re-run checks "
                         f"in the Review panel)")


@dataclass
class CheckState:
    """Where a generation's checks stand against the registered checks, the rules file and the
    bytes its output holds now."""
    generation_id: str
    output_sha256: str | None
    checks: list[dict] = field(default_factory=list)       # the latest result of each check
    missing: list[str] = field(default_factory=list)
    stale: dict[str, str] = field(default_factory=dict)    # name -> why
    errored: list[str] = field(default_factory=list)
    failing: list[str] = field(default_factory=list)       # blocking checks that failed

    @property
    def current(self) -> bool:
        return not (self.missing or self.stale or self.errored)

    def problem(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"checks never ran: {', '.join(self.missing)}")
        if self.stale:
            parts.append("checks out of date: " + ", ".join(f"{n} ({why})"
                                                           for n, why in self.stale.items()))
        if self.errored:
            parts.append(f"checks ended in an error: {', '.join(self.errored)}")
        return "; ".join(parts) or "checks current"


def check_state(store: Store, generation_id: str) -> CheckState:
    from core.fidelity.registry import CHECKS

    generation = get_generation(store, generation_id)
    if generation is None:
        raise InputError(f"unknown generation {generation_id!r}")
    state = CheckState(generation_id, output_sha256(generation), latest_checks(store, generation_id))
    latest = {c["name"]: c for c in state.checks}
    rules = rules_sha256()
    for check in CHECKS:
        found = latest.get(check.name)
        if found is None:
            state.missing.append(check.name)
        elif found["version"] != check.version:
            state.stale[check.name] = f"ran as version {found['version']}, now {check.version}"
        elif found["rules_sha256"] != rules:
            state.stale[check.name] = "the rules file changed since it ran"
        elif found["output_sha256"] != state.output_sha256:
            state.stale[check.name] = "the output file changed since it ran"
        elif found["status"] == "error":
            state.errored.append(check.name)
        elif check.blocking and found["status"] == "fail":
            state.failing.append(check.name)
    return state


def record_decision(store: Store, generation_id: str, decision: str, reason: str = "",
                    override_reason: str | None = None, reviewer: str | None = None) -> str:
    """Returns the generation's new status. `reviewer` defaults to the operator
    (core.operator): every decision names who made it."""
    if decision not in DECISIONS:
        raise InputError(f"unknown decision {decision!r}; expected approve, reject or skip")
    status = generation_status(store, generation_id)
    if status is None:
        raise InputError(f"unknown generation {generation_id!r}")
    if decision == "reject" and not reason.strip():
        raise InputError("rejecting needs a reason")
    reviewer = operator_name(reviewer)
    sha = None
    if decision == "approve":
        state = check_state(store, generation_id)
        if not state.current:
            raise ChecksNotCurrent(generation_id, state)
        if state.failing and not (override_reason or "").strip():
            raise OverrideRequired(generation_id, state.failing)
        sha = state.output_sha256
    new_status = DECISIONS[decision] or status
    with store.transaction():
        insert_review(store, generation_id, decision, reason, override_reason, reviewer, sha,
                      new_status)
        store.audit(f"review.{decision}", generation_id,
                    {"reason": reason, "override_reason": override_reason, "status": new_status,
                     "output_sha256": sha}, actor=reviewer)
    return new_status
