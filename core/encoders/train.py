"""`generec train-clip`: the recipe of the bundled encoder.

A small open_clip model (ModifiedResNet vision tower at 64 px, a 3-layer text transformer;
DESIGN.md section 9) trained contrastively on the demo corpus's frames and captions, then saved
as fp16 safetensors with the token vocabulary pruned to the tokens the captions use.
Evaluated on frames of a demo corpus drawn from another seed, never seen in training.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import cv2
import numpy as np

from core.demo.render import render_segment
from core.demo.spec import build_spec
from core.demo.vocabulary import (COLOURS, MOTION_PHRASES, SCENE_PHRASES, SCENES, SHAPES,
                                  caption, plural)
from core.encoders.encoder import BUNDLED_DIR, BUNDLED_NAME
from core.encoders.preprocess import OPENAI_MEAN, OPENAI_STD
from core.progress import Progress

IMAGE_SIZE = 64
CONFIG = {
    "embed_dim": 128,
    "vision_cfg": {"image_size": IMAGE_SIZE, "layers": [1, 1, 1, 1], "width": 32,
                   "head_width": 64},
    "text_cfg": {"context_length": 20, "vocab_size": 49408, "width": 128, "heads": 4,
                 "layers": 3},
}
TRAIN_SEED, HELDOUT_SEED = 0, 1000
DEFAULT_STEPS = 800
BATCH = 256
DEMO_SEGMENTS = 240 * 3.5   # segments in the default demo corpus, on average
FRAME_STRIDE = 2     # every other frame of each segment


def segment_frames(seed: int, n_items: int) -> tuple[list[np.ndarray], list[dict], list[int]]:
    """Frames at 64 px, the attributes of the segment of each, and each frame's segment id."""
    spec = build_spec(n_items=n_items, n_users=1, seed=seed)
    frames, attrs, segment_ids = [], [], []
    segments = ((item, k, seg) for item in spec.items for k, seg in enumerate(item.segments))
    for segment_id, (item, k, seg) in enumerate(segments):
        for image in render_segment(seg, seg["n_frames"], item.seed + k)[::FRAME_STRIDE]:
            frames.append(cv2.resize(image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_AREA))
            attrs.append(seg)
            segment_ids.append(segment_id)
    return frames, attrs, segment_ids


def caption_variant(attrs: dict, rng: np.random.Generator) -> str:
    """The full caption most of the time; otherwise a part of it, so single words matter."""
    roll = rng.random()
    shape = plural(attrs["shape"]) if attrs["count"] > 1 else attrs["shape"]
    scene = SCENE_PHRASES[attrs["scene"]]
    if roll < 0.45:
        return caption(attrs)
    if roll < 0.57:
        return f"{attrs['colour']} {shape}"
    if roll < 0.67:
        return f"{shape} {scene}"
    if roll < 0.77:
        return f"{attrs['colour']} {shape} {scene}"
    if roll < 0.85:
        return f"{shape} {MOTION_PHRASES[attrs['motion']]}"
    return f"a video {scene}"


def vocabulary_texts() -> list[str]:
    """Every word the captions and zero-shot prompts can use, for pruning the vocabulary.
    One short text each: the tokenizer truncates at the context length."""
    return [*COLOURS, *SHAPES, *(plural(s) for s in SHAPES), *SCENES,
            *MOTION_PHRASES.values(), *SCENE_PHRASES.values(), "a", "an", "two", "three",
            "photo", "of", "object", "video", "scene", "cartoon", "style"]


def zero_shot_prompts() -> dict[str, dict[str, list[str]]]:
    """Per attribute value, captions that vary every other attribute (prompt ensembling)."""
    def captions(**fixed) -> list[str]:
        return [caption({"colour": c, "shape": s, "scene": sc, "motion": "still", "count": 1,
                         **fixed}) for c in COLOURS for s in SHAPES for sc in SCENES
                if all({"colour": c, "shape": s, "scene": sc}[k] == v for k, v in fixed.items())]
    return {
        "colour": {c: captions(colour=c) for c in COLOURS},
        "shape": {s: captions(shape=s) for s in SHAPES},
        "scene": {s: captions(scene=s) for s in SCENES},
    }


def steps_for_epochs(epochs: int) -> int:
    """An epoch shows each training segment once (one frame of it)."""
    return max(1, round(epochs * DEMO_SEGMENTS / BATCH))


