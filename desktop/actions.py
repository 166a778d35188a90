"""The one action registry: every operator command with its name, menu path and shortcut.
The menus, the command palette (Ctrl+K) and `python main.py --list-commands --json` are all
built from `ACTIONS`, so that they, the tests and the documentation stay in step.

This module is plain data (no Qt import): `--list-commands` prints it without a display."""
from __future__ import annotations

from dataclasses import dataclass

MENU_ORDER = ("File", "Generate", "Models", "Analyse", "Review", "View")
VIEWS = ("evaluation", "settings", "training", "review-queue", "ranking")   # --show choices


@dataclass(frozen=True)
class ActionSpec:
    key: str            # a stable id: tests and the palette refer to it
    name: str           # what the menu and the palette show
    menu: str           # top-level menu it lives in (MENU_ORDER)
    slot: str           # the MainWindow method it calls
    shortcut: str = ""  # a QKeySequence string; "" for none
    # "window": active anywhere in the window; "review": the key works while the Review panel
    # has the focus (its own shortcuts), the menu only shows it.
    context: str = "window"
    separator_before: bool = False

    @property
    def menu_path(self) -> str:
        return f"{self.menu} → {self.name}"

    def as_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "shortcut": self.shortcut,
                "menu": self.menu_path, "context": self.context}


A = ActionSpec
ACTIONS: tuple[ActionSpec, ...] = (
    # File: corpora and their contents
    A("corpus.new", "New corpus…", "File", "new_corpus", "Ctrl+N"),
    A("corpus.open", "Open corpus…", "File", "open_corpus_dialog", "Ctrl+O"),
    A("corpus.recent", "Recent corpora…", "File", "choose_recent_corpus", "Ctrl+Shift+O"),
    A("corpus.import", "Import videos…", "File", "import_videos", "Ctrl+I", separator_before=True),
    A("corpus.demo", "Build demo corpus", "File", "build_demo"),
    A("corpus.index", "Index frames", "File", "index_frames", "Ctrl+Shift+I"),
    A("export.selected", "Export selected generation…", "File", "export_selected", "Ctrl+Shift+E",
      separator_before=True),
    A("verify.file", "Verify a file…", "File", "verify_file_dialog", "Ctrl+Shift+V"),
    A("purge.expired", "Purge expired AI items…", "File", "purge_expired_dialog"),
    A("settings", "Settings…", "File", "open_settings", "Ctrl+,", separator_before=True),
    A("corpus.reload", "Reload", "File", "reload", "F5"),
    A("app.quit", "Quit", "File", "close", "Ctrl+Q"),
    # Generate: every generation task
    A("generate.personalized", "Personalized thumbnail and clip", "Generate", "request_preview",
      "Ctrl+G"),
    A("generate.style", "Restyle the item…", "Generate", "request_style_dialog", "Ctrl+Shift+Y"),
    A("generate.revise", "Revise item for the user (diffusion)", "Generate", "request_revision",
      "Ctrl+Shift+R", separator_before=True),
    A("generate.create", "Create a video from the instruction (diffusion)", "Generate",
      "request_creation", "Ctrl+Shift+N"),
    A("generate.thumbnail", "Generate a thumbnail for the user (diffusion)", "Generate",
      "request_thumbnail_gen", "Ctrl+Shift+T"),
    A("generate.batch", "Batch for many users and items…", "Generate", "batch_dialog",
      "Ctrl+Shift+B", separator_before=True),
    # Models: trainings
    A("train.encoder", "Train encoder…", "Models", "train_encoder_dialog"),
    A("train.video", "Train video model…", "Models", "train_video_model_dialog"),
    A("train.thumbnail", "Train thumbnail model…", "Models", "train_thumbnail_model_dialog"),
    A("train.recommender", "Train recommender (MMGCN)…", "Models", "train_recommender_dialog"),
    # Analyse
    A("analyse.evaluate", "Evaluate personalization…", "Analyse", "evaluate_dialog", "Ctrl+Shift+L"),
    A("analyse.fairness", "Fairness report", "Analyse", "run_fairness"),
    A("analyse.audit", "Verify the audit log", "Analyse", "run_audit_verify"),
    # Review: one at a time, then in bulk
    A("review.approve", "Approve", "Review", "approve_current", "A", context="review"),
    A("review.reject", "Reject", "Review", "reject_current", "R", context="review"),
    A("review.skip", "Skip", "Review", "skip_current", "S", context="review"),
    A("review.undo", "Undo the decision on the selected generation", "Review", "undo_decision",
      "Ctrl+Z"),
    A("review.queue", "Review queue", "Review", "show_review_queue", "Ctrl+Shift+Q",
      separator_before=True),
    A("review.bulk_approve", "Bulk approve the selected…", "Review", "bulk_approve",
      "Ctrl+Shift+A"),
    A("review.bulk_reject", "Bulk reject the selected…", "Review", "bulk_reject", "Ctrl+Shift+J"),
    A("review.compare", "Compare two generations", "Review", "compare_selected", "Ctrl+Shift+C"),
    A("review.why", "Why this result", "Review", "why_this_result", "Ctrl+Shift+W"),
    A("review.recheck", "Re-run checks on the selected generation", "Review", "rerun_checks",
      "Ctrl+Shift+K", separator_before=True),
    A("review.reviewer", "Reviewer name…", "Review", "ask_reviewer"),
    # View
    A("view.palette", "Command palette", "View", "open_palette", "Ctrl+K"),
    A("view.filter", "Filter corpus", "View", "focus_corpus_filter", "Ctrl+F"),
    A("view.evaluation", "Evaluation report", "View", "show_evaluation", "Ctrl+Shift+2"),
    A("view.training", "Training charts", "View", "show_training", "Ctrl+Shift+3"),
    A("view.ranking", "AI items in the user's ranking", "View", "show_user_ranking",
      "Ctrl+Shift+4"),
)
del A

BY_KEY = {spec.key: spec for spec in ACTIONS}


def commands() -> list[dict]:
    """What `--list-commands --json` prints: one entry per action, in menu order."""
    return [spec.as_dict() for menu in MENU_ORDER for spec in ACTIONS if spec.menu == menu]
