"""The main window: docks for Corpus, Users, Jobs and Review around the Preview; menus,
toolbar and status bar. It wires views to the state and the job queue; the work is in core/."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QInputDialog, QLabel,
                               QMainWindow, QMessageBox, QProgressBar, QPushButton)

from core.corpus.browser import corpus_snapshot
from core.errors import GenerecError
from core.export.gate import export_refusal
from core.fidelity.evidence import evidence_sources
from core.fidelity.review import OverrideRequired, check_state, record_decision
from core.gc_control import freeze_long_lived
from core.operator import operator_name
from core.store import open_store
from core.store.corpus import (get_item, item_count, item_segments, latest_generations,
                               list_generations, user_history, user_summary)
from desktop import settings as app_settings
from desktop.corpora import remember_corpus
from desktop.corpus_dock import INLINE_ITEMS, CorpusDock
from desktop.corpus_view import CorpusView
from desktop.domain_preflight import DomainPreflight
from desktop.errors import ErrorReporter
from desktop.job_queue import DatabaseWriter, JobQueue
from desktop.jobs_dock import JobsDock
from desktop.operator_actions import OperatorActions
from desktop.preview_dock import PreviewPanel
from desktop.review_dock import ReviewDock
from desktop.state import AppState
from desktop.users_dock import UsersDock
from desktop.workers import JobWorker

# Once the corpus is shown, load torch and the encoder in the background: importing them holds
# Python's GIL for a moment, better spent now than in the middle of the operator's first job.
WARM_UP_DELAY_MS = 300
# The diffusion job kinds and which of the Users dock's options each takes.
DIFFUSION_OPTIONS = {"revise": ("signal", "strength", "source_guidance", "steps", "pipeline"),
                     "create": ("signal", "steps", "pipeline"), "thumbnail-gen": ("steps",)}
# Job kinds that make generations; each job runs the fidelity checks on what it made.
GENERATION_KINDS = ("preview", "style", *DIFFUSION_OPTIONS)
LOADING_TEXT = "Loading the corpus…"
REVIEWER_SETTING = "review/reviewer"
# Below this available height the Users and Review docks share the right column as tabs.
SMALL_SCREEN_HEIGHT = 1000


class MainWindow(OperatorActions, QMainWindow):
    corpus_loaded = Signal(int)    # number of items shown
    job_ended = Signal(str, str)   # title, outcome: done, failed or cancelled (GUI thread)
    preview_shown = Signal(str, str)   # user id, item id, once outputs are displayed
    warmed_up = Signal()              # torch, open_clip and the encoder are loaded

    def __init__(self, db_path: Path, build_demo_if_empty: bool = True) -> None:
        super().__init__()
        self.state = AppState(Path(db_path).expanduser().resolve(),
                              app_settings.value("models/encoder") or "bundled")
        app_settings.apply_to_environment()
        self.errors = ErrorReporter(self).install()
        self.queue = JobQueue(self.db_path, self)
        self.runner = self.queue.runner
        self.writer = DatabaseWriter(self.db_path, self.runner, self)
        self.preflight = DomainPreflight(self, self.runner, self.queue.submit)
        self._set_title()
        remember_corpus(self.db_path)
        self.setDockNestingEnabled(True)
        self.preview = PreviewPanel(self)
        self.setCentralWidget(self.preview)
        self.corpus = CorpusDock(self, self.runner)
        self._reloads = 0
        self.model = self.corpus.model
        self.view = self.corpus.view
        self.users = UsersDock(self)
        self.jobs = JobsDock(self.queue, self)
        self.review = ReviewDock(self, runner=self.runner)
        self._docks = {}
        for title, widget, area in (("Corpus", self.corpus, Qt.DockWidgetArea.LeftDockWidgetArea),
                                    ("Users", self.users, Qt.DockWidgetArea.RightDockWidgetArea),
                                    ("Review", self.review, Qt.DockWidgetArea.RightDockWidgetArea),
                                    ("Jobs", self.jobs, Qt.DockWidgetArea.BottomDockWidgetArea)):
            self._docks[title] = self._dock(title, widget, area)
        self._build_status_bar()
        self.build_operator_docks()
        self.build_menus_from_registry()
        self._connect()
        self._restore_layout()
        self.is_warm = self._warming = False
        items = self.reload()
        if self.queue.interrupted_at_start:
            self.statusBar().showMessage(
                f"{self.queue.interrupted_at_start} job(s) were interrupted when the app last "
                f"stopped; retry them from the Jobs panel.", 15000)
        if build_demo_if_empty and items == 0:
            self.build_demo()
        # Join job threads however the app ends (QApplication.exit closes no window).
        QApplication.instance().aboutToQuit.connect(self.queue.shutdown)

    @property
    def db_path(self) -> Path:
        """The open corpus (File → Open corpus switches it)."""
        return self.state.db_path

    # -- layout ---------------------------------------------------------------------------
    def _dock(self, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        self.corpus_label = QLabel()
        self.job_label = QLabel()
        self.job_bar = QProgressBar()
        self.job_bar.setMaximumWidth(200)
        self.job_bar.setFormat("%v / %m")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Cancel the running job (Esc)")
        self.cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_button.clicked.connect(self.cancel_job)
        bar = self.statusBar()
        bar.addWidget(self.corpus_label, 1)
        for widget in (self.job_label, self.job_bar, self.cancel_button):
            bar.addPermanentWidget(widget)
        self._show_job(False)

    def _restore_layout(self) -> None:
        settings = QSettings()
        geometry = settings.value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:     # 1440 x 900, or the screen's available area where that is smaller
            area = self.screen().availableGeometry()
            self.resize(min(1440, area.width()), min(900, area.height()))
        layout = settings.value("main_window/state")
        if layout is not None:
            self.restoreState(layout)
        else:
            if self.screen().availableGeometry().height() < SMALL_SCREEN_HEIGHT:
                # Users above Review need more height than a 1280 x 800 screen has: tabbed.
                self.tabifyDockWidget(self._docks["Users"], self._docks["Review"])
                self._docks["Users"].raise_()
            self.resizeDocks([self._docks["Jobs"]], [150], Qt.Orientation.Vertical)
            self.resizeDocks([self._docks["Corpus"], self._docks["Users"]], [560, 380],
                             Qt.Orientation.Horizontal)

    def _connect(self) -> None:
        self.corpus.item_selected.connect(self.state.set_item)
        self.users.user_selected.connect(self.state.set_user)
        self.users.instruction_sent.connect(self.save_instruction)
        self.users.revise_requested.connect(self.request_revision)
        self.users.create_requested.connect(self.request_creation)
        self.users.thumbnail_requested.connect(self.request_thumbnail_gen)
        self.review.generation_selected.connect(self.state.set_generation)
        self.review.decision_requested.connect(self.decide)
        self.review.export_requested.connect(self.export_generation)
        self.review.recheck_requested.connect(self.rerun_checks)
        self.preview.preview_requested.connect(self.request_preview)
        self.preview.style_requested.connect(self.request_style)
        self.state.user_changed.connect(self._on_user)
        self.state.item_changed.connect(lambda _id: self.refresh_preview())
        self.state.generation_changed.connect(self._on_generation)
        self.queue.changed.connect(self._on_job_changed)
        self.queue.finished.connect(self._on_job_finished)
        self.queue.previewed.connect(self._on_job_preview)

    def _warm_up(self) -> None:
        encoder = self.state.encoder

        def load(_progress):
            from core.encoders import load_encoder

            load_encoder(encoder)

        worker = JobWorker(load)
        worker.finished.connect(self._on_warm)
        self.runner.start(worker)

    def _on_warm(self) -> None:
        freeze_long_lived()   # torch's objects: a collection walking them stalled the GUI
        self.is_warm = True   # a failure here shows up, with its message, in the first job
        self.warmed_up.emit()

    # -- corpus ---------------------------------------------------------------------------
    def reload(self) -> int:
        """Show the corpus as it is now: a small one at once, a large one (a million items
        take seconds to list) from a worker, the grid saying so meanwhile. Returns its size, or
        INLINE_ITEMS + 1 for any larger corpus."""
        self._reloads += 1
        with open_store(self.db_path) as store:
            items = item_count(store, at_most=INLINE_ITEMS + 1)   # a cold million: 600 ms
            if items <= INLINE_ITEMS:
                self._show_snapshot((self._reloads, corpus_snapshot(store)))
                return items
        self.view.empty_text = LOADING_TEXT
        self.view.viewport().update()
        reload, db_path = self._reloads, self.db_path

        def load(_progress):
            with open_store(db_path) as store:
                return reload, corpus_snapshot(store)

        worker = JobWorker(load)
        worker.succeeded.connect(self._show_snapshot)
        worker.failed.connect(self._on_load_failed)
        self.runner.start(worker)
        return items

    def _on_load_failed(self, message: str) -> None:
        self.view.empty_text = f"Could not list the corpus: {message}"
        self.view.viewport().update()
        self.notify("Open corpus", f"Could not list {self.db_path}: {message}",
                    QMessageBox.Icon.Warning)
        self._start_background_work()

    def _show_snapshot(self, answer: tuple) -> None:
        reload, snapshot = answer
        if reload != self._reloads:
            return                          # a newer reload is on its way
        summary = snapshot.summary
        freeze_long_lived()   # the columns: a million entries per tuple to walk in a collection
        self.corpus.set_columns(snapshot.columns)
        self.users.set_users(snapshot.users)
        if self.view.empty_text == LOADING_TEXT:
            self.view.empty_text = CorpusView.empty_text
        self.corpus_label.setText(
            f"{self.db_path}  ·  {summary['items']} items ({summary['failed']} failed, "
            f"{summary['indexed']} indexed)  ·  {summary['users']} users  ·  "
            f"{summary['interactions']} interactions  ·  encoder: {self.state.encoder}")
        self.view.viewport().update()
        self.refresh_review()
        self.corpus_loaded.emit(len(snapshot.columns))
        self._start_background_work()

    def _start_background_work(self) -> None:
        """Once, after the first corpus load: the warm-up (torch's import would compete with a
        large corpus's load) and the search for pretrained pipelines."""
        if not self._warming:
            self._warming = True
            QTimer.singleShot(WARM_UP_DELAY_MS, self._warm_up)
            self.find_pipelines()

    def find_pipelines(self) -> None:
        """The pretrained pipelines the revise and create tasks can use (files read off the GUI
        thread); again after the settings change."""
        extra = app_settings.value("models/pipelines_folder") or ""

        def find(_progress):
            from core.diffusion.pipelines import discover_pipelines, pipeline_folders

            return discover_pipelines(pipeline_folders([extra] if extra.strip() else []))

        worker = JobWorker(find)
        worker.succeeded.connect(self.users.set_pipelines)
        self.runner.start(worker)

    def _on_user(self, user_id: str) -> None:
        with open_store(self.db_path) as store:
            self.users.show_profile(user_summary(store, user_id), user_history(store, user_id))
        self.refresh_preview()
        self.refresh_review()
        self._score_items_for(user_id)

    def _score_items_for(self, user_id: str) -> None:
        """Predicted preferences for the corpus sort, computed off the GUI thread."""
        db_path, encoder = self.db_path, self.state.encoder

        def scores(_progress):
            from core.recommender.service import predicted_score_table

            with open_store(db_path) as store:
                return predicted_score_table(store, encoder, user_id)

        worker = JobWorker(scores)
        worker.succeeded.connect(self._on_scores)
        worker.failed.connect(self._on_scores_failed)
        self.runner.start(worker)

    def _on_scores(self, scores) -> None:
        self.corpus.set_scores(scores)

    def _on_scores_failed(self, _message: str) -> None:
        self.corpus.set_scores(None)     # not indexed yet, or no likes: sort by title

    def refresh_preview(self) -> None:
        item_id, user_id = self.state.item_id, self.state.user_id
        if not item_id:
            return
        with open_store(self.db_path) as store:
            item = get_item(store, item_id)
            outputs = latest_generations(store, user_id, item_id) if user_id else {}
            segments = item_segments(store, item_id)
        self.preview.show_item(item, user_id, segments, outputs)
        if outputs:
            self.preview_shown.emit(user_id, item_id)

    def refresh_review(self) -> None:
        with open_store(self.db_path) as store:
            self.review.set_generations(list_generations(store, self.state.user_id or None))

    def _on_generation(self, generation_id: str) -> None:
        if not generation_id:
            return
        with open_store(self.db_path) as store:
            state = check_state(store, generation_id)
            self.review.show_checks(state.checks, evidence_sources(store, generation_id),
                                    "" if state.current else state.problem())

    # -- operator actions -----------------------------------------------------------------
    def build_demo(self) -> None:
        self.view.empty_text = "Building the demo corpus… (progress below)"
        self.view.viewport().update()
        self.queue.submit("demo", {})
        self.queue.submit("index", {"model": self.state.encoder})

    def import_videos(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder of videos")
        if folder:
            self.queue.submit("import", {"folder": folder})
            self.queue.submit("index", {"model": self.state.encoder})

    def index_frames(self) -> None:
        self.queue.submit("index", {"model": self.state.encoder})

    def request_preview(self) -> None:
        if not (self.state.user_id and self.state.item_id):
            self.notify("Personalize", "Select a user and an item first.")
            return
        self.queue.submit("preview", {"user_id": self.state.user_id, "item_id": self.state.item_id,
                                      "spec": self.state.encoder,
                                      "clip_len": app_settings.value("tasks/clip_len")})

    def evaluate(self, runs: int | None = None) -> None:
        runs = runs or app_settings.value("tasks/evaluation_runs")
        self.queue.submit("evaluate", {"model": self.state.encoder, "runs": runs})

    def train_recommender(self, params: dict | None = None) -> None:
        self.queue.submit("train-recommender", {"encoder": self.state.encoder, **(params or {})})

    def request_style(self, style: str) -> None:
        if not self.state.item_id:
            self.notify("Restyle", "Select an item first.")
            return
        self.queue.submit("style", {"user_id": self.state.user_id or None,
                                    "item_id": self.state.item_id, "style": style})

    def request_style_dialog(self) -> None:
        from core.editor.style import PRESETS

        style, ok = QInputDialog.getItem(self, "Restyle", "Style:", list(PRESETS), 0, False)
        if ok:
            self.request_style(style)

    def request_revision(self) -> None:
        if not (self.state.user_id and self.state.item_id):
            self.notify("Revise", "Select a user and an item first.")
            return
        self._submit_diffusion("revise", item_id=self.state.item_id)

    def request_creation(self) -> None:
        """A new video from the instruction (the box's text, else the last one sent)."""
        self._submit_diffusion("create", instruction=self.users.instruction_text())

    def request_thumbnail_gen(self) -> None:
        if not (self.state.user_id and self.state.item_id):
            self.notify("Generate thumbnail", "Select a user and an item first.")
            return
        self._submit_diffusion("thumbnail-gen", item_id=self.state.item_id)

    def _submit_diffusion(self, kind: str, **params) -> None:
        """Every parameter goes into the job, so that a retry reproduces the generation. The job
        is queued once the domain preflight passed or the operator chose to run it anyway."""
        defaults = {**app_settings.task_defaults(),
                    "strength": app_settings.value("tasks/strength"),
                    "source_guidance": app_settings.value("tasks/source_guidance"),
                    "steps": app_settings.value("tasks/steps")}
        options = {**{k: v for k, v in defaults.items()
                      if k in DIFFUSION_OPTIONS[kind] or k in ("sampler", "guidance", "seed")},
                   **self.users.diffusion_options(DIFFUSION_OPTIONS[kind])}
        if options.get("pipeline"):     # the guidance settings are the bundled model's
            options.pop("guidance", None)
            options.pop("source_guidance", None)
        self.preflight.request(self.db_path, kind, {"user_id": self.state.user_id or None,
                                                    "spec": self.state.encoder, **params, **options})

    def save_instruction(self, text: str) -> None:
        """Ask the instructor; an explicit request for a style, a revision or a new video with
        everything it needs starts its job right away."""
        if not self.state.user_id:
            self.notify("Instruction", "Select a user first.")
            return
        self.queue.submit("instruct", {"user_id": self.state.user_id, "text": text,
                                       "item_id": self.state.item_id or None})

    @property
    def reviewer(self) -> str:
        """The name on every decision: the setting, else $GENEREC_REVIEWER, else the OS user."""
        return operator_name(QSettings().value(REVIEWER_SETTING, "", type=str))

    def ask_reviewer(self) -> None:
        name, ok = QInputDialog.getText(self, "Reviewer", "Your name on review decisions:",
                                        text=self.reviewer)
        if ok and name.strip() and name.strip() != self.reviewer:
            self.apply_settings({REVIEWER_SETTING: name.strip()})   # stored and audited

    def decide(self, generation_id: str, decision: str, reason: str,
               override: str | None = None) -> None:
        """Record a decision through the database writer (off the GUI thread); a failed blocking
        check asks for an override reason, then tries again."""
        if decision == "reject" and not reason:
            reason, ok = QInputDialog.getText(self, "Reject", "Why is this rejected?")
            if not ok or not reason.strip():
                return
        reviewer = self.reviewer

        def record(store):
            return record_decision(store, generation_id, decision, reason, override, reviewer)

        self.writer.write(record, lambda _status: self._on_decided(generation_id, decision),
                          lambda exc: self._on_decision_refused(generation_id, decision, reason, exc))

    def _on_decided(self, generation_id: str, decision: str) -> None:
        with open_store(self.db_path) as store:
            generations = list_generations(store, self.state.user_id or None)
        self.statusBar().showMessage(f"{generation_id}: {decision} ({self.reviewer})", 5000)
        self.review.decided(generations)

    def _on_decision_refused(self, generation_id: str, decision: str, reason: str,
                             exc: Exception) -> None:
        if isinstance(exc, OverrideRequired):
            override, ok = QInputDialog.getText(
                self, "Override failing checks",
                f"Blocking checks failed: {', '.join(exc.failing)}.\nWhy approve anyway?")
            if ok and override.strip():
                self.decide(generation_id, decision, reason, override.strip())
        elif isinstance(exc, GenerecError):
            self.notify("Review", str(exc), QMessageBox.Icon.Warning)
        else:
            raise exc

    def rerun_checks(self) -> None:
        generation_id = self.review.current()
        if not generation_id:
            self.notify("Re-run checks", "Select a generation in the Review panel first.")
            return
        self.queue.submit("check", {"generation_ids": [generation_id]})

    def export_selected(self) -> None:
        if self.review.current():
            self.export_generation(self.review.current())

    def export_generation(self, generation_id: str) -> None:
        with open_store(self.db_path) as store:
            refusal = export_refusal(store, generation_id)
        if refusal is not None:   # ask core/ before asking for a folder
            self.notify("Export refused", refusal, QMessageBox.Icon.Warning)
            return
        folder = QFileDialog.getExistingDirectory(self, "Export to folder")
        if not folder:
            return
        days, ok = QInputDialog.getDouble(self, "Export", "The AI item expires after (days; "
                                          "0: never):", 0.0, 0.0, 36500.0, 1)
        if not ok:
            return
        params = {"generation_ids": [generation_id], "out_dir": folder}
        if days > 0:
            from core.export.expiry import expiry_from

            params["expires_at"] = expiry_from(days, None)
        self.queue.submit("export", params)

    # -- jobs -----------------------------------------------------------------------------
    def cancel_job(self) -> None:
        if self.queue.running_id:
            self.queue.cancel(self.queue.running_id)
            self.job_label.setText("Cancelling…")

    def _on_job_changed(self, job_id: str) -> None:
        job = self.queue.jobs[job_id]
        if job.state != "running":
            return
        self._show_job(True)
        self.job_bar.setMaximum(max(job.total, 1))
        self.job_bar.setValue(job.done)
        eta = f" · {job.eta_s:.0f} s left" if job.eta_s is not None else ""
        self.job_label.setText(f"{job.title}: {job.message}{eta}" if job.message else job.title)

    def _on_job_finished(self, job_id: str, state: str) -> None:
        job = self.queue.jobs[job_id]
        if not self.queue.busy:
            self._show_job(False)
        self.statusBar().showMessage(f"{job.title}: {state}", 8000)
        if state == "failed":
            self.notify(job.title, job.error or "failed", QMessageBox.Icon.Warning)
        elif state == "done" and job.kind == "export":
            self._report_export(job.result)
        elif state == "done" and job.kind == "instruct":
            self._on_instruction(job.result, job.params)
        elif state == "done" and job.kind == "train-recommender":
            mmgcn = job.result["MMGCN"]
            self.notify("Recommender trained", f"MMGCN on held-out likes: recall@10 "
                        f"{mmgcn['recall@10']:.3f}, NDCG@10 {mmgcn['ndcg@10']:.3f} (BPR-MF "
                        f"{job.result['BPR-MF']['recall@10']:.3f}, popularity "
                        f"{job.result['Popularity']['recall@10']:.3f}).")
            if self.state.user_id:
                self._score_items_for(self.state.user_id)
        elif state == "done" and job.kind == "evaluate":
            from core.evaluation.report import format_report

            box = self.notify("Evaluation", "Cosine@K and preference hit rate, "
                              f"{job.result['users']} users")
            box.setDetailedText(format_report(job.result))
        if job.kind in ("demo", "import", "index", "export"):
            self.reload()
        elif job.kind in DIFFUSION_OPTIONS:
            self._show_diffusion_result(job, state)
        elif job.kind in ("preview", "style"):
            self.refresh_preview()
        if job.kind in GENERATION_KINDS and state == "done":
            self.refresh_review()
            self._on_generation(self.state.generation_id)
        elif job.kind == "check":
            self._on_generation(self.state.generation_id)
        self.operator_job_finished(job, state)
        self.job_ended.emit(job.title, state)

    def _on_instruction(self, response: dict, asked: dict) -> None:
        """`asked`: the instruct job's parameters (the user and the text)."""
        self.users.show_answer(response)
        if response["decision"] != "generate" or response["question"]:
            return
        intent, item_id, user_id = response["intent"], response["item_id"], asked["user_id"]
        style = response["parameters"].get("style")
        if intent == "style" and style and item_id:
            self.queue.submit("style", {"user_id": user_id, "item_id": item_id, "style": style})
        elif intent == "revise" and item_id:
            self._submit_diffusion("revise", user_id=user_id, item_id=item_id,
                                   instruction=asked["text"])
        elif intent == "create":
            self._submit_diffusion("create", user_id=user_id, instruction=asked["text"])

    def _on_job_preview(self, job_id: str, frames, caption: str) -> None:
        """A revise or create job finished a block: show it where its result will play."""
        job = self.queue.jobs[job_id]
        if job.kind == "create" or job.params.get("item_id") == self.state.item_id:
            self.preview.show_block(job.kind, frames, caption)

    def _show_diffusion_result(self, job, state: str) -> None:
        """A revision or thumbnail beside its source, a created video alone; playing."""
        if job.kind == "thumbnail-gen":
            self.refresh_preview()
        elif state != "done":       # replace the partial result that was showing
            self.preview.personal_clip.set_source(None, None, f"{job.title}: {state}")
            self.refresh_preview()
        elif job.kind == "create":
            self.preview.show_creation(job.result)
            self.preview.play_from_start()
        elif job.params["item_id"] == self.state.item_id:
            self.refresh_preview()
            self.preview.play_from_start()

    def _report_export(self, result: dict) -> None:
        files = "\n".join(e["file"] for e in result["exported"])
        refused = "\n".join(r["reason"] for r in result["refused"])
        text = f"Exported to {result['out_dir']}:\n{files}" if files else "Nothing was exported."
        if refused:
            text += f"\n\nRefused:\n{refused}"
        self.notify("Export", text)

    def notify(self, title: str, text: str,
               icon: QMessageBox.Icon = QMessageBox.Icon.Information) -> QMessageBox:
        """A message that does not block the event loop (jobs and timers keep running)."""
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def _show_job(self, visible: bool) -> None:
        for widget in (self.job_label, self.job_bar, self.cancel_button):
            widget.setVisible(visible)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        settings = QSettings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/state", self.saveState())
        self.queue.shutdown()
        self.errors.uninstall()
        super().closeEvent(event)
