"""Help for the operator at the terminal: `generec --help` groups the commands by what they
are for, and every option has a help text. Options registered without one get theirs here, by
command and option (or, for options every command shares the meaning of, by option alone), so
that `tests/test_cli_help.py` can insist that none is left without."""
from __future__ import annotations

import argparse

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Build and inspect a corpus", ("demo", "import", "synthetic-log", "info", "items", "index")),
    ("Personalize and generate", ("personalize", "generate", "batch", "instruct")),
    ("Train models", ("train-clip", "train-video-model", "train-thumbnail-model",
                      "train-recommender", "train-judge")),
    ("Measure", ("evaluate", "fairness", "selftest")),
    ("Review, export and expire", ("check", "review", "export", "purge-expired", "jobs")),
    ("Provenance and audit", ("verify", "audit")),
)

# Options whose meaning is the same in every command.
COMMON = {
    "json": "print one JSON document on stdout and nothing else",
    "seed": "random seed, for a reproducible run (default: %(default)s)",
    "generation_id": "the generation's id (gen-…; see the Review panel or generec jobs)",
    "steps": "optimisation steps (default: %(default)s)",
    "batch": "batch size (default: %(default)s)",
    "lr": "learning rate (default: %(default)s)",
    "ema_decay": "decay of the weights' exponential moving average (default: %(default)s)",
    "checkpoint_every": "save a resumable checkpoint every this many steps (default: %(default)s)",
    "user": "the user's id",
    "model": "encoder spec: bundled, an open_clip name or a path to local weights "
             "(default: %(default)s)",
}

# (command, option dest) -> help, where the meaning is the command's own.
SPECIFIC = {
    ("demo", "items"): "number of synthetic videos (default: %(default)s)",
    ("demo", "users"): "number of synthetic users with interaction histories (default: %(default)s)",
    ("import", "video_dir"): "folder of videos to import (searched recursively)",
    ("synthetic-log", "out"): "folder to write the interactions, titles and users files into",
    ("synthetic-log", "users"): "number of users in the log (default: %(default)s)",
    ("synthetic-log", "items"): "number of items in the log (default: %(default)s)",
    ("train-clip", "steps"): "optimisation steps (default: the bundled recipe's)",
    ("index", "batch"): "frames embedded per batch (default: %(default)s)",
    ("personalize", "items"): "items to personalize (default: every item the user has not seen)",
    ("personalize", "task"): "thumbnail: pick the frame (Eq. 1); clip: pick the segment (Eq. 2)",
    ("generate", "task"): "which AI editor or creator task to run",
    ("instruct", "item"): "the item the instruction is about, if any",
    ("instruct", "text"): "the operator's or user's instruction, in words",
    ("evaluate", "k"): "list sizes K for Cosine@K and PS@K (default: %(default)s)",
    ("evaluate", "runs"): "random draws of K items per user (default: %(default)s)",
    ("evaluate", "clip_len"): "frames per personalized clip (default: %(default)s)",
    ("verify", "file"): "the video or image to read the watermark and credentials of",
    ("audit", "action"): "verify: recompute the audit log's hash chain",
    ("check", "generation_id"): "the generation to run every fidelity check on",
    ("review", "generation_id"): "the generation to approve or reject",
    ("export", "generation_id"): "the approved generation to export",
    ("train-judge", "epochs"): "training epochs (default: %(default)s)",
    ("train-judge", "threads"): "CPU threads for training (default: %(default)s)",
}


def fill_missing(subparsers: argparse._SubParsersAction) -> None:
    """Give every option of every command a help text where it was registered without one."""
    for command, parser in subparsers.choices.items():
        for action in parser._actions:
            if action.help is not None or isinstance(action, argparse._HelpAction):
                continue
            text = SPECIFIC.get((command, action.dest)) or COMMON.get(action.dest)
            if text is not None:
                action.help = text


def group_commands(parser: argparse.ArgumentParser,
                   subparsers: argparse._SubParsersAction) -> None:
    """`generec --help` lists the commands under headings (GROUPS; any command not named
    there comes under "Other") instead of one flat list."""
    helps = {a.dest: a.help or "" for a in subparsers._choices_actions}
    placed: set[str] = set()
    lines = []
    for title, names in (*GROUPS, ("Other", tuple(n for n in subparsers.choices
                                                 if not any(n in g for _, g in GROUPS)))):
        present = [n for n in names if n in subparsers.choices]
        if not present:
            continue
        lines.append(f"{title}:")
        lines += [f"  {name:<24}{helps.get(name, '')}" for name in present]
        lines.append("")
        placed.update(present)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "\n".join(lines) + "Run 'generec COMMAND --help' for a command's options."
    subparsers.help = "one of the commands below"
    subparsers._choices_actions = []       # the grouped list replaces argparse's flat one
