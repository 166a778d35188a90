"""The operator's commands beyond the main loop (issue 19), as a mixin of MainWindow: menus
built from the action registry, the command palette, corpora, settings, the review queue with
bulk decisions, trainings, evaluation, fairness, audit verify, verify a file and purge expired.
Writes go through `self.writer` or `self.queue`; the work is in core/."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from core.errors import GenerecError
from core.paths import data_home
from core.review_queue import bulk_decide, queue_rows
from core.review_queue import undo_decision as undo_review
from core.review_queue import why_this_result as explain_generation
from core.store import open_store
from core.editor.generations import get_generation
from desktop import settings as app_settings
from desktop.actions import ACTIONS, MENU_ORDER, VIEWS
from desktop.analysis_view import AnalysisView
from desktop.corpora import NewCorpusDialog, recent_corpora, remember_corpus
from desktop.operator_dialogs import (BatchDialog, CompareDialog, TrainingDialog, VerifyFileDialog,
                                     WhyDialog)
from desktop.ranking_view import RankingView
from desktop.review_queue import ReviewQueue
from desktop.training_view import TRAINING_KINDS, TrainingView
from desktop.workers import JobWorker

TRAINING_FIELDS = {
    "train-clip": ("Train encoder", {"steps": ("Steps", 2000, 1, 10**7),
                                     "seed": ("Seed", 0, 0, 2**31 - 1)}),
    "train-video-model": ("Train video model", {
        "steps": ("Steps", 3000, 1, 10**7), "batch": ("Batch", 12, 1, 4096),
        "lr": ("Learning rate", 5e-4, 1e-7, 1.0), "seed": ("Seed", 0, 0, 2**31 - 1)}),
    "train-thumbnail-model": ("Train thumbnail model", {
        "steps": ("Steps", 3000, 1, 10**7), "batch": ("Batch", 12, 1, 4096),
        "lr": ("Learning rate", 5e-4, 1e-7, 1.0), "seed": ("Seed", 0, 0, 2**31 - 1)}),
    "train-recommender": ("Train recommender", {"epochs": ("Epochs", 200, 1, 100000)}),
}


class OperatorActions:
    """Mixed into MainWindow, which provides state, queue, writer, review, notify, reload."""

    # -- menus and palette -----------------------------------------------------------------
    def build_operator_docks(self) -> None:
        self.review_queue = ReviewQueue(self)
        self.analysis = AnalysisView(self)
        self.training = TrainingView(self)
        self.ranking = RankingView(self)
        for title, widget in (("Review queue", self.review_queue), ("Evaluation", self.analysis),
                              ("Training", self.training), ("Ranking", self.ranking)):
            dock = self._dock(title, widget, Qt.DockWidgetArea.BottomDockWidgetArea)
            dock.setFloating(True)
            dock.resize(1000, 620)
            dock.hide()
            self._docks[title] = dock
        self.review_queue.filter_changed.connect(self.refresh_review_queue)
        self.review_queue.bulk_requested.connect(self.bulk_decide)
        self.review_queue.compare_requested.connect(self.compare)
        self.review_queue.generation_selected.connect(self.state.set_generation)
        self.state.user_changed.connect(self._refresh_ranking_if_shown)
        self.queue.changed.connect(self._on_operator_job_changed)
        self.queue.reset.connect(self._show_last_reports)
        self._show_last_reports()

    def build_menus_from_registry(self) -> None:
        """Menus from `desktop.actions.ACTIONS`: the same list the palette and --list-commands use."""
        self.actions_by_key: dict[str, QAction] = {}
        menus = {name: self.menuBar().addMenu(f"&{name}") for name in MENU_ORDER}
        for spec in ACTIONS:
            menu = menus[spec.menu]
            if spec.separator_before:
                menu.addSeparator()
            action = QAction(spec.name, self)
            action.setObjectName(spec.key)
            if spec.shortcut:
                action.setShortcut(QKeySequence(spec.shortcut))
                if spec.context == "review":   # the Review panel's own keys; shown, not bound
                    action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(getattr(self, spec.slot))
            menu.addAction(action)
            self.addAction(action)
            self.actions_by_key[spec.key] = action
            if spec.key == "corpus.recent":
                self.recent_menu = menu.addMenu("Recent corpora")
                self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        menus["View"].addSeparator()
        for dock in self._docks.values():
            menus["View"].addAction(dock.toggleViewAction())
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("toolbar_main")
        for key in ("corpus.import", "corpus.index", "generate.personalized", "export.selected",
                    "review.queue", "view.palette"):
            toolbar.addAction(self.actions_by_key[key])

    def open_palette(self) -> None:
        from desktop.palette import CommandPalette

        self.command_palette = CommandPalette(self.actions_by_key, self)
        self.command_palette.open()

    def focus_corpus_filter(self) -> None:
        self.corpus.search.setFocus()

    # -- corpora ---------------------------------------------------------------------------
    def open_corpus(self, path: Path) -> bool:
        """Switch the window to another corpus database (created if new)."""
        path = Path(path).expanduser().resolve()
        if self.queue.busy or self.writer.busy:
            self.notify("Open corpus", "Jobs are still running on this corpus; wait for them "
                        "or cancel them (Esc), then switch.", QMessageBox.Icon.Warning)
            return False
        try:
            with open_store(path):
                pass          # creates a new corpus; a newer schema or a non-corpus file refuses
        except (GenerecError, OSError) as exc:
            self.notify("Open corpus", f"Cannot open {path}: {exc}", QMessageBox.Icon.Warning)
            return False
        self.state.db_path = path
        self.queue.reopen(path)
        self.writer.db_path = path
        self.state.user_id = self.state.item_id = self.state.generation_id = ""
        self.preview.show_item(None, "", [], {})
        self.review.show_checks([])
        remember_corpus(path)
        self._set_title()
        self.reload()
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def _set_title(self) -> None:
        self.setWindowTitle(f"GeneRec Studio — {self.db_path.stem} ({self.db_path})")

    def new_corpus(self) -> None:
        folder = Path(app_settings.value("general/data_folder") or data_home())
        dialog = NewCorpusDialog(folder, self)
        if dialog.exec() != NewCorpusDialog.DialogCode.Accepted:
            return
        self.create_corpus(*dialog.request())

    def create_corpus(self, path: Path, kind: str, params: dict) -> bool:
        """Open a new corpus and fill it: a demo (seed, size) or an imported folder; then index."""
        path.parent.mkdir(parents=True, exist_ok=True)
        if not self.open_corpus(path):
            return False
        self.view.empty_text = "Building the corpus… (progress below)"
        self.queue.submit(kind, params)
        self.queue.submit("index", {"model": self.state.encoder})
        return True

    def open_corpus_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open corpus", str(self.db_path.parent),
                                              "GeneRec corpus (*.db);;All files (*)")
        if path:
            self.open_corpus(Path(path))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in recent_corpora():
            action = self.recent_menu.addAction(f"{path.stem}  ({path})")
            action.triggered.connect(lambda _=False, p=path: self.open_corpus(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("No recent corpora").setEnabled(False)

    def choose_recent_corpus(self) -> None:
        paths = [str(p) for p in recent_corpora() if p != self.db_path]
        if not paths:
            self.notify("Recent corpora", "No other corpus opened recently.")
            return
        chosen, ok = QInputDialog.getItem(self, "Recent corpora", "Open:", paths, 0, False)
        if ok:
            self.open_corpus(Path(chosen))

    # -- settings --------------------------------------------------------------------------
    def open_settings(self):
        from desktop.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self)
        dialog.verify_requested.connect(lambda: self._verify_models(dialog))
        dialog.accepted.connect(lambda: self.apply_settings(dialog.values()))
        dialog.open()
        self.settings_dialog = dialog
        return dialog

    def apply_settings(self, values: dict) -> None:
        """Store them; the reviewer and every change are audited (through the writer)."""
        changed = app_settings.store(values)
        if not changed:
            return
        actor = self.reviewer
        self.state.encoder = app_settings.value("models/encoder") or "bundled"
        app_settings.apply_to_environment()
        if "models/pipelines_folder" in changed:
            self.find_pipelines()

        def audit(store):
            for key, (before, after) in changed.items():
                store.audit("settings.changed", key, {"from": before, "to": after}, actor=actor)

        self.writer.write(audit)
        self.statusBar().showMessage(f"Settings saved: {', '.join(changed)}", 5000)

    def _verify_models(self, dialog) -> None:
        db_path = self.db_path
        dialog.verify_button.setEnabled(False)
        dialog.models_status.setText("Hashing local weights…")

        def run(progress):
            from core.model_inventory import local_weights, verify_models

            weights = local_weights(db_path, progress)
            with open_store(db_path) as store:
                return weights, verify_models(store, weights)

        worker = JobWorker(run)
        worker.succeeded.connect(lambda result: (dialog.show_models(*result),
                                                 dialog.verify_button.setEnabled(True)))
        worker.failed.connect(lambda message: (dialog.models_status.setText(message),
                                               dialog.verify_button.setEnabled(True)))
        self.runner.start(worker)

    # -- trainings, evaluation and reports -------------------------------------------------
    def _train_dialog(self, kind: str) -> None:
        title, fields = TRAINING_FIELDS[kind]
        dialog = TrainingDialog(title, fields, self)
        if dialog.exec() == TrainingDialog.DialogCode.Accepted:
            self.start_training(kind, dialog.params())

    def start_training(self, kind: str, params: dict) -> str:
        params = dict(params)
        if kind in ("train-video-model", "train-thumbnail-model"):
            params.setdefault("model", self.state.encoder)
        if kind == "train-recommender":
            params.setdefault("encoder", self.state.encoder)
        self._docks["Training"].show()
        return self.queue.submit(kind, params)

    def train_encoder_dialog(self) -> None:
        self._train_dialog("train-clip")

    def train_video_model_dialog(self) -> None:
        self._train_dialog("train-video-model")

    def train_thumbnail_model_dialog(self) -> None:
        self._train_dialog("train-thumbnail-model")

    def train_recommender_dialog(self) -> None:
        self._train_dialog("train-recommender")

    def batch_dialog(self) -> None:
        dialog = BatchDialog(self.state.user_id, self.state.item_id, self)
        if dialog.exec() == BatchDialog.DialogCode.Accepted:
            self.queue.submit("batch", dialog.params(self.state.encoder))

    def evaluate_dialog(self) -> None:
        runs, ok = QInputDialog.getInt(self, "Evaluate personalization", "Runs per user:",
                                       app_settings.value("tasks/evaluation_runs"), 1, 1000)
        if ok:
            self.evaluate(runs)

    def run_fairness(self) -> None:
        self.queue.submit("fairness", {})

    def run_audit_verify(self) -> None:
        self.queue.submit("audit-verify", {})

    def verify_file_dialog(self) -> VerifyFileDialog:
        dialog = VerifyFileDialog(self)
        dialog.verify_requested.connect(lambda path: self.queue.submit("verify-file", {"file": path}))
        dialog.open()
        self.verify_dialog = dialog
        return dialog

    def purge_expired_dialog(self) -> None:
        """A dry run first: its result lists what would go, and asks before purging."""
        self.queue.submit("purge-expired", {"dry_run": True})

    def _show_last_reports(self) -> None:
        done = [j for j in self.queue.jobs.values() if j.state == "done"]
        last = {j.kind: j for j in done}        # jobs are in submission order
        self.analysis.show_evaluation(last["evaluate"].result if "evaluate" in last else None)
        self.analysis.show_fairness(last["fairness"].result if "fairness" in last else None)
        for kind in TRAINING_KINDS:
            if kind in last:
                self.training.show_result(last[kind])

    def _on_operator_job_changed(self, job_id: str) -> None:
        job = self.queue.jobs[job_id]
        if job.kind in TRAINING_KINDS and job.state == "running":
            self.training.on_progress(job)

    def operator_job_finished(self, job, state: str) -> None:
        """MainWindow._on_job_finished hands over the kinds this mixin started."""
        if job.kind in TRAINING_KINDS:
            self.training.show_result(job)
        if state != "done":
            return
        if job.kind == "evaluate":
            self.analysis.show_evaluation(job.result)
            self.show_evaluation()
        elif job.kind == "fairness":
            self.analysis.show_fairness(job.result)
            self.show_evaluation()
            self.analysis.setCurrentWidget(self.analysis.fairness)
        elif job.kind == "audit-verify":
            r = job.result
            self.notify("Audit log", f"Intact: {r['entries']} chained entries." if r["ok"] else
                        f"Broken at entry {r['broken_at']}: {r['reason']}",
                        QMessageBox.Icon.Information if r["ok"] else QMessageBox.Icon.Critical)
        elif job.kind == "verify-file" and getattr(self, "verify_dialog", None) is not None:
            self.verify_dialog.show_result(job.result)
        elif job.kind == "purge-expired":
            self._on_purge(job)
        elif job.kind == "check":
            self.refresh_review_queue()
        elif job.kind == "batch":
            self._on_batch(job.result)

    def _on_batch(self, summary: dict) -> None:
        skipped = "".join(f"\n{n} skipped: {reason}" for reason, n in summary["skipped"].items())
        failures = "".join(f"\n{f['generation_id']}: {f['reason']}" for f in summary["failures"])
        self.notify("Batch generation",
                    f"{summary['task']}: {summary['made']} made and checked, "
                    f"{summary['already_made']} already made, {summary['failed']} failed."
                    f"{skipped}{failures}")
        self.refresh_review()
        self.refresh_review_queue()

    def _on_purge(self, job) -> None:
        removed = job.result["removed"]
        listing = "\n".join(f"{e['item_id']} (expired {e['expires_at']})" for e in removed[:20])
        if not job.params.get("dry_run"):
            self.notify("Purge expired", f"Removed {len(removed)} expired AI items.\n{listing}")
            self.reload()
            return
        if not removed:
            self.notify("Purge expired", f"Nothing has expired as of {job.result['now']}.")
            return
        answer = QMessageBox.question(
            self, "Purge expired", f"{len(removed)} AI items have expired and would be removed "
            f"(never human-made ones):\n{listing}\n\nRemove them now?")
        if answer == QMessageBox.StandardButton.Yes:
            self.queue.submit("purge-expired", {"dry_run": False, "now": job.result["now"]})

    # -- review ----------------------------------------------------------------------------
    def approve_current(self) -> None:
        self.review.decide("approve")

    def reject_current(self) -> None:
        self.review.decide("reject")

    def skip_current(self) -> None:
        self.review.decide("skip")

    def undo_decision(self) -> None:
        """Back to pending, until the generation is exported (core refuses after that)."""
        generation_id = self.state.generation_id or self.review.current()
        if not generation_id:
            self.notify("Undo decision", "Select a generation in the Review panel first.")
            return
        reviewer = self.reviewer
        self.writer.write(lambda store: undo_review(store, generation_id, reviewer),
                          lambda status: self._on_decided(generation_id, f"undone, {status}"),
                          self._on_undo_refused)

    def _on_undo_refused(self, exc: Exception) -> None:
        if not isinstance(exc, GenerecError):
            raise exc              # the GUI's exception handler shows it
        self.notify("Undo decision", str(exc), QMessageBox.Icon.Warning)

    def show_review_queue(self) -> None:
        self._docks["Review queue"].show()
        self._docks["Review queue"].raise_()
        self.refresh_review_queue()

    def refresh_review_queue(self) -> None:
        if not hasattr(self, "review_queue"):
            return
        try:
            with open_store(self.db_path) as store:
                rows = queue_rows(store, self.review_queue.current_filter())
        except GenerecError as exc:
            self.notify("Review queue", str(exc), QMessageBox.Icon.Warning)
            return
        self.review_queue.set_rows(rows)

    def bulk_approve(self) -> None:
        self.show_review_queue()
        self.review_queue.request_bulk("approve")

    def bulk_reject(self) -> None:
        self.show_review_queue()
        self.review_queue.request_bulk("reject")

    def bulk_decide(self, ids: list, decision: str, reason: str) -> None:
        """One reason for every selected generation; core refuses each one the single path would
        (missing, stale or errored checks; a failed blocking check, never overridden in bulk)."""
        if not ids:
            self.notify("Bulk review", "Select generations in the Review queue first.")
            return
        if not reason:
            reason, ok = QInputDialog.getText(self, f"Bulk {decision}",
                                              f"One reason for all {len(ids)}:")
            if not ok or not reason.strip():
                return
            reason = reason.strip()
        reviewer = self.reviewer
        self.writer.write(lambda store: bulk_decide(store, list(ids), decision, reason, reviewer),
                          lambda result: self._on_bulk_done(result, decision))

    def _on_bulk_done(self, result: dict, decision: str) -> None:
        self.review_queue.show_result(result, decision)
        self.statusBar().showMessage(f"Bulk {decision}: {len(result['recorded'])} recorded, "
                                     f"{len(result['refused'])} refused", 8000)
        self.refresh_review()
        self.refresh_review_queue()

    def compare_selected(self) -> None:
        self.show_review_queue()
        self.review_queue.request_compare()

    def compare(self, ids: list) -> None:
        if len(ids) != 2:
            self.notify("Compare", "Select exactly two generations in the Review queue.")
            return
        with open_store(self.db_path) as store:
            generations = [get_generation(store, gid) for gid in ids]

        def frames(_progress):
            from core.fidelity.evidence import frame_rgb

            out = []
            for g in generations:
                try:
                    out.append(frame_rgb(g["output_path"], 0) if g["output_path"] else None)
                except Exception:  # noqa: BLE001 - a missing or unreadable output shows "no frame"
                    out.append(None)
            return out

        worker = JobWorker(frames)
        worker.succeeded.connect(lambda rgbs: self._show_compare(generations, rgbs))
        self.runner.start(worker)

    def _show_compare(self, generations: list[dict], frames: list) -> None:
        self.compare_dialog = CompareDialog(generations, frames, self)
        self.compare_dialog.open()

    def why_this_result(self):
        generation_id = self.state.generation_id or self.review.current()
        if not generation_id:
            self.notify("Why this result", "Select a generation in the Review panel first.")
            return None
        with open_store(self.db_path) as store:
            why = explain_generation(store, generation_id)
        self.why_dialog = WhyDialog(why, self)
        self.why_dialog.open()
        return self.why_dialog

    # -- views -----------------------------------------------------------------------------
    def show_evaluation(self) -> None:
        self._docks["Evaluation"].show()
        self._docks["Evaluation"].raise_()

    def show_training(self) -> None:
        self._docks["Training"].show()
        self._docks["Training"].raise_()

    def show_user_ranking(self) -> None:
        """View → AI items in the user's ranking: computed off the GUI thread."""
        self._docks["Ranking"].show()
        self._docks["Ranking"].raise_()
        self.refresh_ranking()

    def _refresh_ranking_if_shown(self, _user_id: str = "") -> None:
        if self._docks["Ranking"].isVisible():
            self.refresh_ranking()

    def refresh_ranking(self) -> None:
        user_id, db_path, encoder = self.state.user_id, self.db_path, self.state.encoder
        if not user_id:
            return

        def rank(_progress):
            from core.user_ranking import ai_items_in_ranking

            with open_store(db_path) as store:
                return ai_items_in_ranking(store, user_id, encoder)

        self._ranking_user = user_id
        self.ranking.pending = True
        worker = JobWorker(rank)
        # bound methods of the window, so that they run on the GUI thread (a lambda would run
        # in the worker's thread)
        worker.succeeded.connect(self._on_ranking)
        worker.failed.connect(self._on_ranking_failed)
        self.runner.start(worker)

    def _on_ranking(self, ranking) -> None:
        if ranking.user_id == self.state.user_id:   # else the user changed meanwhile: dropped
            self.ranking.show_ranking(ranking)

    def _on_ranking_failed(self, message: str) -> None:
        self.ranking.show_error(self._ranking_user, message)

    def show_view(self, name: str):
        """For --show: open that view and return the widget to capture."""
        if name == "settings":
            return self.open_settings()
        if name == "review-queue":
            self.show_review_queue()
            return self._docks["Review queue"]
        if name == "training":
            self.show_training()
            return self._docks["Training"]
        if name == "ranking":
            self.show_user_ranking()
            return self._docks["Ranking"]
        if name == "evaluation":
            self.show_evaluation()
            return self._docks["Evaluation"]
        raise ValueError(f"unknown view {name!r}; expected one of {', '.join(VIEWS)}")
