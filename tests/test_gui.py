"""The real main window, offscreen, driven the way an operator would."""
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
from PySide6.QtCore import QSettings, QThread  # noqa: E402

from core.store import open_store  # noqa: E402
from core.store.corpus import counts  # noqa: E402
from desktop.corpus_model import ItemIdRole  # noqa: E402
from desktop.main_window import MainWindow  # noqa: E402
from desktop.workers import JobRunner  # noqa: E402
from media_factory import pattern_video  # noqa: E402

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def no_leaked_threads(monkeypatch, qapp, tmp_path):
    """Fail any test that leaves a job thread running (napari's rule)."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    started: list[QThread] = []
    original = JobRunner.start

    def recording_start(self, worker):
        result = original(self, worker)
        started.append(self._running[worker])
        return result

    monkeypatch.setattr(JobRunner, "start", recording_start)
    yield
    leaked = [t for t in started if _alive(t)]
    assert not leaked, f"{len(leaked)} job thread(s) still running after the test"


@pytest.fixture
def open_window(qtbot):
    """Make main windows and close them at teardown (closing joins their job threads)."""
    windows = []

    def make(db: Path) -> MainWindow:
        window = MainWindow(db, build_demo_if_empty=False)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


def _alive(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:   # already deleted by Qt: it finished
        return False


@pytest.fixture
def corpus_copy(small_demo, tmp_path) -> Path:
    target = tmp_path / "corpus.db"
    with open_store(small_demo) as store:   # fold the WAL in so that a file copy is complete
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(small_demo, target)
    return target


def test_window_shows_the_corpus_with_thumbnails(qtbot, open_window, corpus_copy):
    window = open_window(corpus_copy)
    window.show()
    assert window.model.rowCount() == 12
    first = window.model.index(0)
    assert first.data(ItemIdRole) == "demo-0001"
    window.model.data(first, role=1)   # DecorationRole: asks for the thumbnail
    qtbot.waitUntil(lambda: window.model.data(first, 1) is not None, timeout=5000)
    assert "12 items" in window.corpus_label.text()


def test_import_runs_as_a_background_job(qtbot, open_window, corpus_copy, tmp_path):
    folder = tmp_path / "new"
    folder.mkdir()
    pattern_video(folder / "extra1.mp4", seconds=1.0)
    (folder / "broken.mp4").write_text("not a video")
    window = open_window(corpus_copy)
    from desktop import jobs

    with qtbot.waitSignal(window.job_ended, timeout=30000) as ended:
        window.start_job("Importing", jobs.import_job(corpus_copy, folder))
    assert ended.args == ["Importing", "done"]
    assert window.model.rowCount() == 14
    with open_store(corpus_copy) as store:
        assert counts(store)["failed"] == 1
    assert window.job_bar.isHidden()


def test_cancel_stops_the_demo_build_promptly(qtbot, open_window, tmp_path):
    db = tmp_path / "empty.db"
    window = open_window(db)
    from desktop import jobs

    window.start_job("Demo", jobs.build_demo_job(db, n_items=400, n_users=10))
    qtbot.waitUntil(lambda: window.job_bar.value() >= 1, timeout=60000)
    with qtbot.waitSignal(window.job_ended, timeout=3000) as ended:
        window.cancel_job()
    assert ended.args == ["Demo", "cancelled"]
    with open_store(db) as store:
        assert counts(store)["items"] == 0   # nothing half-written
    assert window.model.rowCount() == 0


def test_failed_job_shows_a_message_not_a_traceback(qtbot, open_window, corpus_copy, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from desktop import jobs

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[2]))
    window = open_window(corpus_copy)
    with qtbot.waitSignal(window.job_ended, timeout=10000):
        window.start_job("Importing", jobs.import_job(corpus_copy, tmp_path / "nowhere"))
    assert "nowhere: not a folder" in shown[0] and "Traceback" not in shown[0]


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_screenshot_under_xvfb(corpus_copy, tmp_path):
    png = tmp_path / "shot.png"
    env_cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, "main.py",
               "--db", str(corpus_copy), "--screenshot", str(png)]
    result = subprocess.run(env_cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "QT_QPA_PLATFORM": "xcb",
                                 "XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert result.returncode == 0, result.stderr
    import cv2

    image = cv2.imread(str(png))
    assert image is not None and image.shape[0] > 300 and image.shape[1] > 500
    assert image.std() > 20   # thumbnails and text, not a blank window
