"""Bias and fairness: exposure in the user's top-K once AI items are ranked in, and parity of
outcomes across user groups for a batch of generations.

Exposure. The pool is the catalogue (items with status ok) minus what the user has already
interacted with, ranked by the corpus browser's predicted score (MMGCN when one is trained for
the generation's encoder, else content similarity to the liked thumbnails; AI items that the
recommender never saw take its content path). Position r of the top-K gets attention
1/log2(r+1). For a grouping of items (source: ai / human; creator group: `creators.
creator_group`, "unknown" where unset), a group's exposure is its share of the top-K's
attention and its exposure ratio is that over its share of the pool (1 = exposed as often as
its size warrants). Warns when AI items take more than `warn_ai_share_above` of the top-K slots,
or a creator group whose pool share entitles it to at least one slot has an exposure ratio
below `warn_group_exposure_ratio_below`. Score: the lowest such ratio, capped at 1.

Parity (`outcome_parity`): per user group (an attribute of `users.attributes`, or `age_band`
derived from `age`), the rate of approved generations (approved or exported) and of passed
ones (no blocking check failed or errored in its latest results; unchecked ones are left out
of that rate), and the largest gap between groups (demographic parity difference).
"""
from __future__ import annotations

import math

from core.errors import InputError
from core.fidelity.base import Candidate, CheckResult, load_rules
from core.store import Store
from core.store.corpus import interacted_item_ids, items_with_video
from core.store.embeddings import latest_model
from core.store.fidelity import generation_outcome, has_user_vector, item_groupings
from core.store.reviews import latest_checks

name, blocking, version = "fairness", False, "1"


def exposure(ranking: list[str], groups: dict[str, str], k: int) -> dict[str, dict]:
    """Per group of the ranked pool: pool share, top-K slots and share, position-discounted
    exposure share and exposure ratio (exposure share / pool share)."""
    top = ranking[:k]
    weights = [1.0 / math.log2(rank + 1) for rank in range(1, len(top) + 1)]
    total = sum(weights) or 1.0
    out = {}
    for group in sorted({groups[i] for i in ranking}):
        pool_share = sum(groups[i] == group for i in ranking) / len(ranking)
        slots = sum(groups[i] == group for i in top)
        share = sum(w for i, w in zip(top, weights) if groups[i] == group) / total
        out[group] = {"pool_share": round(pool_share, 4), "top_k": slots,
                      "top_k_share": round(slots / max(len(top), 1), 4),
                      "exposure": round(share, 4), "exposure_ratio": round(share / pool_share, 4)}
    return out


def _ranker(store: Store, encoder_id: str, user_id: str) -> str:
    from core.recommender.service import SPEC_PREFIX

    row = latest_model(store, [SPEC_PREFIX + encoder_id])
    if row and has_user_vector(store, row[0], user_id):
        return row[0]
    return "content similarity"


def ranked_pool(store: Store, user_id: str, encoder: str | None) -> tuple[list[str], str]:
    """The user's candidate items, best first, and what ranked them."""
    from core.editor.service import resolve_model_id
    from core.recommender.service import predicted_scores

    scores = predicted_scores(store, encoder, user_id)
    seen = interacted_item_ids(store, user_id)
    ok = set(items_with_video(store))
    pool = sorted((i for i in scores if i in ok and i not in seen), key=lambda i: (-scores[i], i))
    return pool, _ranker(store, resolve_model_id(store, encoder), user_id)


def _encoder_spec(generation: dict) -> str | None:
    models = generation.get("provenance", {}).get("models", [])
    return next((m.get("spec") for m in models if m.get("role") == "encoder"), None)


