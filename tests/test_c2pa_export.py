"""The export pipeline's provenance: C2PA signing and validation, container metadata stripping,
expiry and purge-expired, on real files, a real SQLite corpus and real certificates."""
import json
import os
import shutil
import sqlite3
import stat
from datetime import datetime, timedelta, timezone

import pytest

from core.cli import main
from core.editor.generations import record_generation
from core.errors import GenerecError
from core.export.content_credentials import TRAINED_ALGORITHMIC_MEDIA, read_credentials, sign_file
from core.export.gate import ExportRefused, export_generation
from core.export.local_ca import SigningIdentity, identity_folder
from core.export.metadata import container_tags
from core.export.verify import verify_file
from core.fidelity.base import run_checks
from core.fidelity.review import latest_checks, record_decision
from core.store import SCHEMA_VERSION, open_store
from media_factory import ffmpeg, pattern_video

# What a source container may carry about where and by whom it was made.
SOURCE_TAGS = {"title": "Holiday at Alice's", "comment": "shot by alice@example.org",
               "location": "+48.8577+002.2950/", "creation_time": "2020-01-01T00:00:00Z",
               "artist": "Alice"}
ALLOWED_FORMAT_TAGS = {"major_brand", "minor_version", "compatible_brands", "comment"}
ALLOWED_STREAM_TAGS = {"language", "handler_name"}    # written by the MP4 muxer, not the source


def tagged_clip(path, source=None):
    """A 1 s H.264 + AAC clip whose container and audio stream carry personal metadata."""
    video = ["-i", str(source), "-t", "1"] if source else [
        "-f", "lavfi", "-i", "testsrc=s=320x240:d=1:r=10"]
    tags = [arg for k, v in SOURCE_TAGS.items() for arg in ("-metadata", f"{k}={v}")]
    ffmpeg(*video, "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-map", "0:v:0",
           "-map", "1:a:0", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
           "-vf", "scale=320:-2", "-c:a", "aac", "-shortest", *tags,
           "-metadata:s:a:0", "title=Alice's voice", str(path))
    return path


@pytest.fixture
def corpus(tmp_path):
    """A human item with interactions, and a user."""
    db = tmp_path / "c.db"
    with open_store(db) as store, store.transaction():
        store.conn.execute("INSERT INTO users (id) VALUES ('u1')")
        store.conn.execute("INSERT INTO items (id, title, path, status, licence, "
                           "consent_derivatives) VALUES ('src', 'Source', ?, 'ok', 'CC-BY-4.0', 1)",
                           (str(pattern_video(tmp_path / "src.mp4", seconds=1.0)),))
        store.conn.execute("INSERT INTO interactions (user_id, item_id, kind, timestamp) "
                           "VALUES ('u1', 'src', 'like', 1)")
    return db


def approved_generation(store, output, item="src", task="clip"):
    with store.transaction():
        gen = record_generation(store, task, "u1", item, {"start_s": 0, "end_s": 1}, {},
                                [{"role": "encoder", "id": "m"}], str(output))
    run_checks(store, gen)
    record_decision(store, gen, "approve", "fine")
    return gen


def flip_bytes_in_mdat(path):
    """Change media bytes (inside the mdat box) as an editor or a bad copy would."""
    data = bytearray(path.read_bytes())
    pos = 0
    while pos < len(data):
        size, kind, header = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8], 8
        if size == 1:
            size, header = int.from_bytes(data[pos + 8:pos + 16], "big"), 16
        size = size or len(data) - pos
        if kind == b"mdat":
            middle = pos + header + (size - header) // 2
            data[middle:middle + 64] = bytes(b ^ 0xFF for b in data[middle:middle + 64])
            path.write_bytes(bytes(data))
            return
        pos += size
    raise AssertionError(f"{path}: no mdat box")


