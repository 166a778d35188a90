"""The AI editor's personalization tasks as whole operations: pick, record, write outputs."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from core.editor.generations import generation_path, new_generation_id, record_generation
from core.editor.history import history_vector
from core.editor.outputs import cut_clip, write_frame_png
from core.editor.personalize import (DEFAULT_CLIP_LEN, clips_from_scan, select_clips,
                                     select_thumbnails, thumbnails_from_scan)
from core.encoders.encoder import BUNDLED_DIR, BUNDLED_NAME, file_sha256
from core.errors import InputError
from core.progress import Progress
from core.store import Store
from core.store.corpus import first_caption, require_frames
from core.store.embeddings import latest_model, load_frame_index
from core.store.evaluation import model_spec
from core.store.frame_matrix import open_frame_matrix
from core.store.models import model_identity

TASKS = ("thumbnail", "clip")
OUTPUT_SUFFIX = {"thumbnail": ".png", "clip": ".mp4"}


def resolve_model_id(store: Store, spec: str | None = None) -> str:
    """The id of the model that indexed this corpus under `spec` (or `spec` itself where it
    is already such an id, as provenance records hold), without loading the model."""
    spec = (spec or "bundled").strip()
    if model_spec(store, spec) is not None:
        return spec
    if spec == "bundled":
        weights = BUNDLED_DIR / f"{BUNDLED_NAME}.safetensors"
        if weights.is_file():
            model_id = f"bundled:{BUNDLED_NAME}@{file_sha256(weights)[:12]}"
            if model_spec(store, model_id) is not None:
                return model_id
    else:
        row = latest_model(store, [spec])
        if row is not None:
            return row["id"]
    raise InputError(f"the corpus has no embeddings from encoder {spec!r}; run "
                     f"'generec index --model {spec}' first")


def encoder_models(store: Store, model_id: str) -> list[dict]:
    row = model_identity(store, model_id)
    return [{"role": "encoder", "id": row["id"], "spec": row["spec"], "sha256": row["sha256"]}]


def personalize(store: Store, user_id: str, task: str, item_ids: list[str] | None = None,
                spec: str | None = None, clip_len: int = DEFAULT_CLIP_LEN, stride: int = 1,
                record: bool = True) -> list[dict]:
    """Eq. 1 or Eq. 2 for one user against the given items (default: every indexed item)."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    if clip_len < 1 or stride < 1:
        raise InputError("--clip-len and --stride must be at least 1")
    model_id = resolve_model_id(store, spec)
    for item_id in item_ids or ():
        require_frames(store, item_id, task)
    user = history_vector(store, model_id, user_id)
    if item_ids is None:      # the whole corpus: one pass over the resident fp16 matrix
        matrix = open_frame_matrix(store, model_id)
        picks = matrix.scan(user, clip_len, stride)
        chosen = sorted(thumbnails_from_scan(matrix, picks) if task == "thumbnail"
                        else clips_from_scan(matrix, picks), key=lambda c: c.item_id)
    else:
        index = load_frame_index(store, model_id, item_ids)
        chosen = (select_thumbnails(index, user) if task == "thumbnail"
                  else select_clips(index, user, clip_len, stride))
    choices = [asdict(c) for c in chosen]
    if task == "clip":
        for choice in choices:
            choice.update(clip_len=clip_len, stride=stride)
    if record:
        models = encoder_models(store, model_id)
        with store.transaction():
            for choice in choices:
                params = {k: v for k, v in choice.items() if k not in ("item_id", "score")}
                choice["generation_id"] = record_generation(
                    store, task, user_id, choice["item_id"], params, {"cosine": choice["score"]},
                    models)
    for choice in choices:
        choice["encoder"] = model_id
    return choices


def write_personal_output(task: str, video: str, choice: dict, out: Path) -> Path:
    """The output of an Eq. 1 / Eq. 2 choice, with no database (a batch worker runs it too): the
    chosen frame as PNG, or the chosen clip as MP4."""
    if task == "thumbnail":
        return write_frame_png(video, choice["t_s"], out)
    return cut_clip(video, choice["start_s"], choice["end_s"], out)


def personal_params(choice: dict) -> dict:
    """What a generation records of a choice (the score goes into its scores)."""
    return {k: v for k, v in choice.items() if k not in ("item_id", "score", "encoder")}


def generate_personalized(store: Store, user_id: str, item_id: str, task: str,
                          spec: str | None = None, clip_len: int = DEFAULT_CLIP_LEN,
                          stride: int = 1, progress: Progress | None = None) -> dict:
    """A reviewable generation with an output file: the thumbnail as PNG, the clip as MP4."""
    progress = progress or Progress()
    item = require_frames(store, item_id, task)
    progress.update(0, 2, "selecting")
    choice = personalize(store, user_id, task, [item_id], spec, clip_len, stride, record=False)[0]
    progress.check_cancelled()
    progress.update(1, 2, "writing the output")
    generation_id = new_generation_id()
    output = write_personal_output(task, item["path"], choice,
                                   generation_path(store, generation_id, OUTPUT_SUFFIX[task]))
    params = personal_params(choice)
    with store.transaction():
        record_generation(store, task, user_id, item_id, params, {"cosine": choice["score"]},
                          encoder_models(store, choice["encoder"]), str(output),
                          generation_id=generation_id)
    progress.update(2, 2, "done")
    return {"generation_id": generation_id, "output_path": str(output), "task": task,
            "user_id": user_id, "item_id": item_id, **params, "score": choice["score"],
            "encoder": choice["encoder"]}


def generate_styled(store: Store, user_id: str | None, item_id: str, style: str,
                    caption: str | None = None, label: bool = True,
                    progress: Progress | None = None, prompt: str = "",
                    diffusion_weights: str | None = None,
                    diffusion_options: dict | None = None) -> dict:
    """A restyled copy of an item (H.264, audio kept), with the item's caption burned in
    unless another caption is given, and a visible AI label."""
    from core.editor.restyle import restyle_video

    item = require_frames(store, item_id, "style transfer")
    if caption is None:
        caption = first_caption(store, item_id)
    generation_id = new_generation_id()
    out = generation_path(store, generation_id, ".mp4")
    result = restyle_video(item["path"], out, style, caption, label, progress=progress,
                           prompt=prompt, diffusion_weights=diffusion_weights,
                           diffusion_options=diffusion_options)
    params = {"style": style, "caption": caption, "ai_label": label}
    models = [{"role": "style", "id": f"opencv:{style}", "spec": style}]
    if style == "diffusion":
        from core.diffusion.pipelines import provenance
        from core.editor.img2img import weights_folder

        params.update(prompt=prompt, **(diffusion_options or {}))
        folder = weights_folder(diffusion_weights)      # every weight file's sha256 (issue 14)
        models = [provenance(folder)]
    scores = {"flicker": result.flicker, "source_flicker": result.source_flicker}
    with store.transaction():
        record_generation(store, "style", user_id, item_id, params, scores, models,
                          str(out), generation_id=generation_id)
    return {"generation_id": generation_id, "output_path": str(out), "task": "style",
            "user_id": user_id, "item_id": item_id, **params, **scores,
            "frames": result.frames}
