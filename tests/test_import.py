import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.corpus.importer import import_folder
from core.errors import InputError
from core.store import open_store
from core.store.corpus import counts, list_items
from media_factory import make_bad_inputs, pattern_video
from test_media import SHARED

ROOT = Path(__file__).resolve().parent.parent


def test_import_shared_media_twice(shared_media, tmp_path):
    db = tmp_path / "m.db"
    with open_store(db) as store:
        first = import_folder(store, shared_media)
        assert first.added == 12 and not first.failed
        second = import_folder(store, shared_media)
        assert second.added == 0 and second.already_present == 12
        items = {item["id"]: item for item in list_items(store)}
        assert counts(store)["items"] == 12
    for name, (width, height, frames) in SHARED.items():
        item = items[Path(name).stem]
        assert item["status"] == "ok", item["error"]
        assert (item["width"], item["height"], item["frames"]) == (width, height, frames)


def test_bad_files_fail_with_reasons_and_the_rest_goes_on(tmp_path):
    folder = tmp_path / "videos"
    bad = make_bad_inputs(folder)
    pattern_video(folder / "good.mp4")
    with open_store(tmp_path / "c.db") as store:
        summary = import_folder(store, folder)
        items = {item["id"]: item for item in list_items(store, extra=("thumbnail_path",))}
    assert items["good"]["status"] == "ok"
    assert items["anim"]["status"] == "ok" and items["anim"]["frames"] == 10   # GIFs are videos
    expected = {"zero": "empty file", "truncated": "not a readable video",
                "text": "not a readable video", "one_frame": "at least 2",
                "huge": "8000x8000 exceeds", "audio_only": "no video stream"}
    for key, reason in expected.items():
        item = items[bad[key].stem]
        assert item["status"] == "failed"
        assert reason in item["error"] and bad[key].name in item["error"]
        assert item["width"] is None and item["thumbnail_path"] is None   # nothing half-written
    assert len(summary.failed) == len(expected)


INTERACTIONS = """user,item,kind,value,timestamp
u1,a,like,1,1700000000
u1,b,click,1,2024-01-02T10:00:00Z
u2,a,dwell,3.5,1700000100
ghost,a,like,1,1700000200
u2,zzz,like,1,1700000300
u2,b,like,1,yesterday
u2,b,like
u2,b,wave,1,1700000400
"""


def test_interaction_rows_are_checked_one_by_one(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for stem in ("a", "b"):
        pattern_video(folder / f"{stem}.mp4", seconds=1.0)
    (tmp_path / "inter.csv").write_text(INTERACTIONS)
    (tmp_path / "users.csv").write_text("user\nu1\nu2\n")
    (tmp_path / "titles.csv").write_text("item,title\na,The first, with a comma\n")
    with open_store(tmp_path / "c.db") as store:
        summary = import_folder(store, folder, tmp_path / "inter.csv", tmp_path / "titles.csv",
                                tmp_path / "users.csv")
        assert summary.interactions_added == 4        # 'zzz' has no video: a no-media item
        errors = "\n".join(summary.interaction_errors)
        for line, reason in [(5, "unknown user 'ghost'"), (7, "bad timestamp 'yesterday'"),
                             (8, "expected 5 fields, got 3"), (9, "unknown kind 'wave'")]:
            assert f"inter.csv:{line}: {reason}" in errors
        assert len(summary.interaction_errors) == 4
        titles = {i["id"]: (i["title"], i["status"]) for i in list_items(store)}
        assert titles == {"a": ("The first, with a comma", "ok"), "b": ("b", "ok"),
                          "zzz": ("zzz", "no-media")}
        again = import_folder(store, folder, tmp_path / "inter.csv", None, tmp_path / "users.csv")
        assert again.interactions_added == 0
        assert counts(store)["interactions"] == 4


def test_microlens_tsv_gives_ordered_likes(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    for stem in ("a", "b", "c"):
        pattern_video(folder / f"{stem}.mp4", seconds=1.0)
    (tmp_path / "pairs.tsv").write_text("u1\tc a b\nu2\tb\nbroken line\n")
    with open_store(tmp_path / "c.db") as store:
        summary = import_folder(store, folder, tmp_path / "pairs.tsv")
        assert summary.interactions_added == 4
        assert "pairs.tsv:3" in summary.interaction_errors[0]
        rows = store.conn.execute("SELECT item_id, kind FROM interactions WHERE user_id = 'u1' "
                                  "ORDER BY timestamp").fetchall()
        assert [tuple(r) for r in rows] == [("c", "like"), ("a", "like"), ("b", "like")]


def test_unrecognised_interactions_file_is_an_input_error(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "odd.txt").write_text("what is this\n")
    with open_store(tmp_path / "c.db") as store, pytest.raises(InputError, match="odd.txt"):
        import_folder(store, tmp_path / "v", tmp_path / "odd.txt")


@pytest.mark.slow
def test_killed_import_leaves_a_consistent_database_and_resumes(shared_media, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for k in range(40):
        os.symlink(shared_media / "bikes.mp4", folder / f"clip{k:02d}.mp4")
    db = tmp_path / "k.db"
    cmd = [sys.executable, "-m", "core.cli", "import", str(folder), "--db", str(db), "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    ok = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            with open_store(db) as store:
                ok = store.conn.execute("SELECT COUNT(*) FROM items WHERE status = 'ok'").fetchone()[0]
            if ok >= 3:
                break
        time.sleep(0.05)
    assert proc.poll() is None, f"the import ended before it could be killed: {proc.stderr.read()}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with open_store(db) as store:
        assert store.integrity_ok()
        statuses = dict(store.conn.execute(
            "SELECT status, COUNT(*) FROM items GROUP BY status").fetchall())
        assert statuses.get("failed", 0) == 0 and statuses["ok"] < 40
        # every ok row is complete
        assert store.conn.execute("SELECT COUNT(*) FROM items WHERE status = 'ok' AND "
                                  "(width IS NULL OR thumbnail_path IS NULL)").fetchone()[0] == 0
    done = subprocess.run(cmd + ["--json"], cwd=ROOT, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    assert summary["added"] + summary["already_present"] == 40
    with open_store(db) as store:
        assert counts(store)["items"] == 40
        assert store.conn.execute("SELECT COUNT(*) FROM items WHERE status = 'ok'").fetchone()[0] == 40
