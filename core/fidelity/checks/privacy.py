"""Privacy: personal data (e-mail addresses, phone numbers, street addresses) in the title,
captions and instructions, reported with the text spans found."""
from __future__ import annotations

import re

from core.fidelity.base import Candidate, CheckResult

name, blocking, version = "privacy", True, "1"


def find_personal_data(text: str, patterns: dict[str, str]) -> list[dict]:
    found = []
    for kind, pattern in patterns.items():
        for match in re.finditer(pattern, text):
            found.append({"kind": kind, "text": match.group(0), "span": [match.start(), match.end()]})
    return found


def run(candidate: Candidate, context: dict) -> CheckResult:
    patterns = context["rules"]["privacy"]["patterns"]
    spans = []
    for where, text in candidate.texts.items():
        spans += [{**hit, "where": where} for hit in find_personal_data(text, patterns)]
    if spans:
        listed = ", ".join(f"{s['kind']} in {s['where']}" for s in spans[:5])
        return CheckResult("fail", 0.0, {"text": f"personal data found: {listed}", "spans": spans})
    return CheckResult("pass", 1.0, {"text": "no personal data in title, captions or instructions"})
