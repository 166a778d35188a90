"""Safety: unsafe content (exposed genitals, breasts, buttocks) found by the bundled detector on
sampled frames of the output, harmful requests in the user's instructions, and shilling signals
in the interactions that guided the generation. The worst of the three parts wins."""
from __future__ import annotations

import importlib

from core.fidelity.base import STATUSES, Candidate, CheckResult
from core.fidelity.detector import NSFW_LABEL, box_evidence, describe, detect_output, unsafe

# Version 2: the visual part is Yahoo's open_nsfw classifier (BSD-2-Clause), with NudeNet
# (AGPL-3.0, an optional extra) as a second opinion only where it is installed.
name, blocking, version = "safety", True, "2"


def visual(candidate: Candidate, context: dict) -> dict:
    rules = context["rules"]["safety"]
    output = candidate.generation["output_path"]
    if not output:
        return {"status": "warn", "score": None, "text": "no output file to look at"}
    per_frame = detect_output(output, rules["frames"], context)
    boxes = box_evidence(per_frame, unsafe([found for _, _, found in per_frame], rules))
    frames = sorted({b["frame"] for b in boxes})
    # which detectors looked, and the classifier's highest score, whatever the verdict
    ran = [d for d in context["visual_detectors"] if d != "retinaface"]
    top = max((d.score for _, _, found in per_frame for d in found if d.label == NSFW_LABEL), default=None)
    seen = {"detectors": describe(tuple(ran)), "nsfw_max_score": top}
    by = " and ".join(ran)
    if not boxes:
        return {"status": "pass", "score": 1.0, "frames": [], "boxes": [], **seen,
                "text": f"no unsafe content in {len(per_frame)} sampled frames ({by})"}
    labels = ", ".join(sorted({"not safe for work (open_nsfw)" if b["label"] == NSFW_LABEL else
                               b["label"].lower().replace("_", " ") for b in boxes}))
    return {"status": "fail", "score": round(1.0 - max(b["score"] for b in boxes), 3),
            "frames": frames, "boxes": boxes, **seen,
            "text": f"unsafe content ({labels}) in {len(frames)} of {len(per_frame)} sampled frames"}


def _optional_part(module: str, function: str, *args) -> dict:
    """A part written in its own module; its absence is a warning, its crash an error."""
    try:
        part = getattr(importlib.import_module(f"core.fidelity.{module}"), function)
    except ModuleNotFoundError as exc:
        if exc.name != f"core.fidelity.{module}":
            raise
        return {"status": "warn", "score": None, "text": f"{module} is not available"}
    try:
        return part(*args)
    except Exception as exc:  # noqa: BLE001 - one part's crash must not hide the others
        return {"status": "error", "score": None, "text": f"{type(exc).__name__}: {exc}"}


def run(candidate: Candidate, context: dict) -> CheckResult:
    rules, store = context["rules"], context["store"]
    parts = {
        "visual": visual(candidate, context),
        "instructions": _optional_part("screening", "screen_instruction",
                                       candidate.texts.get("instructions", ""), rules),
        "shilling": _optional_part("shilling", "shilling_signal", store, candidate.generation, rules),
    }
    status = max((p["status"] for p in parts.values()), key=STATUSES.index)
    scores = [p["score"] for p in parts.values() if p.get("score") is not None]
    flagged = [f"{where}: {p['text']}" for where, p in parts.items() if p["status"] != "pass"]
    text = "; ".join(flagged) or "no unsafe content, harmful request or shilling signal"
    visual_part = parts["visual"]
    return CheckResult(status, min(scores) if scores else None,
                       {"text": text, "frames": visual_part.get("frames", []),
                        "boxes": visual_part.get("boxes", []),
                        "detectors": visual_part.get("detectors", []), **parts})
