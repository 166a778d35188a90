"""The AI editor's revision and the AI creator's tasks as whole operations: gather the user's
signal, run the model, write a reviewable generation (H.264 or PNG) with its provenance."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from core.diffusion.conditioning import Condition
from core.diffusion.domain import check_corpus, check_embeddings, check_item
from core.editor.generations import generation_path, new_generation_id
from core.errors import InputError
from core.progress import Progress
from core.store import Store

SIGNALS = ("User_Hist", "User_Emb", "both", "none")
DIFFUSION_TASKS = ("revise", "create", "thumbnail-gen")
OUTPUT_SHORT_SIDE = 256      # the watermark needs at least 256 x 256
CREATED_FPS = 16
EXEMPLARS_WITHOUT_TOKENS = 8   # a model without liked tokens gets its exemplars' mean alone


@lru_cache(maxsize=4)
def cached_model(kind: str, path: str, mtime: float):
    from core.diffusion.models import load_model

    return load_model(kind, path)


def model_for(store: Store, kind: str, checkpoint: str | None = None):
    from core.diffusion.models import default_checkpoint

    path = Path(checkpoint) if checkpoint else default_checkpoint(store, kind)
    if not path.is_file():
        raise InputError(f"no {kind} diffusion model at {path}; train one with "
                         f"'generec train-{kind}-model'")
    return model_at(kind, path)


def model_at(kind: str, path: Path):
    """The model in a checkpoint file, loaded once per process (until the file changes)."""
    return cached_model(kind, str(path), path.stat().st_mtime)


def user_condition(store: Store, model, user_id: str | None, signal: str,
                   instruction: str = "") -> Condition:
    """The Condition for a user and an optional instruction under the chosen signal; the
    instruction and User_Emb reach the model through their exemplars (`with_exemplars`)."""
    from core.editor.history import history_vector, liked_items, thumbnail_embeddings

    if signal not in SIGNALS:
        raise InputError(f"unknown user signal {signal!r}; expected one of {', '.join(SIGNALS)}")
    encoder_id = model.config["encoder"]
    cond = Condition(text=_text_embedding(encoder_id, instruction) if instruction.strip() else None)
    if signal in ("User_Hist", "both"):
        cond.hist = history_vector(store, encoder_id, _need_user(user_id))
        cond.liked = thumbnail_embeddings(store, encoder_id, liked_items(store, user_id))
    ranked = None
    if signal in ("User_Emb", "both"):
        from core.diffusion.signals import user_preference

        ranked = user_preference(store, encoder_id, _need_user(user_id))
    if cond.text is not None or ranked is not None:
        cond = _with_exemplars(store, encoder_id, cond,
                               model.config.get("liked_tokens") or EXEMPLARS_WITHOUT_TOKENS, ranked)
    return cond


def _with_exemplars(store: Store, encoder_id: str, cond: Condition, tokens: int,
                    ranked: tuple[str, dict[str, float]] | None) -> Condition:
    """Exemplars from this corpus's thumbnails (conditioning.with_exemplars); `ranked`, the
    recommender and its scores (User_Emb), or None."""
    from core.diffusion.conditioning import with_exemplars
    from core.store.embeddings import item_vectors

    thumbnails = item_vectors(store, encoder_id, "thumbnail")
    ids = tuple(sorted(thumbnails))
    vectors = np.stack([thumbnails[i] for i in ids]) if ids else np.zeros((0, 0), np.float32)
    if ranked is not None:
        cond.recommender, scores = ranked[0], ranked[1]
        cond.preference = np.array([scores.get(i, -np.inf) for i in ids], np.float32)
    return with_exemplars(cond, vectors, tokens, ids)


def exemplar_params(cond: Condition) -> dict:
    """The items whose thumbnails carried the instruction or User_Emb, and the recommender
    behind User_Emb, for the provenance."""
    return ({"exemplars": list(cond.exemplars)} if cond.exemplars else {}) | (
        {"user_emb_recommender": cond.recommender} if cond.recommender else {})


def _need_user(user_id: str | None) -> str:
    if not user_id:
        raise InputError("this task needs --user")
    return user_id


def _text_embedding(encoder_id: str, text: str) -> np.ndarray:
    from core.encoders.encoder import load_encoder

    spec = "bundled" if encoder_id.startswith("bundled:") else None
    if spec is None:
        raise InputError(f"instructions need the text tower of encoder {encoder_id}; only the "
                         f"bundled encoder's is wired in")
    return load_encoder(spec).encode_texts([text])[0]


def output_size(width: int, height: int) -> tuple[int, int]:
    scale = OUTPUT_SHORT_SIDE / min(width, height)
    return (max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2))


def generate_revision(store: Store, user_id: str, item_id: str, signal: str = "User_Hist",
                      instruction: str = "", strength: float | None = None,
                      sampler: str | None = None, steps: int | None = None,
                      guidance: float | None = None, seed: int = 0, max_seconds: float | None = None,
                      checkpoint: str | None = None, progress: Progress | None = None,
                      on_block=None, generation_id: str | None = None,
                      source_guidance: float | None = None) -> dict:
    """Revise the item (all of it, or its first `max_seconds`) toward the user's taste,
    SDEdit-style; the output keeps the source's frame count, frame rate and aspect ratio."""
    from core.store.corpus import require_frames

    item = require_frames(store, item_id, "revision")
    model = model_for(store, "video", checkpoint)
    cond = user_condition(store, model, user_id, signal, instruction)
    options = revision_options(strength, sampler, steps, guidance, seed, source_guidance)
    generation_id = generation_id or new_generation_id()
    out = generation_path(store, generation_id, ".mp4")
    made, frames = revise_file(model, item["path"], cond, options, out, max_seconds, progress,
                               on_block)
    params = {"signal": signal, "instruction": instruction, **exemplar_params(cond), **options,
              **made, "domain": check_item(store, model, item_id, frames)}   # out-of-domain warning
    return _record_video(store, "revise", user_id, item_id, params, model, out, generation_id)


