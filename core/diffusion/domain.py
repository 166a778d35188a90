"""Out-of-domain honesty for the diffusion models (issue 12, DESIGN.md section 6 authenticity).

Every diffusion model carries, beside its checkpoint, the corpus it was trained on and the
FD-enc statistics of its training frames: the mean and covariance of the encoder's embeddings
of those frames, plus every 8th training frame's embedding as a reference sample
(`<kind>.domain.json` and `<kind>.domain.npz`). Before a revision, a creation or a generated
thumbnail, the frames the model works from (the source item's indexed frames, else the frames
to revise; for a creation, the corpus's indexed frames) are compared with them:

- `fd_enc`: the Fréchet distance between a Gaussian fitted to those frames' embeddings and the
  training frames' Gaussian. Recorded, but it does not separate real clips from unseen demo
  clips with the bundled encoder (unseen demo items 0.78-1.11, ../shared/media clips 1.09-1.73:
  the tiny encoder maps real frames near the centre of its space), so it does not decide;
- `nn_cosine`: the median, over the frames, of the cosine to the nearest reference training
  frame. This decides: below the threshold (calibrated on the clips of ../shared/media against
  demo items of an unseen seed, see the json's `calibration`) the job still runs, but its record
  carries a warning that names the training corpus, the command that trains a model on this
  corpus and an estimate of its time.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

# Minimum median nearest-training-frame cosine; calibrated as the midpoint between the lowest
# unseen demo item (0.896) and the highest real clip but one (bikes.mp4, 0.840), see
# resources/diffusion/video.domain.json "calibration".
DEFAULT_THRESHOLD = 0.868
REFERENCE_STRIDE = 8
DEFAULT_TRAIN_STEPS, DEFAULT_TRAIN_BATCH = 3000, 12   # generec train-*-model defaults


@dataclass
class DomainStats:
    corpus: str                 # what the model was trained on, in words
    seeds: list[int]            # demo seeds of that corpus (empty for an imported corpus)
    frames: int
    encoder: str
    threshold: float
    mean: np.ndarray
    cov: np.ndarray
    reference: np.ndarray       # every REFERENCE_STRIDE-th training frame embedding
    calibration: dict | None = None


@dataclass
class DomainCheck:
    fd_enc: float
    nn_cosine: float
    threshold: float
    in_domain: bool
    trained_on: str
    frames: int
    warning: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def gaussian(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(embeddings, np.float64)
    cov = np.cov(x, rowvar=False) if len(x) > 1 else np.zeros((x.shape[1], x.shape[1]))
    return x.mean(axis=0), cov


def frechet_from_stats(mu_a, cov_a, mu_b, cov_b) -> float:
    """Fréchet distance between two Gaussians:
    |mu_a - mu_b|^2 + tr(cov_a) + tr(cov_b) - 2 tr((cov_a cov_b)^1/2).
    The last trace is the sum of the square roots of the eigenvalues of the symmetric
    S cov_b S with S = cov_a^1/2 (same spectrum as cov_a cov_b), so two symmetric
    eigendecompositions replace a general matrix square root (no scipy in the runtime)."""
    eps = np.eye(len(mu_a)) * 1e-6
    values, vectors = np.linalg.eigh(np.asarray(cov_a, np.float64) + eps)
    root_a = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    product = root_a @ (np.asarray(cov_b, np.float64) + eps) @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((product + product.T) / 2), 0, None)).sum()
    return float(((np.asarray(mu_a) - np.asarray(mu_b)) ** 2).sum()
                 + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def domain_paths(checkpoint: Path) -> tuple[Path, Path]:
    stem = Path(checkpoint).with_suffix("")
    return stem.with_name(stem.name + ".domain.json"), stem.with_name(stem.name + ".domain.npz")


def write_domain(checkpoint: Path, embeddings: np.ndarray, corpus: str, seeds: list[int],
                 encoder: str, threshold: float = DEFAULT_THRESHOLD,
                 calibration: dict | None = None, command: str = "") -> Path:
    """Record the training corpus and the FD-enc statistics of its frames beside a checkpoint."""
    meta_path, stats_path = domain_paths(checkpoint)
    mean, cov = gaussian(embeddings)
    stats_path.parent.mkdir(parents=True, exist_ok=True)
    with open(stats_path, "wb") as handle:
        np.savez(handle, mean=mean.astype(np.float32), cov=cov.astype(np.float32),
                 reference=np.asarray(embeddings[::REFERENCE_STRIDE], np.float16))
    meta = {"corpus": corpus, "seeds": list(seeds), "frames": int(len(embeddings)),
            "encoder": encoder, "threshold": threshold, "statistics":
            "mean and covariance of the encoder's frame embeddings (FD-enc statistics); every "
            f"{REFERENCE_STRIDE}th frame's embedding as the nearest-neighbour reference",
            "decision": "out of domain when the median over frames of the cosine to the nearest "
                        "reference frame is below the threshold",
            "calibration": calibration, "command": command}
    meta_path.write_text(json.dumps(meta, indent=1))
    return meta_path


def read_domain(checkpoint: Path) -> DomainStats | None:
    meta_path, stats_path = domain_paths(checkpoint)
    if not (meta_path.is_file() and stats_path.is_file()):
        return None
    meta = json.loads(meta_path.read_text())
    data = np.load(stats_path, allow_pickle=False)
    return DomainStats(meta["corpus"], meta.get("seeds", []), meta["frames"], meta["encoder"],
                       float(meta.get("threshold", DEFAULT_THRESHOLD)),
                       data["mean"].astype(np.float64), data["cov"].astype(np.float64),
                       data["reference"].astype(np.float32), meta.get("calibration"))


def distance(stats: DomainStats, embeddings: np.ndarray) -> float:
    mean, cov = gaussian(embeddings)
    return frechet_from_stats(mean, cov, stats.mean, stats.cov)


def nearest_cosine(stats: DomainStats, embeddings: np.ndarray) -> float:
    """Median over the frames of the cosine to the nearest reference training frame."""
    return float(np.median((np.asarray(embeddings, np.float32) @ stats.reference.T).max(axis=1)))


def training_minutes(checkpoint: Path, kind: str) -> float | None:
    """Minutes the default training command would take, from the model's own training report."""
    report = Path(checkpoint).with_name(f"{kind}.report.json")
    if not report.is_file():
        return None
    data = json.loads(report.read_text())
    steps, seconds = data.get("steps_done"), data.get("seconds")
    batch = (data.get("settings") or {}).get("batch") or DEFAULT_TRAIN_BATCH
    if not steps or not seconds:
        return None
    per_sample = seconds / (steps * batch)
    return per_sample * DEFAULT_TRAIN_STEPS * DEFAULT_TRAIN_BATCH / 60


