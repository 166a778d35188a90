"""Samplers shared by both models: DDIM and DPM-Solver++ with a configurable number of steps,
and the ancestral DDPM sampler of the original MCVD recipe. SDEdit starts part-way: the input
is noised to `strength` and only the remaining steps run. Classifier-free guidance mixes the
conditioned and unconditioned noise predictions; cancellation is checked between steps."""
from __future__ import annotations

from typing import Callable

import torch

from core.errors import InputError
from core.progress import Progress

SAMPLERS = ("ddim", "dpm", "ddpm")
DEFAULT_SAMPLER, DEFAULT_STEPS = "ddim", 25
# Below this timestep the small models mostly add grain, so sampling ends with the model's
# clean estimate at the first step at or under it (0 runs every step).
DEFAULT_FINISH_AT = 150


def make_scheduler(config: dict, sampler: str):
    from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler

    common = {"num_train_timesteps": config["train_timesteps"],
              "beta_schedule": config["beta_schedule"],
              "prediction_type": config.get("prediction", "epsilon")}
    if sampler == "ddim":
        return DDIMScheduler(**common, clip_sample=False, set_alpha_to_one=False)
    if sampler == "dpm":
        return DPMSolverMultistepScheduler(**common, algorithm_type="dpmsolver++")
    if sampler == "ddpm":
        return DDPMScheduler(**common, clip_sample=False)
    raise InputError(f"unknown sampler {sampler!r}; expected one of {', '.join(SAMPLERS)}")


def denoise(predict: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], shape: tuple,
            config: dict, sampler: str = DEFAULT_SAMPLER, steps: int = DEFAULT_STEPS,
            generator: torch.Generator | None = None, init: torch.Tensor | None = None,
            strength: float = 1.0, progress: Progress | None = None,
            on_step: Callable[[int, int], None] | None = None,
            finish_at: int = DEFAULT_FINISH_AT) -> torch.Tensor:
    """predict(x_t, t) -> the model's output (epsilon or v, as config["prediction"] says).
    With `init`, SDEdit: start from init noised to `strength`."""
    if steps < 1:
        raise InputError("steps must be at least 1")
    if not 0.0 < strength <= 1.0:
        raise InputError(f"strength must be in (0, 1], got {strength}")
    scheduler = make_scheduler(config, sampler)
    scheduler.set_timesteps(steps)
    timesteps = scheduler.timesteps
    start = 0 if init is None else min(len(timesteps) - 1, int(round(len(timesteps) * (1 - strength))))
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(start)
    noise = torch.randn(shape, generator=generator, device=_device(generator))
    if init is None:
        x = noise * scheduler.init_noise_sigma
    else:
        x = scheduler.add_noise(init, noise, timesteps[start:start + 1])
    remaining = timesteps[start:]
    for n, t in enumerate(remaining):
        if progress is not None:
            progress.check_cancelled()
        with torch.no_grad():
            output = predict(scheduler.scale_model_input(x, t), t.expand(shape[0]))
        if int(t) <= finish_at:
            x = clean_estimate(config, scheduler.alphas_cumprod[int(t)], x, output)
            break
        x = scheduler.step(output, t, x, generator=generator).prev_sample
        if on_step is not None:
            on_step(n + 1, len(remaining))
    return x


def clean_estimate(config: dict, alpha: torch.Tensor, x: torch.Tensor,
                   output: torch.Tensor) -> torch.Tensor:
    """x0 implied by the model's output at noise level alpha (cumulative)."""
    a = alpha.to(x.device, x.dtype)
    if config.get("prediction", "epsilon") == "v_prediction":
        return a.sqrt() * x - (1 - a).sqrt() * output
    return (x - (1 - a).sqrt() * output) / a.sqrt()


def guided(predict_cond: Callable, predict_uncond: Callable, guidance: float) -> Callable:
    """Classifier-free guidance: u + w (c - u) on the model's outputs; w = 1 is the
    conditioned model."""
    if guidance == 1.0:
        return predict_cond

    def predict(x, t):
        return combine_guidance((predict_cond(x, t), predict_uncond(x, t)), guidance)
    return predict


def combine_guidance(outputs: tuple[torch.Tensor, ...], guidance: float,
                     source_guidance: float = 1.0) -> torch.Tensor:
    """The guided output from the branches' outputs: (c) alone; (c, u) as classifier-free
    guidance u + w (c - u); (c, u, b) with InstructPix2Pix's two scales,
    b + s (u - b) + w (c - u). c sees the condition and the source, u the source only, b
    neither; a source guidance s above 1 holds the output closer to the source."""
    if len(outputs) == 1:
        return outputs[0]
    cond, uncond = outputs[0], outputs[1]
    guided_output = uncond + guidance * (cond - uncond)
    if len(outputs) == 3:
        guided_output = guided_output + (source_guidance - 1.0) * (uncond - outputs[2])
    return guided_output


def _device(generator: torch.Generator | None):
    return generator.device if generator is not None else torch.device("cpu")
