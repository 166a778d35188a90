"""Items without media: schema migration 7, import from interactions and titles files, the
summarised error report, refusal by tasks that need frames; the synthetic MicroLens log."""
import json
import sqlite3

import numpy as np
import pytest

from core.cli import main
from core.corpus.importer import SHOWN_ERRORS, import_folder
from core.corpus.synthetic_log import LogSettings, write_synthetic_log
from core.errors import InputError
from core.store import SCHEMA_VERSION, open_store
from core.store.corpus import counts, list_items


def _version_6_corpus(path):
    from core.store.database import _statements
    from core.store.schema import MIGRATIONS

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    for migration in MIGRATIONS[:6]:
        for statement in _statements(migration):
            conn.execute(statement)
    conn.executescript("""
        INSERT INTO items (id, title, path, status, expires_at) VALUES ('v', 'a video', '/x.mp4', 'ok', '2030-01-01T00:00:00Z');
        INSERT INTO items (id, title, source, parent_id, path) VALUES ('child', 'made', 'ai', 'v', '/y.mp4');
        INSERT INTO frames (item_id, idx, t_s) VALUES ('v', 0, 0.5);
        INSERT INTO models (id, spec, dim) VALUES ('m', 'bundled', 2);
        INSERT INTO embeddings (model_id, item_id, kind, vector) VALUES ('m', 'v', 'frame', x'0000');
        INSERT INTO users (id) VALUES ('u');
        INSERT INTO interactions (user_id, item_id, kind, timestamp) VALUES ('u', 'v', 'like', 1);
        INSERT INTO generations (id, task, user_id, item_id) VALUES ('g', 'clip', 'u', 'v');
        PRAGMA user_version = 6;
    """)
    conn.commit()
    conn.close()


def test_migration_7_rebuilds_items_and_keeps_every_reference(tmp_path):
    path = tmp_path / "old.db"
    _version_6_corpus(path)
    with open_store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 7
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        one = lambda sql: store.conn.execute(sql).fetchone()[0]  # noqa: E731
        # nothing cascaded away when the old table was dropped
        assert [one(f"SELECT COUNT(*) FROM {t}") for t in
                ("items", "frames", "embeddings", "interactions", "generations")] == [2, 1, 1, 1, 1]
        assert one("SELECT expires_at FROM items WHERE id = 'v'") == "2030-01-01T00:00:00Z"
        assert one("SELECT parent_id FROM items WHERE id = 'child'") == "v"
        indexes = {r[0] for r in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items'")}
        assert {"items_status", "items_source", "items_expires"} <= indexes
        store.conn.execute("INSERT INTO items (id, path, status) VALUES ('n', '', 'no-media')")
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute("INSERT INTO items (id, path, status) VALUES ('z', '', 'lost')")
        # the foreign keys still point at the rebuilt table, and are enforced
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute("DELETE FROM items WHERE id = 'v'")   # a generation refers to it
        store.conn.execute("DELETE FROM generations")
        store.conn.execute("DELETE FROM items WHERE id = 'child'")
        store.conn.execute("DELETE FROM items WHERE id = 'v'")
        assert one("SELECT COUNT(*) FROM frames") == 0                 # cascaded
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_migration_refuses_to_break_foreign_keys(tmp_path):
    path = tmp_path / "old.db"
    _version_6_corpus(path)
    conn = sqlite3.connect(path)           # an orphan written with foreign keys off
    conn.execute("INSERT INTO frames (item_id, idx, t_s) VALUES ('gone', 0, 0)")
    conn.commit()
    conn.close()
    from core.errors import SchemaError

    with pytest.raises(SchemaError, match="foreign key"):
        open_store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 6     # rolled back whole
    conn.close()


def _cover(path):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), (200, 30, 30)).save(path)


def test_items_without_video_come_from_interactions_and_titles(tmp_path):
    from media_factory import pattern_video

    videos = tmp_path / "videos"
    videos.mkdir()
    pattern_video(videos / "clip_a.mp4", seconds=1.0)
    (tmp_path / "map.csv").write_text("item,file\nA-1,clip_a.mp4\n")
    (tmp_path / "pairs.tsv").write_text("u1\tA-1 b:2 c\nu2\tc b:2\n")
    (tmp_path / "titles.csv").write_text("item_id,title\nb:2,Dogs #pets\nonly-title,Alone\n")
    _cover(tmp_path / "covers" / "c.png")
    with open_store(tmp_path / "c.db") as store:
        summary = import_folder(store, videos, tmp_path / "pairs.tsv", tmp_path / "titles.csv",
                                covers=tmp_path / "covers", mapping=tmp_path / "map.csv")
        assert (summary.added, summary.no_media_added, summary.interactions_added) == (1, 3, 5)
        items = {i["id"]: i for i in list_items(store, extra=("thumbnail_path", "path"))}
        assert items["A-1"]["status"] == "ok"
        assert {k: (items[k]["status"], items[k]["title"]) for k in ("b:2", "c", "only-title")} == {
            "b:2": ("no-media", "Dogs #pets"), "c": ("no-media", "c"),
            "only-title": ("no-media", "Alone")}
        assert items["c"]["thumbnail_path"].endswith("c.png") and items["b:2"]["thumbnail_path"] is None
        assert counts(store)["no_media"] == 3 and counts(store)["items"] == 4
        again = import_folder(store, videos, tmp_path / "pairs.tsv", tmp_path / "titles.csv")
        assert (again.no_media_added, again.interactions_added) == (0, 0)
        # the video of a no-media item arrives: it becomes an ordinary item
        pattern_video(videos / "c.mp4", seconds=1.0)
        later = import_folder(store, videos)
        assert later.added == 1
        item = store.conn.execute("SELECT status, path FROM items WHERE id = 'c'").fetchone()
        assert item["status"] == "ok" and item["path"].endswith("c.mp4")


