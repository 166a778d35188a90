import sqlite3

import pytest

from core.errors import SchemaError
from core.store import SCHEMA_VERSION, open_store
from core.store.corpus import assign_splits, counts, insert_interactions


def test_new_store_is_migrated_with_wal_and_foreign_keys(tmp_path):
    with open_store(tmp_path / "c.db") as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        for table in ("items", "frames", "embeddings", "users", "interactions", "jobs",
                      "generations", "checks", "reviews", "audit_log", "instructions"):
            assert table in store.db.table_names()
        with pytest.raises(sqlite3.IntegrityError):
            store.conn.execute("INSERT INTO interactions (user_id, item_id, kind, timestamp) "
                               "VALUES ('nobody', 'nothing', 'like', 0)")


def test_newer_schema_is_a_clear_error(tmp_path):
    path = tmp_path / "c.db"
    with open_store(path) as store:
        store.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaError, match="newer GeneRec Studio"):
        open_store(path)


def test_foreign_database_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE something (x)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match="not a GeneRec Studio corpus"):
        open_store(path)
    (tmp_path / "junk.db").write_bytes(b"garbage" * 100)
    with pytest.raises(SchemaError, match="junk.db"):
        open_store(tmp_path / "junk.db")


def test_audit_log_is_append_only(tmp_path):
    with open_store(tmp_path / "c.db") as store:
        store.audit("test.action", "x", {"a": 1})
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.conn.execute("UPDATE audit_log SET action = 'forged'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            store.conn.execute("DELETE FROM audit_log")
        assert store.conn.execute("SELECT action FROM audit_log").fetchone()[0] == "test.action"


def _seed(store):
    store.conn.execute("INSERT INTO users (id) VALUES ('u1')")
    store.conn.execute("INSERT INTO items (id, path, status) VALUES ('i1', '/x.mp4', 'ok')")


def test_transaction_rolls_back_as_a_whole(tmp_path):
    with open_store(tmp_path / "c.db") as store:
        _seed(store)
        with pytest.raises(RuntimeError):
            with store.transaction():
                insert_interactions(store, [{"user_id": "u1", "item_id": "i1", "kind": "like",
                                             "value": 1.0, "timestamp": 1.0}])
                raise RuntimeError("crash halfway")
        assert counts(store)["interactions"] == 0


def test_interactions_are_idempotent_and_split_by_time(tmp_path):
    with open_store(tmp_path / "c.db") as store:
        _seed(store)
        rows = [{"user_id": "u1", "item_id": "i1", "kind": "click", "value": 1.0,
                 "timestamp": float(t)} for t in range(10)]
        rows.append({"user_id": "u1", "item_id": "i1", "kind": "like", "value": 1.0,
                     "timestamp": 9.0})
        with store.transaction():
            assert insert_interactions(store, rows) == 11
            assert insert_interactions(store, rows) == 0
            assign_splits(store, ["u1"])
        split = dict(store.conn.execute(
            "SELECT timestamp, split FROM interactions WHERE kind = 'click'").fetchall())
        assert [split[float(t)] for t in range(10)] == ["train"] * 8 + ["test"] * 2
        like_split = store.conn.execute(
            "SELECT split FROM interactions WHERE kind = 'like'").fetchone()[0]
        assert like_split == "test"   # same view as the click at t=9


def test_version_1_corpus_is_migrated_forward(tmp_path):
    from core.store.database import _statements
    from core.store.schema import MIGRATIONS

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in _statements(MIGRATIONS[0]):
        conn.execute(statement)
    conn.execute("INSERT INTO users (id) VALUES ('kept')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with open_store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 2
        assert "user_embeddings" in store.db.table_names()
        assert store.conn.execute("SELECT id FROM users").fetchone()[0] == "kept"


def test_audit_chain_detects_edits_and_deletions(tmp_path):
    from core.store.audit import verify_chain

    path = tmp_path / "c.db"
    with open_store(path) as store:
        for k in range(5):
            store.audit("test.step", str(k), {"k": k})
        assert verify_chain(store) == {"ok": True, "entries": 5, "legacy": 0, "broken_at": None,
                                       "reason": ""}
    def tampered(sql: str) -> dict:
        import shutil

        copy = tmp_path / f"t{abs(hash(sql))}.db"
        with open_store(path) as store:
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy(path, copy)
        raw = sqlite3.connect(copy)   # someone with the file and a SQLite shell
        raw.executescript("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;" + sql)
        raw.commit()
        raw.close()
        with open_store(copy) as store:
            return verify_chain(store)

    edited = tampered("UPDATE audit_log SET details = '{\"k\": 99}' WHERE id = 3;")
    assert (edited["ok"], edited["broken_at"]) == (False, 3) and "edited" in edited["reason"]
    deleted = tampered("DELETE FROM audit_log WHERE id = 2;")
    assert (deleted["ok"], deleted["broken_at"]) == (False, 3) and "deleted" in deleted["reason"]


def test_cli_audit_verify(tmp_path, capsys):
    from core.cli import main

    with open_store(tmp_path / "c.db") as store:
        store.audit("x")
    assert main(["audit", "verify", "--db", str(tmp_path / "c.db")]) == 0
    assert "intact: 1 chained" in capsys.readouterr().out
