"""How the user and the instruction reach the networks.

The video model gets one vector per sample, added to the UNet's time embedding, and the
UNet's resnet blocks turn that sum into a per-channel scale and shift (FiLM, diffusers'
`resnet_time_scale_shift="scale_shift"`). The vector is an MLP over three slots:

- `hist`: User_Hist, a direction in the encoder's image space (the mean of liked thumbnails);
- `emb`: User_Emb, the user's representation in the trained MMGCN;
- `text`: the instruction's (or caption's) embedding from the encoder's text tower;

each with a presence flag, plus a flag saying whether conditioning frames are given. A slot
that is absent is zeros with its flag off; training drops slots at random so that sampling
can compare with and without them (classifier-free guidance).

A model with `liked_tokens` in its config also attends to the user's liked thumbnails one by
one (`liked`, up to that many embeddings; `core/diffusion/liked_attention.py`): the mean of
a mixed history blurs what most of them share, which cross-attention can pick out. They are
part of the User_Hist signal: dropping `hist` drops them too.

An instruction reaches such a model through exemplars as well (`with_exemplars`): the corpus
thumbnails nearest its text embedding stand in as liked tokens, the way retrieval-augmented
diffusion (kNN-Diffusion, Re-Imagen) conditions on retrieved images. The text slot alone
moved nothing measurable; the exemplars carry the instruction's colour and scene.
A user's own liked thumbnails then fill the tokens the exemplars leave.

User_Emb reaches the model the same way (`preference`): the thumbnails of the items the
corpus's recommender ranks first for the user are its exemplars. The `emb` slot holds the MMGCN
vector of the corpus the model was trained beside and means nothing on another corpus; the
recommender's ranking, seen through the encoder's thumbnails, carries over to any corpus with a
trained recommender. (Chosen on validation users over ranking by the recommender's visual
preference mapped back into the encoder's space, and over leaving out the user's own likes.)"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

SLOTS = ("hist", "emb", "text")


@dataclass
class Condition:
    """One sample's conditions; None means absent."""
    hist: np.ndarray | None = None
    emb: np.ndarray | None = None
    text: np.ndarray | None = None
    liked: np.ndarray | None = None     # L x d: the liked thumbnails behind `hist`
    preference: np.ndarray | None = None   # User_Emb: the recommender's score of each thumbnail
                                           # passed to with_exemplars; a ranking, not an input
    exemplars: tuple[str, ...] = ()     # items whose thumbnails stand in for text and preference
    recommender: str = ""               # the model `preference` comes from, for the provenance

    def without(self, *slots: str) -> "Condition":
        kept = {s: None if s in slots else getattr(self, s) for s in SLOTS}
        return Condition(**kept, liked=None if "hist" in slots else self.liked,
                         preference=None if "emb" in slots else self.preference,
                         exemplars=self.exemplars, recommender=self.recommender)

    @property
    def empty(self) -> bool:
        return all(getattr(self, s) is None for s in SLOTS) and self.liked is None


def stack_conditions(conditions: list[Condition], dims: dict[str, int],
                     liked_tokens: int = 0) -> dict[str, torch.Tensor]:
    """Batch tensors: one (B, dim) tensor per slot and a (B, 3) presence mask; with
    `liked_tokens`, also the first that many liked thumbnails (B, T, d) and their mask (B, T)."""
    batch: dict[str, torch.Tensor] = {}
    present = np.zeros((len(conditions), len(SLOTS)), np.float32)
    for j, slot in enumerate(SLOTS):
        values = np.zeros((len(conditions), dims[slot]), np.float32)
        for i, cond in enumerate(conditions):
            vector = getattr(cond, slot)
            if vector is not None:
                if len(vector) != dims[slot]:
                    raise ValueError(f"condition {slot!r} has {len(vector)} values; the model "
                                     f"expects {dims[slot]}")
                values[i], present[i, j] = vector, 1.0
        batch[slot] = torch.from_numpy(values)
    batch["present"] = torch.from_numpy(present)
    if liked_tokens:
        tokens = np.zeros((len(conditions), liked_tokens, dims["hist"]), np.float32)
        mask = np.zeros((len(conditions), liked_tokens), np.float32)
        for i, cond in enumerate(conditions):
            if cond.liked is not None and len(cond.liked):
                chosen = cond.liked[:liked_tokens]
                tokens[i, :len(chosen)], mask[i, :len(chosen)] = chosen, 1.0
        batch["liked"], batch["liked_mask"] = torch.from_numpy(tokens), torch.from_numpy(mask)
    return batch