def check(checkpoint: Path, kind: str, embeddings: np.ndarray, db_path: str | None) -> DomainCheck | None:
    """Compare the frames a job works from with the model's training frames; None where the
    model records no domain or there are no frames."""
    stats = read_domain(checkpoint)
    if stats is None or embeddings is None or len(embeddings) == 0:
        return None
    fd = distance(stats, embeddings)
    similarity = nearest_cosine(stats, embeddings)
    inside = similarity >= stats.threshold
    warning = None
    if not inside:
        minutes = training_minutes(checkpoint, kind)
        estimate = f" (about {minutes:.0f} minutes on the machine that trained it)" if minutes else ""
        db = f" --db {db_path}" if db_path else ""
        warning = (f"this model was trained on {stats.corpus}; results on these videos are "
                   f"unreliable (their median similarity to the nearest training frame is "
                   f"{similarity:.2f}, below {stats.threshold:.2f}; FD-enc {fd:.2f}). Train a "
                   f"model on this corpus with 'generec "
                   f"train-{kind}-model{db}'{estimate}")
    return DomainCheck(round(fd, 4), round(similarity, 4), stats.threshold, inside, stats.corpus,
                       int(len(embeddings)), warning)


def _encoder(encoder_id: str):
    from core.encoders.encoder import load_encoder

    if not encoder_id.startswith("bundled:"):
        return None
    encoder = load_encoder("bundled")
    return encoder if encoder.model_id == encoder_id else None


def _indexed(store, encoder_id: str, item_ids: list[str] | None,
             max_frames: int = 4000) -> np.ndarray | None:
    """Indexed frame embeddings of the items (None: every item), or None if not indexed."""
    from core.errors import InputError
    from core.store.embeddings import load_frame_index

    try:
        index = load_frame_index(store, encoder_id, item_ids)
    except InputError:
        return None
    valid = np.arange(index.frames.shape[1])[None, :] < index.counts[:, None]
    embeddings = index.frames[valid]
    if len(embeddings) > max_frames:
        embeddings = embeddings[np.random.default_rng(0).choice(len(embeddings), max_frames,
                                                                replace=False)]
    return embeddings if len(embeddings) else None


def check_item(store, model, item_id: str, frames: np.ndarray, max_frames: int = 32) -> dict | None:
    """The domain check of a revision: the source item's indexed frames (the whole video), else
    up to 32 of the frames to revise (working size), as in the calibration."""
    embeddings = _indexed(store, model.config["encoder"], [item_id])
    if embeddings is None:
        encoder = _encoder(model.config["encoder"])
        if encoder is None or not len(frames):
            return None
        pick = np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int)
        embeddings = encoder.encode_images([frames[i] for i in pick])
    return check_embeddings(store, model, embeddings)


def check_embeddings(store, model, embeddings: np.ndarray) -> dict | None:
    result = check(model.path, model.kind, embeddings, str(store.path))
    return result.as_dict() if result else None


def check_corpus(store, model) -> dict | None:
    """The domain check of a creation: the corpus's indexed frames under the model's encoder."""
    embeddings = _indexed(store, model.config["encoder"], None)
    return None if embeddings is None else check_embeddings(store, model, embeddings)


def corpus_name(store) -> tuple[str, list[int]]:
    """How a corpus is named in the warning, and its demo seeds."""
    from core.store.evaluation import demo_seeds

    seeds = demo_seeds(store)
    if seeds:
        return f"the demo corpus (seed {', '.join(map(str, seeds))}, procedural shapes)", seeds
    return f"the corpus {Path(store.path).name}", []


def record_training_domain(store, out_dir: Path, kind: str, embeddings: np.ndarray,
                           encoder_id: str) -> Path:
    """After training: the corpus and the FD-enc statistics of the training frames."""
    name, seeds = corpus_name(store)
    return write_domain(Path(out_dir) / f"{kind}.safetensors", embeddings, name, seeds, encoder_id)


def preflight(store, task: str, item_id: str | None = None, checkpoint: str | None = None) -> str | None:
    """The out-of-domain warning a revise / create / thumbnail-gen job will carry, said before
    the job starts (from the corpus's frame index; None when in domain or unknown)."""
    from core.diffusion.models import default_checkpoint

    kind = "thumbnail" if task == "thumbnail-gen" else "video"
    path = Path(checkpoint) if checkpoint else default_checkpoint(store, kind)
    stats = read_domain(path)
    if stats is None:
        return None
    embeddings = _indexed(store, stats.encoder, None if task == "create" else [item_id])
    result = check(path, kind, embeddings, str(store.path)) if embeddings is not None else None
    return result.warning if result else None