def train_clip(out_dir: str | Path = BUNDLED_DIR, steps: int = DEFAULT_STEPS, batch: int = BATCH,
               lr: float = 1e-3, n_items: int = 240, seed: int = 0,
               progress: Progress | None = None) -> dict:
    import open_clip
    import torch
    import torch.nn.functional as F

    progress = progress or Progress()
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    progress.update(0, steps, "rendering training frames")
    frames, attrs, segment_ids = segment_frames(TRAIN_SEED, n_items)
    pixels = _normalise(np.stack(frames))
    by_segment: dict[int, list[int]] = {}
    for index, sid in enumerate(segment_ids):
        by_segment.setdefault(sid, []).append(index)
    segments = list(by_segment)

    config_path = out_dir / f"{BUNDLED_NAME}.json"
    config_path.write_text(json.dumps(CONFIG, indent=2))
    open_clip.add_model_config(config_path)
    model = open_clip.create_model(BUNDLED_NAME, pretrained=None)
    tokenizer = open_clip.get_tokenizer(BUNDLED_NAME)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.1)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, (s + 1) / warmup)
                                                 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    losses = []
    model.train()
    for step in range(steps):
        progress.check_cancelled()
        # One frame per segment in a batch: frames of one segment share a caption.
        chosen = rng.choice(len(segments), size=min(batch, len(segments)), replace=False)
        idx = [int(rng.choice(by_segment[segments[c]])) for c in chosen]
        images = torch.from_numpy(pixels[idx])
        if rng.random() < 0.5:
            images = images.flip(-1)
        texts = tokenizer([caption_variant(attrs[i], rng) for i in idx])
        with torch.autocast("cpu", dtype=torch.bfloat16):
            image_features, text_features, logit_scale = model(images, texts)[:3]
        logits = logit_scale * image_features.float() @ text_features.float().T
        labels = torch.arange(len(idx))
        loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        losses.append(round(loss.item(), 4))
        progress.update(step + 1, steps, f"loss {np.mean(losses[-20:]):.3f}")
    model.eval()
    weights = _save_pruned(model, tokenizer, out_dir)
    report = {"steps": steps, "batch": batch, "lr": lr, "train_frames": len(frames),
              "seconds": round(time.time() - started, 1), "loss_curve": losses[::10],
              "final_loss": float(np.mean(losses[-20:])),
              "weights_mb": round(weights.stat().st_size / 2**20, 2)}
    report.update(evaluate_bundled(out_dir))
    (out_dir / f"{BUNDLED_NAME}.report.json").write_text(json.dumps(report, indent=2))
    return report


def _normalise(images: np.ndarray) -> np.ndarray:
    x = images.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
    mean = np.asarray(OPENAI_MEAN, np.float32)[None, :, None, None]
    std = np.asarray(OPENAI_STD, np.float32)[None, :, None, None]
    return (x - mean) / std


def _save_pruned(model, tokenizer, out_dir: Path) -> Path:
    """fp16 safetensors. The token table keeps padding, the caption tokens, one unknown row
    (the mean embedding) and start/end of text, in that order: pooling takes the highest id."""
    import torch
    from safetensors.torch import save_file

    from core.encoders.encoder import UNKNOWN_TOKEN

    sot, eot = tokenizer.sot_token_id, tokenizer.eot_token_id
    used = set(tokenizer(vocabulary_texts()).flatten().tolist()) - {0, sot, eot}
    kept = [0, *sorted(used), UNKNOWN_TOKEN, sot, eot]
    state = {k: v.detach().half().contiguous() for k, v in model.state_dict().items()}
    table = state["token_embedding.weight"]
    rows = [table.float().mean(0) if t == UNKNOWN_TOKEN else table[t].float() for t in kept]
    state["token_embedding.weight"] = torch.stack(rows).half().contiguous()
    path = out_dir / f"{BUNDLED_NAME}.safetensors"
    save_file(state, str(path), metadata={"kept_tokens": json.dumps(kept)})
    config = json.loads((out_dir / f"{BUNDLED_NAME}.json").read_text())
    config["text_cfg"]["vocab_size"] = len(kept)
    (out_dir / f"{BUNDLED_NAME}.json").write_text(json.dumps(config, indent=2))
    return path


def evaluate_bundled(out_dir: Path = BUNDLED_DIR, n_items: int = 60, n_frames: int = 500) -> dict:
    """Text-to-frame recall@1 among held-out frames, and zero-shot attribute accuracy, for the
    trained encoder and for the same architecture untrained (a baseline)."""
    import open_clip

    from core.encoders.encoder import _wrap, load_bundled

    trained = load_bundled(Path(out_dir))
    untrained = _wrap("untrained", "untrained", None,
                      open_clip.create_model(BUNDLED_NAME, pretrained=None),
                      trained.tokenizer, trained.vocab_map)
    frames, attrs, _ = segment_frames(HELDOUT_SEED, n_items)
    pick = np.random.default_rng(1).choice(len(frames), size=min(n_frames, len(frames)),
                                           replace=False)
    frames = [frames[i] for i in pick]
    attrs = [attrs[i] for i in pick]
    result = {}
    for name, encoder in (("trained", trained), ("untrained", untrained)):
        result[name] = _retrieval_and_zero_shot(encoder, frames, attrs)
    result["chance"] = {"recall@1": 1 / len(frames),
                        "recall@1_colour_shape_scene": 1 / len(frames),
                        **{f"zero_shot_{k}": 1 / len(v) for k, v in zero_shot_prompts().items()}}
    return result


def _retrieval_and_zero_shot(encoder, frames, attrs) -> dict:
    images = encoder.encode_images(frames)
    captions = [caption(a) for a in attrs]
    best = np.argmax(encoder.encode_texts(captions) @ images.T, axis=1)
    # A hit is a frame with the query's caption: frames of one segment are interchangeable.
    # The looser hit asks only for the query's colour, shape and scene.
    visual = [(a["colour"], a["shape"], a["scene"]) for a in attrs]
    out = {"recall@1": float(np.mean([captions[b] == captions[q] for q, b in enumerate(best)])),
           "recall@1_colour_shape_scene": float(np.mean([visual[b] == visual[q]
                                                          for q, b in enumerate(best)]))}
    for key, prompts in zero_shot_prompts().items():
        labels = list(prompts)
        prototypes = np.stack([encoder.encode_texts(texts).mean(axis=0) for texts in prompts.values()])
        predicted = np.argmax(images @ prototypes.T, axis=1)
        out[f"zero_shot_{key}"] = float(np.mean([labels[p] == a[key]
                                                 for p, a in zip(predicted, attrs)]))
    return out