class ConditionEncoder(nn.Module):
    """Slots, presence flags and the frames-given flag -> one vector of `out_dim`."""

    def __init__(self, dims: dict[str, int], out_dim: int, hidden: int = 256) -> None:
        super().__init__()
        self.dims = dict(dims)
        width = sum(dims[s] for s in SLOTS) + len(SLOTS) + 1
        self.net = nn.Sequential(nn.Linear(width, hidden), nn.SiLU(), nn.Linear(hidden, out_dim))

    def forward(self, cond: dict[str, torch.Tensor], frames_given: torch.Tensor) -> torch.Tensor:
        parts = [cond[s] * cond["present"][:, j:j + 1] for j, s in enumerate(SLOTS)]
        return self.net(torch.cat(parts + [cond["present"], frames_given[:, None]], dim=1))


def with_exemplars(cond: Condition, thumbnails: np.ndarray, tokens: int,
                   item_ids: tuple[str, ...] = ()) -> Condition:
    """`cond` with exemplars for its queries, the instruction (the rows nearest `text` by
    cosine) and User_Emb (the rows `preference` scores highest): rows of `thumbnails` (the
    corpus's N x d thumbnail embeddings, of the items `item_ids`), shared evenly between the
    queries and first among the liked tokens: all `tokens` of them without a user's own likes;
    with them, half, and the likes after them. The tokens' mean fills the hist slot, since the
    model learned tokens together with their mean (with the user's own mean there, the
    instruction's tokens changed nothing measurable: the FiLM slot outweighs the
    cross-attention)."""
    if (cond.text is None and cond.preference is None) or not len(thumbnails) or not tokens:
        return cond
    norms = np.linalg.norm(thumbnails, axis=1)
    unit = thumbnails / np.maximum(norms, 1e-12)[:, None]
    rankings = [] if cond.text is None else [unit @ cond.text]
    rankings += [] if cond.preference is None else [cond.preference]
    own = cond.liked if cond.liked is not None and len(cond.liked) else None
    budget = tokens if own is None else max(len(rankings), tokens // 2)
    chosen: list[int] = []
    for n, scores in enumerate(rankings):
        share = budget // len(rankings) + (n < budget % len(rankings))
        chosen += [int(i) for i in np.argsort(-scores)                     # with a thumbnail
                   if norms[i] > 0 and i not in chosen][:share]
    if not chosen:
        return cond
    liked = unit[chosen] if own is None else np.concatenate([unit[chosen], own[:tokens - len(chosen)]])
    mean = liked.mean(axis=0)
    hist = mean / max(float(np.linalg.norm(mean)), 1e-12)
    return Condition(hist=hist, emb=cond.emb, text=cond.text, liked=liked.astype(np.float32),
                     preference=cond.preference, recommender=cond.recommender,
                     exemplars=tuple(item_ids[i] for i in chosen) if len(item_ids) else ())


def drop_at_random(cond: Condition, rates: dict[str, float], rng: np.random.Generator) -> Condition:
    return cond.without(*[s for s in SLOTS if rng.random() < rates.get(s, 0.0)])


def source_channels(noisy: torch.Tensor, source: torch.Tensor | None,
                    source_given: torch.Tensor | None) -> list[torch.Tensor]:
    """The source frames (zeroed where not given) and a plane flagging them, to concatenate
    with a model's other inputs; no source at all is the same as one not given."""
    if source is None or source_given is None:
        source, source_given = torch.zeros_like(noisy), noisy.new_zeros(len(noisy))
    flag = source_given[:, None, None, None]
    return [source * flag, flag.expand(-1, 1, *noisy.shape[-2:])]
