"""`generec import`: a folder of videos (plus interactions and titles) into the corpus.

Each file is registered as `pending`, then probed, checked and thumbnailed, then marked `ok`
or `failed` in its own transaction, so a killed import leaves a consistent database and the
next run picks up the pending and failed files. Interactions go in one transaction, and
exact repeats are ignored, so running an import twice adds nothing twice.

Items named by the interactions or titles file without a video are added as `no-media`, with
their title and, where a covers folder holds an image of the same stem, their cover. Videos
are matched to items by stem, or by a mapping file `item,file`. Skipped rows are summarised by
reason; beyond the first `SHOWN_ERRORS`, they are written to a log file beside the corpus.
"""
from __future__ import annotations

import csv
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from core import __version__
from core.corpus.interactions import RowError, read_interactions, read_titles, read_user_ids
from core.errors import InputError, MediaError
from core.media import VIDEO_SUFFIXES, original_thumbnail, probe, sample_frames, save_image
from core.media.thumbnail import IMAGE_SUFFIXES
from core.paths import media_dir
from core.progress import Progress
from core.store import Store
from core.store.corpus import (add_no_media_items, assign_splits, get_item, give_video,
                               insert_interactions, insert_pending_item, insert_users, item_ids,
                               mark_item_failed, mark_item_ok, set_item_title)

# Frames decoded across each video on import, to catch files broken past their first frame.
VERIFY_FRAMES = 4
THUMBNAIL_SIDE = 320
SHOWN_ERRORS = 20      # skipped rows named in the summary; the rest go to the log file


@dataclass
class ImportSummary:
    added: int = 0
    already_present: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)   # (file, reason)
    no_media_added: int = 0
    interactions_added: int = 0
    interaction_errors: list[str] = field(default_factory=list)   # every skipped row
    error_counts: dict[str, int] = field(default_factory=dict)    # reason -> skipped rows
    error_log: str | None = None      # where all skipped rows are, when there are too many

    def as_dict(self) -> dict:
        return {"added": self.added, "already_present": self.already_present,
                "failed": [{"file": f, "reason": r} for f, r in self.failed],
                "no_media_added": self.no_media_added,
                "interactions_added": self.interactions_added,
                "rows_skipped": len(self.interaction_errors),
                "skipped_by_reason": self.error_counts,
                "interaction_errors": self.interaction_errors[:SHOWN_ERRORS],
                "error_log": self.error_log}

    def record_errors(self, errors: list[RowError], log_dir: Path) -> None:
        self.interaction_errors.extend(str(e) for e in errors)
        self.error_counts = dict(Counter(e.reason for e in errors).most_common())
        if len(errors) > SHOWN_ERRORS:
            log_dir.mkdir(parents=True, exist_ok=True)
            log = log_dir / f"import-{time.strftime('%Y%m%dT%H%M%S')}-skipped.log"
            log.write_text("".join(f"{e}\n" for e in errors), encoding="utf-8")
            self.error_log = str(log)


def find_videos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith("."))


def import_folder(store: Store, folder: str | Path, interactions: str | Path | None = None,
                  titles: str | Path | None = None, users: str | Path | None = None,
                  progress: Progress | None = None, covers: str | Path | None = None,
                  mapping: str | Path | None = None) -> ImportSummary:
    progress = progress or Progress()
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    if covers is not None and not Path(covers).is_dir():
        raise InputError(f"{covers}: not a folder (expected the covers folder)")
    title_map = read_titles(titles) if titles else {}
    item_of_file = read_mapping(mapping) if mapping else {}
    summary = ImportSummary()
    todo = _register(store, find_videos(folder), title_map, summary, item_of_file)
    thumbs = media_dir(store.path) / "thumbnails"
    for done, (item_id, path) in enumerate(todo):
        progress.update(done, len(todo), path.name)
        progress.check_cancelled()
        _import_one(store, item_id, path, thumbs, summary)
    progress.update(len(todo), len(todo), "videos done")
    parsed = None
    if interactions:
        progress.update(0, 1, "reading interactions")
        known_users = read_user_ids(users) if users else None
        parsed = read_interactions(interactions, None, known_users)
    named = set(title_map) | ({row["item_id"] for row in parsed.rows} if parsed else set())
    _add_items_without_media(store, named, title_map, Path(covers) if covers else None, summary)
    if parsed is not None:
        _import_interactions(store, Path(interactions), parsed, summary)
    return summary