def revise_file(model, path: str, cond: Condition, options: dict, out: Path,
                max_seconds: float | None = None, progress: Progress | None = None,
                on_block=None) -> tuple[dict, list[np.ndarray]]:
    """The revision itself, with no database (a batch worker runs it too): decode the source,
    revise it, write H.264 with the source's audio. Returns the parameters it adds and the
    working-size source frames."""
    from core.diffusion import video
    from core.diffusion.data import to_working
    from core.media import iter_frames, probe

    info = probe(path)
    size = model.config["size"]
    frames = [to_working(f.image, size) for f in iter_frames(path, max_side=256, info=info)
              if max_seconds is None or f.t_s < max_seconds]
    if not frames:
        raise InputError(f"{path}: no frames to revise")
    revised = video.run_blocks(model, len(frames), [cond], np.stack(frames)[None],
                               strength=options["strength"], sampler=options["sampler"],
                               steps=options["steps"], guidance=options["guidance"],
                               source_guidance=options.get("source_guidance", 1.0),
                               seed=options["seed"], progress=progress, on_block=on_block)[0]
    seconds = round(len(frames) / info.fps, 3)
    write_generated_video(out, revised, info.fps, info, audio_from=path if info.has_audio else None,
                          audio_seconds=seconds if max_seconds is not None else None)
    return {"seconds": seconds, "frames": len(frames)}, frames


def generate_creation(store: Store, user_id: str | None, instruction: str,
                      signal: str = "User_Hist", n_frames: int = 32, sampler: str | None = None,
                      steps: int | None = None, guidance: float | None = None, seed: int = 0,
                      checkpoint: str | None = None, progress: Progress | None = None,
                      on_block=None) -> dict:
    """A new micro-video from the instruction and the user's signal, block by block."""
    from core.diffusion import video

    if not instruction.strip() and signal == "none":
        raise InputError("creation needs an instruction or a user signal")
    if n_frames < 1:
        raise InputError("--frames must be at least 1")
    model = model_for(store, "video", checkpoint)
    cond = user_condition(store, model, user_id, signal if user_id else "none", instruction)
    options = creation_options(sampler, steps, guidance, seed)
    domain = check_corpus(store, model)
    created = video.run_blocks(model, n_frames, [cond], None, sampler=options["sampler"],
                               steps=options["steps"], guidance=options["guidance"], seed=seed,
                               progress=progress, on_block=on_block)[0]
    params = {"signal": signal, "instruction": instruction, **exemplar_params(cond), **options,
              "frames": n_frames, "domain": domain}
    generation_id = new_generation_id()
    out = generation_path(store, generation_id, ".mp4")
    write_generated_video(out, created, CREATED_FPS, None)
    return _record_video(store, "create", user_id, None, params, model, out, generation_id)


