"""Adversarial tests of the fidelity gate (issue 15): each is a way past "nothing AI-made leaves
unless it passed the checks and a human approved it" that the gate once left open."""
import json
import shutil
import subprocess

import pytest

from core.cli import main
from core.editor.generations import record_generation
from core.fidelity import base
from core.fidelity.base import run_checks
from core.fidelity.review import ChecksNotCurrent, check_state, record_decision
from core.store import open_store
from media_factory import pattern_video
from test_screening_shilling import copy_db


@pytest.fixture
def unchecked(tmp_path):
    """A consenting, permissively licensed item and a clip generation nobody has checked."""
    db = tmp_path / "c.db"
    with open_store(db) as store, store.transaction():
        store.conn.execute("INSERT INTO users (id) VALUES ('u1')")
        store.conn.execute("INSERT INTO items (id, title, path, status, licence, consent_derivatives) "
                           "VALUES ('src', 'Source', ?, 'ok', 'CC-BY-4.0', 1)",
                           (str(pattern_video(tmp_path / "src.mp4", seconds=1.0)),))
        gen = record_generation(store, "clip", "u1", "src", {"start_s": 0, "end_s": 1}, {},
                                [{"role": "encoder", "id": "m"}],
                                str(pattern_video(tmp_path / "gen.mp4", seconds=1.0)))
    return db, gen


def test_approval_without_checks_is_refused(unchecked, capsys):
    db, gen = unchecked
    assert main(["review", gen, "--db", str(db), "--approve", "--reason", "looks fine"]) == 2
    assert "checks never ran: safety, privacy, authenticity, legal, fairness" in capsys.readouterr().err
    assert main(["check", gen, "--db", str(db)]) == 0
    assert main(["review", gen, "--db", str(db), "--approve", "--reason", "looks fine"]) == 0


def test_a_changed_rules_file_makes_the_checks_stale(unchecked, tmp_path, monkeypatch):
    db, gen = unchecked
    with open_store(db) as store:
        run_checks(store, gen)
        assert check_state(store, gen).current
        edited = tmp_path / "rules.json"
        rules = json.loads(base.RULES_FILE.read_text())
        rules["authenticity"]["warn_below_ssim"] = 0.5
        edited.write_text(json.dumps(rules))
        monkeypatch.setattr(base, "RULES_FILE", edited)
        with pytest.raises(ChecksNotCurrent, match="the rules file changed since it ran"):
            record_decision(store, gen, "approve", "fine")
        run_checks(store, gen)                       # under the new rules: current again
        assert record_decision(store, gen, "approve", "fine") == "approved"


def test_an_output_edited_after_its_checks_cannot_be_approved(unchecked):
    db, gen = unchecked
    with open_store(db) as store:
        run_checks(store, gen)
        output = store.conn.execute("SELECT output_path FROM generations WHERE id = ?", (gen,)).fetchone()[0]
        with open(output, "ab") as f:
            f.write(b"\0")
        with pytest.raises(ChecksNotCurrent, match="the output file changed since it ran"):
            record_decision(store, gen, "approve", "fine")


def test_an_output_edited_after_approval_is_not_exported(unchecked, tmp_path, capsys):
    db, gen = unchecked
    with open_store(db) as store:
        run_checks(store, gen)
        record_decision(store, gen, "approve", "fine")
        output = store.conn.execute("SELECT output_path FROM generations WHERE id = ?", (gen,)).fetchone()[0]
    shutil.copyfile(pattern_video(tmp_path / "other.mp4", seconds=0.5), output)   # other bytes
    out = tmp_path / "export"
    assert main(["export", gen, "--db", str(db), "--out", str(out)]) == 2
    assert "output changed after review" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())


