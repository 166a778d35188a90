"""What the two diffusion models learn from the corpus, as batch makers for the trainer.

Video model: a sample is p + k consecutive frames of an item. Its conditions:
- hist: half the time the mean embedding of the target frames themselves (so the model learns
  to render what a direction in the encoder's space describes), otherwise the User_Hist of a
  user who liked the item; User_Hist lives in the same space, which is what lets revision
  steer a clip toward a user's taste;
- emb: the User_Emb of that same user;
- text: the caption of the target frames' segment;
each dropped at random (and the past frames masked half the time, as in MCVD). A model with
`liked_tokens` also gets, wherever hist is a user's User_Hist, that user's liked thumbnails
(a random subset, in random order) to attend to. A model with
source channels also learns revision pairs (`core/diffusion/recolour.py`) for half of each
batch: the source window is given, the condition is the User_Hist of the user whose favourite
colour the target shows, and with that dropped the target is the source unchanged.

Thumbnail model: the target is the frame of an item that best matches a liking user's
User_Hist (Eq. 1 over every frame), given the item's frame embeddings and that user's liked
thumbnails as retrieved tokens; with the user's tokens dropped, a random frame of the item.
A model with a source channel also learns single-frame revision pairs for most of each batch:
the source frame is given, and the target is it in the favourite colour of the user whose liked
thumbnails are the tokens (or the source itself, with the user's tokens dropped)."""
from __future__ import annotations

import numpy as np
import torch

from core.diffusion.conditioning import Condition, drop_at_random, stack_conditions
from core.diffusion.data import FrameBank, frames_to_tensor
from core.diffusion.recolour import RecolourPairs
from core.diffusion.thumbnail_model import ITEM, USER

VIDEO_DROP = {"hist": 0.2, "emb": 0.3, "text": 0.5}
PAST_MASK_RATE = 0.5
REVISION_SHARE = 0.5       # of a source video model's samples, revision pairs
# Thumbnail generation always starts from a frame (the Eq. 1 selection), so most of a source
# thumbnail model's samples are pairs; the rest keep its tokens-only path.
THUMBNAIL_REVISION_SHARE = 0.8
REVISION_HIST_DROP = 0.2
# Weight of the loss where a pair's target differs from its source: the recoloured objects
# are a few percent of the pixels, and at equal weight copying the source drowns them out.
CHANGED_WEIGHT = 10.0
USER_TOKEN_DROP = 0.2
ITEM_TOKEN_DROP = 0.1


