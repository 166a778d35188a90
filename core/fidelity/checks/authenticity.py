"""Authenticity: how far the output departs from its source (SSIM and PSNR per sampled frame,
for video outputs), and captions with factual claims marked unverified for a human."""
from __future__ import annotations

import re

import cv2
import numpy as np

from core.fidelity.base import Candidate, CheckResult
from core.media import probe, sample_frames

name, blocking, version = "authenticity", False, "1"
FRAMES = 8


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity of two greyscale images (Gaussian window, the usual constants)."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5)  # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a ** 2, blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    value = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(value.mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255 ** 2 / mse)


def _compare(source: str, output: str, start_s: float) -> dict:
    out_info = probe(output)
    out_frames = sample_frames(output, min(FRAMES, out_info.frames), max_side=256)
    src_info = probe(source)
    src_all = sample_frames(source, src_info.frames if src_info.frames <= 600 else 600, max_side=256)
    ssims, psnrs = [], []
    for frame in out_frames:
        target = start_s + frame.t_s
        src = min(src_all, key=lambda f: abs(f.t_s - target)).image
        a = cv2.cvtColor(cv2.resize(src, (frame.image.shape[1], frame.image.shape[0])), cv2.COLOR_RGB2GRAY)
        b = cv2.cvtColor(frame.image, cv2.COLOR_RGB2GRAY)
        ssims.append(ssim(a, b))
        psnrs.append(psnr(a, b))
    return {"ssim": [round(s, 3) for s in ssims], "psnr": [round(p, 2) for p in psnrs],
            "frames": [round(f.t_s, 2) for f in out_frames]}


def run(candidate: Candidate, context: dict) -> CheckResult:
    rules = context["rules"]["authenticity"]
    evidence: dict = {}
    notes = []
    output, item = candidate.generation["output_path"], candidate.item
    score = None
    if output and output.endswith(".mp4") and item:
        start = candidate.generation["params"].get("start_s", 0.0)
        evidence.update(_compare(item["path"], output, start))
        score = float(np.mean(evidence["ssim"]))
        if score < rules["warn_below_ssim"]:
            notes.append(f"departs strongly from its source (mean SSIM {score:.2f})")
    claims = [m.group(0) for text in candidate.texts.values() for p in rules["claim_patterns"]
              for m in re.finditer(p, text, re.IGNORECASE)]
    if claims:
        notes.append(f"factual claims to verify: {', '.join(sorted(set(claims))[:5])}")
        evidence["claims"] = claims
    evidence["text"] = "; ".join(notes) or (
        f"mean SSIM {score:.2f} to the source" if score is not None else "nothing to compare")
    return CheckResult("warn" if notes else "pass", score, evidence)
