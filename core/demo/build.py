"""`generec demo`: render the demo corpus's videos in parallel, then write it in one transaction."""
from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

from core import __version__
from core.demo.render import render_segment
from core.demo.spec import FPS, DemoSpec, ItemSpec, build_spec
from core.media import probe, save_image, write_video
from core.paths import media_dir
from core.progress import Progress
from core.store import Store
from core.store.corpus import assign_splits, insert_interactions

DEFAULT_ITEMS = 240
DEFAULT_USERS = 160


def render_item(item: ItemSpec, folder: str) -> dict:
    """Render, encode and probe one item; skip the work when its files already exist."""
    video = Path(folder) / "videos" / f"{item.id}.mp4"
    thumb = Path(folder) / "thumbnails" / f"{item.id}.jpg"
    if not (video.exists() and thumb.exists()):
        frames = []
        for k, seg in enumerate(item.segments):
            frames.extend(render_segment(seg, seg["n_frames"], item.seed + k))
        write_video(video, frames, FPS)
        save_image(thumb, frames[item.thumbnail_frame])
    info = probe(video)
    return {"id": item.id, "path": str(video), "thumbnail_path": str(thumb), **{
        key: getattr(info, key) for key in ("width", "height", "duration_s", "fps", "frames",
                                             "codec", "rotation", "has_audio")}}


def build_demo(store: Store, n_items: int = DEFAULT_ITEMS, n_users: int = DEFAULT_USERS,
               seed: int = 0, progress: Progress | None = None,
               workers: int | None = None) -> dict:
    """Build (or complete) the demo corpus in `store`; returns what `generec info` counts."""
    progress = progress or Progress()
    spec = build_spec(n_items, n_users, seed)
    folder = media_dir(store.path) / f"demo-seed{seed}"
    rendered = _render_all(spec, folder, progress, workers or os.cpu_count() or 1)
    progress.update(len(spec.items), len(spec.items), "writing the corpus")
    with store.transaction():
        _write(store, spec, rendered, seed)
    return {"items": len(spec.items), "users": len(spec.users),
            "interactions": len(spec.interactions)}


def _render_all(spec: DemoSpec, folder: Path, progress: Progress, workers: int) -> dict[str, dict]:
    total = len(spec.items)
    progress.update(0, total, "rendering videos")
    results: dict[str, dict] = {}
    # Spawned workers: forking a process that runs Qt or torch threads is unsafe.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = {pool.submit(render_item, item, str(folder)) for item in spec.items}
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    row = future.result()
                    results[row["id"]] = row
                progress.update(len(results), total, "rendering videos")
                progress.check_cancelled()
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results


def _write(store: Store, spec: DemoSpec, rendered: dict[str, dict], seed: int) -> None:
    db = store.db
    db["creators"].insert_all(spec.creators, pk="id", ignore=True)
    db["items"].insert_all(({
        **rendered[item.id],
        "title": item.title,
        "source": "human",
        "creator_id": item.creator_id,
        "licence": item.licence,
        "consent_derivatives": int(item.consent_derivatives),
        "category": item.category,
        "age_rating": item.age_rating,
        "status": "ok",
        "thumbnail_t_s": item.thumbnail_frame / FPS,
    } for item in spec.items), pk="id", ignore=True)
    segments = []
    for item in spec.items:
        start = 0
        for k, seg in enumerate(item.segments):
            attrs = {key: seg[key] for key in ("scene", "shape", "colour", "motion", "count")}
            segments.append({"item_id": item.id, "idx": k, "start_s": start / FPS,
                             "end_s": (start + seg["n_frames"]) / FPS, "caption": seg["caption"],
                             "attributes": json.dumps(attrs, sort_keys=True)})
            start += seg["n_frames"]
    db["segments"].insert_all(segments, pk=("item_id", "idx"), ignore=True)
    db["users"].insert_all(({
        "id": u["id"], "name": u["name"],
        "attributes": json.dumps(u["attributes"], sort_keys=True),
        "truth": json.dumps(u["truth"], sort_keys=True),
    } for u in spec.users), pk="id", ignore=True)
    insert_interactions(store, spec.interactions)
    assign_splits(store, [u["id"] for u in spec.users])
    store.audit("demo.build", None, {"items": len(spec.items), "users": len(spec.users),
                                     "seed": seed, "app_version": __version__})
