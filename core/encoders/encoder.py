"""One image and text encoder behind a spec string (DESIGN.md section 1, `core/encoders/`).

Specs:
- `bundled` (the default): the tiny open_clip model trained on the demo corpus by
  `generec train-clip`, shipped under resources/encoder/.
- `ARCH:/path/to/weights.safetensors` (or .bin, .pt, .pth): an open_clip architecture with a
  local state dict.
- `ARCH:TAG`, e.g. `ViT-B-32:laion2b_s34b_b79k`: open_clip pretrained weights from the local
  cache; a download happens only when GENEREC_ALLOW_DOWNLOADS=1.

Embeddings are L2-normalised float32 here and stored as float16 with the encoder's `model_id`,
which includes the checkpoint's sha256, so embeddings of two models never mix.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.encoders.preprocess import OPENAI_MEAN, OPENAI_STD, to_batch
from core.errors import GenerecError, InputError
from core.hashing import file_sha256
from core.paths import RESOURCES

BUNDLED_NAME = "generec-tiny"
BUNDLED_DIR = RESOURCES / "encoder"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


class EncoderError(InputError):
    """An encoder spec that cannot be loaded; the message says how to fix it."""


@dataclass
class Encoder:
    spec: str
    model_id: str
    sha256: str | None
    model: object            # open_clip CLIP module, eval mode
    tokenizer: object
    image_size: int
    mean: tuple
    std: tuple
    vocab_map: np.ndarray | None = None   # original token id -> pruned id (bundled model)

    @property
    def dim(self) -> int:
        return int(self.model.text_projection.shape[1]) if hasattr(self.model, "text_projection") \
            and self.model.text_projection is not None else int(self._probe_dim())

    def _probe_dim(self) -> int:
        return self.encode_texts(["a"]).shape[1]

    def encode_images(self, images: list[np.ndarray], batch: int = 64) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for start in range(0, len(images), batch):
                pixels = torch.from_numpy(to_batch(images[start:start + batch], self.image_size,
                                                   self.mean, self.std))
                out.append(_normalise(self.model.encode_image(pixels).float().numpy()))
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        tokens = self.tokenizer(list(texts))
        if self.vocab_map is not None:
            tokens = torch.from_numpy(self.vocab_map[tokens.numpy()])
        with torch.inference_mode():
            return _normalise(self.model.encode_text(tokens).float().numpy())


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def load_encoder(spec: str | None = None) -> Encoder:
    return _load_cached((spec or "bundled").strip())


@lru_cache(maxsize=4)
def _load_cached(spec: str) -> Encoder:
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if spec == "bundled":
        return load_bundled()
    arch, sep, source = spec.partition(":")
    if not sep or not arch or not source:
        raise EncoderError(f"encoder spec {spec!r}: expected 'bundled', 'ARCH:/path/weights' "
                           f"or 'ARCH:PRETRAINED_TAG'")
    import open_clip

    if arch not in open_clip.list_models():
        raise EncoderError(f"encoder spec {spec!r}: unknown open_clip architecture {arch!r}")
    if source.endswith(WEIGHT_SUFFIXES) or os.sep in source:
        return _load_local(spec, arch, Path(source).expanduser())
    return _load_pretrained(spec, arch, source)


def _wrap(spec: str, model_id: str, sha: str | None, model, tokenizer,
          vocab_map: np.ndarray | None = None) -> Encoder:
    model.eval()
    cfg = getattr(model.visual, "preprocess_cfg", {}) or {}
    size = cfg.get("size", getattr(model.visual, "image_size", 224))
    size = size[0] if isinstance(size, (tuple, list)) else size
    return Encoder(spec, model_id, sha, model, tokenizer, int(size),
                   tuple(cfg.get("mean", OPENAI_MEAN)), tuple(cfg.get("std", OPENAI_STD)),
                   vocab_map)


def _load_local(spec: str, arch: str, path: Path) -> Encoder:
    import open_clip

    if not path.is_file():
        raise EncoderError(f"{path}: encoder weights not found")
    try:
        model = open_clip.create_model(arch, pretrained=str(path), weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any loading failure is the file's fault here
        raise EncoderError(f"{path}: cannot load as {arch} weights ({exc})") from exc
    sha = file_sha256(path)
    return _wrap(spec, f"{arch}:{path.name}@{sha[:12]}", sha, model, open_clip.get_tokenizer(arch))


def _load_pretrained(spec: str, arch: str, tag: str) -> Encoder:
    import open_clip

    if tag not in open_clip.list_pretrained_tags_by_model(arch):
        raise EncoderError(f"encoder spec {spec!r}: {arch} has no pretrained tag {tag!r}")
    allow = os.environ.get("GENEREC_ALLOW_DOWNLOADS") == "1"
    if not allow:
        os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        model = open_clip.create_model(arch, pretrained=tag, weights_only=True)
    except Exception as exc:  # noqa: BLE001
        hint = "" if allow else (
            " Downloads are off: fetch the weights on a connected machine and pass "
            f"'{arch}:/path/to/open_clip_model.safetensors', or set GENEREC_ALLOW_DOWNLOADS=1.")
        raise EncoderError(f"encoder {spec!r} could not be loaded ({type(exc).__name__}).{hint}") \
            from exc
    return _wrap(spec, f"{arch}:{tag}", None, model, open_clip.get_tokenizer(arch))


def load_bundled(folder: Path = BUNDLED_DIR) -> Encoder:
    """The bundled encoder from `folder` (resources/encoder/ unless a fresh training run's)."""
    import open_clip
    from safetensors import safe_open
    from safetensors.torch import load_file

    config = folder / f"{BUNDLED_NAME}.json"
    weights = folder / f"{BUNDLED_NAME}.safetensors"
    if not (config.is_file() and weights.is_file()):
        raise GenerecError(f"the bundled encoder is missing from {folder}; "
                           f"run 'generec train-clip' to make it")
    open_clip.add_model_config(config)
    logging.getLogger().disabled = True     # open_clip warns that no pretrained tag was given
    try:
        model = open_clip.create_model(BUNDLED_NAME, pretrained=None)
    finally:
        logging.getLogger().disabled = False
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    model.load_state_dict(state)
    with safe_open(str(weights), "pt") as handle:
        kept = json.loads(handle.metadata()["kept_tokens"])
    sha = file_sha256(weights)
    return _wrap("bundled", f"bundled:{BUNDLED_NAME}@{sha[:12]}", sha, model,
                 open_clip.get_tokenizer(BUNDLED_NAME), vocab_lookup(kept))


UNKNOWN_TOKEN = -1


def vocab_lookup(kept: list[int], full_size: int = 49408) -> np.ndarray:
    """Map original token ids to rows of the pruned table; tokens outside `kept` go to the
    row marked UNKNOWN_TOKEN. The text tower pools at the highest id (end of text), so the
    pruned order must keep the end-of-text token last."""
    lookup = np.full(full_size, kept.index(UNKNOWN_TOKEN), np.int64)
    for row, token in enumerate(kept):
        if token != UNKNOWN_TOKEN:
            lookup[token] = row
    return lookup
