"""Indexing real files and demo videos, personalizing, writing outputs, evaluating."""
import json

import pytest

from core.cli import main
from core.corpus.importer import import_folder
from core.editor.service import generate_personalized, personalize, resolve_model_id
from core.encoders import load_encoder
from core.encoders.indexing import index_corpus
from core.errors import Cancelled, InputError
from core.evaluation.cosine import evaluate
from core.media import probe
from core.progress import Progress
from core.store import open_store
from core.store.corpus import counts


def test_index_every_shared_clip(shared_media, tmp_path):
    with open_store(tmp_path / "m.db") as store:
        import_folder(store, shared_media)
        summary = index_corpus(store, load_encoder("bundled"), n_frames=8)
        assert summary.indexed == 12 and not summary.failed
        assert counts(store)["indexed"] == 12
        again = index_corpus(store, load_encoder("bundled"), n_frames=8)
        assert again.indexed == 0   # resumable: nothing left to do
        short = store.conn.execute("SELECT COUNT(*) FROM frames WHERE item_id = 'fire2'").fetchone()[0]
        assert short == 8


class CancelAfter(Progress):
    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps

    def on_update(self, done, total, message):
        if done >= self.steps:
            self.cancel()


def test_cancelled_index_resumes(small_demo, tmp_path):
    import shutil

    db = tmp_path / "c.db"
    with open_store(small_demo) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(small_demo, db)
    encoder = load_encoder("bundled")
    with open_store(db) as store:
        with pytest.raises(Cancelled):
            index_corpus(store, encoder, n_frames=8, batch=16, progress=CancelAfter(2))
        partial = counts(store)["indexed"]
        assert 0 < partial < 12
        assert store.integrity_ok()
        index_corpus(store, encoder, n_frames=8)
        assert counts(store)["indexed"] == 12


def test_personalize_records_generations(indexed_demo):
    with open_store(indexed_demo) as store:
        choices = personalize(store, "u0001", "clip", ["demo-0001", "demo-0002"], clip_len=4)
        assert [c["item_id"] for c in choices] == ["demo-0001", "demo-0002"]
        for c in choices:
            assert c["end_idx"] - c["start_idx"] == 4 and 0 <= c["start_s"] < c["end_s"]
            row = store.conn.execute("SELECT task, user_id, provenance FROM generations WHERE id = ?",
                                     (c["generation_id"],)).fetchone()
            assert row[0] == "clip" and row[1] == "u0001"
            provenance = json.loads(row[2])
            assert provenance["models"][0]["sha256"] and provenance["app_version"]
        with pytest.raises(InputError, match="unknown item 'nope'"):
            personalize(store, "u0001", "thumbnail", ["nope"])


def test_generate_writes_png_and_clip(indexed_demo):
    with open_store(indexed_demo) as store:
        thumb = generate_personalized(store, "u0002", "demo-0003", "thumbnail")
        clip = generate_personalized(store, "u0002", "demo-0003", "clip", clip_len=4)
    import cv2

    image = cv2.imread(thumb["output_path"])
    assert image.shape[:2] == (256, 256)
    info = probe(clip["output_path"])
    assert info.codec == "h264"
    assert info.duration_s == pytest.approx(clip["end_s"] - clip["start_s"], abs=0.15)


def test_generated_clip_keeps_the_audio(shared_media, tmp_path):
    from core.editor.outputs import cut_clip

    out = cut_clip(shared_media / "b.mp4", 1.0, 2.5, tmp_path / "cut.mp4")
    info = probe(out)
    assert info.has_audio and info.duration_s == pytest.approx(1.5, abs=0.1)
    upright = cut_clip(shared_media / "fire2.mp4", 0.0, 1.0, tmp_path / "fire.mp4")
    assert probe(upright).rotation == 0 and (probe(upright).width, probe(upright).height) == (1280, 720)


def test_evaluate_report_shape_and_paper_protocol_order(indexed_demo):
    with open_store(indexed_demo) as store:
        report = evaluate(store, resolve_model_id(store), ks=(5, 10), runs=2)
    # reported on the test users (issue 12); the validation users choose parameters
    assert report["users"] == report["user_split"]["test"] == 12 - report["user_split"]["validation"]
    assert report["runs"] == 2
    for task, methods in (("thumbnail", {"Random Frame", "Original", "CLIP"}),
                          ("clip", {"Random", "1st Clip", "Unclipped", "CLIP"})):
        for protocol in ("paper", "heldout"):
            assert set(report[task][protocol]) == methods
            for scores in report[task][protocol].values():
                assert set(scores) == {"cosine@5", "cosine@10"}
                assert all(-1 <= v <= 1 for v in scores.values())
        assert set(report[task]["preference_hit"]) == methods
    # Selecting with the vector that scores makes CLIP the best frame of every item.
    paper = report["thumbnail"]["paper"]
    assert paper["CLIP"]["cosine@5"] >= paper["Random Frame"]["cosine@5"]
    assert report["clip"]["paper"]["CLIP"]["cosine@5"] >= report["clip"]["paper"]["Random"]["cosine@5"]


def test_cli_personalize_and_generate_json(indexed_demo, capsys):
    assert main(["personalize", "--db", str(indexed_demo), "--user", "u0003", "--task",
                 "thumbnail", "--items", "demo-0004", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["item_id"] == "demo-0004" and "frame_idx" in out[0]
    assert main(["generate", "--db", str(indexed_demo), "--user", "u0003", "--item",
                 "demo-0004", "--task", "clip", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["generation_id"].startswith("gen-") and out["output_path"].endswith(".mp4")
    assert main(["generate", "--db", str(indexed_demo), "--user", "nobody", "--item",
                 "demo-0004", "--task", "clip"]) == 2
    assert "unknown user 'nobody'" in capsys.readouterr().err


def test_local_checkpoint_through_the_cli(local_checkpoint, small_demo, tmp_path, capsys):
    import shutil

    db = tmp_path / "c.db"
    with open_store(small_demo) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(small_demo, db)
    spec = f"ViT-S-32-alt:{local_checkpoint}"
    assert main(["index", "--db", str(db), "--model", spec, "--frames", "4", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["indexed"] == 12 and summary["model_id"].startswith("ViT-S-32-alt:")
    assert main(["personalize", "--db", str(db), "--model", spec, "--user", "u0001",
                 "--task", "clip", "--clip-len", "2", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 12
