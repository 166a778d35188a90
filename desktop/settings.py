"""The operator's settings, kept per user in QSettings, each with the CLI flag or environment
variable that does the same outside the GUI. Precedence everywhere (README, "Settings"):
a command-line flag, then the environment variable, then this setting, then the default."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QSettings


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    default: Any
    cli: str = ""        # the CLI flag (or GUI flag) that overrides it
    env: str = ""        # the environment variable that overrides it
    help: str = ""


S = Setting
SETTINGS: tuple[Setting, ...] = (
    S("review/reviewer", "Reviewer name", "", "generec review --reviewer", "GENEREC_REVIEWER",
      "the name on every decision and audit entry"),
    S("general/data_folder", "Data folder", "", "--db PATH", "GENEREC_HOME",
      "where new corpora go (default: the user data folder)"),
    S("general/threads", "Threads for training", 0, "", "GENEREC_TRAIN_THREADS",
      "0: every core"),
    S("models/encoder", "Encoder", "bundled", "generec index --model SPEC", "",
      "bundled, an open_clip name, or a path to local weights"),
    S("models/pipelines_folder", "Pipelines folder", "", "generec generate --pipeline DIR",
      "GENEREC_PIPELINES", "pretrained diffusers pipelines for revise and create, beside "
      "<data folder>/models/pipelines"),
    S("tasks/clip_len", "Clip length (frames)", 8, "generec personalize --clip-len", ""),
    S("tasks/strength", "Revision strength", 1.0, "generec generate --strength", "",
      "1.0: from noise, the source given on the model's own channels"),
    S("tasks/steps", "Sampler steps", 0, "generec generate --steps", "",
      "0: each task's own (revision 10, creation and thumbnails 25)"),
    S("tasks/guidance", "Guidance scale", 2.0, "generec generate --guidance", ""),
    S("tasks/source_guidance", "Source guidance", 2.0, "generec generate --source-guidance", "",
      "revision: higher keeps more of its shapes (1: off)"),
    S("tasks/sampler", "Sampler", "ddim", "generec generate --sampler", ""),
    S("tasks/seed", "Seed", 0, "generec generate --seed", ""),
    S("tasks/evaluation_runs", "Evaluation runs", 3, "generec evaluate --runs", ""),
)
del S
BY_KEY = {s.key: s for s in SETTINGS}
SAMPLERS = ("ddim", "dpm", "ddpm")


def value(key: str) -> Any:
    """The stored setting, typed like its default."""
    setting = BY_KEY[key]
    return QSettings().value(key, setting.default, type=type(setting.default))


def effective(key: str) -> Any:
    """What applies in the GUI: the environment variable (if set) over the stored setting."""
    setting = BY_KEY[key]
    if setting.env and os.environ.get(setting.env, "").strip():
        raw = os.environ[setting.env].strip()
        try:
            return type(setting.default)(raw)
        except ValueError:
            return value(key)
    return value(key)


def store(values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Write the settings; returns {key: (before, after)} for those that changed."""
    settings, changed = QSettings(), {}
    for key, new in values.items():
        before = value(key)
        if new != before:
            settings.setValue(key, new)
            changed[key] = (before, new)
    return changed


def reset() -> dict[str, tuple[Any, Any]]:
    """Every setting back to its default."""
    return store({s.key: s.default for s in SETTINGS})


def apply_to_environment() -> None:
    """Settings that core reads from the environment (training threads), unless already set."""
    threads = value("general/threads")
    if threads and not os.environ.get("GENEREC_TRAIN_THREADS"):
        os.environ["GENEREC_TRAIN_THREADS"] = str(threads)


def task_defaults() -> dict[str, Any]:
    """Parameters that every diffusion job takes unless the operator set them in the panel."""
    return {"sampler": value("tasks/sampler"), "guidance": value("tasks/guidance"),
            "seed": value("tasks/seed")}
