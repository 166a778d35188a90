"""What the two diffusion models learn from the corpus, as batch makers for the trainer.

Video model: a sample is p + k consecutive frames of an item. Its conditions:
- hist: half the time the mean embedding of the target frames themselves (so the model learns
  to render what a direction in the encoder's space describes), otherwise the User_Hist of a
  user who liked the item; User_Hist lives in the same space, which is what lets revision
  steer a clip toward a user's taste;
- emb: the User_Emb of that same user;
- text: the caption of the target frames' segment;
each dropped at random (and the past frames masked half the time, as in MCVD).

Thumbnail model: the target is the frame of an item that best matches a liking user's
User_Hist (Eq. 1 over every frame), given the item's frame embeddings and that user's liked
thumbnails as retrieved tokens; with the user's tokens dropped, a random frame of the item."""
from __future__ import annotations

import numpy as np
import torch

from core.diffusion.conditioning import Condition, drop_at_random, stack_conditions
from core.diffusion.data import FrameBank, frames_to_tensor
from core.diffusion.thumbnail_model import ITEM, USER

VIDEO_DROP = {"hist": 0.2, "emb": 0.3, "text": 0.5}
PAST_MASK_RATE = 0.5
USER_TOKEN_DROP = 0.2
ITEM_TOKEN_DROP = 0.1


class VideoBatches:
    def __init__(self, bank: FrameBank, config: dict, hist: dict, emb: dict, likers: dict) -> None:
        self.bank, self.config, self.hist, self.emb = bank, config, hist, emb
        self.window = config["past"] + config["future"]
        counts = np.diff(bank.offsets)
        self.rows = [i for i, n in enumerate(counts) if n >= self.window]
        if not self.rows:
            raise ValueError(f"no corpus item has {self.window} frames to train on")
        self.likers = [[u for u in likers.get(bank.item_ids[i], []) if u in hist]
                       for i in range(len(bank.item_ids))]

    def __call__(self, rng: np.random.Generator, batch: int):
        p, clips, conditions, given = self.config["past"], [], [], []
        for _ in range(batch):
            i = self.rows[rng.integers(len(self.rows))]
            span = self.bank.item_frames(i)
            start = span.start + int(rng.integers(span.stop - span.start - self.window + 1))
            clip = self.bank.frames[start:start + self.window]
            clips.append(clip[:, :, ::-1] if rng.random() < 0.5 else clip)
            conditions.append(drop_at_random(self._condition(i, start + p, rng), VIDEO_DROP, rng))
            given.append(float(rng.random() >= PAST_MASK_RATE))
        x = frames_to_tensor(np.ascontiguousarray(np.stack(clips)).reshape(-1, *clips[0].shape[1:]))
        x = x.reshape(batch, self.window * 3, *x.shape[-2:])
        return x[:, 3 * p:], {"past": x[:, :3 * p], "past_given": torch.tensor(given),
                              "cond": stack_conditions(conditions, self.config["cond_dims"])}

    def _condition(self, i: int, target: int, rng) -> Condition:
        bank, k = self.bank, self.config["future"]
        user = self.likers[i][rng.integers(len(self.likers[i]))] if self.likers[i] else None
        if user is None or rng.random() < 0.5:
            hist = _unit(bank.embeddings[target:target + k].mean(axis=0))
        else:
            hist = self.hist[user]
        text = bank.caption_embeddings[bank.caption_of[target + k // 2]]
        return Condition(hist=hist, emb=self.emb.get(user) if user else None, text=text)


class ThumbnailBatches:
    def __init__(self, bank: FrameBank, config: dict, hist: dict, likers: dict,
                 liked_thumbnails: dict[str, np.ndarray]) -> None:
        self.bank, self.config, self.hist = bank, config, hist
        self.liked = liked_thumbnails            # user -> L x d liked thumbnails' embeddings
        self.likers = [[u for u in likers.get(bank.item_ids[i], []) if u in hist and u in liked_thumbnails]
                       for i in range(len(bank.item_ids))]
        self.rows = [i for i in range(len(bank.item_ids)) if bank.offsets[i + 1] > bank.offsets[i]]

    def __call__(self, rng: np.random.Generator, batch: int):
        targets, tokens, masks = [], [], []
        for _ in range(batch):
            i = self.rows[rng.integers(len(self.rows))]
            span = self.bank.item_frames(i)
            users = self.likers[i]
            user = users[rng.integers(len(users))] if users and rng.random() >= USER_TOKEN_DROP else None
            if user is None:
                target = span.start + int(rng.integers(span.stop - span.start))
            else:
                target = span.start + int(np.argmax(self.bank.embeddings[span] @ self.hist[user]))
            targets.append(self.bank.frames[target])
            t, m = retrieved_tokens(self.bank.embeddings[span], self.liked.get(user) if user else None,
                                    self.config, rng)
            if rng.random() < ITEM_TOKEN_DROP:
                m[:self.config["item_tokens"]] = 0
            tokens.append(t)
            masks.append(m)
        return frames_to_tensor(np.stack(targets)), token_batch(tokens, masks, self.config)


def retrieved_tokens(item_frames: np.ndarray, liked: np.ndarray | None, config: dict,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Up to item_tokens frame embeddings (evenly spread) and user_tokens liked thumbnails
    (a random subset), padded; returns (T x d tokens, T mask)."""
    n_item, n_user, dim = config["item_tokens"], config["user_tokens"], config["embed_dim"]
    tokens, mask = np.zeros((n_item + n_user, dim), np.float32), np.zeros(n_item + n_user, np.float32)
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
