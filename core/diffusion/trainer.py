"""One training loop for both diffusion models: v-prediction (v = sqrt(a) eps - sqrt(1-a) x0)
with MSE, AdamW,
bf16 autocast on CPU, EMA weights, a checkpoint every N steps and resume from the last one.

The run folder holds `<name>.safetensors` (EMA weights and config), `<name>.state.pt` (raw
weights, EMA and optimizer for resuming, loaded with weights_only) and `<name>.report.json`
(loss curve and settings)."""
from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from core.diffusion.checkpoint import (add_new_modules, grow_inputs, load_training_state,
                                       read_checkpoint, save_weights)
from core.errors import InputError
from core.progress import Progress


@dataclass
class TrainSettings:
    steps: int = 6000
    batch: int = 16
    lr: float = 4e-4
    warmup: int = 200
    ema_decay: float = 0.999
    checkpoint_every: int = 250
    seed: int = 0
    command: str = ""
    # a checkpoint to start from where no resumable state exists (continuing a run whose state
    # is gone, such as a bundled model's): its weights start both the model and its average
    init: str | None = None
    extra: dict = field(default_factory=dict)


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def noise_schedule(config: dict):
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=config["train_timesteps"],
                         beta_schedule=config["beta_schedule"],
                         prediction_type=config.get("prediction", "epsilon"), clip_sample=False)


def train(model: torch.nn.Module, make_batch: Callable, name: str, out_dir: Path,
          settings: TrainSettings, progress: Progress | None = None) -> dict:
    """make_batch(rng, batch) -> (x0, kwargs): clean targets in [-1, 1] and the other
    arguments of model(noisy, t=..., **kwargs); kwargs["loss_weight"], where present, weighs
    each value of the loss (same shape as x0) and is not passed to the model."""
    progress = progress or Progress()
    dev = device()
    out_dir.mkdir(parents=True, exist_ok=True)
    weights, state_path = out_dir / f"{name}.safetensors", out_dir / f"{name}.state.pt"
    report_path = out_dir / f"{name}.report.json"
    model.to(dev)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=1e-4)
    step, curve, seconds, earlier = 0, [], 0.0, None
    if state_path.is_file():
        state = load_training_state(state_path)
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        step, seconds = int(state["step"]), float(state["seconds"])
        report = json.loads(report_path.read_text()) if report_path.is_file() else {}
        curve, earlier = report.get("loss_curve", []), report.get("continued_from")
    elif settings.init:
        earlier = _start_from(model, ema, Path(settings.init))
    schedule = noise_schedule(model.config)
    alphas = schedule.alphas_cumprod.to(dev)
    rng = np.random.default_rng(settings.seed + step)
    gen = torch.Generator(dev).manual_seed(settings.seed + step)
    window: list[float] = []
    started = time.time() - seconds
    model.train()
    while step < settings.steps:
        progress.check_cancelled()
        x0, kwargs = make_batch(rng, settings.batch)
        x0 = x0.to(dev)
        kwargs = {k: _to(v, dev) for k, v in kwargs.items()}
        weight = kwargs.pop("loss_weight", None)
        t = torch.randint(0, len(alphas), (len(x0),), generator=gen, device=dev)
        noise = torch.randn(x0.shape, generator=gen, device=dev)
        a = alphas[t].view(-1, 1, 1, 1)
        noisy = a.sqrt() * x0 + (1 - a).sqrt() * noise
        for group in optimizer.param_groups:
            group["lr"] = settings.lr * min(1.0, (step + 1) / settings.warmup)
        with torch.autocast(dev.type, dtype=torch.bfloat16):
            predicted = model(noisy, t=t, **kwargs)
        error = (predicted.float() - target(model.config, x0, noise, a)) ** 2
        loss = error.mean() if weight is None else (error * weight).sum() / weight.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        _ema_update(ema, model, min(settings.ema_decay, (1 + step) / (10 + step)))
        step += 1
        window.append(float(loss.detach()))
        if step % 25 == 0 or step == settings.steps:
            curve.append([step, round(float(np.mean(window)), 5)])
            window = []
            progress.update(step, settings.steps, f"step {step}, loss {curve[-1][1]:.4f}")
        if step % settings.checkpoint_every == 0 or step == settings.steps:
            seconds = time.time() - started
            _checkpoint(model, ema, optimizer, step, seconds, weights, state_path)
            _write_report(report_path, name, model.config, settings, step, seconds, curve, earlier)
    return json.loads(report_path.read_text())


