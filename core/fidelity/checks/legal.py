"""Legal compliance: the source's licence and the creator's consent allow a derivative;
category rules from the rules file; the item's age rating against the user's age. What the
generator made from scratch (a created video, a generated thumbnail) is checked for
memorisation: a near-copy of another corpus item is that item's derivative and fails
(core.fidelity.memorisation)."""
from __future__ import annotations

from core.fidelity.base import Candidate, CheckResult
from core.fidelity.checks.authenticity import MADE_FROM_SCRATCH

name, blocking, version = "legal", True, "2"


def run(candidate: Candidate, context: dict) -> CheckResult:
    rules = context["rules"]["legal"]
    problems, notes, evidence = [], [], {}
    if candidate.generation["task"] in MADE_FROM_SCRATCH:
        problems += _near_copies(candidate, context["store"], rules["near_copy"], evidence)
    item = candidate.item
    if item is None and "nearest" not in evidence:
        notes.append("no source item: nothing to check the licence of")
    elif item is not None:
        problems += _licence_problems(item, rules)
        category = rules["category_rules"].get(item.get("category") or "")
        if category:
            text = " ".join(candidate.texts.values()).lower()
            if not any(word in text for word in category["needs_caption_words"]):
                notes.append(category["message"])
        age = (candidate.user or {}).get("attributes", {}).get("age")
        needed = rules["age_ratings"].get(item.get("age_rating") or "all", 0)
        if age is not None and age < needed:
            problems.append(f"rated {item['age_rating']}, but the user is {age}")
    status = "fail" if problems else "warn" if notes else "pass"
    summary = (f"licence {item['licence']}, consent given, rating {item.get('age_rating')}"
               if item else "")
    if evidence.get("nearest"):
        top = evidence["nearest"][0]
        summary = "; ".join(p for p in (summary, f"not a copy: nearest item {top['item_id']} "
                                        f"(pixel similarity {top['ssim']:.2f})") if p)
    evidence["text"] = "; ".join(problems + notes) or summary
    return CheckResult(status, 0.0 if problems else 1.0, evidence)


def _licence_problems(item: dict, rules: dict) -> list[str]:
    problems = []
    if item["licence"] not in rules["licences_allowing_derivatives"]:
        problems.append(f"licence {item['licence']} does not allow derivative works")
    if not item["consent_derivatives"]:
        problems.append("the creator has not consented to AI derivatives")
    return problems


def _near_copies(candidate: Candidate, store, cfg: dict, evidence: dict) -> list[str]:
    """List the nearest corpus items; a near-copy of one (other than the acknowledged source)
    is a problem."""
    from core.fidelity.memorisation import nearest_items

    generation = candidate.generation
    encoder = next((m["id"] for m in generation["provenance"].get("models", [])
                    if m.get("role") == "encoder"), None)
    if not generation["output_path"] or encoder is None:
        return ["memorisation not checked: the generation has no output or no encoder in its "
                "provenance"]
    found = nearest_items(store, encoder, generation["output_path"], {generation["id"]},
                          cfg["neighbours"])
    evidence["nearest"] = [n.as_dict() for n in found]
    source = generation.get("item_id")
    return [f"near-copy of item {n.item_id} (pixel similarity {n.ssim:.2f}, at or above "
            f"{cfg['fail_at_ssim']}): it is that item's derivative" for n in found
            if n.ssim >= cfg["fail_at_ssim"] and n.item_id != source]
