"""The real main window, offscreen, driven the way an operator would."""
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
from PySide6.QtCore import QSettings, Qt, QThread  # noqa: E402

from core.corpus.browser import ItemColumns  # noqa: E402
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
        if worker in self._running:          # a runner that was shut down starts nothing
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
    with open_store(corpus_copy) as store:          # the grid lists titles alphabetically
        titles = sorted((r[1].lower(), r[0]) for r in store.conn.execute("SELECT id, title FROM items"))
    assert first.data(ItemIdRole) == titles[0][1]
    window.model.data(first, role=1)   # DecorationRole: asks for the thumbnail
    qtbot.waitUntil(lambda: window.model.data(first, 1) is not None, timeout=5000)
    assert "12 items" in window.corpus_label.text()


def test_a_large_corpus_loads_and_filters_off_the_gui_thread(qtbot, open_window, corpus_copy,
                                                              monkeypatch):
    """Above INLINE_ITEMS the corpus is listed and filtered in workers (a million items take
    seconds); the grid says it is loading, only the newest filter's answer is shown, and the
    selected item survives a filter that keeps it."""
    import desktop.corpus_dock
    import desktop.main_window

    monkeypatch.setattr(desktop.main_window, "INLINE_ITEMS", 0)
    monkeypatch.setattr(desktop.corpus_dock, "INLINE_ITEMS", 0)
    window = open_window(corpus_copy)
    assert window.model.rowCount() == 0 and window.view.empty_text == "Loading the corpus…"
    with qtbot.waitSignal(window.corpus_loaded, timeout=30000) as loaded:
        pass
    qtbot.waitUntil(lambda: window.model.rowCount() == 12, timeout=10000)
    assert loaded.args == [12] and "12 items" in window.corpus_label.text()
    assert window.view.empty_text != "Loading the corpus…"
    window.corpus.select_item("demo-0006")
    dock = window.corpus
    for text in ("r", "ri", "rin", "ring", "rings in"):     # typed quickly: five questions
        dock.search.setText(text)
    with qtbot.waitSignal(dock.rows_shown, timeout=10000) as shown:
        pass
    qtbot.wait(300)                                        # older answers arrive and are dropped
    assert shown.args == [2] and window.model.visible_ids() == ["demo-0011", "demo-0010"]
    with qtbot.waitSignal(dock.rows_shown, timeout=10000):
        dock.search.setText("crosses")
    assert window.model.visible_ids() == ["demo-0006", "demo-0004"]
    assert dock.current_item() == "demo-0006"


def test_import_runs_as_a_background_job(qtbot, open_window, corpus_copy, tmp_path):
    folder = tmp_path / "new"
    folder.mkdir()
    pattern_video(folder / "extra1.mp4", seconds=1.0)
    (folder / "broken.mp4").write_text("not a video")
    window = open_window(corpus_copy)
    with qtbot.waitSignal(window.job_ended, timeout=30000) as ended:
        window.queue.submit("import", {"folder": str(folder)})
    assert ended.args == ["Import videos", "done"]
    assert window.model.rowCount() == 14
    with open_store(corpus_copy) as store:
        assert counts(store)["failed"] == 1
    assert window.job_bar.isHidden()


def test_cancel_stops_the_demo_build_promptly(qtbot, open_window, tmp_path):
    db = tmp_path / "empty.db"
    window = open_window(db)
    window.queue.submit("demo", {"n_items": 400, "n_users": 10})
    qtbot.waitUntil(lambda: window.job_bar.value() >= 1, timeout=60000)
    # the guard is generous (a loaded machine is slow); how soon a cancel lands is measured by
    # where the job stopped, not by a clock
    with qtbot.waitSignal(window.job_ended, timeout=60000) as ended:
        window.cancel_job()
    assert ended.args == ["Build demo corpus", "cancelled"]
    with open_store(db) as store:
        assert counts(store)["items"] == 0   # nothing half-written
        state, done, total = store.conn.execute("SELECT state, done, total FROM jobs").fetchone()
        assert state == "cancelled" and done < total / 2    # stopped early, not rolled back at the end
    assert window.model.rowCount() == 0


def test_failed_job_shows_a_message_not_a_traceback(qtbot, open_window, corpus_copy, tmp_path,
                                                    monkeypatch):
    window = open_window(corpus_copy)
    shown = []
    monkeypatch.setattr(window, "notify", lambda title, text, *icon: shown.append(text))
    with qtbot.waitSignal(window.job_ended, timeout=10000):
        window.queue.submit("import", {"folder": str(tmp_path / "nowhere")})
    assert "nowhere: not a folder" in shown[0] and "Traceback" not in shown[0]
    job = window.jobs.model.job_at(0)
    assert job.state == "failed" and "not a folder" in job.error


