"""Export approved generations to a folder, with a provenance sidecar, and (for videos) back
into the corpus as AI items. Whatever calls it, an unapproved generation is refused.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from core.editor.generations import get_generation
from core.errors import GenerecError, InputError
from core.progress import Progress
from core.store import Store

EXPORTABLE = ("approved", "exported")


class ExportRefused(InputError):
    """The generation is not approved."""


def export_refusal(store: Store, generation_id: str) -> str | None:
    """Why the generation may not be exported, or None when it may."""
    row = store.conn.execute("SELECT status FROM generations WHERE id = ?",
                             (generation_id,)).fetchone()
    if row is None:
        return f"unknown generation {generation_id!r}"
    if row[0] not in EXPORTABLE:
        return f"generation {generation_id} is {row[0]}, not approved; nothing was exported"
    return None


def export_generation(store: Store, generation_id: str, out_dir: str | Path) -> dict:
    refusal = export_refusal(store, generation_id)
    if refusal is not None:
        raise ExportRefused(refusal)
    generation = get_generation(store, generation_id)
    source = Path(generation["output_path"] or "")
    if not source.is_file():
        raise InputError(f"generation {generation_id}: output file {source} is missing")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{generation_id}{source.suffix}"
    mark = _watermarked_copy(source, target, generation_id)
    sidecar = out_dir / f"{generation_id}.provenance.json"
    provenance = {**generation["provenance"], "watermark": mark}
    _atomic_write(sidecar, json.dumps(provenance, indent=2, sort_keys=True))
    with store.transaction():
        store.conn.execute(
            "INSERT INTO checks (generation_id, name, version, blocking, status, score, evidence) "
            "VALUES (?, 'identifiability', '1', 1, 'pass', ?, ?)",
            (generation_id, mark["agreement"], json.dumps({
                "text": f"watermark {mark['payload']} read back from the exported file "
                        f"({mark['agreement']:.0%} of bits agree across {mark['frames']} frames)",
                **mark})))
        if source.suffix.lower() == ".mp4":
            _add_ai_item(store, generation, target)
        store.conn.execute("UPDATE generations SET status = 'exported' WHERE id = ?",
                           (generation_id,))
        store.audit("generation.exported", generation_id, {"file": str(target)})
    return {"generation_id": generation_id, "file": str(target), "provenance": str(sidecar)}


def _watermarked_copy(source: Path, target: Path, generation_id: str) -> dict:
    """Embed the generation's payload in every frame, read it back from the written file, and
    only then give the file its final name (a crash never leaves a half-written file there)."""
    from core.fidelity.watermark import (METHOD, payload_for, read_payload, watermark_image,
                                         watermark_video)

    payload = payload_for(generation_id)
    tmp = target.with_name(f".{target.stem}.partial{target.suffix}")
    if target.suffix.lower() == ".mp4":
        watermark_video(source, tmp, payload)
    else:
        watermark_image(source, tmp, payload)
    found = read_payload(tmp)
    if found["payload"] != payload.hex():
        tmp.unlink(missing_ok=True)
        raise GenerecError(f"{generation_id}: the watermark could not be read back from the "
                           f"exported file; nothing was exported")
    os.replace(tmp, target)
    return {"method": METHOD, **found}


def _atomic_write(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.partial")
    tmp.write_text(text)
    os.replace(tmp, target)


def _add_ai_item(store: Store, generation: dict, path: Path) -> None:
    from core.media import original_thumbnail, probe, save_image
    from core.paths import media_dir

    info = probe(path)
    thumbnail = save_image(media_dir(store.path) / "thumbnails" / f"{generation['id']}.jpg",
                           original_thumbnail(path, info))
    parent = store.conn.execute("SELECT title, creator_id, licence, category, age_rating "
                                "FROM items WHERE id = ?", (generation["item_id"],)).fetchone()
    store.conn.execute(
        "INSERT OR REPLACE INTO items (id, title, source, parent_id, creator_id, licence, "
        "category, age_rating, path, thumbnail_path, status, width, height, duration_s, fps, "
        "frames, codec, rotation, has_audio) "
        "VALUES (?, ?, 'ai', ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?, ?, ?, ?, ?)",
        (generation["id"], f"{parent['title'] if parent else 'AI item'} ({generation['task']}, "
         f"for {generation['user_id']})", generation["item_id"],
         parent["creator_id"] if parent else None, parent["licence"] if parent else "unknown",
         parent["category"] if parent else None, parent["age_rating"] if parent else None,
         str(path), str(thumbnail), info.width, info.height, info.duration_s, info.fps, info.frames, info.codec,
         info.rotation, int(info.has_audio)))


def export_generations(store: Store, generation_ids: list[str], out_dir: str,
                       progress: Progress | None = None) -> dict:
    """Export several; refused ones are reported, the rest go on."""
    progress = progress or Progress()
    exported, refused = [], []
    for done, generation_id in enumerate(generation_ids):
        progress.check_cancelled()
        progress.update(done, len(generation_ids), generation_id)
        try:
            exported.append(export_generation(store, generation_id, out_dir))
        except InputError as exc:
            refused.append({"generation_id": generation_id, "reason": str(exc)})
    progress.update(len(generation_ids), len(generation_ids), "exported")
    return {"out_dir": str(out_dir), "exported": exported, "refused": refused}