def generate_thumbnail_image(store: Store, user_id: str, item_id: str,
                             sampler: str | None = None, steps: int | None = None,
                             guidance: float | None = None, seed: int = 0,
                             checkpoint: str | None = None, progress: Progress | None = None) -> dict:
    from core.diffusion import thumbnail
    from core.diffusion.data import to_working
    from core.diffusion.models import liked_thumbnails
    from core.editor.generations import record_generation
    from core.editor.history import history_vector
    from core.editor.personalize import select_thumbnails
    from core.media import frame_at
    from core.media.thumbnail import save_image
    from core.store.corpus import require_frames
    from core.store.embeddings import load_frame_index

    item = require_frames(store, item_id, "thumbnail generation")
    model = model_for(store, "thumbnail", checkpoint)
    encoder_id = model.config["encoder"]
    index = load_frame_index(store, encoder_id, [item_id])
    liked = liked_thumbnails(store, encoder_id).get(_need_user(user_id))
    if liked is None:
        raise InputError(f"user {user_id!r} has no liked thumbnails to condition on")
    options = sampling_options(1.0, sampler, steps,
                               guidance if guidance is not None else thumbnail.DEFAULT_GUIDANCE, seed)
    frames = index.frames[0, :index.counts[0]]
    start, start_s = None, None
    if model.config.get("source"):   # start from the Eq. 1 frame (what the thumbnail task picks)
        start_s = select_thumbnails(index, history_vector(store, encoder_id, user_id))[0].t_s
        start = to_working(frame_at(item["path"], start_s, max_side=128), model.config["size"])
    image = thumbnail.generate_thumbnails(model, [frames], [liked], options["sampler"],
                                          options["steps"], options["guidance"], seed, progress,
                                          None if start is None else start[None])[0]
    import cv2

    image = cv2.resize(image, (OUTPUT_SHORT_SIDE, OUTPUT_SHORT_SIDE), interpolation=cv2.INTER_CUBIC)
    generation_id = new_generation_id()
    out = save_image(generation_path(store, generation_id, ".png"), image)
    params = {k: v for k, v in options.items() if k != "strength"}
    if start_s is not None:
        params["start_frame_s"] = start_s          # the frame it started from
    params["domain"] = check_embeddings(store, model, frames)
    with store.transaction():
        record_generation(store, "thumbnail-gen", user_id, item_id, params, {},
                          provenance_models(model), str(out), seed=seed,
                          generation_id=generation_id)
    return {"generation_id": generation_id, "output_path": str(out), "task": "thumbnail-gen",
            "user_id": user_id, "item_id": item_id, **params}


def sampling_options(strength: float, sampler: str | None, steps: int | None, guidance: float,
                     seed: int) -> dict:
    from core.diffusion.sampling import DEFAULT_SAMPLER, DEFAULT_STEPS, SAMPLERS

    sampler = sampler or DEFAULT_SAMPLER
    if sampler not in SAMPLERS:
        raise InputError(f"unknown sampler {sampler!r}; expected one of {', '.join(SAMPLERS)}")
    if not 0.0 < strength <= 1.0:
        raise InputError(f"--strength must be in (0, 1], got {strength}")
    return {"strength": strength, "sampler": sampler, "steps": steps or DEFAULT_STEPS,
            "guidance": guidance, "seed": seed}


def revision_options(strength: float | None, sampler: str | None, steps: int | None,
                     guidance: float | None, seed: int, source_guidance: float | None = None) -> dict:
    """sampling_options with revision's defaults (core.diffusion.video) for what is not given,
    and the source guidance (`sampling.combine_guidance`)."""
    from core.diffusion import video

    source_guidance = video.SOURCE_GUIDANCE if source_guidance is None else source_guidance
    if source_guidance < 1.0:
        raise InputError(f"--source-guidance must be at least 1, got {source_guidance}")
    return {**sampling_options(video.DEFAULT_STRENGTH if strength is None else strength, sampler,
                               steps or video.REVISION_STEPS,
                               video.DEFAULT_GUIDANCE if guidance is None else guidance, seed),
            "source_guidance": source_guidance}


def creation_options(sampler: str | None, steps: int | None, guidance: float | None,
                     seed: int) -> dict:
    """sampling_options for creation from noise, with the video model's guidance by default."""
    from core.diffusion import video

    return sampling_options(1.0, sampler, steps,
                            video.DEFAULT_GUIDANCE if guidance is None else guidance, seed)


def provenance_models(model) -> list[dict]:
    return [{"role": f"{model.kind}-diffusion", "id": model.model_id, "spec": str(model.path),
             "sha256": model.sha256},
            {"role": "encoder", "id": model.config["encoder"], "spec": model.config["encoder"]}]


def write_generated_video(out: Path, frames: np.ndarray, fps: float, info=None,
                          audio_from: str | None = None, audio_seconds: float | None = None) -> Path:
    """Working-size frames as H.264 at the source's aspect ratio (square without a source),
    with the source's audio where given."""
    from core.diffusion.data import from_working
    from core.media.write import carry_audio, write_video

    width, height = output_size(info.width, info.height) if info else (OUTPUT_SHORT_SIDE,) * 2
    silent = out.with_name(f".{out.stem}.video.mp4")
    write_video(silent, (from_working(f, width, height) for f in frames), fps)
    try:
        carry_audio(audio_from or "", silent, out, audio_from is not None, audio_seconds)
    finally:
        silent.unlink(missing_ok=True)
    return out


def _record_video(store: Store, task: str, user_id, item_id, params: dict, model, out: Path,
                  generation_id: str) -> dict:
    from core.editor.generations import record_generation

    with store.transaction():
        record_generation(store, task, user_id, item_id, params, {}, provenance_models(model),
                          str(out), seed=params.get("seed"), generation_id=generation_id)
    return {"generation_id": generation_id, "output_path": str(out), "task": task,
            "user_id": user_id, "item_id": item_id, **params}