def test_jobs_left_running_are_marked_interrupted_at_start(qtbot, open_window, corpus_copy):
    from core.jobs import create_job

    with open_store(corpus_copy) as store:
        job = create_job(store, "index", {"model": "bundled"})
        store.conn.execute("UPDATE jobs SET state = 'running' WHERE id = ?", (job,))
    window = open_window(corpus_copy)
    assert window.queue.jobs[job].state == "interrupted"
    assert window.jobs.model.data(window.jobs.model.index(0, 1)) == "interrupted"
    with qtbot.waitSignal(window.job_ended, timeout=120000) as ended:
        window.jobs.table.selectRow(0)
        window.jobs.retry_selected()
    assert ended.args[1] == "done"


def _personalize(qtbot, window, user="u0001", item="demo-0002"):
    """Personalize, then wait for the fidelity checks that follow every generation."""
    window.users.select(user)
    window.corpus.select_item(item)
    assert (window.state.user_id, window.state.item_id) == (user, item)
    with qtbot.waitSignal(window.preview_shown, timeout=120000):
        window.request_preview()
    qtbot.waitUntil(lambda: not window.queue.busy, timeout=120000)


def test_select_user_personalize_and_see_the_preview(qtbot, open_window, corpus_copy):
    window = open_window(corpus_copy)
    window.show()
    window.users.select("u0001")
    assert "likes" in window.users.summary.text() and window.users.history.count() > 0
    _personalize(qtbot, window)
    header = window.preview.header.text()
    assert "thumbnail cosine" in header and "clip cosine" in header
    assert not window.preview.personal_thumb.poster.isNull()
    assert window.preview.timeline.clip is not None
    start, end = window.preview.timeline.clip
    assert 0 <= start < end <= window.preview.timeline.duration + 1e-6
    assert window.review.list.count() == 2
    cards = [window.review.cards.itemAt(k).widget() for k in range(window.review.cards.count())]
    assert {c.status for c in cards} - {None}, "the fidelity checks ran and show their results"


def test_review_by_keyboard_and_export_gate(qtbot, open_window, corpus_copy, tmp_path,
                                            monkeypatch):
    window = open_window(corpus_copy)
    window.show()
    _personalize(qtbot, window)
    messages, overrides = [], []
    monkeypatch.setattr(window, "notify", lambda title, text, *icon: messages.append(text))
    from PySide6.QtWidgets import QInputDialog

    def answer(parent, title, label):
        overrides.append(label)
        return "cleared with the creator", True

    monkeypatch.setattr(QInputDialog, "getText", answer)   # asked when a blocking check failed
    review = window.review
    review.list.setCurrentRow(0)
    first = review.current()
    window.export_generation(first)                       # still pending: refused
    assert "not approved" in messages[-1]
    review.list.setFocus()
    qtbot.keyClick(review.list, Qt.Key.Key_A)       # recorded by the database writer, off the GUI thread
    qtbot.waitUntil(lambda: not window.writer.busy and review.current() != first, timeout=10000)
    second = review.current()
    review.reason.setText("wrong segment")
    review.list.setFocus()
    qtbot.keyClick(review.list, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: not window.writer.busy, timeout=10000)
    with open_store(corpus_copy) as store:
        status = dict(store.conn.execute("SELECT id, status FROM generations WHERE id IN (?, ?)",
                                         (first, second)).fetchall())
        decisions = [r[0] for r in store.conn.execute(
            "SELECT action FROM audit_log WHERE action LIKE 'review.%' ORDER BY id")]
    assert status == {first: "approved", second: "rejected"}
    assert decisions == ["review.approve", "review.reject"]
    row_of = {review.list.item(r).data(Qt.ItemDataRole.UserRole): r for r in range(review.list.count())}
    review.list.setCurrentRow(row_of[first])
    qtbot.keyClick(review.list, Qt.Key.Key_J)
    assert review.list.currentRow() == row_of[first] + 1 or row_of[first] == review.list.count() - 1
    qtbot.keyClick(review.list, Qt.Key.Key_K)
    assert review.list.currentRow() <= row_of[first]


