"""Instruction screening: harmful requests in what a user asked the editor to do.

Each category in `rules["safety"]["instruction_categories"]` lists case-insensitive regular
expressions (words and phrases) and whether it blocks. The statistic is the number of matches
per category: any match in a blocking category fails, matches only in other categories warn.
A match is ignored when one of `rules["safety"]["negations"]` is among the few words before it
in the same clause ("no gore", "without any violence or gore"), a cheap guard that does not
parse the sentence. Overlapping matches of one category count once.
"""
from __future__ import annotations

import re

NEGATION_WINDOW_WORDS = 5
CLAUSE_BREAK = re.compile(r"[.!?;,:]|\bbut\b|\bthen\b")


def _negated(text: str, start: int, negations: set[str]) -> bool:
    clause = CLAUSE_BREAK.split(text[:start].lower())[-1]
    return any(word in negations for word in re.findall(r"[a-z']+", clause)[-NEGATION_WINDOW_WORDS:])


def screen_instruction(text: str, rules: dict) -> dict:
    """{"status", "score", "text", "spans", "counts"}: score is the share of categories clean."""
    safety = rules["safety"]
    categories = safety["instruction_categories"]
    negations = {w.lower() for w in safety.get("negations", [])}
    spans, counts = [], {}
    for category, spec in categories.items():
        for pattern in spec["patterns"]:
            for match in re.finditer(pattern, text, re.IGNORECASE):
                taken = any(s["category"] == category and s["span"][0] < match.end()
                            and match.start() < s["span"][1] for s in spans)
                if taken or _negated(text, match.start(), negations):
                    continue
                spans.append({"text": match.group(0), "span": [match.start(), match.end()],
                              "category": category})
                counts[category] = counts.get(category, 0) + 1
    spans.sort(key=lambda s: s["span"][0])
    blocking = sorted(c for c in counts if categories[c].get("blocking", True))
    score = 1.0 - len(counts) / max(len(categories), 1)
    if not counts:
        return {"status": "pass", "score": score, "text": "no harmful request found",
                "spans": [], "counts": {}}
    listed = ", ".join(f"{c} ({n})" for c, n in sorted(counts.items()))
    status = "fail" if blocking else "warn"
    return {"status": status, "score": score,
            "text": f"harmful request {'blocked' if blocking else 'to review'}: {listed}",
            "spans": spans, "counts": counts}
