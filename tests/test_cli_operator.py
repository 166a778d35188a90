"""The CLI for the operator (issue 19): long commands show progress on stderr and, with
--json, print exactly one JSON document on stdout; a flood of failures is summarised."""
import json

import pytest

import core.cli.corpus_commands as corpus_commands
from core.cli import main
from core.export.gate import EXPORT_STEPS
from core.progress import TqdmProgress
from test_jobs_review_export import corpus_with_generation  # noqa: F401


@pytest.fixture
def bars(monkeypatch):
    """Every progress bar the CLI opens, with what it was told (the bars themselves are off
    when stderr is not a terminal, as under pytest)."""
    opened = []

    class Recording(TqdmProgress):
        def __init__(self, description="", disable=False):
            super().__init__(description, disable=True)
            self.updates = []
            opened.append(self)

        def on_update(self, done, total, message):
            self.updates.append((done, total))
            super().on_update(done, total, message)

    monkeypatch.setattr(corpus_commands, "TqdmProgress", Recording)
    return opened


def test_check_and_export_print_one_json_document_and_show_progress(
        corpus_with_generation, tmp_path, capfd, bars):  # noqa: F811
    db, gen = corpus_with_generation
    assert main(["check", gen, "--db", str(db), "--json"]) == 0
    out = capfd.readouterr().out        # file-descriptor level: native libraries' output too
    checks = json.loads(out)            # the whole of stdout, nothing before or after
    assert {c["name"] for c in checks} >= {"safety", "privacy", "legal"}
    assert bars[-1]._description == "check" and bars[-1].updates

    assert main(["review", gen, "--db", str(db), "--approve", "--reason", "ok"]) == 0
    capfd.readouterr()
    assert main(["export", gen, "--db", str(db), "--out", str(tmp_path / "x"), "--json"]) == 0
    out = capfd.readouterr().out
    assert json.loads(out)["file"].endswith(f"{gen}.mp4")
    export_bar = bars[-1]
    assert export_bar._description == "export"
    assert export_bar.updates[0] == (0, EXPORT_STEPS)
    assert export_bar.updates[-1] == (EXPORT_STEPS, EXPORT_STEPS)
    assert [d for d, _ in export_bar.updates] == sorted(d for d, _ in export_bar.updates)


def test_a_flood_of_failed_files_is_summarised(tmp_path, capfd):
    videos = tmp_path / "videos"
    videos.mkdir()
    for k in range(corpus_commands.SHOWN_FAILURES + 7):
        (videos / f"broken{k:02d}.mp4").write_bytes(b"not a video")
    db = tmp_path / "c.db"
    assert main(["import", str(videos), "--db", str(db), "--json"]) == 0
    captured = capfd.readouterr()
    summary = json.loads(captured.out)
    assert len(summary["failed"]) == corpus_commands.SHOWN_FAILURES + 7   # all of them in JSON
    lines = captured.err.splitlines()
    assert sum(line.startswith("failed: ") for line in lines) == corpus_commands.SHOWN_FAILURES
    assert any("and 7 more failed" in line for line in lines)