def run(candidate: Candidate, context: dict) -> CheckResult:
    cfg, store = context["rules"]["fairness"], context["store"]
    user_id = candidate.generation.get("user_id")
    if not user_id:
        return CheckResult("pass", None, {"text": "no user: nothing is recommended"})
    try:
        pool, ranker = ranked_pool(store, user_id, _encoder_spec(candidate.generation))
    except InputError as exc:
        return CheckResult("warn", None, {"text": f"exposure not measured: {exc}"})
    if not pool:
        return CheckResult("warn", None, {"text": "exposure not measured: the user has seen every item"})
    k = cfg["top_k"]
    rows = item_groupings(store)
    by_source = exposure(pool, {r[0]: r[1] for r in rows}, k)
    by_creator = exposure(pool, {r[0]: r[2] or "unknown" for r in rows}, k)
    ai = by_source.get("ai", {"pool_share": 0.0, "top_k_share": 0.0, "exposure_ratio": None})
    judged = {g: s for g, s in by_creator.items() if s["pool_share"] * min(k, len(pool)) >= 1}
    low = sorted(g for g, s in judged.items() if s["exposure_ratio"] < cfg["warn_group_exposure_ratio_below"])
    problems = []
    if ai["top_k_share"] > cfg["warn_ai_share_above"]:
        problems.append(f"AI items take {ai['top_k_share']:.0%} of the top {k} "
                        f"(pool share {ai['pool_share']:.0%})")
    problems += [f"creator group {g!r} under-exposed (ratio {judged[g]['exposure_ratio']:.2f})" for g in low]
    score = min([1.0] + [s["exposure_ratio"] for s in judged.values()])
    evidence = {"ranker": ranker, "k": k, "pool": len(pool), "top_k": pool[:k],
                "ai_share_top_k": ai["top_k_share"], "ai_share_pool": ai["pool_share"],
                "ai_exposure_ratio": ai["exposure_ratio"], "by_source": by_source,
                "by_creator_group": by_creator}
    if problems:
        return CheckResult("warn", score, {**evidence, "text": "; ".join(problems)})
    ratios = ", ".join(f"{g} {s['exposure_ratio']:.2f}" for g, s in by_creator.items())
    return CheckResult("pass", score, {**evidence, "text": f"top {k} by {ranker}: AI items "
                                       f"{ai['top_k_share']:.0%} (pool {ai['pool_share']:.0%}); "
                                       f"creator-group exposure ratios {ratios}"})


def _user_group(attributes: dict, attribute: str, bands: list[int]) -> str:
    if attribute == "age_band":
        age = attributes.get("age")
        if not isinstance(age, (int, float)):
            return "unknown"
        edges = [0, *bands]
        for low, high in zip(edges, bands):
            if age < high:
                return f"{low}-{high - 1}" if low else f"<{high}"
        return f"{bands[-1]}+"
    value = attributes.get(attribute)
    return "unknown" if value is None else str(value)


def _passed(store: Store, generation_id: str) -> bool | None:
    latest = latest_checks(store, generation_id)
    if not latest:
        return None
    return all(r["status"] not in ("fail", "error") for r in latest if r["blocking"] == 1)


def _gap(rates: list[float]) -> float | None:
    return round(max(rates) - min(rates), 4) if len(rates) >= 2 else None


def outcome_parity(store: Store, generation_ids: list[str], rules: dict | None = None) -> dict:
    """Approved and passed rates per user group for these generations, and the parity gaps."""
    cfg = (rules or load_rules())["fairness"]
    outcomes = []
    for generation_id in generation_ids:
        outcome = generation_outcome(store, generation_id)
        if outcome is None:
            raise InputError(f"unknown generation {generation_id!r}")
        status, attributes = outcome
        outcomes.append((attributes, status in ("approved", "exported"), _passed(store, generation_id)))
    report = {"generations": len(outcomes), "attributes": {}, "flags": []}
    for attribute in cfg["parity_attributes"]:
        groups: dict[str, dict] = {}
        for attributes, approved, passed in outcomes:
            g = groups.setdefault(_user_group(attributes, attribute, cfg["age_bands"]),
                                  {"generations": 0, "approved": 0, "checked": 0, "passed": 0})
            g["generations"] += 1
            g["approved"] += approved
            g["checked"] += passed is not None
            g["passed"] += bool(passed)
        for g in groups.values():
            g["approved_rate"] = round(g["approved"] / g["generations"], 4)
            g["passed_rate"] = round(g["passed"] / g["checked"], 4) if g["checked"] else None
        entry = {"groups": dict(sorted(groups.items())),
                 "approved_gap": _gap([g["approved_rate"] for g in groups.values()]),
                 "passed_gap": _gap([g["passed_rate"] for g in groups.values() if g["checked"]])}
        report["attributes"][attribute] = entry
        for outcome in ("approved_gap", "passed_gap"):
            if entry[outcome] is not None and entry[outcome] > cfg["warn_parity_gap_above"]:
                report["flags"].append(f"{outcome.split('_')[0]} rate differs by {entry[outcome]:.0%} "
                                       f"across {attribute}")
    return report
