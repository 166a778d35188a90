"""Video revision (SDEdit) and creation with the video model, block by block: each block of
k frames is conditioned on the last p frames already produced (masked for the first block)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from core.diffusion.conditioning import Condition, stack_conditions
from core.diffusion.data import frames_to_tensor, tensor_to_frames
from core.diffusion.models import LoadedModel
from core.diffusion.sampling import DEFAULT_SAMPLER, DEFAULT_STEPS, combine_guidance, denoise
from core.progress import Progress

# Revision's defaults, chosen on seed 7's validation users (docs/evaluation.md, issue 13, third
# step): from pure noise, the source reaching the model through its source channels only
# (SDEdit's partial noise at 0.6-0.9 kept the source's colours and ignored the user), in 10
# steps, which keeps a 10-second clip under a minute on two cores.
DEFAULT_STRENGTH = 1.0
DEFAULT_GUIDANCE = 2.0
REVISION_STEPS = 10
# Source guidance (sampling.combine_guidance), chosen on the same validation users (issue 13,
# fourth step): above 1 it holds a revision to its source's shapes, at one more pass per step.
SOURCE_GUIDANCE = 2.0


def run_blocks(model: LoadedModel, n_frames: int, conditions: list[Condition],
               sources: np.ndarray | None = None, strength: float = 1.0,
               sampler: str = DEFAULT_SAMPLER, steps: int = DEFAULT_STEPS,
               guidance: float = DEFAULT_GUIDANCE, seed: int = 0, progress: Progress | None = None,
               on_block: Callable[[int, int, np.ndarray], None] | None = None,
               source_guidance: float = 1.0) -> np.ndarray:
    """B clips of n_frames: revised from `sources` (B x N x S x S x 3 uint8) or created from
    noise. Returns B x N x S x S x 3 uint8."""
    out = sample_blocks(model, n_frames, conditions, sources, strength, sampler, steps, guidance,
                        seed, progress, on_block, source_guidance)
    size = model.config["size"]
    frames = tensor_to_frames(out.reshape(-1, 3, size, size))
    return frames.reshape(len(conditions), -1, size, size, 3)[:, :n_frames]


def sample_blocks(model: LoadedModel, n_frames: int, conditions: list[Condition],
                  sources: np.ndarray | None = None, strength: float = 1.0,
                  sampler: str = DEFAULT_SAMPLER, steps: int = DEFAULT_STEPS,
                  guidance: float = DEFAULT_GUIDANCE, seed: int = 0,
                  progress: Progress | None = None,
                  on_block: Callable[[int, int, np.ndarray], None] | None = None,
                  source_guidance: float = 1.0) -> torch.Tensor:
    """run_blocks' sampler output before quantisation: B x (blocks k 3) x S x S in [-1, 1]
    (every block's frames, the padding past n_frames included)."""
    cfg, dev = model.config, next(model.net.parameters()).device
    p, k, size = cfg["past"], cfg["future"], cfg["size"]
    batch = len(conditions)
    tokens = cfg.get("liked_tokens", 0)
    cond = _to(stack_conditions(conditions, cfg["cond_dims"], tokens), dev)
    null = _to(stack_conditions([Condition()] * batch, cfg["cond_dims"], tokens), dev)
    generator = torch.Generator(dev).manual_seed(seed)
    blocks = -(-n_frames // k)
    out = torch.zeros(batch, blocks * k * 3, size, size, device=dev)
    src = None
    if sources is not None:
        padded = np.concatenate([sources, np.repeat(sources[:, -1:], blocks * k - n_frames, axis=1)], 1)
        src = frames_to_tensor(padded.reshape(-1, size, size, 3)).to(dev)
        src = src.reshape(batch, blocks * k * 3, size, size)
    for b in range(blocks):
        if b:
            past = out[:, (b * k - p) * 3:b * k * 3] if b * k >= p else \
                torch.cat([torch.zeros(batch, (p - b * k) * 3, size, size, device=dev),
                           out[:, :b * k * 3]], 1)
        else:
            past = torch.zeros(batch, p * 3, size, size, device=dev)
        given = torch.full((batch,), float(b > 0), device=dev)
        init = src[:, b * k * 3:(b + 1) * k * 3] if src is not None else None
        source = {"source": init, "source_given": torch.ones(batch, device=dev)} \
            if init is not None and cfg.get("source") else {}
        predict = _guided(model, past, given, cond, null, source, guidance, source_guidance)
        block = denoise(predict, (batch, k * 3, size, size), cfg, sampler, steps, generator,
                        init, strength if src is not None else 1.0, progress)
        out[:, b * k * 3:(b + 1) * k * 3] = block.clamp(-1, 1)
        if progress is not None:
            progress.update(b + 1, blocks, f"block {b + 1} of {blocks}")
        if on_block is not None:
            on_block(b + 1, blocks, tensor_to_frames(block[0].reshape(k, 3, size, size)))
    return out


def _guided(model: LoadedModel, past: torch.Tensor, given: torch.Tensor, cond: dict, null: dict,
            source: dict, guidance: float, source_guidance: float) -> Callable:
    """predict(x, t) for one block: the branches that guidance needs (conditioned;
    unconditioned; with a source and a source guidance other than 1, neither condition nor
    source) stacked on the batch axis and run as one forward pass, which on CPU is about a
    fifth faster than one pass per branch; then `combine_guidance`."""
    dual = bool(source) and source_guidance != 1.0
    branches = [cond] + ([null] if guidance != 1.0 or dual else []) + ([null] if dual else [])
    n = len(branches)
    stacked = {key: torch.cat([b[key] for b in branches]) for key in cond}
    extra = {}
    if source:
        flags = torch.tensor([1.0] * (n - 1) + [0.0 if dual else 1.0], device=past.device)
        extra = {"source": source["source"].repeat(n, 1, 1, 1),
                 "source_given": (flags[:, None] * source["source_given"][None]).reshape(-1)}
    past, given = past.repeat(n, 1, 1, 1), given.repeat(n)

    def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = model.net(x.repeat(n, 1, 1, 1), past, given, t.repeat(n), stacked, **extra)
        return combine_guidance(out.chunk(n), guidance, source_guidance)
    return predict


def _to(batch: dict, dev) -> dict:
    return {key: value.to(dev) for key, value in batch.items()}