def test_export_never_overwrites_without_force(unchecked, tmp_path, capsys):
    db, gen = unchecked
    with open_store(db) as store:
        run_checks(store, gen)
        record_decision(store, gen, "approve", "fine", reviewer="ana")
    out = tmp_path / "export"
    assert main(["export", gen, "--db", str(db), "--out", str(out)]) == 0
    first = (out / f"{gen}.mp4").read_bytes()
    (out / f"{gen}.mp4").write_bytes(b"someone else's file")
    capsys.readouterr()
    assert main(["export", gen, "--db", str(db), "--out", str(out)]) == 2
    assert "already holds" in capsys.readouterr().err
    assert (out / f"{gen}.mp4").read_bytes() == b"someone else's file"
    assert main(["export", gen, "--db", str(db), "--out", str(out), "--force"]) == 0
    assert (out / f"{gen}.mp4").stat().st_size > 1000 and len(first) > 1000
    assert not list(out.glob(".*partial*"))


def test_the_audit_log_names_who_decided(unchecked, monkeypatch):
    db, gen = unchecked
    monkeypatch.setenv("GENEREC_REVIEWER", "night shift")
    with open_store(db) as store:
        run_checks(store, gen)
        record_decision(store, gen, "skip")
        record_decision(store, gen, "approve", "fine", reviewer="ana")
        actors = {a: actor for a, actor in store.conn.execute(
            "SELECT action, actor FROM audit_log WHERE action LIKE 'review.%' OR action = 'checks.run'")}
        reviewers = [r[0] for r in store.conn.execute("SELECT reviewer FROM reviews ORDER BY id")]
    assert actors == {"checks.run": "night shift", "review.skip": "night shift", "review.approve": "ana"}
    assert reviewers == ["night shift", "ana"]


def test_a_harmful_instruction_is_refused_before_anything_is_generated(small_demo, tmp_path, capsys):
    db = copy_db(small_demo, tmp_path / "c.db")
    request = "make a video where the creator kills Maria Lopez with a knife"
    code = main(["generate", "--db", str(db), "--user", "u0001", "--task", "create",
                 "--instruction", request])
    err = capsys.readouterr().err
    assert code == 2 and "create refused before anything was generated" in err and "violence" in err
    with open_store(db) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM generations").fetchone()[0] == 0
        [(details,)] = store.conn.execute(
            "SELECT details FROM audit_log WHERE action = 'generation.refused'").fetchall()
        job = store.conn.execute("SELECT kind, state, origin, error FROM jobs").fetchone()
    assert "kills Maria Lopez" in json.loads(details)["reasons"]
    assert tuple(job)[:3] == ("create", "failed", "cli") and "refused" in job[3]


def test_generate_runs_the_checks_and_lists_its_job(indexed_demo, tmp_path, capsys):
    db = copy_db(indexed_demo, tmp_path / "c.db")
    assert main(["generate", "--db", str(db), "--user", "u0001", "--item", "demo-0002",
                 "--task", "thumbnail", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in made["checks"]] == ["safety", "privacy", "authenticity", "legal",
                                                   "fairness"]
    assert all(c["status"] in ("pass", "warn", "fail") for c in made["checks"])
    with open_store(db) as store:
        assert check_state(store, made["generation_id"]).current
    assert main(["jobs", "--db", str(db), "--json"]) == 0
    [job] = json.loads(capsys.readouterr().out)
    assert (job["kind"], job["origin"], job["state"]) == ("generate", "cli", "done")
    assert job["params"]["item_id"] == "demo-0002"           # enough to reproduce it


def _reencoded(source: str, target) -> str:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", source,
                    "-vf", "scale=iw/2:-2", "-c:v", "libx264", "-crf", "28", "-pix_fmt", "yuv420p",
                    "-an", str(target)], check=True)
    return str(target)


def test_a_created_video_that_copies_an_item_fails_legal(indexed_demo, tmp_path):
    from core.editor.service import resolve_model_id
    from core.fidelity.checks import legal

    db = copy_db(indexed_demo, tmp_path / "c.db")
    with open_store(db) as store:
        encoder = resolve_model_id(store, "bundled")
        source = store.conn.execute("SELECT path FROM items WHERE id = 'demo-0007'").fetchone()[0]
        made = {}
        with store.transaction():
            for name, output in (("copy", _reencoded(source, tmp_path / "copy.mp4")),
                                 ("new", str(pattern_video(tmp_path / "new.mp4", seconds=1.0)))):
                made[name] = record_generation(store, "create", "u0001", None,
                                               {"instruction": "a video"}, {},
                                               [{"role": "encoder", "id": encoder}], output)
        [copy] = run_checks(store, made["copy"], [legal])
        [new] = run_checks(store, made["new"], [legal])
    assert copy["status"] == "fail" and "near-copy of item demo-0007" in copy["evidence"]["text"]
    assert copy["evidence"]["nearest"][0]["item_id"] == "demo-0007"
    assert new["status"] == "pass" and "not a copy" in new["evidence"]["text"]
    assert len(new["evidence"]["nearest"]) == 5