def target(config: dict, x0: torch.Tensor, noise: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """What the network learns to output. v-prediction keeps the implied clean image bounded
    at high noise levels, where an undertrained epsilon model makes samples stay noisy."""
    if config.get("prediction", "epsilon") == "v_prediction":
        return a.sqrt() * noise - (1 - a).sqrt() * x0
    return noise


def _to(value, dev):
    if isinstance(value, dict):
        return {k: _to(v, dev) for k, v in value.items()}
    return value.to(dev) if isinstance(value, torch.Tensor) else value


@torch.no_grad()
def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p.detach(), 1 - decay)
    for e, b in zip(ema.buffers(), model.buffers()):
        e.copy_(b)


def _checkpoint(model, ema, optimizer, step, seconds, weights: Path, state_path: Path) -> None:
    save_weights(ema, weights, ema.config, half=True)
    partial = state_path.with_name(state_path.name + ".partial")
    torch.save({"model": model.state_dict(), "ema": ema.state_dict(),
                "optimizer": optimizer.state_dict(), "step": step, "seconds": seconds}, partial)
    partial.replace(state_path)


def _start_from(model, ema, checkpoint: Path) -> dict:
    """Load `checkpoint`'s weights into the model and its average; returns what trained them
    (steps, seconds, command, loss curve) from the report beside it, if there is one."""
    config, tensors, sha = read_checkpoint(checkpoint)
    differs = {k for k in set(config) | set(model.config)
               if k not in ("encoder", "recommender") and config.get(k) != model.config.get(k)}
    added = {k for k in differs if k in getattr(model, "growable_keys", ()) and not config.get(k)}
    if differs - added:
        raise InputError(f"{checkpoint} was trained with another configuration "
                         f"({sorted(differs - added)})")
    grown = grow_inputs(model, tensors) if added else []
    new = add_new_modules(model, tensors) if added else []
    model.load_state_dict(tensors)
    ema.load_state_dict(tensors)
    earlier = checkpoint.with_name(checkpoint.name.replace(".safetensors", ".report.json"))
    before = json.loads(earlier.read_text()) if earlier.is_file() else {}
    # steps and seconds of every run behind the checkpoint, so a chain of --init runs adds up
    earlier_steps = (before.get("continued_from") or {}).get("steps_done") or 0
    return {"checkpoint": str(checkpoint), "sha256": sha,
            "steps_done": before.get("total_steps") or (before.get("steps_done") or 0) + earlier_steps
            if before else None,
            "seconds": before.get("total_seconds") or before.get("seconds"),
            "command": before.get("settings", {}).get("command"),
            "loss_curve": before.get("loss_curve", []),
            **({"before_that": before["continued_from"]} if before.get("continued_from") else {}),
            **({"added": sorted(added), "grown_weights": grown,
                "new_weights": len(new)} if added else {})}


def _write_report(path: Path, name: str, config: dict, settings: TrainSettings, step: int,
                  seconds: float, curve: list, earlier: dict | None = None) -> None:
    """The report; `earlier`: the run a --init run continued (its steps and time)."""
    report = {"model": name, "config": config, "steps_done": step, "seconds": round(seconds, 1),
              "device": str(device()), "threads": torch.get_num_threads(),
              "settings": {k: v for k, v in vars(settings).items()}, "loss_curve": curve}
    if earlier:
        report["continued_from"] = earlier
        report["total_seconds"] = round(seconds + (earlier.get("seconds") or 0), 1)
        report["total_steps"] = step + (earlier.get("steps_done") or 0)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(report, indent=1))
    partial.replace(path)
    path.with_name(f"{name}.loss.svg").write_text(loss_curve_svg(curve, f"{name} model: training loss"))


def loss_curve_svg(curve: list, title: str, width: int = 480, height: int = 240) -> str:
    """The loss curve as a small standalone SVG (log-scaled loss axis)."""
    if not curve:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"/>'
    steps = np.array([s for s, _ in curve], float)
    loss = np.log10(np.maximum([v for _, v in curve], 1e-6))
    left, top, right, bottom = 50, 24, width - 10, height - 30
    x = left + (steps - steps.min()) / max(np.ptp(steps), 1) * (right - left)
    y = bottom - (loss - loss.min()) / max(np.ptp(loss), 1e-9) * (bottom - top)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" font-size="11">'
            f'<rect width="100%" height="100%" fill="white"/>'
            f'<text x="{left}" y="15">{title}</text>'
            f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#888"/>'
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#888"/>'
            f'<text x="{left}" y="{height - 10}">step {int(steps.min())}</text>'
            f'<text x="{right}" y="{height - 10}" text-anchor="end">step {int(steps.max())}</text>'
            f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{10 ** loss.max():.3g}</text>'
            f'<text x="{left - 4}" y="{bottom}" text-anchor="end">{10 ** loss.min():.3g}</text>'
            f'<polyline points="{points}" fill="none" stroke="#1f77b4" stroke-width="1.5"/></svg>')
