"""What the review cards need to show a check's evidence: the frame a box was drawn on (frame i
of the generation's output video, or its image) and the text around each matched span."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.store import Store

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def frame_rgb(path: str | os.PathLike, index: int) -> np.ndarray:
    """Frame `index` (0-based, in presentation order, upright) of a video as RGB uint8; an
    image file is its own frame 0."""
    from core.media import iter_frames, read_image   # off the GUI's start-up path

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        if index != 0:
            raise InputError(f"{path}: an image has only frame 0, not {index}")
        return read_image(path)
    count = 0
    for count, frame in enumerate(iter_frames(path)):
        if count == index:
            return frame.image
    raise InputError(f"{path}: has no frame {index} (it has {count + 1})")


def frames_with_boxes(evidence: dict) -> dict[int, list[dict]]:
    """The evidence's boxes grouped by frame index, frames in order."""
    grouped: dict[int, list[dict]] = {}
    for box in evidence.get("boxes") or []:
        grouped.setdefault(int(box.get("frame", 0)), []).append(box)
    return dict(sorted(grouped.items()))


def text_excerpts(spans: list[dict], texts: dict[str, str], margin: int = 40) -> list[dict]:
    """For each span {"text", "span": [a, b], "where"}: where, and the text before, of and after
    the match (at most `margin` characters each side). Where the source text is not at hand or
    has changed since the check ran, the match alone."""
    excerpts = []
    for span in spans:
        where, match = span.get("where", ""), str(span.get("text", ""))
        source = texts.get(where, "")
        start, end = (span.get("span") or [0, 0])[:2]
        if source[start:end] != match:
            start = source.find(match) if match else -1
            end = start + len(match)
        if start < 0:
            excerpts.append({"where": where, "before": "", "match": match, "after": ""})
            continue
        before = source[max(0, start - margin):start]
        after = source[end:end + margin]
        excerpts.append({"where": where, "match": match,
                         "before": ("…" if start > margin else "") + before,
                         "after": after + ("…" if end + margin < len(source) else "")})
    return excerpts


def evidence_sources(store: Store, generation_id: str) -> dict:
    """The output file boxes refer to and the texts spans refer to; empty for no generation."""
    from core.fidelity.base import candidate_for

    try:
        candidate = candidate_for(store, generation_id)
    except InputError:
        return {"output_path": None, "texts": {}}
    return {"output_path": candidate.generation["output_path"], "texts": candidate.texts}
