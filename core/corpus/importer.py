"""`generec import`: a folder of videos (plus interactions and titles) into the corpus.

Each file is registered as `pending`, then probed, checked and thumbnailed, then marked `ok`
or `failed` in its own transaction, so a killed import leaves a consistent database and the
next run picks up the pending and failed files. Interactions go in one transaction, and
exact repeats are ignored, so running an import twice adds nothing twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core import __version__
from core.corpus.interactions import read_interactions, read_titles, read_user_ids
from core.errors import InputError, MediaError
from core.media import VIDEO_SUFFIXES, original_thumbnail, probe, sample_frames, save_image
from core.paths import media_dir
from core.progress import Progress
from core.store import Store
from core.store.corpus import assign_splits, insert_interactions

# Frames decoded across each video on import, to catch files broken past their first frame.
VERIFY_FRAMES = 4
THUMBNAIL_SIDE = 320


@dataclass
class ImportSummary:
    added: int = 0
    already_present: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)   # (file, reason)
    interactions_added: int = 0
    interaction_errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"added": self.added, "already_present": self.already_present,
                "failed": [{"file": f, "reason": r} for f, r in self.failed],
                "interactions_added": self.interactions_added,
                "interaction_errors": self.interaction_errors}


def find_videos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith("."))


def import_folder(store: Store, folder: str | Path, interactions: str | Path | None = None,
                  titles: str | Path | None = None, users: str | Path | None = None,
                  progress: Progress | None = None) -> ImportSummary:
    progress = progress or Progress()
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    title_map = read_titles(titles) if titles else {}
    summary = ImportSummary()
    todo = _register(store, find_videos(folder), title_map, summary)
    thumbs = media_dir(store.path) / "thumbnails"
    for done, (item_id, path) in enumerate(todo):
        progress.update(done, len(todo), path.name)
        progress.check_cancelled()
        _import_one(store, item_id, path, thumbs, summary)
    progress.update(len(todo), len(todo), "videos done")
    if interactions:
        _import_interactions(store, Path(interactions), users, summary)
    return summary


def _register(store: Store, files: list[Path], titles: dict[str, str],
              summary: ImportSummary) -> list[tuple[str, Path]]:
    """Insert a pending row per new file; return the files still to process."""
    todo, seen = [], {}
    with store.transaction():
        for path in files:
            item_id = path.stem
            if item_id in seen:
                summary.failed.append((str(path), f"item id {item_id!r} is taken by "
                                                  f"{seen[item_id].name} in the same folder"))
                continue
            seen[item_id] = path
            row = store.conn.execute("SELECT path, status FROM items WHERE id = ?",
                                     (item_id,)).fetchone()
            if row is None:
                store.conn.execute(
                    "INSERT INTO items (id, title, source, path, status) VALUES (?, ?, 'human', ?, 'pending')",
                    (item_id, titles.get(item_id, item_id), str(path.resolve())))
                todo.append((item_id, path))
            elif row["path"] != str(path.resolve()):
                summary.failed.append((str(path), f"item id {item_id!r} already belongs to "
                                                  f"{row['path']}"))
            elif row["status"] == "ok":
                summary.already_present += 1
                if item_id in titles:
                    store.conn.execute("UPDATE items SET title = ? WHERE id = ?",
                                       (titles[item_id], item_id))
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
            store.conn.execute("UPDATE items SET status = 'failed', error = ? WHERE id = ?",
                               (str(exc), item_id))
            store.audit("item.import_failed", item_id, {"file": str(path), "reason": str(exc)})
        summary.failed.append((str(path), str(exc)))
        return
    with store.transaction():
        store.conn.execute(
            "UPDATE items SET status = 'ok', error = NULL, thumbnail_path = ?, width = ?, "
            "height = ?, duration_s = ?, fps = ?, frames = ?, codec = ?, rotation = ?, "
            "has_audio = ? WHERE id = ?",
            (str(thumb), info.width, info.height, info.duration_s, info.fps, info.frames,
             info.codec, info.rotation, int(info.has_audio), item_id))
        store.audit("item.imported", item_id, {"file": str(path), "app_version": __version__})
    summary.added += 1


def _import_interactions(store: Store, path: Path, users: str | Path | None,
                         summary: ImportSummary) -> None:
    known_items = {r[0] for r in store.conn.execute("SELECT id FROM items")}
    known_users = read_user_ids(users) if users else None
    parsed = read_interactions(path, known_items, known_users)
    summary.interaction_errors.extend(parsed.errors)
    user_ids = sorted({row["user_id"] for row in parsed.rows})
    with store.transaction():
        store.conn.executemany("INSERT OR IGNORE INTO users (id, name) VALUES (?, ?)",
                               [(u, u) for u in user_ids])
        summary.interactions_added = insert_interactions(store, parsed.rows)
        assign_splits(store, user_ids)
        store.audit("interactions.imported", str(path),
                    {"added": summary.interactions_added, "errors": len(parsed.errors)})
