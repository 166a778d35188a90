"""The diffusion tasks in the main window, offscreen: revise from the instruction box with
per-block previews and the result beside its source, a generated thumbnail, and a create job
cancelled between denoising steps. Tiny models trained in the fixture keep it fast."""
import shutil
import time

import pytest

pytest.importorskip("PySide6")
from PySide6.QtCore import QObject  # noqa: E402
from PySide6.QtGui import QAction  # noqa: E402
from PySide6.QtWidgets import QAbstractButton  # noqa: E402

from core.paths import media_dir  # noqa: E402
from core.store import open_store  # noqa: E402
from desktop.main_window import MainWindow  # noqa: E402
from test_gui import no_leaked_threads  # noqa: E402,F401 - autouse: no job thread outlives a test

pytestmark = pytest.mark.gui
USER, ITEM = "u0001", "demo-0002"


@pytest.fixture(scope="module")
def trained_corpus(small_demo, tmp_path_factory):
    """The small demo, indexed, with tiny video and thumbnail models as the corpus's own."""
    from core.diffusion.models import train_thumbnail_model, train_video_model
    from core.diffusion.trainer import TrainSettings
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus
    from test_diffusion import TINY_THUMB, TINY_VIDEO

    db = tmp_path_factory.mktemp("gui_diffusion") / "corpus.db"
    _copy_db(small_demo, db)
    models = media_dir(db) / "models"
    settings = TrainSettings(steps=2, batch=2, checkpoint_every=2)
    with open_store(db) as store:
        index_corpus(store, load_encoder("bundled"), n_frames=8)
        train_video_model(store, models, settings, config=TINY_VIDEO)
        train_thumbnail_model(store, models, settings, config=TINY_THUMB)
    return db


@pytest.fixture
def corpus(trained_corpus, tmp_path):
    db = tmp_path / "corpus.db"
    _copy_db(trained_corpus, db)
    shutil.copytree(media_dir(trained_corpus) / "models", media_dir(db) / "models")
    return db


@pytest.fixture
def window(qtbot, corpus):
    """The main window on the corpus, shown and warmed up; closing it joins its job threads."""
    window = MainWindow(corpus, build_demo_if_empty=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.is_warm, timeout=60000)
    yield window
    window.close()


def _copy_db(source, target):
    with open_store(source) as store:     # fold the WAL in so that a file copy is complete
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(source, target)


class PreviewRecorder(QObject):
    """What the preview showed at each per-block preview signal."""

    def __init__(self, window):
        super().__init__()
        self.window, self.seen = window, []
        window.queue.previewed.connect(self.record)

    def record(self, job_id, frames, caption):
        clip = self.window.preview.personal_clip
        self.seen.append({"kind": self.window.queue.jobs[job_id].kind, "shape": frames.shape,
                          "caption": caption, "shown": clip.caption, "loop": len(clip.loop),
                          "source_visible": self.window.preview.original_video.isVisible(),
                          "at": time.monotonic()})


def _latest_generation(db, task):
    with open_store(db) as store:
        from core.store.corpus import list_generations

        return next(g for g in list_generations(store, USER) if g["task"] == task)


def _checked(db, task) -> bool:
    """The generation job ran every fidelity check itself (no separate check job follows)."""
    from core.fidelity.review import check_state

    with open_store(db) as store:
        return check_state(store, _latest_generation(db, task)["id"]).current


def _wait_for(qtbot, window, title):
    with qtbot.waitSignal(window.job_ended, timeout=120000,
                          check_params_cb=lambda t, _state: t == title) as ended:
        pass
    return ended.args[1]


def test_instruction_revises_with_block_previews_then_plays_beside_the_source(
        qtbot, window, corpus):
    recorder = PreviewRecorder(window)
    window.users.select(USER)
    window.corpus.select_item(ITEM)
    window.users.steps.setValue(2)
    window.users.instruction.setText("make it brighter")
    window.users.send.click()
    assert _wait_for(qtbot, window, "Instruction") == "done"
    assert "revise" in window.users.answer.text()
    assert _wait_for(qtbot, window, "Revise (diffusion)") == "done"
    blocks = [s for s in recorder.seen if s["kind"] == "revise"]
    assert blocks and blocks[0]["caption"].startswith("block 1 of ")
    assert blocks[0]["shape"][1:] == (64, 64, 3) and blocks[0]["loop"] == blocks[0]["shape"][0]
    assert blocks[0]["shown"].startswith("Revising") and blocks[0]["source_visible"]
    generation = _latest_generation(corpus, "revise")
    assert generation["params"]["instruction"] == "make it brighter"
    assert generation["params"]["steps"] == 2 and generation["params"]["signal"] == "User_Hist"
    preview = window.preview
    assert preview.personal_clip.caption == "Revision: User_Hist, strength 1.0"
    # the source's cover must not stand in for the revision before it plays
    assert preview.personal_clip.poster.isNull()
    assert preview.original_video.isVisible()
    if preview.personal_clip.player is not None:
        assert preview.personal_clip.player.source().toLocalFile() == generation["output_path"]
        assert preview.original_video.player.source().toLocalFile().endswith(".mp4")
    assert "revise (User_Hist" in preview.header.text()
    assert _checked(corpus, "revise")
    assert any("revise" in window.review.list.item(r).text()
               for r in range(window.review.list.count()))

    window.users.thumbnail_button.click()
    assert _wait_for(qtbot, window, "Generate thumbnail (diffusion)") == "done"
    assert preview.personal_thumb.caption == "Generated thumbnail (diffusion)"
    assert not preview.personal_thumb.poster.isNull()
    assert _checked(corpus, "thumbnail-gen")

    window.users.instruction.setText("a blue square in the snow")
    window.users.create_button.click()
    assert _wait_for(qtbot, window, "Create video (diffusion)") == "done"
    created = _latest_generation(corpus, "create")
    assert created["item_id"] is None and created["params"]["instruction"] == "a blue square in the snow"
    assert preview.personal_clip.caption == "Created video" and "Created" in preview.header.text()
    assert not preview.original_video.isVisible()                       # a creation plays alone
    assert _checked(corpus, "create")
    window.corpus.select_item("demo-0003")                              # back to source beside result
    assert preview.original_video.isVisible()