def assert_only_our_tags(path, generation_id):
    tags = container_tags(path)
    assert set(tags["format"]) <= ALLOWED_FORMAT_TAGS, tags
    assert generation_id in tags["format"]["comment"]
    for stream in tags["streams"]:
        assert set(stream) <= ALLOWED_STREAM_TAGS, tags
    raw = path.read_bytes()
    for leaked in (b"alice", b"Alice", b"48.8577", b"x264", b"Lavf"):
        assert leaked not in raw, f"{leaked!r} survived the export of {path.name}"


def test_export_is_signed_stripped_and_verifiable(corpus, tmp_path):
    out = tmp_path / "out"
    with open_store(corpus) as store:
        gen = approved_generation(store, tagged_clip(tmp_path / "gen.mp4"))
        assert container_tags(tmp_path / "gen.mp4")["format"]["title"] == SOURCE_TAGS["title"]
        result = export_generation(store, gen, out)
        exported = out / f"{gen}.mp4"
        assert sorted(p.name for p in out.iterdir()) == [f"{gen}.mp4", f"{gen}.provenance.json"]
        assert result["c2pa"] == "valid signature, content intact, untrusted CA (local)"

        credentials = read_credentials(exported)
        assert credentials["valid"] and credentials["signature_valid"]
        assert credentials["trust"] == "untrusted" and credentials["signed_by_local_ca"]
        assert credentials["failures"] == ["signingCredential.untrusted"]
        first = credentials["actions"][0]
        assert first["action"] == "c2pa.created"
        assert first["digitalSourceType"] == TRAINED_ALGORITHMIC_MEDIA
        assert first["parameters"]["generation_id"] == gen
        assert first["parameters"]["source_item"] == "src"
        assert credentials["provenance"]["watermark"]["payload"] == gen[4:16]
        assert "user_id" not in credentials["provenance"]      # who it was made for stays home

        assert_only_our_tags(exported, gen)
        assert len(container_tags(exported)["streams"]) == 2   # the audio was kept

        sidecar = json.loads((out / f"{gen}.provenance.json").read_text())
        assert sidecar["c2pa"]["summary"] == result["c2pa"] and sidecar["user_id"] == "u1"
        [check] = [c for c in latest_checks(store, gen) if c["name"] == "identifiability"]
        assert check["status"] == "pass" and check["evidence"]["c2pa"]["signature_valid"]

        report = verify_file(store, exported)
        assert report["generation_id"] == gen and report["provenance_matches"]
        assert report["sha256_matches"] and report["c2pa"]["valid"]
        # the AI item in the corpus is the corpus's own copy of the signed file
        ai_path = store.conn.execute("SELECT path FROM items WHERE id = ?", (gen,)).fetchone()[0]
        assert read_credentials(ai_path)["valid"]
    keys = identity_folder()
    for name in ("ca.key", "signer.key"):
        assert stat.S_IMODE(os.stat(keys / name).st_mode) == 0o600


