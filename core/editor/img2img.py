"""Optional style transfer through a local Stable Diffusion img2img pipeline (diffusers), and
the frame step that the pipeline revision (core/diffusion/pipeline_tasks.py) shares with it.

Only local files are used: point `GENEREC_SD_WEIGHTS` (or the `weights` argument) at a folder
saved by `save_pretrained` (core/diffusion/pipelines.py loads it: local files, safetensors).
Every frame is denoised from the same seed, so every frame starts from the same latent noise and
a still source stays still; strength sets how far the output may move from the source.
"""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from core.errors import InputError

DEFAULT_STRENGTH = 0.45
DEFAULT_STEPS = 20
DEFAULT_GUIDANCE = 6.0


def weights_folder(weights: str | os.PathLike | None = None) -> Path:
    folder = weights or os.environ.get("GENEREC_SD_WEIGHTS")
    if not folder:
        raise InputError("the diffusion style needs local Stable Diffusion weights: set "
                         "GENEREC_SD_WEIGHTS or pass --diffusion-weights DIR (a folder saved by "
                         "diffusers' save_pretrained)")
    folder = Path(folder).expanduser()
    if not (folder / "model_index.json").is_file():
        raise InputError(f"{folder}: no model_index.json; not a diffusers pipeline folder")
    return folder


def img2img_frame(pipe, rgb: np.ndarray, prompt: str, strength: float, steps: int,
                  guidance: float, seed: int, image_embeds=None, check=None) -> np.ndarray:
    """One frame through an img2img pipeline at a size the VAE takes (multiples of 8), back at
    the frame's size. The generator is seeded afresh per frame, so every frame of a video starts
    from the same latent noise. `image_embeds` (1 x D), where the pipeline has an IP-Adapter, is
    its image prompt; without one its image prompt is switched off (scale 0). `check` runs at
    every denoising step (a job's check_cancelled: a real pipeline's frame takes seconds)."""
    import torch
    from PIL import Image

    h, w = rgb.shape[:2]
    size = (max(8, w // 8 * 8), max(8, h // 8 * 8))     # the VAE works in multiples of 8
    image = Image.fromarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
    out = pipe(prompt=prompt, image=image, strength=strength, num_inference_steps=steps,
               guidance_scale=guidance, generator=torch.Generator().manual_seed(seed),
               output_type="np", **ip_adapter_arguments(pipe, image_embeds, guidance),
               **at_each_step(pipe, check)).images[0]
    return cv2.resize((out * 255).clip(0, 255).astype(np.uint8), (w, h),
                      interpolation=cv2.INTER_CUBIC)


def at_each_step(pipe, check) -> dict:
    """The pipeline call's arguments that run `check()` after every denoising step (older
    pipelines, such as the text-to-video one, take the legacy `callback`)."""
    import inspect

    if check is None:
        return {}
    accepted = inspect.signature(pipe.__call__).parameters
    if "callback_on_step_end" in accepted:
        def on_step_end(pipe, step, timestep, tensors):
            check()
            return tensors
        return {"callback_on_step_end": on_step_end}
    if "callback" in accepted:
        return {"callback": lambda step, timestep, latents: check(), "callback_steps": 1}
    return {}


def ip_adapter_arguments(pipe, image_embeds, guidance: float) -> dict:
    """The pipeline call's image prompt where an IP-Adapter is loaded: `image_embeds` (1 x D),
    or none (a zero embedding at scale 0, which the adapter's UNet still needs)."""
    if getattr(pipe.unet, "encoder_hid_proj", None) is None:
        return {}
    import torch

    dim = pipe.image_encoder.config.projection_dim
    embeds = (torch.zeros(1, 1, dim) if image_embeds is None
              else torch.as_tensor(image_embeds, dtype=torch.float32).reshape(1, 1, dim))
    if guidance > 1:        # classifier-free guidance: the unconditional half first
        embeds = torch.cat([torch.zeros_like(embeds), embeds])
    pipe.set_ip_adapter_scale(0.0 if image_embeds is None else 1.0)
    return {"ip_adapter_image_embeds": [embeds.to(pipe.device, pipe.unet.dtype)]}


class DiffusionStyle:
    def __init__(self, prompt: str, weights: str | os.PathLike | None = None,
                 strength: float = DEFAULT_STRENGTH, steps: int = DEFAULT_STEPS,
                 guidance: float = DEFAULT_GUIDANCE, seed: int = 0) -> None:
        if not 0 < strength < 1:
            raise InputError(f"strength must be in (0, 1), got {strength}")
        self.folder = str(weights_folder(weights))
        self.prompt, self.strength, self.steps = prompt, strength, steps
        self.guidance, self.seed = guidance, seed

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        from core.diffusion.pipelines import IMG2IMG, load_pipeline, use_sampler

        pipe = load_pipeline(self.folder, IMG2IMG)
        use_sampler(pipe, None)
        return img2img_frame(pipe, rgb, self.prompt, self.strength, self.steps, self.guidance,
                             self.seed)