def test_gui_stays_responsive_while_a_job_runs(qtbot, open_window, corpus_copy):
    """A heartbeat on the GUI thread keeps beating while indexing runs in a worker (after the
    background warm-up that loads torch, as in the app)."""
    from PySide6.QtCore import QTimer

    window = open_window(corpus_copy)
    qtbot.waitUntil(lambda: window.is_warm, timeout=60000)
    gaps, last = [], [time.monotonic()]

    def beat():
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(beat)
    timer.start(10)
    with qtbot.waitSignal(window.job_ended, timeout=120000) as ended:
        window.queue.submit("index", {"model": "bundled"})
    timer.stop()
    assert ended.args[1] == "done" and len(gaps) > 20
    print(f"longest GUI stall while indexing: {max(gaps) * 1000:.0f} ms")
    assert max(gaps) < 0.1


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


def test_side_by_side_playback_stays_in_step(qtbot, open_window, corpus_copy):
    from desktop.video_view import QMediaPlayer

    if QMediaPlayer is None:
        pytest.skip("QtMultimedia cannot load here")
    window = open_window(corpus_copy)
    window.show()
    _personalize(qtbot, window)
    clip, original = window.preview.personal_clip.player, window.preview.original_video.player
    offset = window.preview.playback.offset_ms
    window.preview.play.click()
    qtbot.waitUntil(lambda: clip.position() > 300, timeout=10000)
    playing = QMediaPlayer.PlaybackState.PlayingState
    assert clip.playbackState() == playing and original.playbackState() == playing
    assert abs(original.position() - (clip.position() + offset)) < 400
    assert window.preview.timeline.position is not None
    window.preview.play.click()
    assert clip.playbackState() != playing and original.playbackState() != playing


def test_item_models_keep_reference_counts(qapp, corpus_copy):
    """Python overrides of data() return None for most roles; a Qt binding that miscounts
    those references aborts the interpreter after a few thousand calls (PySide6 6.12.0)."""
    from desktop.corpus_dock import CorpusDock

    with open_store(corpus_copy) as store:
        from core.store.corpus import list_items

        items = list_items(store, extra=("thumbnail_path", "licence")) * 200   # 2,400 rows
    dock = CorpusDock()
    dock.set_columns(ItemColumns.from_items(
        [{**item, "id": f"{item['id']}-{k}"} for k, item in enumerate(items)]))
    before = sys.getrefcount(None)
    for row in range(dock.model.rowCount()):
        dock.model.index(row, 0).data(Qt.ItemDataRole.UserRole + 50)   # no such role: None
    dock.set_query(text="circles")
    assert abs(sys.getrefcount(None) - before) < 100
    dock.deleteLater()


def test_a_corpus_emptied_by_a_reload_shows_no_rows(qapp):
    from desktop.corpus_dock import CorpusDock

    dock = CorpusDock()
    dock.set_columns(ItemColumns.from_items([{"id": "a", "title": "A"}, {"id": "b", "title": "B"}]))
    assert dock.model.visible_ids() == ["a", "b"]
    dock.set_columns(ItemColumns.from_items([]))    # empty columns are falsy: not "no change"
    assert dock.model.rowCount() == 0
    dock.deleteLater()


def test_train_recommender_job_and_sort_by_prediction(qtbot, open_window, corpus_copy, monkeypatch):
    window = open_window(corpus_copy)
    messages = []
    monkeypatch.setattr(window, "notify", lambda title, text, *icon: messages.append(text))
    window.users.select("u0001")
    with qtbot.waitSignal(window.job_ended, timeout=120000) as ended:
        window.queue.submit("index", {"model": "bundled"})
    with qtbot.waitSignal(window.job_ended, timeout=120000) as ended:
        window.train_recommender()
    assert ended.args == ["Train recommender", "done"] and "MMGCN" in messages[-1]
    window.corpus.sort.setCurrentIndex(1)
    qtbot.waitUntil(lambda: window.corpus.scores is not None, timeout=30000)
    scores = window.corpus.scores.as_dict()
    shown = window.corpus.model.visible_ids()
    assert [scores[i] for i in shown] == sorted(scores.values(), reverse=True)


def test_instruction_box_restyles_the_selected_item(qtbot, open_window, corpus_copy):
    window = open_window(corpus_copy)
    window.show()
    window.users.select("u0001")
    window.corpus.select_item("demo-0003")
    window.users.instruction.setText("make this one look like a comic book")
    with qtbot.waitSignal(window.job_ended, timeout=60000) as ended:
        window.users.send.click()
    assert ended.args == ["Instruction", "done"]
    assert "style" in window.users.answer.text() and "comic" in window.users.answer.text()
    with qtbot.waitSignal(window.job_ended, timeout=120000) as ended:
        pass                                              # the style job it started
    assert ended.args == ["Style transfer", "done"]
    assert window.preview.personal_clip.caption == "Style: Comic"
    assert any("style" in window.review.list.item(r).text() for r in range(window.review.list.count()))
