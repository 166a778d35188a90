"""The operator's app (issue 19), driven through the real main window offscreen: one action
registry behind the menus, the palette and --list-commands; corpora; the review queue with
bulk decisions that the gate refuses; settings; the Evaluation and Training views."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
# torch and open_clip imported here, on the main thread: the windows' warm-up threads then import nothing
# heavy while a test drives the GUI (a torch import in a thread racing shiboken's import hook
# aborted the interpreter on this machine).
pytest.importorskip("torch")
pytest.importorskip("open_clip")
from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel  # noqa: E402

from core.store import open_store  # noqa: E402
from desktop.actions import ACTIONS, VIEWS, commands  # noqa: E402
from test_gui import (_alive, _personalize, corpus_copy, no_leaked_threads,  # noqa: E402,F401
                      open_window)

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parent.parent
# What issue 19's "Done when" names, as registry keys.
REQUIRED = {"corpus.new", "corpus.open", "corpus.recent", "settings", "corpus.import",
            "corpus.index", "train.encoder", "train.video", "train.thumbnail",
            "train.recommender", "analyse.evaluate", "analyse.fairness", "analyse.audit",
            "verify.file", "purge.expired", "review.recheck", "export.selected",
            "generate.personalized", "generate.style", "generate.revise", "generate.create",
            "generate.thumbnail", "review.approve", "review.reject", "review.skip",
            "review.bulk_approve", "review.bulk_reject", "review.compare", "view.palette",
            "review.undo", "review.why"}


def _warm(qtbot, window):
    """Let the window's warm-up (the encoder) end first: nothing then loads in a thread while
    the test drives the window, and closing it joins no slow load."""
    import time

    start = time.monotonic()
    qtbot.waitUntil(lambda: window.is_warm, timeout=180000)
    print(f"warm-up took {time.monotonic() - start:.1f} s")
    return window


def _grid_ids(window) -> list[str]:
    return window.corpus.model.visible_ids()


@pytest.fixture(scope="module")
def second_corpus(tmp_path_factory) -> Path:
    """Another demo corpus, of another size and seed."""
    from core.demo.build import build_demo

    db = tmp_path_factory.mktemp("second") / "second.db"
    with open_store(db) as store:
        build_demo(store, n_items=5, n_users=3, seed=11)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


def test_list_commands_json_names_every_required_action_with_menu_and_shortcut():
    out = subprocess.run([sys.executable, "main.py", "--list-commands", "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    assert listed == commands()
    keys = {row["key"] for row in listed}
    assert REQUIRED <= keys, REQUIRED - keys
    for row in listed:
        assert row["name"] and " → " in row["menu"]
    shortcuts = [row["shortcut"] for row in listed if row["shortcut"]]
    assert len(shortcuts) == len(set(shortcuts)), "two actions share a shortcut"
    by_key = {row["key"]: row for row in listed}
    assert by_key["view.palette"]["shortcut"] == "Ctrl+K"
    assert by_key["corpus.open"]["menu"] == "File → Open corpus…"


def test_menus_and_palette_come_from_the_registry(qtbot, open_window, corpus_copy, monkeypatch):
    window = _warm(qtbot, open_window(corpus_copy))
    window.show()
    in_menus = {}
    for menu_action in window.menuBar().actions():
        for action in menu_action.menu().actions():
            if action.objectName():
                in_menus[action.objectName()] = (menu_action.text().replace("&", ""),
                                                 action.text(), action.shortcut().toString())
    for spec in ACTIONS:
        assert in_menus[spec.key] == (spec.menu, spec.name, spec.shortcut), spec.key
    # Ctrl+K opens the palette; typing filters it; Enter runs the action.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.corpus.view.setFocus()
    qtbot.keyClick(window.corpus.view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: getattr(window, "command_palette", None) is not None
                    and window.command_palette.isVisible(), timeout=5000)
    palette = window.command_palette
    assert len(palette.visible_keys()) == len(ACTIONS)
    qtbot.keyClicks(palette.query, "review queue")
    assert palette.visible_keys()[0] == "review.queue"
    qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window._docks["Review queue"].isVisible(), timeout=5000)
    assert not palette.isVisible()


def test_open_corpus_switch_corpus_and_the_grid_shows_the_new_one(
        qtbot, open_window, corpus_copy, second_corpus, tmp_path, monkeypatch):
    second = tmp_path / "second.db"
    shutil.copy(second_corpus, second)
    window = _warm(qtbot, open_window(corpus_copy))
    window.show()
    first_ids = _grid_ids(window)
    assert len(first_ids) == 12 and "corpus" in window.windowTitle()
    # File → Open corpus… through its registry action, with the file dialog answered.
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *a, **k: (str(second), "GeneRec corpus (*.db)"))
    with qtbot.waitSignal(window.corpus_loaded, timeout=10000) as loaded:
        window.actions_by_key["corpus.open"].trigger()
    assert loaded.args == [5]
    second_ids = _grid_ids(window)
    with open_store(second) as store:
        expected = sorted(r[0] for r in store.conn.execute("SELECT id FROM items"))
    assert sorted(second_ids) == expected and set(second_ids) != set(first_ids)
    assert "second" in window.windowTitle() and window.db_path == second.resolve()
    assert window.users.users.count() == 3
    # Recent corpora: the new one first; choosing the other switches back.
    from desktop.corpora import last_corpus, recent_corpora

    assert recent_corpora()[:2] == [second.resolve(), corpus_copy.resolve()]
    assert last_corpus() == second.resolve()            # what the next start reopens
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: (str(corpus_copy.resolve()), True))
    with qtbot.waitSignal(window.corpus_loaded, timeout=10000):
        window.actions_by_key["corpus.recent"].trigger()
    assert sorted(_grid_ids(window)) == sorted(first_ids)
    # Jobs go to the corpus that is open now.
    with qtbot.waitSignal(window.job_ended, timeout=60000) as ended:
        window.run_audit_verify()
    assert ended.args == ["Verify audit log", "done"]
    with open_store(corpus_copy) as store:
        kinds = [r[0] for r in store.conn.execute("SELECT kind FROM jobs")]
    assert "audit-verify" in kinds


def test_switching_corpus_waits_for_running_jobs(qtbot, open_window, corpus_copy, second_corpus,
                                                 monkeypatch):
    window = _warm(qtbot, open_window(corpus_copy))
    messages = []
    monkeypatch.setattr(window, "notify", lambda title, text, *icon: messages.append(text))
    window.queue.submit("index", {"model": "bundled"})
    assert not window.open_corpus(second_corpus)
    assert "still running" in messages[-1] and window.db_path == corpus_copy.resolve()
    qtbot.waitUntil(lambda: not window.queue.busy, timeout=120000)


def test_new_demo_corpus_with_its_seed(qtbot, open_window, corpus_copy, tmp_path):
    window = _warm(qtbot, open_window(corpus_copy))
    target = tmp_path / "fresh" / "mine.db"
    assert window.create_corpus(target, "demo", {"seed": 4, "n_items": 4, "n_users": 2})
    qtbot.waitUntil(lambda: not window.queue.busy, timeout=180000)
    assert window.db_path == target.resolve() and len(_grid_ids(window)) == 4
    with open_store(target) as store:
        assert store.conn.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 2


def test_bulk_approve_is_refused_for_a_failed_blocking_check(qtbot, open_window, corpus_copy,
                                                             monkeypatch, tmp_path):
    window = _warm(qtbot, open_window(corpus_copy))
    window.show()
    monkeypatch.setattr(window, "notify", lambda *a, **k: None)
    _personalize(qtbot, window)              # a thumbnail and a clip, checked by their job
    window.show_review_queue()
    queue = window.review_queue
    ids = [row["id"] for row in queue.rows]
    assert len(ids) == 2
    with open_store(corpus_copy) as store:
        from core.fidelity.review import check_state

        assert all(check_state(store, gid).current and check_state(store, gid).failing
                   for gid in ids), "the demo's legal check fails these (licence)"
    # Filters: by check state and by task; a saved filter comes back by name.
    queue.checks.setCurrentIndex(queue.checks.findData("passed"))
    assert queue.rows == []
    queue.checks.setCurrentIndex(queue.checks.findData("failed"))
    assert len(queue.rows) == 2
    queue.task.setCurrentIndex(queue.task.findData("clip"))
    assert [r["task"] for r in queue.rows] == ["clip"]
    queue.save_filter("failed clips")
    queue.task.setCurrentIndex(0)
    assert len(queue.rows) == 2
    queue.saved.setCurrentIndex(queue.saved.findText("failed clips"))
    queue.saved.activated.emit(queue.saved.currentIndex())
    assert [r["task"] for r in queue.rows] == ["clip"]
    queue.task.setCurrentIndex(0)
    # Why this result: the user's liked items that conditioned it, with their thumbnails.
    window.review.list.setCurrentRow(0)
    why = window.actions_by_key["review.why"].trigger() or window.why_dialog
    with open_store(corpus_copy) as store:
        liked = store.conn.execute("SELECT COUNT(DISTINCT item_id) FROM interactions WHERE "
                                   "user_id = 'u0001' AND kind = 'like' AND split = 'train'"
                                   ).fetchone()[0]
    assert liked > 0 and why.thumbnails == min(liked, 24)
    why.close()
    # Bulk approve both under one reason: the gate refuses each (no override in bulk).
    queue.select_ids(ids)
    assert sorted(queue.selected_ids()) == sorted(ids)
    queue.reason.setText("looks fine")
    window.actions_by_key["review.bulk_approve"].trigger()
    qtbot.waitUntil(lambda: not window.writer.busy and bool(queue.result.text()), timeout=10000)
    assert queue.result.text().startswith("0 approved, 2 refused")
    assert "legal" in queue.result.text()
    with open_store(corpus_copy) as store:
        statuses = {r[0]: r[1] for r in store.conn.execute("SELECT id, status FROM generations")}
        approvals = store.conn.execute(
            "SELECT COUNT(*) FROM reviews WHERE decision = 'approve'").fetchone()[0]
    assert [statuses[g] for g in ids] == ["pending", "pending"] and approvals == 0
    # Bulk reject goes through, one reason on each, with the reviewer's name.
    QSettings().setValue("review/reviewer", "Dana")
    queue.select_ids(ids)
    queue.reason.setText("licence not cleared")
    queue.reject.click()
    qtbot.waitUntil(lambda: not window.writer.busy and "rejected" in queue.result.text(),
                    timeout=10000)
    with open_store(corpus_copy) as store:
        rows = store.conn.execute("SELECT generation_id, reason, reviewer FROM reviews "
                                  "WHERE decision = 'reject'").fetchall()
    assert sorted(r[0] for r in rows) == sorted(ids)
    assert {(r[1], r[2]) for r in rows} == {("licence not cleared", "Dana")}
    # Undo (Ctrl+Z) takes a decision back until export: pending again, both in the audit log.
    window.state.set_generation(ids[0])
    window.actions_by_key["review.undo"].trigger()
    qtbot.waitUntil(lambda: not window.writer.busy, timeout=10000)
    with open_store(corpus_copy) as store:
        status = store.conn.execute("SELECT status FROM generations WHERE id = ?",
                                    (ids[0],)).fetchone()[0]
        undone = store.conn.execute("SELECT actor FROM audit_log WHERE action = 'review.undo' "
                                    "AND target = ?", (ids[0],)).fetchall()
    assert status == "pending" and [r[0] for r in undone] == ["Dana"]
    # Nothing left to undo; and once exported, never.
    from core.errors import InputError
    from core.export.gate import export_generation
    from core.fidelity.review import record_decision
    from core.review_queue import undo_decision

    with open_store(corpus_copy) as store:
        with pytest.raises(InputError, match="no decision to undo"):
            undo_decision(store, ids[0])
        record_decision(store, ids[1], "approve", "ok", "licence cleared by hand", "Dana")
        export_generation(store, ids[1], tmp_path / "out")
        with pytest.raises(InputError, match="exported"):
            undo_decision(store, ids[1])


def test_settings_are_stored_audited_and_reset(qtbot, open_window, corpus_copy):
    window = _warm(qtbot, open_window(corpus_copy))
    dialog = window.open_settings()
    dialog.fields["review/reviewer"].setText("Ines")
    dialog.fields["tasks/steps"].setValue(12)
    dialog.fields["tasks/sampler"].setCurrentText("dpm")
    dialog.accept()
    qtbot.waitUntil(lambda: not window.writer.busy, timeout=10000)
    assert window.reviewer == "Ines"
    from desktop import settings

    assert settings.value("tasks/steps") == 12 and settings.task_defaults()["sampler"] == "dpm"
    with open_store(corpus_copy) as store:
        audited = {r[0] for r in store.conn.execute(
            "SELECT target FROM audit_log WHERE action = 'settings.changed'")}
    assert {"review/reviewer", "tasks/steps", "tasks/sampler"} <= audited
    dialog = window.open_settings()
    assert dialog.fields["tasks/steps"].value() == 12
    dialog.reset_button.click()
    assert dialog.values()["tasks/steps"] == 0 and dialog.values()["review/reviewer"] == ""
    dialog.accept()
    assert settings.value("tasks/sampler") == "ddim"
    qtbot.waitUntil(lambda: not window.writer.busy, timeout=10000)


def test_model_manager_lists_and_verifies_local_weights(qtbot, open_window, corpus_copy):
    window = _warm(qtbot, open_window(corpus_copy))
    with qtbot.waitSignal(window.job_ended, timeout=120000):
        window.index_frames()
    dialog = window.open_settings()
    dialog.verify_button.click()
    qtbot.waitUntil(lambda: dialog.verify_button.isEnabled()
                    and dialog.models.rowCount() > 0, timeout=60000)
    texts = [dialog.models.item(r, 3).text() for r in range(dialog.models.rowCount())]
    assert any(t.startswith("verified") for t in texts), texts
    assert "every recorded checkpoint verified" in dialog.models_status.text()
    dialog.reject()


def test_fairness_report_is_charted_and_the_training_view_draws_loss(qtbot, open_window,
                                                                     corpus_copy):
    window = _warm(qtbot, open_window(corpus_copy))
    with qtbot.waitSignal(window.job_ended, timeout=60000) as ended:
        window.run_fairness()
    assert ended.args == ["Fairness report", "done"]
    assert window._docks["Evaluation"].isVisible()
    from PySide6.QtCharts import QChartView

    assert window.analysis.fairness.widget().findChildren(QChartView)
    # Verify a file: a human-made demo video carries no watermark; the dialog says so.
    with open_store(corpus_copy) as store:
        video = store.conn.execute("SELECT path FROM items WHERE path IS NOT NULL LIMIT 1"
                                   ).fetchone()[0]
    dialog = window.verify_file_dialog()
    with qtbot.waitSignal(window.job_ended, timeout=120000) as ended:
        dialog.request(video)
    assert ended.args == ["Verify a file", "done"]
    assert "no watermark found" in dialog.summary.text() and video in dialog.details.toPlainText()
    dialog.close()
    # Purge expired starts with a dry run; with nothing expired it says so and removes nothing.
    messages = []
    window.notify = lambda title, text, *icon: messages.append(text)
    with qtbot.waitSignal(window.job_ended, timeout=60000) as ended:
        window.actions_by_key["purge.expired"].trigger()
    assert ended.args == ["Purge expired AI items", "done"] and "Nothing has expired" in messages[-1]
    # A training job's progress messages become live loss points.
    view = window.training
    from desktop.job_queue import JobView

    for step, loss in ((1, 0.9), (2, 0.7), (3, 0.5)):
        view.on_progress(JobView("job-x", "train-clip", "Train encoder", {}, "running", step, 3,
                                 f"loss {loss:.3f}"))
    assert view.chart.point_count() == 3


def test_no_clipped_labels_at_1280x800(qtbot, open_window, corpus_copy):
    window = _warm(qtbot, open_window(corpus_copy))
    window.resize(1280, 800)
    window.show()
    widgets = [window, window.open_settings()]
    for view in ("review-queue", "evaluation", "training"):
        widgets.append(window.show_view(view))
    qtbot.wait(50)
    clipped = []
    for top in widgets:
        for label in top.findChildren(QLabel):
            if label.isVisible() and not label.wordWrap() and label.text() and \
                    label.width() < label.minimumSizeHint().width():
                clipped.append(label.text()[:40])
    assert not clipped, clipped


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run not installed")
@pytest.mark.parametrize("view", VIEWS)
def test_screenshot_of_each_view_is_not_blank(view, corpus_copy, tmp_path):
    from PySide6.QtGui import QImage

    png = tmp_path / f"{view}.png"
    out = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable,
                          "main.py", "--db", str(corpus_copy), "--screenshot", str(png),
                          "--show", view], cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    image = QImage(str(png))
    assert image.width() > 300 and image.height() > 200
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 8, f"{view}: the screenshot is blank"



def test_batch_dialog_queues_one_job_whose_generations_reach_review(qtbot, open_window,
                                                                     corpus_copy, monkeypatch):
    """Generate → Batch: the dialog's options become a batch job in the Jobs panel; its
    generations, checked, appear in the review queue, and its summary is shown."""
    from desktop.operator_dialogs import BatchDialog

    window = _warm(qtbot, open_window(corpus_copy))
    window.show()
    notes = []
    monkeypatch.setattr(window, "notify", lambda title, text, *a, **k: notes.append((title, text)))
    window.users.select("u0001")
    window.corpus.select_item("demo-0002")
    dialog = BatchDialog(window.state.user_id, window.state.item_id, window)
    dialog.task.setCurrentText("style")
    assert dialog.style.isEnabled()
    dialog.style.setCurrentText("pencil_sketch")
    assert dialog.params("bundled")["users"] is None      # default: every user with a like
    dialog.users.setCurrentIndex(1)                    # the selected user and item
    dialog.items.setCurrentIndex(1)
    params = dialog.params(window.state.encoder)
    assert (params["users"], params["items"], params["ray"]) == (["u0001"], ["demo-0002"], None)
    with qtbot.waitSignal(window.job_ended, timeout=300000) as ended:
        window.queue.submit("batch", params)
    assert ended.args == ["Batch generation", "done"]
    title, text = notes[-1]
    assert title == "Batch generation" and text.startswith("style: 1 made and checked, 0 already made")
    window.show_review_queue()
    assert [r["item_id"] for r in window.review_queue.rows if r["task"] == "style"] == ["demo-0002"]
