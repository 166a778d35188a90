"""One protocol for every generation task, whoever asks (GUI, CLI, batch, the instructor's flow):
screen what steers it, make it, then run every registered check and record the results, all in
one job. A harmful request never reaches a model; a generation leaves the job checked."""
from __future__ import annotations

from typing import Any, Callable

from core.errors import InputError
from core.progress import Progress
from core.store import Store

JobFunction = Callable[[Store, dict, Progress], Any]


class RequestRefused(InputError):
    """The instruction, prompt or caption of a generation asks for something harmful."""


def screen_request(store: Store, kind: str, params: dict) -> None:
    """Screen the texts that would steer the generation; refuse (and say so in the audit log)
    when any of them fails the safety screen."""
    from core.fidelity.base import load_rules, steering_texts
    from core.fidelity.screening import screen_instruction

    rules = load_rules()
    refused = {}
    for where, text in steering_texts(params).items():
        screened = screen_instruction(text, rules)
        if screened["status"] == "fail":
            refused[where] = screened
    if not refused:
        return
    reasons = "; ".join(f"{where}: {s['text']} ({', '.join(repr(x['text']) for x in s['spans'])})"
                        for where, s in refused.items())
    store.audit("generation.refused", params.get("item_id"),
                {"kind": kind, "user": params.get("user_id"), "reasons": reasons,
                 "counts": {where: s["counts"] for where, s in refused.items()}})
    raise RequestRefused(f"{kind} refused before anything was generated: {reasons}")


def check_summary(results: list[dict]) -> list[dict]:
    """What a caller sees of each check: name, status, blocking, and the evidence's one line."""
    return [{"name": r["name"], "status": r["status"], "blocking": r["blocking"],
             "text": r["evidence"].get("text", "")} for r in results]


def made_and_checked(kind: str, make: JobFunction) -> JobFunction:
    """Wrap a task's job function: screen first, check every generation it made after."""
    def run(store: Store, params: dict, progress: Progress):
        from core.fidelity.base import run_checks

        screen_request(store, kind, params)
        result = make(store, params, progress)
        progress.check_cancelled()
        made = result if isinstance(result, list) else [result]
        for done, generation in enumerate(made):
            progress.update(done, len(made), f"checking {generation['generation_id']}")
            generation["checks"] = check_summary(run_checks(store, generation["generation_id"]))
        progress.update(len(made), len(made), "made and checked")
        return result
    return run
