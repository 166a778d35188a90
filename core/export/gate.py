"""Export approved generations to a folder, with a provenance sidecar, and (for videos) back
into the corpus as AI items. Whatever calls it, an unapproved generation is refused.

Each export goes watermark -> container metadata stripped -> Content Credentials signed ->
watermark and manifest read back from the signed file, all under temporary names; only a file
that passed every step gets its final name, so a crash never leaves a half-made export there.
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from core.editor.generations import get_generation
from core.errors import GenerecError, InputError
from core.hashing import file_sha256
from core.progress import Progress
from core.store import Store
from core.store.corpus import get_item
from core.store.exports import mark_exported, upsert_ai_item
from core.store.reviews import approved_output_sha256, generation_status, insert_checks

EXPORT_STEPS = 5   # watermark, strip, sign, read back, record

EXPORTABLE = ("approved", "exported")
# What the exported file may tell about itself: the provenance record less the user it was
# made for (that stays in the sidecar and the corpus).
PRIVATE_FIELDS = ("user_id",)


class ExportRefused(InputError):
    """The generation is not approved."""


def export_refusal(store: Store, generation_id: str) -> str | None:
    """Why the generation may not be exported, or None when it may: it must be approved, and its
    output must hold the very bytes that were checked and approved."""
    status = generation_status(store, generation_id)
    if status is None:
        return f"unknown generation {generation_id!r}"
    if status not in EXPORTABLE:
        return f"generation {generation_id} is {status}, not approved; nothing was exported"
    output = Path(get_generation(store, generation_id)["output_path"] or "")
    if not output.is_file():
        return f"generation {generation_id}: output file {output} is missing; nothing was exported"
    approved, sha = approved_output_sha256(store, generation_id)
    if not approved or sha is None:
        return (f"generation {generation_id} was approved before approvals recorded the output's "
                f"sha256; re-run its checks and approve it again; nothing was exported")
    if file_sha256(output) != sha:
        return (f"generation {generation_id}: output changed after review ({output} no longer "
                f"holds the approved bytes); nothing was exported")
    return None


def export_generation(store: Store, generation_id: str, out_dir: str | Path,
                      expires_at: str | None = None, force: bool = False,
                      progress: Progress | None = None) -> dict:
    """`expires_at`: optional UTC expiry ('YYYY-MM-DDTHH:MM:SSZ', see core.export.expiry).
    An existing export of the same name is never overwritten unless `force`. `progress` hears
    each step (watermark, strip, sign, read back, record) of EXPORT_STEPS."""
    progress = progress or Progress()
    refusal = export_refusal(store, generation_id)
    if refusal is not None:
        raise ExportRefused(refusal)
    generation = get_generation(store, generation_id)
    source = Path(generation["output_path"])
    out_dir = Path(out_dir)
    target = out_dir / f"{generation_id}{source.suffix}"
    sidecar = out_dir / f"{generation_id}.provenance.json"
    existing = [p.name for p in (target, sidecar) if p.exists()]
    if existing and not force:
        raise ExportRefused(f"{out_dir} already holds {', '.join(existing)}; nothing was "
                            f"exported (choose another folder, or --force to replace it)")
    out_dir.mkdir(parents=True, exist_ok=True)
    exported_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    with _staging(target) as stage:
        made = _make_export(source, stage, generation, expires_at, target.name, progress)
        os.replace(made["file"], target)
    provenance = {**generation["provenance"], "expires_at": expires_at, "exported_at": exported_at,
                  **{k: v for k, v in made.items() if k != "file"}}
    _atomic_write(sidecar, json.dumps(provenance, indent=2, sort_keys=True))
    progress.update(4, EXPORT_STEPS, "recording")
    corpus_copy = _corpus_copy(store, target) if source.suffix.lower() == ".mp4" else None
    mark, credentials = made["watermark"], made["c2pa"]
    with store.transaction():
        insert_checks(store, generation_id, [{
            "name": "identifiability", "version": "2", "blocking": True, "status": "pass",
            "score": mark["agreement"], "evidence": {
                "text": f"watermark {mark['payload']} read back from the exported file "
                        f"({mark['agreement']:.0%} of bits agree across {mark['frames']} frames); "
                        f"Content Credentials: {credentials['summary']}",
                **mark, "c2pa": {k: v for k, v in credentials.items() if k != "provenance"}}}],
            made["sha256"], None)
        if corpus_copy is not None:
            _add_ai_item(store, generation, corpus_copy, expires_at)
        mark_exported(store, generation_id, expires_at)
        store.audit("generation.exported", generation_id,
                    {"file": str(target), "sha256": made["sha256"], "expires_at": expires_at})
    progress.update(EXPORT_STEPS, EXPORT_STEPS, "exported")
    return {"generation_id": generation_id, "file": str(target), "provenance": str(sidecar),
            "expires_at": expires_at, "c2pa": credentials["summary"]}


def _make_export(source: Path, stage: Callable[[str], Path], generation: dict,
                 expires_at: str | None, title: str, progress: Progress) -> dict:
    """Watermark, strip, sign and read back; returns the signed temporary file and what was
    read back from it. Raises, with nothing left behind, when a read-back disagrees."""
    from core.export.content_credentials import read_credentials, sign_file
    from core.export.metadata import container_tags, provenance_comment, strip_metadata
    from core.fidelity.watermark import (METHOD, payload_for, read_payload, watermark_image,
                                         watermark_video)

    generation_id = generation["id"]
    payload = payload_for(generation_id)
    marked = stage("marked")
    progress.update(0, EXPORT_STEPS, "watermarking")
    if source.suffix.lower() == ".mp4":
        watermark_video(source, marked, payload)
    else:
        watermark_image(source, marked, payload)
    progress.update(1, EXPORT_STEPS, "stripping metadata")
    clean = strip_metadata(marked, stage("clean"), provenance_comment(generation_id))
    record = {k: v for k, v in generation["provenance"].items() if k not in PRIVATE_FIELDS}
    record.update(source_item=generation["item_id"], expires_at=expires_at,
                  watermark={"method": METHOD, "payload": payload.hex()})
    signed = stage("signed")
    progress.update(2, EXPORT_STEPS, "signing")
    sign_file(clean, signed, record, title)
    progress.update(3, EXPORT_STEPS, "reading back")
    found = read_payload(signed)
    if found["payload"] != payload.hex():
        raise GenerecError(f"{generation_id}: the watermark could not be read back from the "
                           f"exported file; nothing was exported")
    credentials = read_credentials(signed)
    if not credentials["valid"]:
        raise GenerecError(f"{generation_id}: the Content Credentials did not validate after "
                           f"signing ({credentials['summary']}); nothing was exported")
    return {"file": signed, "watermark": {"method": METHOD, **found}, "c2pa": credentials,
            "container_metadata": container_tags(signed), "sha256": file_sha256(signed)}


@contextmanager
def _staging(target: Path) -> Iterator[Callable[[str], Path]]:
    """Hands out temporary names beside `target` for each step and removes them all after,
    whatever happened."""
    made: list[Path] = []

    def stage(step: str) -> Path:
        made.append(target.with_name(f".{target.stem}.{step}.partial{target.suffix}"))
        return made[-1]

    try:
        yield stage
    finally:
        for path in made:
            path.unlink(missing_ok=True)


def _atomic_write(target: Path, text: str) -> None:
    tmp = target.with_name(f".{target.name}.partial")
    tmp.write_text(text)
    os.replace(tmp, target)


def _corpus_copy(store: Store, exported: Path) -> Path:
    """The corpus keeps its own copy in the media folder: it must not depend on an export
    folder the operator may move, and purging deletes only files the corpus owns."""
    from core.paths import media_dir

    copy = media_dir(store.path) / "ai" / exported.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    tmp = copy.with_name(f".{copy.name}.partial")
    shutil.copyfile(exported, tmp)
    os.replace(tmp, copy)
    return copy


def _add_ai_item(store: Store, generation: dict, path: Path, expires_at: str | None) -> None:
    from core.media import original_thumbnail, probe, save_image
    from core.paths import media_dir

    info = probe(path)
    thumbnail = save_image(media_dir(store.path) / "thumbnails" / f"{generation['id']}.jpg",
                           original_thumbnail(path, info))
    parent = get_item(store, generation["item_id"])
    upsert_ai_item(store, {
        "id": generation["id"],
        "title": f"{parent['title'] if parent else 'AI item'} ({generation['task']}, "
                 f"for {generation['user_id']})",
        "parent_id": generation["item_id"],
        "creator_id": parent["creator_id"] if parent else None,
        "licence": parent["licence"] if parent else "unknown",
        "category": parent["category"] if parent else None,
        "age_rating": parent["age_rating"] if parent else None,
        "path": str(path), "thumbnail_path": str(thumbnail), "width": info.width,
        "height": info.height, "duration_s": info.duration_s, "fps": info.fps,
        "frames": info.frames, "codec": info.codec, "rotation": info.rotation,
        "has_audio": int(info.has_audio), "expires_at": expires_at})


def export_generations(store: Store, generation_ids: list[str], out_dir: str,
                       progress: Progress | None = None, expires_at: str | None = None,
                       force: bool = False) -> dict:
    """Export several; refused ones are reported, the rest go on."""
    progress = progress or Progress()
    exported, refused = [], []
    for done, generation_id in enumerate(generation_ids):
        progress.check_cancelled()
        progress.update(done, len(generation_ids), generation_id)
        try:
            exported.append(export_generation(store, generation_id, out_dir, expires_at, force))
        except InputError as exc:
            refused.append({"generation_id": generation_id, "reason": str(exc)})
    progress.update(len(generation_ids), len(generation_ids), "exported")
    return {"out_dir": str(out_dir), "exported": exported, "refused": refused}
