"""Legal compliance: the source's licence and the creator's consent allow a derivative;
category rules from the rules file; the item's age rating against the user's age."""
from __future__ import annotations

from core.fidelity.base import Candidate, CheckResult

name, blocking, version = "legal", True, "1"


def run(candidate: Candidate, context: dict) -> CheckResult:
    rules = context["rules"]["legal"]
    item = candidate.item
    if item is None:
        return CheckResult("warn", None, {"text": "no source item: nothing to check the licence of"})
    problems, notes = [], []
    if item["licence"] not in rules["licences_allowing_derivatives"]:
        problems.append(f"licence {item['licence']} does not allow derivative works")
    if not item["consent_derivatives"]:
        problems.append("the creator has not consented to AI derivatives")
    category = rules["category_rules"].get(item.get("category") or "")
    if category:
        text = " ".join(candidate.texts.values()).lower()
        if not any(word in text for word in category["needs_caption_words"]):
            notes.append(category["message"])
    age = (candidate.user or {}).get("attributes", {}).get("age")
    needed = rules["age_ratings"].get(item.get("age_rating") or "all", 0)
    if age is not None and age < needed:
        problems.append(f"rated {item['age_rating']}, but the user is {age}")
    status = "fail" if problems else ("warn" if notes else "pass")
    return CheckResult(status, 0.0 if problems else 1.0,
                       {"text": "; ".join(problems + notes) or
                        f"licence {item['licence']}, consent given, rating {item.get('age_rating')}"})