def read_mapping(path: str | Path) -> dict[str, str]:
    """Mapping CSV `item,file` (a header row is optional): video file name -> item id."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [r for r in csv.reader(handle) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the mapping ({exc})") from exc
    if rows and [c.strip().lower() for c in rows[0][:2]] in (["item", "file"], ["item_id", "file"]):
        rows = rows[1:]
    out = {}
    for line_no, row in enumerate(rows, start=1):
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise InputError(f"{path}:{line_no}: expected 'item,file'")
        out[Path(row[1].strip()).name] = row[0].strip()
    return out


def _register(store: Store, files: list[Path], titles: dict[str, str],
              summary: ImportSummary, item_of_file: dict[str, str]) -> list[tuple[str, Path]]:
    """Insert a pending row per new file; return the files still to process."""
    todo, seen = [], {}
    with store.transaction():
        for path in files:
            item_id = item_of_file.get(path.name, path.stem)
            if item_id in seen:
                summary.failed.append((str(path), f"item id {item_id!r} is taken by "
                                                  f"{seen[item_id].name} in the same folder"))
                continue
            seen[item_id] = path
            row = get_item(store, item_id)
            if row is None:
                insert_pending_item(store, item_id, titles.get(item_id, item_id),
                                    str(path.resolve()))
                todo.append((item_id, path))
            elif row["status"] == "no-media":       # its video has arrived
                give_video(store, item_id, str(path.resolve()), titles.get(item_id))
                todo.append((item_id, path))
            elif row["path"] != str(path.resolve()):
                summary.failed.append((str(path), f"item id {item_id!r} already belongs to "
                                                  f"{row['path']}"))
            elif row["status"] == "ok":
                summary.already_present += 1
                if item_id in titles:
                    set_item_title(store, item_id, titles[item_id])
            else:
                todo.append((item_id, path))
    return todo


def _import_one(store: Store, item_id: str, path: Path, thumbs: Path,
                summary: ImportSummary) -> None:
    try:
        info = probe(path)
        sample_frames(path, VERIFY_FRAMES, max_side=64, info=info)
        thumb = save_image(thumbs / f"{item_id}.jpg",
                           original_thumbnail(path, info, max_side=THUMBNAIL_SIDE))
    except MediaError as exc:
        with store.transaction():
            mark_item_failed(store, item_id, str(exc))
            store.audit("item.import_failed", item_id, {"file": str(path), "reason": str(exc)})
        summary.failed.append((str(path), str(exc)))
        return
    with store.transaction():
        mark_item_ok(store, item_id, str(thumb), info)
        store.audit("item.imported", item_id, {"file": str(path), "app_version": __version__})
    summary.added += 1


def _add_items_without_media(store: Store, named: set[str], titles: dict[str, str],
                             covers: Path | None, summary: ImportSummary) -> None:
    """Items named by the interactions or titles but without a video: `no-media`."""
    cover_of = {}
    if covers is not None:
        cover_of = {p.stem: str(p.resolve()) for p in sorted(covers.iterdir())
                    if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}
    missing = sorted(named - item_ids(store))
    with store.transaction():
        summary.no_media_added = add_no_media_items(
            store, [(i, titles.get(i, i), cover_of.get(i)) for i in missing],
            {i: t for i, t in titles.items() if i not in missing})
        if missing:
            store.audit("items.imported_without_media", None,
                        {"added": len(missing), "covers": sum(i in cover_of for i in missing)})


def _import_interactions(store: Store, path: Path, parsed, summary: ImportSummary) -> None:
    summary.record_errors(parsed.errors, media_dir(store.path) / "logs")
    user_ids = sorted({row["user_id"] for row in parsed.rows})
    with store.transaction():
        insert_users(store, user_ids)
        summary.interactions_added = insert_interactions(store, parsed.rows)
        assign_splits(store, user_ids)
        store.audit("interactions.imported", str(path),
                    {"added": summary.interactions_added, "errors": len(parsed.errors)})