def test_tasks_that_need_frames_refuse_items_without_video(tmp_path):
    from core.editor.service import generate_personalized, generate_styled
    from core.store.corpus import require_frames

    (tmp_path / "v").mkdir()
    (tmp_path / "pairs.tsv").write_text("u1\tx y\n")
    with open_store(tmp_path / "c.db") as store:
        import_folder(store, tmp_path / "v", tmp_path / "pairs.tsv")
        for call in (lambda: generate_personalized(store, "u1", "x", "clip"),
                     lambda: generate_styled(store, "u1", "x", "cartoon"),
                     lambda: require_frames(store, "x", "revision")):
            with pytest.raises(InputError, match="'x' has no video.*no-media"):
                call()


def test_skipped_rows_are_summarised_not_listed(tmp_path, capsys):
    rows = ["user,item,kind,value,timestamp"]
    rows += [f"u{k},i{k % 7},like,1,{1700000000 + k}" for k in range(30)]
    rows += [f"u{k},i1,wave,1,1700000000" for k in range(40)]            # unknown kind
    rows += [f"u{k},i1,like,1,soon" for k in range(25)]                  # bad timestamp
    rows += ["u1,i1"] * 3                                                 # wrong fields
    (tmp_path / "log.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "v").mkdir()
    db = tmp_path / "c.db"
    assert main(["import", str(tmp_path / "v"), "--interactions", str(tmp_path / "log.csv"),
                 "--db", str(db), "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["rows_skipped"] == 68 and report["interactions_added"] == 30
    assert report["skipped_by_reason"] == {"unknown kind": 40, "bad timestamp": 25,
                                           "wrong number of fields": 3}
    lines = captured.err.strip().splitlines()
    assert lines[0] == "skipped 68 rows: unknown kind 40, bad timestamp 25, wrong number of fields 3"
    assert len(lines) == 1 + SHOWN_ERRORS + 1 and "log.csv:32: unknown kind 'wave'" in lines[1]
    log = report["error_log"]
    assert log in lines[-1] and "48 more" in lines[-1]
    logged = open(log, encoding="utf-8").read().splitlines()
    assert len(logged) == 68 and logged[-1].endswith("log.csv:99: expected 5 fields, got 2")


def test_synthetic_log_imports_whole_and_titles_carry_topics(tmp_path):
    settings = LogSettings(users=600, items=400, topics=12, seed=1)
    log = write_synthetic_log(tmp_path / "log", settings)
    again = write_synthetic_log(tmp_path / "again", settings)
    assert log.pairs.read_bytes() == again.pairs.read_bytes()            # seeded
    sequences = [line.split("\t")[1].split() for line in log.pairs.read_text().splitlines()]
    assert len(sequences) == 600 and min(map(len, sequences)) >= 5
    assert all(len(set(s)) == len(s) for s in sequences)                   # no repeats
    assert sum(map(len, sequences)) == log.interactions
    assert 600 * 6 < log.interactions < 600 * 8.5
    titles = dict(line.split(",", 1) for line in log.titles.read_text().splitlines()[1:])
    # items liked one after another share title words far more often than random pairs
    shared = lambda a, b: len(set(titles[a].split()) & set(titles[b].split()))  # noqa: E731
    consecutive = np.mean([shared(s[k], s[k + 1]) for s in sequences for k in range(len(s) - 1)])
    rng = np.random.default_rng(0)
    ids = list(titles)
    random_pairs = np.mean([shared(*rng.choice(ids, 2)) for _ in range(2000)])
    assert consecutive > random_pairs + 1.0
    # the held-out last like comes from the same process as the like before it: as often the
    # next episode of the previous item (issue 18: otherwise a sequential model's validation
    # says nothing about its test)
    episode = lambda s, k: int(s[k]) == int(s[k - 1]) + 1   # noqa: E731
    last = np.mean([episode(s, len(s) - 1) for s in sequences])
    before = np.mean([episode(s, len(s) - 2) for s in sequences])
    assert last > 0.1 and abs(last - before) < 0.08, (last, before)
    (tmp_path / "empty").mkdir()
    with open_store(tmp_path / "c.db") as store:
        summary = import_folder(store, tmp_path / "empty", log.pairs, log.titles)
        assert not summary.interaction_errors and summary.interactions_added == log.interactions
        info = counts(store)
    assert info["no_media"] == info["items"] <= 400 and info["users"] == 600
