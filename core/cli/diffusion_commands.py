"""CLI commands of the AI editor, part 2 and the AI creator: train the video and thumbnail
diffusion models on the corpus (resumable: run the same command again to continue)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.corpus_commands import _positive, corpus, progress_bar


def register(sub, common: argparse.ArgumentParser) -> None:
    for kind in ("video", "thumbnail"):
        p = sub.add_parser(f"train-{kind}-model", parents=[common],
                           help=f"train the {kind} diffusion model on the corpus")
        p.add_argument("--out", type=Path, default=None,
                       help="folder (default: the corpus's media folder, models/)")
        p.add_argument("--steps", type=_positive, default=3000)
        p.add_argument("--batch", type=_positive, default=12)
        p.add_argument("--lr", type=float, default=5e-4)
        p.add_argument("--ema-decay", type=float, default=0.995)
        p.add_argument("--checkpoint-every", type=_positive, default=100)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--init", type=Path, default=None, metavar="CHECKPOINT",
                       help="start from this checkpoint's weights where --out holds no "
                            "resumable state (to continue the bundled model: "
                            f"resources/diffusion/{kind}.safetensors); the report adds its steps "
                            "and time")
        p.add_argument("--model", default="bundled", help="encoder spec (default: bundled)")
        p.add_argument("--json", action="store_true")
        p.set_defaults(run=cmd_train, kind=kind)


def cmd_train(args) -> int:
    import sys

    from core.diffusion.models import train_thumbnail_model, train_video_model
    from core.diffusion.trainer import TrainSettings

    settings = TrainSettings(steps=args.steps, batch=args.batch, lr=args.lr,
                             ema_decay=args.ema_decay, checkpoint_every=args.checkpoint_every,
                             seed=args.seed, command=" ".join(["generec", *sys.argv[1:]]),
                             init=str(args.init) if args.init else None)
    train = train_video_model if args.kind == "video" else train_thumbnail_model
    with corpus(args) as store, progress_bar(args, f"train-{args.kind}-model") as bar:
        report = train(store, args.out, settings, encoder=args.model, progress=bar)
    summary = {k: v for k, v in report.items() if k != "loss_curve"}
    summary["final_loss"] = report["loss_curve"][-1][1] if report["loss_curve"] else None
    print(json.dumps(summary, indent=None if args.json else 2))
    return 0


def add_diffusion_arguments(p: argparse.ArgumentParser) -> None:
    """Options of `generate --task revise|create|thumbnail-gen` (steps and strength are shared
    with --style diffusion and defined there)."""
    p.add_argument("--signal", default="User_Hist",
                   choices=("User_Hist", "User_Emb", "both", "none"),
                   help="which user signal conditions revise/create (default: User_Hist)")
    p.add_argument("--instruction", default="", help="text that conditions revise/create")
    p.add_argument("--sampler", default=None, choices=("ddim", "dpm", "ddpm"),
                   help="denoising sampler (default: ddim)")
    p.add_argument("--guidance", type=float, default=None,
                   help="classifier-free guidance scale (default: 2.0)")
    p.add_argument("--source-guidance", type=float, default=None,
                   help="how strongly a revision holds to its source's shapes, 1 or more "
                        "(default: 2.0; 1 is plain classifier-free guidance)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=_positive, default=32, help="frames to create")
    p.add_argument("--max-seconds", type=float, default=None,
                   help="revise only the first seconds of the item (default: all of it)")
    p.add_argument("--checkpoint", default=None,
                   help="diffusion model safetensors (default: the corpus's own, else bundled)")
    p.add_argument("--pipeline", default=None, metavar="DIR",
                   help="revise/create with a pretrained diffusers pipeline folder instead of "
                        "the bundled model (local files, safetensors only; an ip_adapter/ "
                        "subfolder makes the user's liked thumbnails its image prompt)")
    p.add_argument("--smoothing", type=float, default=None,
                   help="temporal smoothing of a --pipeline revision in [0, 1) (default: 0.75, "
                        "as the style presets; 0: none)")
    p.add_argument("--motion", default="zoom", choices=("zoom", "pan"),
                   help="camera move over the image of a --pipeline creation with a "
                        "text-to-image pipeline (default: zoom)")


def diffusion_job_params(args) -> dict:
    """The job parameters of `generate --task revise|create|thumbnail-gen`."""
    common = {"user_id": args.user, "sampler": args.sampler, "steps": args.steps,
              "guidance": args.guidance, "seed": args.seed, "checkpoint": args.checkpoint,
              "spec": args.model}
    if args.task in ("revise", "create") and args.pipeline:
        return pipeline_job_params(args, common)
    if args.task == "revise":
        return {**common, "item_id": args.item, "signal": args.signal,
                "instruction": args.instruction, "strength": args.strength,
                "max_seconds": args.max_seconds, "source_guidance": args.source_guidance}
    if args.task == "create":
        return {**common, "instruction": args.instruction, "signal": args.signal,
                "n_frames": args.frames}
    return {**common, "item_id": args.item}


def pipeline_job_params(args, common: dict) -> dict:
    """`generate --task revise|create --pipeline DIR`: the folder as an absolute path (a retry
    from another directory finds it), no bundled checkpoint."""
    from core.diffusion.pipelines import validate

    folder = str(Path(args.pipeline).expanduser().resolve())
    validate(folder)                    # before a job is recorded: name the missing file
    common = {**{k: v for k, v in common.items() if k != "checkpoint"}, "pipeline": folder,
              "instruction": args.instruction, "signal": args.signal}
    if args.task == "revise":
        return {**common, "item_id": args.item, "strength": args.strength,
                "max_seconds": args.max_seconds, "smoothing": args.smoothing}
    return {**common, "n_frames": args.frames, "motion": args.motion}
