import json
import shutil

import pytest

from core.cli import main
from core.editor.generations import record_generation
from core.errors import Cancelled, InputError
from core.export.gate import ExportRefused, export_generation
from core.fidelity.base import run_checks
from core.fidelity.review import OverrideRequired, record_decision
from core.jobs import create_job, get_job, list_jobs, mark_interrupted, run_job
from core.progress import Progress
from core.store import open_store
from media_factory import pattern_video


@pytest.fixture
def corpus_with_generation(tmp_path):
    """An item and a generation whose output is a real MP4."""
    video = pattern_video(tmp_path / "src.mp4", seconds=1.0)
    out = pattern_video(tmp_path / "gen.mp4", seconds=1.0)
    db = tmp_path / "c.db"
    with open_store(db) as store, store.transaction():
        store.conn.execute("INSERT INTO users (id) VALUES ('u1')")
        store.conn.execute("INSERT INTO items (id, title, path, status, licence, "
                           "consent_derivatives) VALUES ('src', 'Source', ?, 'ok', 'CC-BY-4.0', 1)",
                           (str(video),))
        gen = record_generation(store, "clip", "u1", "src", {"start_s": 0, "end_s": 1},
                                {"cosine": 0.5}, [{"role": "encoder", "id": "m"}], str(out))
    with open_store(db) as store:
        run_checks(store, gen)
    return db, gen


def test_job_lifecycle_and_interruption(corpus_with_generation, tmp_path):
    db, _ = corpus_with_generation
    folder = tmp_path / "videos"
    folder.mkdir()
    pattern_video(folder / "new.mp4", seconds=1.0)
    with open_store(db) as store:
        job = create_job(store, "import", {"folder": str(folder)})
        assert get_job(store, job)["state"] == "queued"
    result = run_job(db, job)
    assert result["added"] == 1
    with open_store(db) as store:
        done = get_job(store, job)
        assert done["state"] == "done" and done["result"]["added"] == 1
        assert done["params"] == {"folder": str(folder)}   # enough to retry it
        # a job left running by a crashed process is marked interrupted at start-up
        crashed = create_job(store, "import", {"folder": str(folder)})
        store.conn.execute("UPDATE jobs SET state = 'running' WHERE id = ?", (crashed,))
        assert mark_interrupted(store) == 1
        assert get_job(store, crashed)["state"] == "interrupted"
        assert {j["id"] for j in list_jobs(store)} == {job, crashed}


def test_failed_and_cancelled_jobs_are_recorded(corpus_with_generation, tmp_path):
    db, _ = corpus_with_generation
    with open_store(db) as store:
        bad = create_job(store, "import", {"folder": str(tmp_path / "missing")})
        cancelled = create_job(store, "demo", {"n_items": 50, "n_users": 5})
    with pytest.raises(InputError):
        run_job(db, bad)
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        run_job(db, cancelled, progress)
    with open_store(db) as store:
        assert get_job(store, bad)["state"] == "failed"
        assert "not a folder" in get_job(store, bad)["error"]
        assert get_job(store, cancelled)["state"] == "cancelled"
        with pytest.raises(InputError, match="unknown job kind"):
            create_job(store, "teleport", {})


def test_export_gate_refuses_until_approved(corpus_with_generation, tmp_path):
    db, gen = corpus_with_generation
    out = tmp_path / "export"
    with open_store(db) as store:
        with pytest.raises(ExportRefused, match="pending, not approved"):
            export_generation(store, gen, out)
        assert not out.exists() or not any(out.iterdir())
        with pytest.raises(InputError, match="needs a reason"):
            record_decision(store, gen, "reject", "")
        assert record_decision(store, gen, "reject", "off-brand") == "rejected"
        with pytest.raises(ExportRefused):
            export_generation(store, gen, out)
        assert record_decision(store, gen, "approve", "fine after all", reviewer="ana") == "approved"
        result = export_generation(store, gen, out)
        provenance = json.loads((out / f"{gen}.provenance.json").read_text())
        assert provenance["generation_id"] == gen and provenance["task"] == "clip"
        ai_item = store.conn.execute("SELECT source, parent_id, status FROM items WHERE id = ?",
                                     (gen,)).fetchone()
        assert tuple(ai_item) == ("ai", "src", "ok")
        actions = [r[0] for r in store.conn.execute("SELECT action FROM audit_log ORDER BY id")]
        assert actions[-3:] == ["review.reject", "review.approve", "generation.exported"]
    assert (out / f"{gen}.mp4").stat().st_size > 0 and result["file"].endswith(".mp4")
    with open_store(db) as store:
        from core.export.verify import verify_file
        from core.fidelity.review import latest_checks

        verified = verify_file(store, out / f"{gen}.mp4")
        assert verified["generation_id"] == gen and verified["provenance_matches"]
        assert verified["agreement"] >= 0.9   # verify_file's own threshold
        assert verify_file(store, db.parent / "src.mp4")["generation_id"] is None   # unmarked
        [mark] = [c for c in latest_checks(store, gen) if c["name"] == "identifiability"]
        assert mark["status"] == "pass"


def test_failing_blocking_check_needs_an_override(corpus_with_generation):
    db, gen = corpus_with_generation
    with open_store(db) as store:
        store.conn.execute("UPDATE items SET consent_derivatives = 0 WHERE id = 'src'")
        run_checks(store, gen)
        with pytest.raises(OverrideRequired, match="legal"):
            record_decision(store, gen, "approve", "looks good")
        assert record_decision(store, gen, "approve", "looks good",
                               override_reason="licence cleared by email") == "approved"


def test_cli_review_and_export(corpus_with_generation, tmp_path, capsys):
    db, gen = corpus_with_generation
    assert main(["export", gen, "--db", str(db), "--out", str(tmp_path / "x")]) == 2
    assert "not approved" in capsys.readouterr().err
    assert main(["review", gen, "--db", str(db), "--approve", "--reason", "ok"]) == 0
    assert main(["export", gen, "--db", str(db), "--out", str(tmp_path / "x"), "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["file"].endswith(f"{gen}.mp4")
    assert main(["verify", str(tmp_path / "x" / f"{gen}.mp4"), "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["generation_id"] == gen
    shutil.rmtree(tmp_path / "x")
