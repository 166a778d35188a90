"""Safety: unsafe content (exposed genitals, breasts, buttocks) found by the bundled detector on
sampled frames of the output, harmful requests in the user's instructions, and shilling signals
in the interactions that guided the generation. The worst of the three parts wins."""
from __future__ import annotations

import importlib

from core.fidelity.base import STATUSES, Candidate, CheckResult
from core.fidelity.detector import box_evidence, detect_output, unsafe

name, blocking, version = "safety", True, "1"


def visual(candidate: Candidate, context: dict) -> dict:
    rules = context["rules"]["safety"]
    output = candidate.generation["output_path"]
    if not output:
        return {"status": "warn", "score": None, "text": "no output file to look at"}
    per_frame = detect_output(output, rules["frames"], context)
    boxes = box_evidence(per_frame, unsafe([found for _, _, found in per_frame], rules))
    frames = sorted({b["frame"] for b in boxes})
    if not boxes:
        return {"status": "pass", "score": 1.0, "frames": [], "boxes": [],
                "text": f"no unsafe content in {len(per_frame)} sampled frames"}
    labels = ", ".join(sorted({b["label"].lower().replace("_", " ") for b in boxes}))
    return {"status": "fail", "score": round(1.0 - max(b["score"] for b in boxes), 3),
            "frames": frames, "boxes": boxes,
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
                        "boxes": visual_part.get("boxes", []), **parts})
