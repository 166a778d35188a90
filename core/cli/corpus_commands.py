"""CLI commands that build and inspect the corpus: demo, import, info, items."""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core.paths import default_db_path
from core.progress import TqdmProgress
from core.store import Store, open_store
from core.store.corpus import counts, list_items


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("demo", parents=[common], help="build the demo corpus")
    p.add_argument("--items", type=_positive, default=240)
    p.add_argument("--users", type=_positive, default=160)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames-only", action="store_true",
                   help="synthetic scale: items without videos, frame embeddings written "
                        "straight into the resident matrix (a million items in minutes)")
    p.add_argument("--frames", type=_positive, default=32, help="frames per item (--frames-only)")
    p.add_argument("--dim", type=_positive, default=128, help="embedding width (--frames-only)")
    p.add_argument("--dtype", choices=("float16", "int8"), default=None,
                   help="storage of a new matrix (--frames-only; default: $GENEREC_MATRIX_DTYPE, "
                        "else float16): int8 is half the size, one scale per frame")
    p.set_defaults(run=cmd_demo)

    p = sub.add_parser("import", parents=[common], help="import a folder of videos")
    p.add_argument("video_dir", type=Path, metavar="VIDEO_DIR")
    p.add_argument("--interactions", type=Path, help="CSV user,item,kind,value,timestamp "
                                                     "or TSV user<TAB>item item ...")
    p.add_argument("--titles", type=Path, help="CSV item,title")
    p.add_argument("--users", type=Path, help="CSV of known user ids; others are refused")
    p.add_argument("--covers", type=Path, help="folder of cover images (by item id) for the "
                                               "items without a video")
    p.add_argument("--mapping", type=Path, help="CSV item,file: the item id of each video file "
                                                "(default: the file's stem)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(run=cmd_import)

    p = sub.add_parser("synthetic-log", parents=[common],
                       help="write a synthetic MicroLens-format log (pairs.tsv, titles.csv)")
    p.add_argument("out", type=Path, metavar="OUT_DIR")
    p.add_argument("--users", type=_positive, default=50_000)
    p.add_argument("--items", type=_positive, default=20_000)
    p.add_argument("--mean-likes", type=float, default=7.2, help="likes per user on average")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=cmd_synthetic_log)

    p = sub.add_parser("info", parents=[common], help="corpus counts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_info)

    p = sub.add_parser("items", parents=[common], help="one row per item")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_items)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


@contextmanager
def corpus(args) -> Iterator[Store]:
    store = open_store(args.db or default_db_path())
    try:
        yield store
    finally:
        store.close()


SHOWN_FAILURES = 10   # failed files or items listed one a line on stderr; the rest counted


@contextmanager
def progress_bar(args, description: str) -> Iterator[TqdmProgress]:
    bar = TqdmProgress(description, disable=args.quiet or not sys.stderr.isatty())
    try:
        yield bar
    finally:
        bar.close()


def cmd_demo(args) -> int:
    from core.demo.build import build_demo

    if args.frames_only:
        from core.demo.synthetic_scale import build_synthetic_scale

        with corpus(args) as store, progress_bar(args, "demo") as bar:
            made = build_synthetic_scale(store, args.items, args.users, args.frames, args.dim,
                                         seed=args.seed, progress=bar, dtype=args.dtype)
        print(f"synthetic-scale corpus in {store.path}: {made.items} items x {made.frames_per_item}"
              f" frames x {made.dim} ({made.matrix_bytes / 2**30:.2f} GiB {made.dtype} in "
              f"{made.matrix_path}), {made.users} users, {made.likes} likes; personalize with "
              f"--model {made.model_id}", file=sys.stderr)
        return 0
    with corpus(args) as store, progress_bar(args, "demo") as bar:
        made = build_demo(store, args.items, args.users, args.seed, bar)
    print(f"demo corpus in {store.path}: {made['items']} items, {made['users']} users, "
          f"{made['interactions']} interactions", file=sys.stderr)
    return 0


def cmd_import(args) -> int:
    from core.corpus.importer import import_folder

    with corpus(args) as store, progress_bar(args, "import") as bar:
        summary = import_folder(store, args.video_dir, args.interactions, args.titles,
                                args.users, bar, covers=args.covers, mapping=args.mapping)
    report_failures(summary.failed)
    _report_skipped(summary)
    if args.json:
        print(json.dumps(summary.as_dict(), indent=2))
    else:
        print(f"{summary.added} added, {summary.already_present} already present, "
              f"{len(summary.failed)} failed, {summary.no_media_added} without media added; "
              f"{summary.interactions_added} interactions added, "
              f"{len(summary.interaction_errors)} rows skipped")
    return 0


def report_failures(failed: list[tuple[str, str]], shown: int = SHOWN_FAILURES) -> None:
    """The first `shown` failures on stderr, one a line, then how many more: never a line per
    row of a flood (--json lists them all)."""
    for name, reason in failed[:shown]:
        print(f"failed: {reason}" if name in reason else f"failed: {name}: {reason}",
              file=sys.stderr)
    if len(failed) > shown:
        print(f"... and {len(failed) - shown:,} more failed ({len(failed):,} in all; --json "
              "lists every one)", file=sys.stderr)


def _report_skipped(summary) -> None:
    """Counts per reason and the first rows on stderr; all of them in the log file."""
    from core.corpus.importer import SHOWN_ERRORS

    errors = summary.interaction_errors
    if not errors:
        return
    reasons = ", ".join(f"{reason} {n:,}" for reason, n in summary.error_counts.items())
    print(f"skipped {len(errors):,} rows: {reasons}", file=sys.stderr)
    for error in errors[:SHOWN_ERRORS]:
        print(f"skipped: {error}", file=sys.stderr)
    if summary.error_log:
        print(f"... {len(errors) - SHOWN_ERRORS:,} more; every skipped row is in "
              f"{summary.error_log}", file=sys.stderr)


def cmd_synthetic_log(args) -> int:
    from core.corpus.synthetic_log import LogSettings, write_synthetic_log
    from core.errors import InputError

    if args.mean_likes < 5:
        raise InputError("--mean-likes must be at least 5 (every user has 5 likes or more)")
    log = write_synthetic_log(args.out, LogSettings(users=args.users, items=args.items,
                                                    mean_likes=args.mean_likes, seed=args.seed))
    print(json.dumps({"pairs": str(log.pairs), "titles": str(log.titles), "users": log.users,
                      "items": log.items, "interactions": log.interactions,
                      "topics": log.topics}))
    return 0


def cmd_info(args) -> int:
    from core.evaluation.seeds import bundled_model_seeds
    from core.store.evaluation import demo_seeds

    with corpus(args) as store:
        info = counts(store)
        info["demo_seeds"] = demo_seeds(store)   # issue 12: which seeds built this corpus
    info["bundled_models"] = bundled_model_seeds()   # and which seeds each bundled model saw
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key:>13}: {value}")
    return 0


def cmd_items(args) -> int:
    with corpus(args) as store:
        items = list_items(store)
    if args.json:
        print(json.dumps(items, indent=1))
        return 0
    for item in items:
        size = f"{item['width']}x{item['height']}" if item["width"] else "-"
        detail = item["error"] or item["title"]
        print(f"{item['id']:<24} {item['status']:<8} {size:>10} {item['frames'] or 0:>6}  {detail}")
    return 0
