"""Thumbnail generation: sample the thumbnail model given the retrieved embeddings (the item's
frames and the user's liked thumbnails), with classifier-free guidance against the same item
tokens without the user's. A model with a source channel also starts from a frame (the Eq. 1
selection for the user, or the creator's cover without one) and changes what the user's
tokens call for."""
from __future__ import annotations

import numpy as np
import torch

from core.diffusion.data import frames_to_tensor, tensor_to_frames
from core.diffusion.models import LoadedModel
from core.diffusion.sampling import DEFAULT_SAMPLER, DEFAULT_STEPS, denoise, guided
from core.diffusion.training import retrieved_tokens, token_batch
from core.progress import Progress

DEFAULT_GUIDANCE = 2.0


def generate_thumbnails(model: LoadedModel, item_frames: list[np.ndarray],
                        liked: list[np.ndarray | None], sampler: str = DEFAULT_SAMPLER,
                        steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
                        seed: int = 0, progress: Progress | None = None,
                        sources: np.ndarray | None = None) -> np.ndarray:
    """One thumbnail per (item frame embeddings, liked thumbnail embeddings or None) pair,
    started from `sources` (B x S x S x 3 uint8) where given; returns B x S x S x 3 uint8."""
    return tensor_to_frames(sample_thumbnails(model, item_frames, liked, sampler, steps, guidance,
                                              seed, progress, sources))


def sample_thumbnails(model: LoadedModel, item_frames: list[np.ndarray],
                      liked: list[np.ndarray | None], sampler: str = DEFAULT_SAMPLER,
                      steps: int = DEFAULT_STEPS, guidance: float = DEFAULT_GUIDANCE,
                      seed: int = 0, progress: Progress | None = None,
                      sources: np.ndarray | None = None) -> torch.Tensor:
    """generate_thumbnails' sampler output before quantisation: B x 3 x S x S."""
    cfg, dev = model.config, next(model.net.parameters()).device
    rng = np.random.default_rng(seed)
    with_user, without = [], []
    for frames, likes in zip(item_frames, liked):
        with_user.append(retrieved_tokens(frames, likes, cfg, rng))
        without.append(retrieved_tokens(frames, None, cfg, rng))
    cond = {k: v.to(dev) for k, v in token_batch(*zip(*with_user), cfg).items()}
    null = {k: v.to(dev) for k, v in token_batch(*zip(*without), cfg).items()}
    if sources is not None and cfg.get("source"):
        given = {"source": frames_to_tensor(np.asarray(sources)).to(dev),
                 "source_given": torch.ones(len(sources), device=dev)}
        cond, null = {**cond, **given}, {**null, **given}
    predict = guided(lambda x, t: model.net(x, t, **cond), lambda x, t: model.net(x, t, **null),
                     guidance)
    size = cfg["size"]
    return denoise(predict, (len(item_frames), 3, size, size), cfg, sampler, steps,
                   torch.Generator(dev).manual_seed(seed), progress=progress,
                   on_step=(lambda n, total: progress.update(n, total, f"step {n} of {total}"))
                   if progress is not None else None)