class VideoBatches:
    def __init__(self, bank: FrameBank, config: dict, hist: dict, emb: dict, likers: dict,
                 pairs: RecolourPairs | None = None,
                 liked: dict[str, np.ndarray] | None = None) -> None:
        self.bank, self.config, self.hist, self.emb = bank, config, hist, emb
        self.liked = liked or {}                 # user -> L x d liked thumbnails' embeddings
        self.pairs = pairs if config.get("source") else None
        self.window = config["past"] + config["future"]
        counts = np.diff(bank.offsets)
        self.rows = [i for i, n in enumerate(counts) if n >= self.window]
        if not self.rows:
            raise ValueError(f"no corpus item has {self.window} frames to train on")
        self.likers = [[u for u in likers.get(bank.item_ids[i], []) if u in hist]
                       for i in range(len(bank.item_ids))]

    def __call__(self, rng: np.random.Generator, batch: int):
        p, clips, sources, conditions, given = self.config["past"], [], [], [], []
        for _ in range(batch):
            if self.pairs is not None and rng.random() < REVISION_SHARE:
                clip, source, condition = self._revision_pair(rng)
            else:
                clip, source, condition = self._clip(rng)
            flip = rng.random() < 0.5
            clips.append(clip[:, :, ::-1] if flip else clip)
            sources.append(None if source is None else source[:, :, ::-1] if flip else source)
            conditions.append(condition)
            given.append(float(rng.random() >= PAST_MASK_RATE))
        x = self._tensor(clips)
        kwargs = {"past": x[:, :3 * p], "past_given": torch.tensor(given),
                  "cond": stack_conditions(conditions, self.config["cond_dims"],
                                           self.config.get("liked_tokens", 0))}
        if self.config.get("source"):
            blank = np.zeros_like(clips[0][p:])
            kwargs["source"] = self._tensor([blank if s is None else s for s in sources])
            kwargs["source_given"] = torch.tensor([float(s is not None) for s in sources])
            kwargs["loss_weight"] = changed_weight(x[:, 3 * p:], kwargs["source"],
                                                   kwargs["source_given"])
        return x[:, 3 * p:], kwargs

    def _clip(self, rng):
        """A corpus clip with its conditions; no source."""
        i = self.rows[rng.integers(len(self.rows))]
        span = self.bank.item_frames(i)
        start = span.start + int(rng.integers(span.stop - span.start - self.window + 1))
        condition = drop_at_random(self._condition(i, start + self.config["past"], rng),
                                   VIDEO_DROP, rng)
        return self.bank.frames[start:start + self.window], None, condition

    def _revision_pair(self, rng):
        """A recoloured window with its source frames and the user's User_Hist."""
        pair = self.pairs.sample(rng)
        if rng.random() < REVISION_HIST_DROP or pair.user not in self.hist:
            return pair.source, pair.source[self.config["past"]:], Condition()
        return pair.target, pair.source[self.config["past"]:], \
            Condition(hist=self.hist[pair.user], liked=self._liked(pair.user, rng))

    def _liked(self, user: str, rng) -> np.ndarray | None:
        """The user's liked thumbnails in random order (stack_conditions keeps the first)."""
        liked = self.liked.get(user)
        return None if liked is None else liked[rng.permutation(len(liked))]

    @staticmethod
    def _tensor(clips: list[np.ndarray]) -> torch.Tensor:
        """B windows of n frames (n x S x S x 3 uint8) -> B x 3n x S x S in [-1, 1]."""
        x = frames_to_tensor(np.ascontiguousarray(np.stack(clips)).reshape(-1, *clips[0].shape[1:]))
        return x.reshape(len(clips), -1, *x.shape[-2:])

    def _condition(self, i: int, target: int, rng) -> Condition:
        bank, k = self.bank, self.config["future"]
        user = self.likers[i][rng.integers(len(self.likers[i]))] if self.likers[i] else None
        liked = None
        if user is None or rng.random() < 0.5:
            hist = _unit(bank.embeddings[target:target + k].mean(axis=0))
        else:
            hist, liked = self.hist[user], self._liked(user, rng)
        text = bank.caption_embeddings[bank.caption_of[target + k // 2]]
        return Condition(hist=hist, emb=self.emb.get(user) if user else None, text=text,
                         liked=liked)


class ThumbnailBatches:
    def __init__(self, bank: FrameBank, config: dict, hist: dict, likers: dict,
                 liked_thumbnails: dict[str, np.ndarray], pairs: RecolourPairs | None = None) -> None:
        self.bank, self.config, self.hist = bank, config, hist
        self.liked = liked_thumbnails            # user -> L x d liked thumbnails' embeddings
        self.likers = [[u for u in likers.get(bank.item_ids[i], []) if u in hist and u in liked_thumbnails]
                       for i in range(len(bank.item_ids))]
        self.rows = [i for i in range(len(bank.item_ids)) if bank.offsets[i + 1] > bank.offsets[i]]
        self.row_of = {item_id: i for i, item_id in enumerate(bank.item_ids)}
        self.pairs = pairs if config.get("source") else None

    def __call__(self, rng: np.random.Generator, batch: int):
        targets, sources, tokens, masks = [], [], [], []
        for _ in range(batch):
            if self.pairs is not None and rng.random() < THUMBNAIL_REVISION_SHARE:
                target, source, item_frames, user = self._revision_pair(rng)
            else:
                target, source, item_frames, user = self._selection(rng)
            targets.append(target)
            sources.append(source)
            t, m = retrieved_tokens(item_frames, self.liked.get(user) if user else None,
                                    self.config, rng)
            if rng.random() < ITEM_TOKEN_DROP:
                m[:self.config["item_tokens"]] = 0
            tokens.append(t)
            masks.append(m)
        kwargs, x = token_batch(tokens, masks, self.config), frames_to_tensor(np.stack(targets))
        if self.config.get("source"):
            kwargs["source"] = frames_to_tensor(np.stack(
                [np.zeros_like(targets[0]) if s is None else s for s in sources]))
            kwargs["source_given"] = torch.tensor([float(s is not None) for s in sources])
            kwargs["loss_weight"] = changed_weight(x, kwargs["source"], kwargs["source_given"])
        return x, kwargs

    def _selection(self, rng):
        """(target, no source, item frame embeddings, user or None): the Eq. 1 frame of an item
        for a user who liked it, or a random frame of it without a user."""
        i = self.rows[rng.integers(len(self.rows))]
        span = self.bank.item_frames(i)
        users = self.likers[i]
        user = users[rng.integers(len(users))] if users and rng.random() >= USER_TOKEN_DROP else None
        if user is None:
            target = span.start + int(rng.integers(span.stop - span.start))
        else:
            target = span.start + int(np.argmax(self.bank.embeddings[span] @ self.hist[user]))
        return self.bank.frames[target], None, self.bank.embeddings[span], user

    def _revision_pair(self, rng):
        """(recoloured frame, source frame, item frame embeddings, user), or the source as its
        own target without a user."""
        pair = self.pairs.sample(rng)
        row = self.row_of.get(pair.item_id)
        frames = (self.bank.embeddings[self.bank.item_frames(row)] if row is not None
                  else np.zeros((0, self.config["embed_dim"]), np.float32))
        if rng.random() < REVISION_HIST_DROP or pair.user not in self.liked:
            return pair.source[0], pair.source[0], frames, None
        return pair.target[0], pair.source[0], frames, pair.user


def changed_weight(x: torch.Tensor, source: torch.Tensor, given: torch.Tensor) -> torch.Tensor:
    """Loss weights: CHANGED_WEIGHT at the pixels (all of a frame's channels) where a given
    source differs from the target, 1 elsewhere."""
    b, c, h, w = x.shape
    differs = (x - source).abs().reshape(b, c // 3, 3, h, w).amax(dim=2, keepdim=True) > 0.08
    differs = differs.expand(-1, -1, 3, -1, -1).reshape(b, c, h, w) & (given[:, None, None, None] > 0)
    return 1.0 + (CHANGED_WEIGHT - 1.0) * differs.float()


def retrieved_tokens(item_frames: np.ndarray, liked: np.ndarray | None, config: dict,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Up to item_tokens frame embeddings (evenly spread) and user_tokens liked thumbnails
    (a random subset), padded; returns (T x d tokens, T mask)."""
    n_item, n_user, dim = config["item_tokens"], config["user_tokens"], config["embed_dim"]
    tokens, mask = np.zeros((n_item + n_user, dim), np.float32), np.zeros(n_item + n_user, np.float32)
    if len(item_frames):
        picks = np.unique(np.linspace(0, len(item_frames) - 1, n_item).round().astype(int))
        tokens[:len(picks)], mask[:len(picks)] = item_frames[picks], 1
    if liked is not None and len(liked):
        chosen = liked[rng.permutation(len(liked))[:n_user]]
        tokens[n_item:n_item + len(chosen)], mask[n_item:n_item + len(chosen)] = chosen, 1
    return tokens, mask


def token_batch(tokens: list[np.ndarray], masks: list[np.ndarray], config: dict) -> dict:
    kinds = np.array([ITEM] * config["item_tokens"] + [USER] * config["user_tokens"])
    return {"tokens": torch.from_numpy(np.stack(tokens)),
            "kinds": torch.from_numpy(np.tile(kinds, (len(tokens), 1))),
            "mask": torch.from_numpy(np.stack(masks))}


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)