def test_tampered_file_fails_verification(corpus, tmp_path, capsys):
    with open_store(corpus) as store:
        gen = approved_generation(store, tagged_clip(tmp_path / "gen.mp4"))
        export_generation(store, gen, tmp_path / "out")
    tampered = tmp_path / "out" / f"{gen}.mp4"
    flip_bytes_in_mdat(tampered)
    assert main(["verify", str(tampered), "--db", str(corpus), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["c2pa"]["present"] and not report["c2pa"]["valid"]
    assert report["c2pa"]["signature_valid"] and not report["c2pa"]["content_intact"]
    assert report["c2pa"]["validation_state"] == "Invalid"
    assert report["sha256_matches"] is False
    # an unsigned file has no manifest at all
    assert main(["verify", str(tmp_path / "src.mp4"), "--db", str(corpus), "--json"]) == 0
    unsigned = json.loads(capsys.readouterr().out)
    assert unsigned["c2pa"]["present"] is False and unsigned["generation_id"] is None


def test_single_self_signed_certificate_is_refused(corpus, tmp_path):
    from core.export.local_ca import signing_identity

    mine = signing_identity()
    ca_key = (mine.folder / "ca.key").read_bytes()
    self_signed = SigningIdentity(mine.folder, mine.ca_pem, ca_key, mine.ca_pem)
    clip = pattern_video(tmp_path / "clip.mp4", seconds=0.5)
    with pytest.raises(GenerecError, match="self-signed"):
        sign_file(clip, tmp_path / "signed.mp4", {"generation_id": "gen-0"}, "x.mp4",
                  identity=self_signed)
    assert not (tmp_path / "signed.mp4").exists()


def test_png_thumbnail_export_is_signed_without_text_chunks(corpus, tmp_path):
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Alice")
    info.add_text("Location", "48.8577,2.2950")
    png = tmp_path / "thumb.png"
    Image.effect_mandelbrot((320, 240), (-2, -1.2, 1, 1.2), 60).convert("RGB").save(
        png, pnginfo=info, dpi=(300, 300))
    with open_store(corpus) as store:
        gen = approved_generation(store, png, task="thumbnail")
        export_generation(store, gen, tmp_path / "out")
    exported = tmp_path / "out" / f"{gen}.png"
    assert set(container_tags(exported)["format"]) == {"Comment"}
    assert read_credentials(exported)["summary"] == "valid signature, content intact, untrusted CA (local)"


def test_a_failed_step_leaves_nothing_under_the_final_name(corpus, tmp_path):
    with open_store(corpus) as store:
        gen = approved_generation(store, tagged_clip(tmp_path / "gen.mp4"))
        from core.export.local_ca import signing_identity

        (signing_identity().folder / "signer.key").write_text("not a key\n")   # a broken identity
        with pytest.raises(GenerecError, match="cannot sign Content Credentials"):
            export_generation(store, gen, tmp_path / "out")
        assert list((tmp_path / "out").iterdir()) == []        # no partial or temporary file
        status = store.conn.execute("SELECT status FROM generations WHERE id = ?", (gen,))
        assert status.fetchone()[0] == "approved"


def test_unapproved_export_is_refused_and_bad_expiry_named(corpus, tmp_path, capsys):
    with open_store(corpus) as store, store.transaction():
        gen = record_generation(store, "clip", "u1", "src", {}, {}, [],
                                str(tagged_clip(tmp_path / "gen.mp4")))
    with open_store(corpus) as store, pytest.raises(ExportRefused, match="not approved"):
        export_generation(store, gen, tmp_path / "out")
    assert main(["export", gen, "--db", str(corpus), "--out", str(tmp_path / "out"),
                 "--expires-in", "3"]) == 2
    assert "not approved" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    for bad, reason in ((["--expires-at", "next week"], "--expires-at"),
                        (["--expires-at", "2001-01-01"], "not in the future"),
                        (["--expires-in", "-2"], "not in the future")):
        assert main(["export", gen, "--db", str(corpus), "--out", str(tmp_path / "o"), *bad]) == 2
        err = capsys.readouterr().err
        assert reason in err and len(err.strip().splitlines()) == 1


def test_expiry_is_recorded_and_purge_removes_only_expired_ai_items(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    now = datetime.now(timezone.utc)
    with open_store(corpus) as store:
        soon = approved_generation(store, tagged_clip(tmp_path / "a.mp4"))
        late = approved_generation(store, tagged_clip(tmp_path / "b.mp4"))
        never = approved_generation(store, tagged_clip(tmp_path / "c.mp4"))
    assert main(["export", soon, "--db", str(corpus), "--out", str(out), "--expires-in", "1"]) == 0
    assert main(["export", late, "--db", str(corpus), "--out", str(out),
                 "--expires-at", (now + timedelta(days=30)).date().isoformat()]) == 0
    assert main(["export", never, "--db", str(corpus), "--out", str(out)]) == 0
    capsys.readouterr()
    sidecar = json.loads((out / f"{soon}.provenance.json").read_text())
    manifest = read_credentials(out / f"{soon}.mp4")["provenance"]
    assert sidecar["expires_at"] == manifest["expires_at"] is not None
    with open_store(corpus) as store, store.transaction():
        # a user saw the expiring AI item, a generation was made from it, and a human item
        # carries an expiry (nonsense, but it must never be purged)
        store.conn.execute("INSERT INTO interactions (user_id, item_id, kind, timestamp) "
                           "VALUES ('u1', ?, 'like', 2)", (soon,))
        child = record_generation(store, "clip", "u1", soon, {}, {}, [], None)
        store.conn.execute("UPDATE items SET expires_at = '2000-01-01T00:00:00Z' WHERE id = 'src'")
        soon_files = store.conn.execute("SELECT path, thumbnail_path FROM items WHERE id = ?",
                                        (soon,)).fetchone()
    two_days = (now + timedelta(days=2)).isoformat()

    assert main(["purge-expired", "--db", str(corpus), "--now", two_days, "--dry-run",
                 "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert [e["item_id"] for e in dry["removed"]] == [soon] and dry["dry_run"]
    with open_store(corpus) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM items WHERE id = ?", (soon,)).fetchone()[0] == 1

    assert main(["purge-expired", "--db", str(corpus), "--now", two_days, "--json"]) == 0
    [removed] = json.loads(capsys.readouterr().out)["removed"]
    assert removed["item_id"] == soon
    assert set(soon_files) <= set(removed["files"]) and str(out / f"{soon}.mp4") not in removed["files"]
    assert not any(os.path.exists(f) for f in removed["files"])
    assert (out / f"{soon}.mp4").is_file()                # a handed-out export is not ours to delete
    with open_store(corpus) as store:
        items = {r[0] for r in store.conn.execute("SELECT id FROM items")}
        assert items == {"src", late, never}
        assert store.conn.execute("SELECT COUNT(*) FROM interactions WHERE item_id = ?",
                                  (soon,)).fetchone()[0] == 0
        assert store.conn.execute("SELECT item_id FROM generations WHERE id = ?",
                                  (child,)).fetchone()[0] is None
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        audit = store.conn.execute("SELECT action, target FROM audit_log ORDER BY id DESC LIMIT 1")
        assert tuple(audit.fetchone()) == ("item.purged", soon)
    assert main(["audit", "verify", "--db", str(corpus)]) == 0
    # a year on, the 30-day item goes too; the one without expiry and the human item stay
    a_year = (now + timedelta(days=365)).isoformat()
    assert main(["purge-expired", "--db", str(corpus), "--now", a_year]) == 0
    assert f"removed {late}" in capsys.readouterr().out
    with open_store(corpus) as store:
        assert {r[0] for r in store.conn.execute("SELECT id FROM items")} == {"src", never}


def test_version_4_corpus_gains_expiry_columns(tmp_path):
    from core.store.database import _statements
    from core.store.schema import MIGRATIONS

    path = tmp_path / "v4.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:4]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute("INSERT INTO items (id, path, source) VALUES ('old-ai', 'x.mp4', 'ai')")
    conn.execute("INSERT INTO generations (id, task, item_id) VALUES ('gen-1', 'clip', 'old-ai')")
    conn.execute("PRAGMA user_version = 4")
    conn.commit()
    conn.close()
    with open_store(path) as store:
        assert store.schema_version == SCHEMA_VERSION >= 5
        assert store.conn.execute("SELECT expires_at FROM items WHERE id = 'old-ai'").fetchone()[0] is None
        assert store.conn.execute("SELECT expires_at FROM generations").fetchone()[0] is None


def test_real_clip_metadata_is_stripped(shared_media, corpus, tmp_path):
    with open_store(corpus) as store:
        gen = approved_generation(store, tagged_clip(tmp_path / "gen.mp4", shared_media / "bikes.mp4"))
        export_generation(store, gen, tmp_path / "out")
    exported = tmp_path / "out" / f"{gen}.mp4"
    assert_only_our_tags(exported, gen)
    assert read_credentials(exported)["valid"]
    shutil.rmtree(tmp_path / "out")
