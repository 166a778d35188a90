"""The bundled visual detector: NudeNet's 320-pixel ONNX model, which ships inside the `nudenet`
wheel (nothing is downloaded), run with onnxruntime. It finds faces and exposed or covered body
parts; the safety check keeps the unsafe classes, the privacy check the faces. The model is
loaded once, on first use. Boxes are (x, y, w, h) in the pixels of the image given."""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from core.media import probe, read_image, sample_frames

# The model's classes, in the order of its outputs.
LABELS = (
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED",
    "BELLY_COVERED", "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE",
    "BELLY_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
FACE_LABELS = ("FACE_FEMALE", "FACE_MALE")
INPUT_SIDE = 320
MIN_SCORE = 0.2         # candidates kept before each check applies its own threshold
NMS_IOU = 0.45
BATCH = 8
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: tuple[int, int, int, int]     # x, y, w, h


def model_path() -> Path:
    spec = importlib.util.find_spec("nudenet")
    path = Path(spec.origin).parent / "320n.onnx" if spec and spec.origin else None
    if path is None or not path.is_file():
        raise RuntimeError("the visual detector's weights are missing: install the `nudenet` "
                           "package (pip install nudenet), which ships 320n.onnx")
    return path


@lru_cache(maxsize=1)
def _session():
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(model_path()), options,
                                        providers=["CPUExecutionProvider"])


def _to_input(image: np.ndarray) -> tuple[np.ndarray, float]:
    """Pad to a square at the bottom and right, resize to the model's side; return the CHW
    float tensor and the factor from model pixels back to image pixels."""
    h, w = image.shape[:2]
    side = max(h, w)
    square = np.zeros((side, side, 3), np.uint8)
    square[:h, :w] = image[..., :3]
    resized = cv2.resize(square, (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_AREA)
    return resized.transpose(2, 0, 1).astype(np.float32) / 255.0, side / INPUT_SIDE


def _decode(raw: np.ndarray, scale: float, width: int, height: int) -> list[Detection]:
    """One image's raw output (4 box rows then one row per class, by anchor) to detections."""
    class_scores = raw[4:]
    classes, scores = class_scores.argmax(0), class_scores.max(0)
    keep = np.flatnonzero(scores >= MIN_SCORE)
    if keep.size == 0:
        return []
    cx, cy, bw, bh = (raw[:4, keep] * scale)
    boxes = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], 1)
    chosen = cv2.dnn.NMSBoxesBatched(boxes.tolist(), scores[keep].tolist(),
                                     classes[keep].tolist(), MIN_SCORE, NMS_IOU)
    found = []
    for i in np.asarray(chosen, int).reshape(-1):
        x0, y0 = max(0.0, boxes[i, 0]), max(0.0, boxes[i, 1])
        x1 = min(float(width), boxes[i, 0] + boxes[i, 2])
        y1 = min(float(height), boxes[i, 1] + boxes[i, 3])
        if x1 > x0 and y1 > y0:
            found.append(Detection(LABELS[classes[keep[i]]], round(float(scores[keep[i]]), 3),
                                   (int(x0), int(y0), int(round(x1 - x0)), int(round(y1 - y0)))))
    return sorted(found, key=lambda d: -d.score)


def detect(images: list[np.ndarray]) -> list[list[Detection]]:
    """Detections for each RGB uint8 image, best first."""
    session = _session()
    out = []
    for start in range(0, len(images), BATCH):
        chunk = images[start:start + BATCH]
        inputs, scales = zip(*(_to_input(image) for image in chunk))
        [raw] = session.run(None, {session.get_inputs()[0].name: np.stack(inputs)})
        out += [_decode(r, s, im.shape[1], im.shape[0]) for r, s, im in zip(raw, scales, chunk)]
    return out


def _kept(detections: list[list[Detection]], labels, min_score: float) -> list[list[Detection]]:
    return [[d for d in found if d.label in labels and d.score >= min_score] for found in detections]


def faces(detections: list[list[Detection]], min_score: float) -> list[list[Detection]]:
    return _kept(detections, FACE_LABELS, min_score)


def unsafe(detections: list[list[Detection]], safety_rules: dict) -> list[list[Detection]]:
    """The unsafe-class detections at or above the rules' score. Where the rules give a
    `corroboration_min_score`, one counts only beside another detection of that score in the
    same frame (a face, a belly, a covered part...): the model's lone hits on cartoon animals
    and colour wheels go, at the price of missing a close-up that shows nothing else."""
    labels, corroboration = set(safety_rules["unsafe_labels"]), safety_rules.get("corroboration_min_score")
    kept = []
    for found in _kept(detections, labels, safety_rules["min_score"]):
        frame = detections[len(kept)]
        if corroboration is not None:
            found = [d for d in found if any(o is not d and o.score >= corroboration for o in frame)]
        kept.append(found)
    return kept


def output_frames(path: str, n: int, max_side: int = 1280) -> list[tuple[int, np.ndarray, float]]:
    """(frame index, RGB image, factor to the file's pixels) for n frames sampled uniformly
    from a video, or the single frame of an image file."""
    if Path(path).suffix.lower() in IMAGE_SUFFIXES:
        return [(0, read_image(path), 1.0)]
    info = probe(path)
    frames = sample_frames(path, min(n, max(1, info.frames)), max_side=max_side, info=info)
    return [(int(round(f.t_s * info.fps)), f.image, max(info.width, info.height) / max(f.image.shape[:2]))
            for f in frames]


def detect_output(path: str, n: int, context: dict) -> list[tuple[int, float, list[Detection]]]:
    """(frame index, factor, detections) for a generation's output file. Cached in the checks'
    shared context, so the safety and privacy checks decode and detect once."""
    cache = context.setdefault("visual_detections", {})
    key = (path, n)
    if key not in cache:
        frames = output_frames(path, n)
        found = detect([image for _, image, _ in frames])
        cache[key] = [(index, factor, dets) for (index, _, factor), dets in zip(frames, found)]
    return cache[key]


def box_evidence(per_frame: list[tuple[int, float, list[Detection]]],
                 kept: list[list[Detection]]) -> list[dict]:
    """The kept detections of each frame as boxes in the output file's pixels."""
    return [{"frame": index, "label": d.label, "score": d.score,
             "box": [int(round(v * factor)) for v in d.box]}
            for (index, factor, _), found in zip(per_frame, kept) for d in found]
