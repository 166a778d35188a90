import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_info_and_items_json(small_demo):
    info = run_cli("info", "--db", str(small_demo), "--json")
    assert info.returncode == 0
    counts = {k: v for k, v in json.loads(info.stdout).items()
              if k not in ("demo_seeds", "bundled_models")}   # issue 12 adds these two
    assert counts == {"items": 12, "failed": 0, "no_media": 0, "users": 8,
                      "interactions": counts["interactions"], "indexed": 0}
    assert json.loads(info.stdout)["demo_seeds"] == [3]
    assert json.loads(info.stdout)["bundled_models"]["encoder"]["trained_on_seeds"] == [0]
    items = run_cli("items", "--db", str(small_demo), "--json")
    rows = json.loads(items.stdout)
    assert len(rows) == 12
    assert set(rows[0]) == {"id", "title", "source", "status", "error", "width", "height",
                            "duration_s", "fps", "frames"}
    assert all(row["status"] == "ok" and row["width"] >= 256 for row in rows)


def test_demo_command_builds_a_corpus(tmp_path):
    db = tmp_path / "d.db"
    result = run_cli("demo", "--db", str(db), "--items", "6", "--users", "4", "--seed", "2")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert json.loads(run_cli("info", "--db", str(db), "--json").stdout)["items"] == 6


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    assert main(["import", str(tmp_path / "missing"), "--db", str(tmp_path / "c.db")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing: not a folder" in err[0]


def test_newer_schema_exits_2(tmp_path, capsys):
    from core.store import SCHEMA_VERSION, open_store

    with open_store(tmp_path / "c.db") as store:
        store.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    assert main(["info", "--db", str(tmp_path / "c.db")]) == 2
    assert "newer GeneRec Studio" in capsys.readouterr().err


def test_bad_arguments_exit_2():
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--items", "-3"])
    assert exc.value.code == 2


def test_default_db_honours_generec_home(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GENEREC_HOME", str(tmp_path / "home"))
    assert main(["info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"] == 0
    assert (tmp_path / "home" / "corpus.db").exists()


def test_import_reports_each_failed_file(tmp_path):
    from media_factory import pattern_video

    folder = tmp_path / "v"
    folder.mkdir()
    pattern_video(folder / "good.mp4", seconds=1.0)
    (folder / "bad.mp4").write_text("no video here")
    result = run_cli("import", str(folder), "--db", str(tmp_path / "c.db"), "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["added"] == 1
    failed_lines = [l for l in result.stderr.splitlines() if l.startswith("failed:")]
    assert len(failed_lines) == 1 and "bad.mp4" in failed_lines[0]
