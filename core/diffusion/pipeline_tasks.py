"""Revision and creation with a pretrained pipeline the user supplies (issue 14).

- Revision (`generate --task revise --pipeline DIR`): the source, or its first `max_seconds`,
  goes frame by frame through the folder's img2img pipeline at the output size (short side 256)
  and is written at the source's frame rate and frame count with its audio. Every frame starts
  from the same seeded latent noise (core.editor.img2img.img2img_frame) and the style presets'
  motion-aware temporal smoothing runs on the outputs (core.editor.restyle.filter_video);
  flicker (mean |frame_t - frame_t-1| on 128-px copies) is recorded beside the source's.
- Creation (`generate --task create --pipeline DIR`): a text-to-video pipeline makes the clip;
  a text-to-image pipeline makes one image, and the clip is a slow zoom or pan over it, which
  the generation's parameters say in words.

The user signal (`--signal User_Hist`): with an IP-Adapter in the folder, its image prompt is
the mean image embedding of the user's liked items' thumbnails (training likes: User_Hist as
images), passed as `ip_adapter_image_embeds`; without one, and for creation's text prompt, the
liked items' titles are appended to the prompt. `--signal none` leaves the user out.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.diffusion.pipelines import (IMG2IMG, TEXT2IMG, TEXT2VIDEO, load_pipeline, pipeline_kinds,
                                      provenance, use_sampler, validate)
from core.editor.generations import generation_path, new_generation_id
from core.errors import InputError
from core.progress import Progress
from core.store import Store

DEFAULT_STRENGTH = 0.45          # as the diffusion style
DEFAULT_STEPS = 20
DEFAULT_GUIDANCE = 6.0
MAX_LIKED = 32                   # thumbnails averaged into the image prompt
MAX_TITLES = 6                   # titles in a prompt (CLIP reads 77 tokens)
MOTIONS = ("zoom", "pan")
ZOOM = 1.25                      # the image clip ends this much closer than it starts
PREVIEW_EVERY = 8                # frames between previews of a running revision


def generate_pipeline_revision(store: Store, user_id: str, item_id: str, pipeline: str,
                               signal: str = "User_Hist", instruction: str = "",
                               strength: float | None = None, sampler: str | None = None,
                               steps: int | None = None, guidance: float | None = None,
                               seed: int = 0, max_seconds: float | None = None,
                               smoothing: float | None = None, encoder: str | None = None,
                               progress: Progress | None = None,
                               on_block=None) -> dict:
    """Revise the item with the folder's img2img pipeline; see the module's docstring."""
    from core.diffusion.service import output_size
    from core.editor.img2img import img2img_frame
    from core.editor.restyle import DEFAULT_SMOOTHING, filter_video
    from core.media import probe
    from core.store.corpus import require_frames

    progress = progress or Progress()
    item = require_frames(store, item_id, "revision")
    strength = DEFAULT_STRENGTH if strength is None else strength
    if not 0 < strength <= 1:
        raise InputError(f"--strength must be in (0, 1], got {strength}")
    smoothing = DEFAULT_SMOOTHING if smoothing is None else smoothing
    if not 0 <= smoothing < 1:
        raise InputError(f"--smoothing must be in [0, 1), got {smoothing}")
    if max_seconds is not None and max_seconds <= 0:
        raise InputError(f"--max-seconds must be positive, got {max_seconds}")
    pipe = load_pipeline(pipeline, IMG2IMG)
    options = _options(pipe, sampler, steps, guidance, seed)
    signal_params, embeds, prompt = _user_signal(store, pipe, user_id, signal, instruction)
    info = probe(item["path"])
    size = output_size(info.width, info.height)

    done = 0

    def frame(rgb: np.ndarray) -> np.ndarray:
        nonlocal done
        out = img2img_frame(pipe, rgb, prompt, strength, options["steps"], options["guidance"],
                            seed, embeds, progress.check_cancelled)
        done += 1
        if on_block is not None and done % PREVIEW_EVERY == 1:
            on_block(done, info.frames, out[None])
        return out

    generation_id = new_generation_id()
    out = generation_path(store, generation_id, ".mp4")
    made = filter_video(item["path"], out, frame, size, info, "pipeline revision", progress,
                        max_seconds=max_seconds, smoothing=smoothing)
    params = {**_described(pipeline, pipe, IMG2IMG), "signal": signal,
              "instruction": instruction, "prompt": prompt, **signal_params,
              "strength": strength, **options, "max_seconds": max_seconds,
              "smoothing": smoothing, "noise": "one seeded latent noise shared by every frame",
              "frames": made.frames, "fps": made.fps, "seconds": round(made.frames / made.fps, 3),
              "flicker": made.flicker, "source_flicker": made.source_flicker}
    return _record(store, "revise", user_id, item_id, params, pipeline, pipe, out, generation_id,
                   encoder)


def generate_pipeline_creation(store: Store, user_id: str | None, instruction: str,
                               pipeline: str, signal: str = "User_Hist", n_frames: int = 32,
                               sampler: str | None = None, steps: int | None = None,
                               guidance: float | None = None, seed: int = 0,
                               motion: str = "zoom", encoder: str | None = None,
                               progress: Progress | None = None,
                               on_block=None) -> dict:
    """A new clip from the instruction and the user's liked titles; see the module's docstring."""
    from core.diffusion.service import CREATED_FPS, OUTPUT_SHORT_SIDE, write_generated_video
    from core.editor.img2img import at_each_step

    progress = progress or Progress()
    if n_frames < 1:
        raise InputError("--frames must be at least 1")
    if motion not in MOTIONS:
        raise InputError(f"unknown motion {motion!r}; expected one of {', '.join(MOTIONS)}")
    kinds = pipeline_kinds(validate(pipeline))
    kind = TEXT2VIDEO if TEXT2VIDEO in kinds else TEXT2IMG
    pipe = load_pipeline(pipeline, kind)
    options = _options(pipe, sampler, steps, guidance, seed)
    signal_params, _, prompt = _user_signal(store, pipe, user_id if user_id else None,
                                            signal if user_id else "none", instruction,
                                            titles_always=True)
    if not prompt.strip():
        raise InputError("creation needs an instruction or a user whose liked items have titles")
    progress.update(0, 2, f"{type(pipe).__name__}: generating")
    side = OUTPUT_SHORT_SIDE
    call = {"prompt": prompt, "num_inference_steps": options["steps"],
            "guidance_scale": options["guidance"], "height": side, "width": side,
            "generator": _generator(seed), "output_type": "np",
            **at_each_step(pipe, progress.check_cancelled)}
    if kind == TEXT2VIDEO:
        frames = _uint8(np.asarray(pipe(num_frames=n_frames, **call).frames[0]))
        how = f"{len(frames)} frames from the text-to-video pipeline"
    else:
        image = _uint8(_with_image_prompt(pipe, call)[0])
        frames = camera_move(image, n_frames, motion)
        how = (f"{motion} over one generated image: a still picture from the text-to-image "
               f"pipeline, moved by a virtual camera ({'x%.2f zoom' % ZOOM if motion == 'zoom' else 'left-to-right pan'}), "
               f"not generated motion")
    progress.check_cancelled()
    if on_block is not None:
        on_block(1, 1, frames[:1])
    generation_id = new_generation_id()
    out = generation_path(store, generation_id, ".mp4")
    write_generated_video(out, frames, CREATED_FPS, None)
    progress.update(2, 2, "written")
    params = {**_described(pipeline, pipe, kind), "signal": signal if user_id else "none",
              "instruction": instruction, "prompt": prompt, **signal_params, **options,
              "frames": len(frames), "fps": CREATED_FPS,
              "seconds": round(len(frames) / CREATED_FPS, 3), "motion": how}
    return _record(store, "create", user_id, None, params, pipeline, pipe, out, generation_id,
                   encoder)


def camera_move(image: np.ndarray, n_frames: int, motion: str = "zoom") -> np.ndarray:
    """n frames of a virtual camera over one image, at the image's size: a centred zoom from
    1 to ZOOM, or a pan across a window of 1/ZOOM of the width, eased in and out."""
    import cv2

    h, w = image.shape[:2]
    frames = []
    for i in range(n_frames):
        t = 0.5 - 0.5 * np.cos(np.pi * i / max(1, n_frames - 1))       # ease in and out
        if motion == "zoom":
            scale = 1 + (ZOOM - 1) * t
            cw, ch = w / scale, h / scale
            x0, y0 = (w - cw) / 2, (h - ch) / 2
        else:
            cw, ch = w / ZOOM, h / ZOOM
            x0, y0 = (w - cw) * t, (h - ch) / 2
        # an affine warp keeps sub-pixel positions, so the motion does not judder
        m = np.array([[w / cw, 0, -x0 * w / cw], [0, h / ch, -y0 * h / ch]], np.float32)
        frames.append(cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_CUBIC,
                                     borderMode=cv2.BORDER_REFLECT))
    return np.stack(frames)


def _options(pipe, sampler: str | None, steps: int | None, guidance: float | None,
             seed: int) -> dict:
    steps = steps or DEFAULT_STEPS
    if steps < 1:
        raise InputError(f"--steps must be at least 1, got {steps}")
    return {"sampler": sampler, "scheduler": use_sampler(pipe, sampler), "steps": steps,
            "guidance": DEFAULT_GUIDANCE if guidance is None else guidance, "seed": seed}


def _generator(seed: int):
    import torch

    return torch.Generator().manual_seed(seed)


def _uint8(images: np.ndarray) -> np.ndarray:
    return (np.clip(images, 0, 1) * 255).round().astype(np.uint8)


def _with_image_prompt(pipe, call: dict) -> np.ndarray:
    """A text-to-image call; a loaded IP-Adapter gets a zero image prompt at scale 0."""
    from core.editor.img2img import ip_adapter_arguments

    return pipe(**call, **ip_adapter_arguments(pipe, None, call["guidance_scale"])).images


def _user_signal(store: Store, pipe, user_id: str | None, signal: str, instruction: str,
                 titles_always: bool = False) -> tuple[dict, np.ndarray | None, str]:
    """(parameters that say how the user entered, the IP-Adapter image embedding or None,
    the prompt)."""
    from core.diffusion.service import SIGNALS

    if signal not in SIGNALS:
        raise InputError(f"unknown user signal {signal!r}; expected one of {', '.join(SIGNALS)}")
    if signal in ("User_Emb", "both"):
        raise InputError("a pretrained pipeline takes the user as User_Hist (liked thumbnails "
                         "or titles) or not at all: use --signal User_Hist or --signal none")
    prompt = instruction.strip()
    if signal == "none":
        return {"user_signal": "none"}, None, prompt
    from core.editor.history import liked_items
    from core.store.pipelines import item_covers

    if not user_id:
        raise InputError("this task needs --user")
    liked = item_covers(store, liked_items(store, user_id))[:MAX_LIKED]
    if not liked:
        raise InputError(f"user {user_id!r} has no liked items in the training split; use "
                         f"--signal none to revise without the user")
    has_adapter = getattr(pipe.unet, "encoder_hid_proj", None) is not None
    if has_adapter and not titles_always:
        embeds, used = liked_image_embedding(pipe, liked)
        return ({"user_signal": f"IP-Adapter image prompt: the mean image embedding of "
                                f"{len(used)} liked thumbnails", "liked_items": used},
                embeds, prompt)
    titles = [c["title"] for c in liked if c["title"].strip()][:MAX_TITLES]
    if titles:
        prompt = ", ".join(filter(None, [prompt, "in the spirit of " + "; ".join(titles)]))
    return ({"user_signal": f"titles of {len(titles)} liked items in the prompt",
             "liked_items": [c["id"] for c in liked if c["title"].strip()][:MAX_TITLES]},
            None, prompt)


def liked_image_embedding(pipe, liked: list[dict]) -> tuple[np.ndarray, list[str]]:
    """The mean of the pipeline's image-encoder embeddings of the liked thumbnails (1 x D)."""
    import torch
    from PIL import Image

    from core.media import read_image

    images, used = [], []
    for cover in liked:
        path = cover["thumbnail_path"]
        if path and Path(path).is_file():
            images.append(Image.fromarray(read_image(path)))
            used.append(cover["id"])
    if not images:
        raise InputError("none of the user's liked items has a thumbnail on disk for the "
                         "IP-Adapter's image prompt")
    with torch.no_grad():
        embeds, _ = pipe.encode_image(images, pipe.device, 1)
    return embeds.float().mean(dim=0, keepdim=True).cpu().numpy(), used


def _described(folder: str, pipe, kind: str) -> dict:
    return {"pipeline": str(Path(folder).expanduser().resolve()),
            "pipeline_class": type(pipe).__name__, "pipeline_kind": kind}


def _record(store: Store, task: str, user_id, item_id, params: dict, folder: str, pipe,
            out: Path, generation_id: str, encoder: str | None) -> dict:
    """Record the generation; its models are the pipeline (every weight file's sha256) and the
    encoder that indexed the corpus (the checks compare the output with the corpus by it)."""
    from core.editor.generations import record_generation
    from core.editor.service import resolve_model_id

    models = [provenance(folder, type(pipe).__name__)]
    try:
        encoder_id = resolve_model_id(store, encoder)
        models.append({"role": "encoder", "id": encoder_id, "spec": encoder_id})
    except InputError:
        pass            # an unindexed corpus: the checks say what they could not compare
    with store.transaction():
        record_generation(store, task, user_id, item_id, params, {}, models, str(out),
                          seed=params["seed"], generation_id=generation_id)
    return {"generation_id": generation_id, "output_path": str(out), "task": task,
            "user_id": user_id, "item_id": item_id, **params,
            "weights": {f["file"]: f["sha256"] for f in models[0]["files"]}}
