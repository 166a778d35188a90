import json

import pytest

from core.cli import main
from core.editor.generations import record_generation
from core.fidelity.base import CheckResult, run_checks
from core.fidelity.checks.privacy import find_personal_data
from core.fidelity.review import OverrideRequired, record_decision
from core.store import open_store
from media_factory import pattern_video


@pytest.fixture
def generation(tmp_path):
    source = pattern_video(tmp_path / "src.mp4", seconds=1.0)
    db = tmp_path / "c.db"
    with open_store(db) as store, store.transaction():
        store.conn.execute("INSERT INTO users (id, attributes) VALUES ('u1', '{\"age\": 15}')")
        store.conn.execute(
            "INSERT INTO items (id, title, path, status, licence, consent_derivatives, category, "
            "age_rating) VALUES ('src', 'Call 555-123-4567 or mail jo@example.com', ?, 'ok', "
            "'CC-BY-ND-4.0', 1, 'health', '18+')", (str(source),))
        gen = record_generation(store, "clip", "u1", "src", {"start_s": 0.0, "end_s": 1.0},
                                {}, [], str(source))
    return db, gen


def test_personal_data_is_found_with_spans():
    rules = json.loads((__import__("core.paths", fromlist=["RESOURCES"]).RESOURCES /
                        "fidelity_rules.json").read_text())["privacy"]["patterns"]
    found = find_personal_data("write to ana.perez@mail.org or call +34 612 345 678 today", rules)
    assert {f["kind"] for f in found} == {"email address", "phone number"}
    assert found[0]["span"][0] < found[0]["span"][1]
    assert find_personal_data("two red stars on a beach", rules) == []


def test_checks_flag_licence_age_personal_data_and_block_approval(generation):
    db, gen = generation
    with open_store(db) as store:
        results = {r["name"]: r for r in run_checks(store, gen)}
        assert results["privacy"]["status"] == "fail"
        assert "email address" in results["privacy"]["evidence"]["text"]
        legal = results["legal"]
        assert legal["status"] == "fail" and "does not allow derivative" in legal["evidence"]["text"]
        assert "rated 18+, but the user is 15" in legal["evidence"]["text"]
        assert results["authenticity"]["status"] == "pass" and results["authenticity"]["score"] > 0.95
        with pytest.raises(OverrideRequired, match="legal"):
            record_decision(store, gen, "approve", "ok")


def test_a_crashing_check_is_an_error_never_a_pass(generation):
    class Broken:
        name, blocking, version = "broken", True, "0"

        def run(self, candidate, context) -> CheckResult:
            raise RuntimeError("detector weights missing")

    db, gen = generation
    with open_store(db) as store:
        [result] = run_checks(store, gen, [Broken()])
    assert result["status"] == "error" and "detector weights missing" in result["evidence"]["text"]


def test_cli_check_json(generation, capsys):
    db, gen = generation
    assert main(["check", gen, "--db", str(db), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    from core.fidelity.registry import CHECKS

    assert [r["name"] for r in results] == [c.name for c in CHECKS]
    assert {"safety", "privacy", "authenticity", "legal"} <= {r["name"] for r in results}


@pytest.mark.parametrize("name", ["carphone_pristine.mp4", "b.mp4", "fire2.mp4"])
def test_watermark_survives_h264_on_real_clips(shared_media, tmp_path, name):
    """Small frames (176x144) are scaled up for embedding; rotation and audio are kept."""
    from core.fidelity.watermark import payload_for, read_payload, watermark_video
    from core.media import probe

    payload = payload_for("gen-0123456789abcdef")
    out = watermark_video(shared_media / name, tmp_path / "marked.mp4", payload)
    found = read_payload(out)
    assert found["payload"] == payload.hex() and found["agreement"] >= 0.9
    source, marked = probe(shared_media / name), probe(out)
    assert min(marked.width, marked.height) >= 256 and marked.frames == source.frames
    assert (marked.width > marked.height) == (source.width > source.height)
    assert marked.has_audio == source.has_audio


def test_watermark_reads_back_for_many_payloads_on_saturated_content(tmp_path):
    """ffmpeg's test pattern (saturated bars) is the hardest content we have for dwtDctSvd."""
    import numpy as np

    from core.fidelity.watermark import read_payload, watermark_video
    from media_factory import pattern_video

    source = pattern_video(tmp_path / "bars.mp4", seconds=0.5)
    rng = np.random.default_rng(3)
    for k in range(6):
        payload = rng.integers(0, 256, 6, dtype=np.uint8).tobytes()
        marked = watermark_video(source, tmp_path / f"m{k}.mp4", payload)
        assert read_payload(marked)["payload"] == payload.hex()