@pytest.mark.gui
def test_an_exception_in_a_slot_is_shown_and_the_app_keeps_running(qtbot, small_demo, tmp_path):
    from PySide6.QtCore import QTimer

    from desktop.main_window import MainWindow

    window = MainWindow(copy_db(small_demo, tmp_path / "c.db"), build_demo_if_empty=False)
    qtbot.addWidget(window)
    try:
        def broken_slot():
            raise KeyError("style 'diffusion'")

        QTimer.singleShot(0, broken_slot)
        qtbot.waitUntil(lambda: bool(window.errors.shown), timeout=5000)
        box = window.errors.shown[-1]
        assert "KeyError" in box.text() and "still running" in box.text()
        assert "broken_slot" in box.detailedText() and not box.isModal()
        window.reload()                                  # and the window still works
        assert window.model.rowCount() == 12
    finally:
        window.close()


def test_fairness_ranks_for_a_generation_whose_provenance_names_the_encoder_by_id(indexed_demo, tmp_path):
    """Diffusion generations record the encoder by its model id, not by the spec that indexed
    the corpus; the fairness check used to answer "the corpus has no embeddings from encoder
    bundled:generec-tiny@…" right after indexing."""
    from core.editor.service import resolve_model_id
    from core.fidelity.checks import fairness

    db = copy_db(indexed_demo, tmp_path / "c.db")
    with open_store(db) as store:
        encoder = resolve_model_id(store, "bundled")
        with store.transaction():
            gen = record_generation(store, "create", "u0001", None, {}, {},
                                    [{"role": "encoder", "id": encoder, "spec": encoder}])
        [result] = run_checks(store, gen, [fairness])
    assert "exposure not measured" not in result["evidence"]["text"]
    assert result["evidence"]["pool"] > 0 and len(result["evidence"]["top_k"]) > 0


def test_a_revision_that_replaces_its_source_fails_authenticity(unchecked, tmp_path):
    """Noise in the source's place is a replacement, not a revision: authenticity (blocking)
    fails it and approving needs an override; the same bytes as a restyle by an OpenCV preset
    (a deterministic filter of the source) only warn."""
    import numpy as np

    from core.fidelity.checks import authenticity
    from core.fidelity.review import OverrideRequired
    from core.media import write_video

    db, _ = unchecked
    rng = np.random.default_rng(0)
    noise = write_video(tmp_path / "noise.mp4",
                        [rng.integers(0, 256, (240, 320, 3), dtype=np.uint8) for _ in range(10)], 10)
    with open_store(db) as store:
        with store.transaction():
            made = {task: record_generation(store, task, "u1", "src", params, {}, [], str(output))
                    for task, params, output in (
                        ("revise", {"strength": 0.6}, noise),
                        ("style", {"style": "cartoon"}, noise),
                        ("clip", {"start_s": 0.0}, tmp_path / "src.mp4"))}
        cards = {task: run_checks(store, gen, [authenticity])[0] for task, gen in made.items()}
        assert cards["revise"]["status"] == "fail"
        assert "keeps too little of its source" in cards["revise"]["evidence"]["text"]
        assert cards["style"]["status"] == "warn" and cards["clip"]["status"] == "pass"
        assert max(cards["revise"]["evidence"]["structure"]) < 0.3
        assert min(cards["clip"]["evidence"]["structure"]) > 0.9
        run_checks(store, made["revise"])
        with pytest.raises(OverrideRequired, match="authenticity"):
            record_decision(store, made["revise"], "approve", "fine")
