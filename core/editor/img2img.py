"""Optional style transfer through a local Stable Diffusion img2img pipeline (diffusers).

Only local files are used: point `GENEREC_SD_WEIGHTS` (or the `weights` argument) at a folder
saved by `save_pretrained`. Every frame is denoised from the same seed, so a still source stays
still; strength sets how far the output may move from the source.
"""
from __future__ import annotations

import os
from functools import lru_cache
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


@lru_cache(maxsize=1)
def _pipeline(folder: str):
    import torch
    from diffusers import StableDiffusionImg2ImgPipeline

    pipe = StableDiffusionImg2ImgPipeline.from_pretrained(
        folder, local_files_only=True, safety_checker=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to("cuda" if torch.cuda.is_available() else "cpu")


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
        import torch
        from PIL import Image

        pipe = _pipeline(self.folder)
        h, w = rgb.shape[:2]
        size = (max(8, w // 8 * 8), max(8, h // 8 * 8))     # the VAE works in multiples of 8
        image = Image.fromarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))
        out = pipe(prompt=self.prompt, image=image, strength=self.strength,
                   num_inference_steps=self.steps, guidance_scale=self.guidance,
                   generator=torch.Generator().manual_seed(self.seed), output_type="np").images[0]
        return cv2.resize((out * 255).clip(0, 255).astype(np.uint8), (w, h),
                          interpolation=cv2.INTER_CUBIC)
