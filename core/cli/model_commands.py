"""CLI commands of the AI editor, part 1: train-clip, index, personalize, generate, evaluate."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli.corpus_commands import _positive, corpus, progress_bar, report_failures
from core.evaluation import GENERATIVE_TASKS
from core.cli import recommender_commands
from core.cli.diffusion_commands import add_diffusion_arguments, diffusion_job_params


def register(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("train-clip", parents=[common], help="train the bundled encoder")
    p.add_argument("--out", type=Path, default=None, help="folder (default: resources/encoder)")
    p.add_argument("--epochs", type=_positive, default=None,
                   help="passes over the training segments (default: 800 steps)")
    p.add_argument("--steps", type=_positive, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true",
                   help="accepted for uniformity: the report on stdout is JSON either way "
                        "(progress on stderr)")
    p.set_defaults(run=cmd_train_clip)
    register_editor(sub, common)


def cmd_train_clip(args) -> int:
    from core.encoders.encoder import BUNDLED_DIR
    from core.encoders.train import DEFAULT_STEPS, steps_for_epochs, train_clip

    steps = args.steps or (steps_for_epochs(args.epochs) if args.epochs else DEFAULT_STEPS)
    with progress_bar(args, "train-clip") as bar:
        report = train_clip(args.out or BUNDLED_DIR, steps=steps, seed=args.seed, progress=bar)
    print(json.dumps({k: v for k, v in report.items() if k != "loss_curve"}, indent=2))
    return 0


def register_editor(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("index", parents=[common], help="decode, sample and embed frames")
    p.add_argument("--model", default="bundled", help="encoder spec (default: bundled)")
    p.add_argument("--frames", type=_positive, default=32, help="frames sampled per item")
    p.add_argument("--batch", type=_positive, default=64)
    p.add_argument("--ray", metavar="ADDRESS", help="run on Ray Data: 'local' starts a cluster on "
                   "this machine, ray://HOST:PORT or HOST:PORT joins one (needs "
                   "pip install 'generec-studio[cluster]')")
    p.add_argument("--workers", type=_positive, default=2, help="Ray actors, each with one "
                   "encoder (with --ray)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_index)

    p = sub.add_parser("personalize", parents=[common], help="Eq. 1 / Eq. 2 for one user")
    p.add_argument("--items", nargs="+", default=None, metavar="ID")
    _task_arguments(p)
    p.set_defaults(run=cmd_personalize)

    p = sub.add_parser("generate", parents=[common], help="run one AI editor or creator task")
    p.add_argument("--item", default=None, help="source item (every task except create)")
    _task_arguments(p, ("thumbnail", "clip", "style", "revise", "create", "thumbnail-gen"))
    p.add_argument("--style", default=None, help="style preset for --task style")
    p.add_argument("--caption", default=None,
                   help="caption burned in for --task style (default: the item's caption)")
    p.add_argument("--no-label", action="store_true", help="no visible 'AI-generated' label")
    p.add_argument("--prompt", default="", help="text prompt for --style diffusion")
    p.add_argument("--steps", type=_positive, default=None,
                   help="denoising steps (default: 20 for --style diffusion, 10 for revise, "
                        "25 otherwise)")
    p.add_argument("--strength", type=float, default=None,
                   help="how far a diffusion result may move from its source, in (0, 1] "
                        "(default: 0.45 for --style diffusion, 1.0 for revise: the source reaches "
                        "the model through its source channels only)")
    p.add_argument("--diffusion-weights", default=None, metavar="DIR",
                   help="local Stable Diffusion pipeline folder for --style diffusion "
                        "(default: $GENEREC_SD_WEIGHTS)")
    add_diffusion_arguments(p)
    p.set_defaults(run=cmd_generate)

    p = sub.add_parser("instruct", parents=[common], help="what the instructor decides")
    p.add_argument("--user", required=True)
    p.add_argument("--item", default=None)
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_instruct)

    recommender_commands.register(sub, common)

    p = sub.add_parser("evaluate", parents=[common], help="Cosine@K and preference hit rate")
    p.add_argument("--k", type=_positive, nargs="+", default=[5, 10])
    p.add_argument("--runs", type=_positive, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clip-len", type=_positive, default=8)
    p.add_argument("--model", default="bundled")
    p.add_argument("--generative", choices=("auto", "skip"), default="auto",
                   help="also evaluate revision, creation and thumbnail generation with the "
                        "diffusion models (default: auto, skipped where no model exists)")
    p.add_argument("--generative-users", type=_positive, default=24,
                   help="users drawn for the diffusion tasks (each is K generations per method)")
    p.add_argument("--generative-steps", type=_positive, default=10,
                   help="sampler steps for the diffusion tasks")
    p.add_argument("--generative-tasks", nargs="+", default=list(GENERATIVE_TASKS),
                   choices=GENERATIVE_TASKS, metavar="TASK",
                   help=f"which diffusion tasks (default: all: {', '.join(GENERATIVE_TASKS)})")
    p.add_argument("--i3d", default=None, metavar="PATH",
                   help="TorchScript I3D network: adds I3D FVD to revision and creation")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("selftest", help="the bundled models' outputs on fixed inputs, to compare "
                                        "two installs")
    p.add_argument("--json", action="store_true")
    p.add_argument("--against", type=Path, metavar="FILE",
                   help="another install's 'selftest --json' output: exit 1 where any output "
                        "differs by more than the tolerance")
    p.set_defaults(run=cmd_selftest)


def _task_arguments(p: argparse.ArgumentParser, tasks=("thumbnail", "clip")) -> None:
    p.add_argument("--user", required=True)
    p.add_argument("--task", choices=tasks, required=True)
    p.add_argument("--clip-len", type=_positive, default=8, help="frames per clip (Eq. 2)")
    p.add_argument("--stride", type=_positive, default=1, help="frames between clip starts")
    p.add_argument("--model", default="bundled", help="encoder spec used by 'generec index'")
    p.add_argument("--json", action="store_true")


def cmd_index(args) -> int:
    """A recorded job, as from the GUI: `generec jobs` lists it with what reproduces it."""
    from core.cli.jobs_commands import run_as_job

    if args.ray:
        from core.cluster import require_ray

        require_ray()          # before recording anything: say how to install it
    params = {"model": args.model, "n_frames": args.frames, "batch": args.batch}
    if args.ray:
        params.update(ray=args.ray, workers=args.workers)
    summary = run_as_job(args, "index", params)
    report_failures([(f["item"], f["reason"]) for f in summary["failed"]])
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{summary['indexed']} items indexed ({summary['frames']} frames) with "
              f"{summary['model_id']}; {len(summary['failed'])} failed")
    return 0


def cmd_personalize(args) -> int:
    from core.editor.service import personalize

    with corpus(args) as store:
        choices = personalize(store, args.user, args.task, args.items, args.model,
                              args.clip_len, args.stride)
    if args.json:
        print(json.dumps(choices, indent=1))
        return 0
    for c in choices:
        where = (f"frame {c['frame_idx']} at {c['t_s']:.2f} s" if args.task == "thumbnail"
                 else f"{c['start_s']:.2f}–{c['end_s']:.2f} s")
        print(f"{c['item_id']:<24} {where:<24} cosine {c['score']:.3f}  {c['generation_id']}")
    return 0


def cmd_generate(args) -> int:
    """Every task goes through the job protocol the GUI uses: screened, made, checked."""
    from core.cli.jobs_commands import run_as_job
    from core.errors import InputError

    if args.task not in ("create",) and not args.item:
        raise InputError(f"--task {args.task} needs --item")
    kind, params = generation_job(args)
    if kind in ("revise", "create", "thumbnail-gen") and not params.get("pipeline"):
        _warn_out_of_domain(args, kind)     # the bundled model's training corpus
    result = run_as_job(args, kind, params)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"{result['generation_id']}: {result['output_path']}")
    for check in result["checks"]:
        flag = " (blocking)" if check["blocking"] else ""
        print(f"  {check['name']:<14} {check['status']:<5}{flag}  {check['text']}")
    return 0


def _warn_out_of_domain(args, task: str) -> None:
    """Say before the job starts that the diffusion model was trained on another corpus."""
    from core.diffusion.domain import preflight

    with corpus(args) as store:
        warning = preflight(store, task, args.item, args.checkpoint)
    if warning:
        print(f"generec: warning: {warning}", file=sys.stderr)


def generation_job(args) -> tuple[str, dict]:
    """The job kind and parameters of `generec generate`: the same spec the GUI queues."""
    from core.errors import InputError

    if args.task in ("revise", "create", "thumbnail-gen"):
        return args.task, diffusion_job_params(args)
    if args.task == "style":
        if not args.style:
            from core.editor.style import PRESETS

            raise InputError(f"--task style needs --style, one of {', '.join(PRESETS)}")
        return "style", {"user_id": args.user, "item_id": args.item, "style": args.style,
                         "caption": args.caption, "label": not args.no_label,
                         "prompt": args.prompt, "diffusion_weights": args.diffusion_weights,
                         "diffusion_options": {"steps": args.steps or 20,
                                               "strength": args.strength or 0.45}}
    return "generate", {"user_id": args.user, "item_id": args.item, "task": args.task,
                        "spec": args.model, "clip_len": args.clip_len, "stride": args.stride}


def cmd_instruct(args) -> int:
    from core.instructor.instructor import instruct

    with corpus(args) as store:
        response = instruct(store, args.user, args.text, args.item)
    if args.json:
        print(json.dumps(response, indent=1))
        return 0
    print(f"{response['decision']}: {response['intent']} ({response['reason']})")
    parameters = {k: v for k, v in response["parameters"].items() if v}
    if parameters:
        print("parameters: " + ", ".join(f"{k}={v}" for k, v in parameters.items()))
    if response["question"]:
        print(f"question: {response['question']}")
    return 0


def cmd_evaluate(args) -> int:
    from core.editor.service import resolve_model_id
    from core.evaluation.cosine import evaluate

    with corpus(args) as store, progress_bar(args, "evaluate") as bar:
        encoder_id = resolve_model_id(store, args.model)
        report = evaluate(store, encoder_id, tuple(args.k), args.runs, args.seed, args.clip_len, bar)
        if args.generative == "auto":
            from core.evaluation.generative import evaluate_generative

            report.update(evaluate_generative(store, encoder_id, tuple(args.k),
                                              args.generative_users, args.seed,
                                              args.generative_steps, clip_frames=args.clip_len,
                                              tasks=tuple(args.generative_tasks), i3d=args.i3d,
                                              progress=bar))
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    from core.evaluation.report import format_report

    print(format_report(report))
    return 0


def cmd_selftest(args) -> int:
    from core.selftest import TOLERANCE, compare, read_selftest, run_selftest

    theirs = read_selftest(args.against) if args.against else None
    result = run_selftest()
    if theirs is None:
        print(result.to_json() if args.json else
              "\n".join(f"{name:>20}: mean {v[-2]:+.6f} std {v[-1]:.6f}"
                        for name, v in result.outputs.items()))
        return 0
    differences = compare(result, theirs)
    if args.json:
        print(json.dumps({"tolerance": TOLERANCE, "ours": result.versions,
                          "theirs": theirs.get("versions"),
                          "max_abs": {d.name: d.max_abs for d in differences}}))
    else:
        print(f"ours {result.versions}, theirs {theirs.get('versions')}")
        for d in differences:
            shown = "missing on one side" if d.max_abs is None else f"max |difference| {d.max_abs:.2e}"
            print(f"{d.name:>20}: {shown} {'ok' if d.within else f'OVER {TOLERANCE:g}'}")
    return 0 if all(d.within for d in differences) else 1
