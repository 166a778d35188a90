"""Identifiability after the platform (issue 20): a clip exported through the gate is
re-encoded, scaled and cropped with ffmpeg, and the generation is still named; `generec verify`
reports confidence, says whose generation a payload would be without a corpus, resolves it with
one, and takes a folder."""
import json

import cv2
import numpy as np
import pytest

from core.cli import main
from core.editor.generations import record_generation
from core.export.gate import export_generation
from core.export.verify import verify_file
from core.fidelity.base import run_checks
from core.fidelity.review import record_decision
from core.fidelity.watermark import FORMAT, embed, payload_for
from core.media import probe, read_image, save_image
from core.store import open_store
from media_factory import ffmpeg

GENERATION = "gen-5d1e6b3a90c2f417"     # fixed, so that the mark (and the test) is the same each run
X264 = ["-c:v", "libx264", "-preset", "veryfast"]
PLATFORM = {
    "crf28": [*X264, "-crf", "28"],
    "half": ["-vf", "scale=2*trunc(iw/4):2*trunc(ih/4)", *X264, "-crf", "23"],
    "crop9x16": ["-vf", "crop=2*trunc(ih*9/32):ih", *X264, "-crf", "23"],
}


def test_exported_clip_survives_crf28_half_size_and_9_16_crop(shared_media, tmp_path):
    source = tmp_path / "src.mp4"        # 2 s of real footage, 480x270 (16:9)
    ffmpeg("-i", str(shared_media / "b.mp4"), "-t", "2", *X264, "-crf", "18",
           "-pix_fmt", "yuv420p", str(source))
    db = tmp_path / "c.db"
    with open_store(db) as store:
        with store.transaction():
            store.conn.execute("INSERT INTO users (id) VALUES ('u1')")
            store.conn.execute("INSERT INTO items (id, title, path, status, licence, "
                               "consent_derivatives) VALUES ('src', 'Source', ?, 'ok', "
                               "'CC-BY-4.0', 1)", (str(source),))
            gen = record_generation(store, "clip", "u1", "src", {"start_s": 0, "end_s": 2}, {},
                                    [{"role": "encoder", "id": "m"}], str(source),
                                    generation_id=GENERATION)
        run_checks(store, gen)
        record_decision(store, gen, "approve", "fine",
                        override_reason="this test is about the watermark, not the checks")
        exported = export_generation(store, gen, tmp_path / "out")["file"]
        platform = tmp_path / "platform"
        platform.mkdir()
        sizes = {}
        for name, options in PLATFORM.items():
            attacked = platform / f"{name}.mp4"
            ffmpeg("-i", exported, "-an", *options, "-pix_fmt", "yuv420p", str(attacked))
            info = probe(attacked)
            sizes[name] = (info.width, info.height)
            report = verify_file(store, attacked)
            assert report["generation_id"] == gen, (name, report["watermark"])
            assert report["watermark"]["format"] == FORMAT
            assert report["watermark"]["bits_corrected"] is not None
    assert sizes == {"crf28": (480, 270), "half": (240, 134), "crop9x16": (150, 270)}


def test_verify_reports_confidence_and_takes_a_folder(tmp_path, capsys):
    """Marked images (one at half size), an unmarked one and a file that is not media: without
    --db the report names the generation the payload would be; with --db it resolves it."""
    db = tmp_path / "c.db"
    with open_store(db) as store, store.transaction():
        gen = record_generation(store, "thumbnail", None, None, {}, {}, [], None)
    frame = cv2.GaussianBlur(np.random.default_rng(5).integers(0, 256, (288, 512, 3), np.uint8),
                             (0, 0), 4)
    folder = tmp_path / "found"
    marked = save_image(folder / "a_marked.png", embed(frame, payload_for(gen)))
    half = read_image(marked)
    save_image(folder / "b_half.png", cv2.resize(half, (256, 144), interpolation=cv2.INTER_AREA))
    save_image(folder / "c_unmarked.png", frame)
    (folder / "notes.txt").write_text("not media")

    assert main(["verify", str(folder)]) == 0
    text = capsys.readouterr().out
    assert text.count(f"generation {gen[:16]}...") == 2 and "--db CORPUS resolves it" in text
    assert "c_unmarked.png: no watermark found" in text and "notes.txt" not in text
    assert "Reed-Solomon corrected" in text and "3 files: 2 watermarked, 1 without" in text

    assert main(["verify", str(folder), "--db", str(db), "--json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert [r["generation_id"] for r in reports] == [gen, gen, None]
    assert reports[0]["watermark"]["bits_corrected"] == 0
    assert "CRC-16 matches" in reports[1]["confidence"]
    assert reports[2]["watermark"]["found"] is False and reports[2]["would_be_generation"] is None

    assert main(["verify", str(marked), "--db", str(db)]) == 0
    assert f"AI-generated, generation {gen}" in capsys.readouterr().out
