"""Train, save and load the two diffusion models."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from core.diffusion import thumbnail_model, video_model
from core.diffusion.checkpoint import read_checkpoint
from core.diffusion.domain import record_training_domain
from core.diffusion.trainer import TrainSettings, device, train
from core.errors import InputError
from core.paths import RESOURCES, media_dir
from core.progress import Progress
from core.store import Store

BUNDLED_DIR = RESOURCES / "diffusion"
VIDEO, THUMBNAIL = "video", "thumbnail"
KINDS = {VIDEO: (video_model.VideoDenoiser, video_model.DEFAULT_CONFIG),
         THUMBNAIL: (thumbnail_model.ThumbnailDenoiser, thumbnail_model.DEFAULT_CONFIG)}


@dataclass
class LoadedModel:
    kind: str
    net: torch.nn.Module
    config: dict
    path: Path
    sha256: str

    @property
    def model_id(self) -> str:
        return f"{self.kind}-diffusion@{self.sha256[:12]}"


def default_checkpoint(store: Store, kind: str) -> Path:
    """The corpus's own trained model if there is one, else the bundled one."""
    own = media_dir(store.path) / "models" / f"{kind}.safetensors"
    return own if own.is_file() else BUNDLED_DIR / f"{kind}.safetensors"


def load_model(kind: str, path: str | Path) -> LoadedModel:
    config, tensors, sha = read_checkpoint(path)
    cls, _ = KINDS[kind]
    if config.get("kind") != KINDS[kind][1]["kind"]:
        raise InputError(f"checkpoint {path} holds a {config.get('kind')!r} model, not a {kind} "
                         f"diffusion model")
    net = cls(config)
    missing, unexpected = net.load_state_dict(tensors, strict=False)
    if missing or unexpected:
        raise InputError(f"checkpoint {path} does not match its config: missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]}")
    return LoadedModel(kind, net.eval().to(device()), config, Path(path), sha)


def _signals(store: Store, encoder: str | None, progress: Progress):
    from core.diffusion.data import build_frame_bank
    from core.diffusion.signals import user_emb, user_hist
    from core.editor.service import resolve_model_id
    from core.encoders.encoder import load_encoder
    from core.store.corpus import training_likers

    encoder_id = resolve_model_id(store, encoder)
    bank = build_frame_bank(store, load_encoder(encoder), progress=progress.silent_child())
    return (encoder_id, bank, user_hist(store, encoder_id), user_emb(store, encoder_id),
            training_likers(store))


def recommender_id(store: Store, encoder_id: str) -> str | None:
    """The recommender whose user states are User_Emb (see `user_emb_source`)."""
    from core.recommender.service import user_emb_source

    row = user_emb_source(store, encoder_id)
    return row["id"] if row else None


def train_video_model(store: Store, out_dir: Path | None = None, settings: TrainSettings | None = None,
                      encoder: str | None = None, config: dict | None = None,
                      progress: Progress | None = None) -> dict:
    from core.diffusion.recolour import recolour_pairs
    from core.diffusion.training import VideoBatches

    progress, settings = progress or Progress(), settings or TrainSettings()
    encoder_id, bank, hist, emb, liked_by = _signals(store, encoder, progress)
    _threads()  # after loading the encoder, which sets its own thread count
    config = dict(config or video_model.DEFAULT_CONFIG)
    config["cond_dims"] = {**config["cond_dims"], "hist": bank.embeddings.shape[1],
                           "text": bank.embeddings.shape[1]}
    if emb:
        config["cond_dims"]["emb"] = len(next(iter(emb.values())))
    config.update(encoder=encoder_id, recommender=recommender_id(store, encoder_id))
    torch.manual_seed(settings.seed)
    net = video_model.VideoDenoiser(config)
    out_dir = out_dir or media_dir(store.path) / "models"
    pairs = (recolour_pairs(store, config["size"], config["past"] + config["future"])
             if config.get("source") else None)
    liked = liked_thumbnails(store, encoder_id) if config.get("liked_tokens") else {}
    report = train(net, VideoBatches(bank, config, hist, emb, liked_by, pairs, liked), VIDEO,
                   out_dir, settings, progress)
    record_training_domain(store, out_dir, VIDEO, bank.embeddings, encoder_id)
    return report


def train_thumbnail_model(store: Store, out_dir: Path | None = None,
                          settings: TrainSettings | None = None, encoder: str | None = None,
                          config: dict | None = None, progress: Progress | None = None) -> dict:
    from core.diffusion.recolour import recolour_pairs
    from core.diffusion.training import ThumbnailBatches

    progress, settings = progress or Progress(), settings or TrainSettings()
    encoder_id, bank, hist, _, liked_by = _signals(store, encoder, progress)
    _threads()
    config = dict(config or thumbnail_model.DEFAULT_CONFIG)
    config.update(embed_dim=int(bank.embeddings.shape[1]), encoder=encoder_id)
    torch.manual_seed(settings.seed)
    net = thumbnail_model.ThumbnailDenoiser(config)
    out_dir = out_dir or media_dir(store.path) / "models"
    pairs = recolour_pairs(store, config["size"], 1) if config.get("source") else None
    batches = ThumbnailBatches(bank, config, hist, liked_by, liked_thumbnails(store, encoder_id),
                               pairs)
    report = train(net, batches, THUMBNAIL, out_dir, settings, progress)
    record_training_domain(store, out_dir, THUMBNAIL, bank.embeddings, encoder_id)
    return report


def liked_thumbnails(store: Store, encoder_id: str) -> dict[str, np.ndarray]:
    from core.editor.history import liked_items, thumbnail_embeddings
    from core.store.corpus import user_ids

    out = {}
    for user_id in user_ids(store):
        vectors = thumbnail_embeddings(store, encoder_id, liked_items(store, user_id))
        if len(vectors):
            out[user_id] = vectors.astype(np.float32)
    return out


def _threads() -> None:
    threads = int(os.environ.get("GENEREC_TRAIN_THREADS", os.cpu_count() or 1))
    torch.set_num_threads(max(1, threads))