def test_cancel_stops_a_create_job_between_denoising_steps(qtbot, window, corpus):
    recorder = PreviewRecorder(window)
    window.users.select(USER)
    window.users.steps.setValue(60)          # 8 blocks of 60 steps: many seconds of work
    window.users.instruction.setText("a red circle in a forest")
    create = next(a for a in window.findChildren(QAction) if a.shortcut().toString() == "Ctrl+Shift+N")
    create.trigger()
    qtbot.waitUntil(lambda: bool(recorder.seen), timeout=120000)     # block 1 done: denoising runs
    assert recorder.seen[0]["shown"].startswith("Creating") and not recorder.seen[0]["source_visible"]
    job_id = window.queue.running_id
    blocks_before = len(recorder.seen)
    # the guard is generous: a loaded CI machine stretches one step to over a second, and the
    # latency itself is no unit test's business
    with qtbot.waitSignal(window.job_ended, timeout=60000) as ended:
        window.jobs.table.selectRow(window.jobs.model.order.index(job_id))
        window.jobs.cancel_selected()
    assert ended.args == ["Create video (diffusion)", "cancelled"]
    # between denoising steps: the block in progress (60 steps, seconds of work) never finished
    assert len(recorder.seen) == blocks_before < 8
    with open_store(corpus) as store:
        assert store.conn.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()[0] \
            == "cancelled"
        assert store.conn.execute("SELECT COUNT(*) FROM generations WHERE task = 'create'"
                                  ).fetchone()[0] == 0
    assert window.preview.personal_clip.note.endswith("cancelled")


def test_signal_choices_and_shortcuts(window):
    from core.diffusion.service import SIGNALS
    from desktop.users_dock import SIGNAL_CHOICES

    assert tuple(name for name, _label in SIGNAL_CHOICES) == SIGNALS
    shortcuts = [a.shortcut().toString() for a in window.findChildren(QAction)]
    shortcuts += [b.shortcut().toString() for b in window.findChildren(QAbstractButton)]
    shortcuts = [s for s in shortcuts if s]
    assert {"Ctrl+Shift+R", "Ctrl+Shift+N", "Ctrl+Shift+T"} <= set(shortcuts)
    assert len(shortcuts) == len(set(shortcuts)), sorted(shortcuts)


@pytest.fixture
def real_clip_corpus(small_demo, shared_media, tmp_path):
    """The small demo plus a real clip (bikes.mp4), indexed; only the bundled models."""
    from test_domain import with_real_clip

    return with_real_clip(small_demo, shared_media, tmp_path)


def test_out_of_domain_revision_is_announced_before_it_runs_and_on_its_card(qtbot, real_clip_corpus):
    """Issue 12: revising a real clip with the demo-trained model asks first (Cancel queues
    nothing, Run anyway queues the job) and the review card carries the warning; a demo item is
    queued at once."""
    from PySide6.QtWidgets import QLabel, QMessageBox

    window = MainWindow(real_clip_corpus, build_demo_if_empty=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.is_warm, timeout=60000)
    window.users.select(USER)
    window.users.steps.setValue(1)
    window.corpus.select_item("bikes")
    with qtbot.waitSignal(window.preflight.warned, timeout=60000) as warned:
        window.request_revision()
    assert warned.args[0] == "revise" and "results on these videos are unreliable" in warned.args[1]
    assert "generec train-video-model" in window.preflight.box.text()
    assert not window.queue.jobs                                   # asked before anything runs
    window.preflight.box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(100)
    assert not window.queue.jobs

    with qtbot.waitSignal(window.preflight.warned, timeout=60000):
        window.request_revision()
    run = next(b for b in window.preflight.box.buttons() if b.text() == "Run anyway")
    with qtbot.waitSignal(window.job_ended, timeout=180000) as ended:
        run.click()
    assert ended.args == ["Revise (diffusion)", "done"]
    generation = _latest_generation(real_clip_corpus, "revise")
    assert generation["item_id"] == "bikes" and not generation["params"]["domain"]["in_domain"]
    assert generation["params"]["source_guidance"] == 2.0      # the Settings' task default
    window.review.generation_selected.emit(generation["id"])
    qtbot.waitUntil(lambda: any("results on these videos are unreliable" in label.text()
                                for label in window.review.cards_area.findChildren(QLabel)),
                    timeout=10000)

    jobs_before = len(window.queue.jobs)
    window.corpus.select_item(ITEM)
    with qtbot.waitSignal(window.queue.changed, timeout=60000):   # in domain: queued, no question
        window.request_revision()
    assert len(window.queue.jobs) == jobs_before + 1 and window.preflight.box is None
    window.queue.cancel(window.queue.running_id or list(window.queue.jobs)[-1])
    window.close()
