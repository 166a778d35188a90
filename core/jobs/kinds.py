"""What each job kind runs: `kind -> fn(store, params, progress) -> JSON-able result`.

Imports happen inside each function so that the GUI never pays for torch at start-up.
"""
from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any

from core.jobs.generation import JobFunction, check_summary, made_and_checked
from core.jobs.operator_kinds import OPERATOR_KINDS
from core.progress import Progress
from core.store import Store


def _demo(store: Store, params: dict, progress: Progress):
    from core.demo.build import build_demo

    return build_demo(store, progress=progress, **params)


def _import(store: Store, params: dict, progress: Progress):
    from core.corpus.importer import import_folder

    return import_folder(store, progress=progress, **params).as_dict()


def _index(store: Store, params: dict, progress: Progress):
    """Index what is not indexed yet, here or on Ray (`ray`: 'local' or a cluster address)."""
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus

    params = dict(params)
    spec, ray, workers = params.pop("model", "bundled"), params.pop("ray", None), \
        params.pop("workers", 2)
    if ray:
        from core.cluster.index import index_on_ray

        return index_on_ray(store, spec, ray, workers=workers, progress=progress,
                            **params).as_dict()
    return index_corpus(store, load_encoder(spec), progress=progress, **params).as_dict()


def _generate(store: Store, params: dict, progress: Progress):
    from core.editor.service import generate_personalized

    return generate_personalized(store, progress=progress, **params)


def _style(store: Store, params: dict, progress: Progress):
    from core.editor.service import generate_styled

    return generate_styled(store, progress=progress, **params)


def _instruct(store: Store, params: dict, progress: Progress):
    from core.instructor.instructor import instruct

    response = instruct(store, **params)
    response.pop("guidance", None)    # the vectors stay out of the job record
    return response


def _check(store: Store, params: dict, progress: Progress):
    from core.fidelity.base import run_checks

    results = {}
    for done, generation_id in enumerate(params["generation_ids"]):
        progress.check_cancelled()
        progress.update(done, len(params["generation_ids"]), generation_id)
        results[generation_id] = check_summary(run_checks(store, generation_id))
    progress.update(len(params["generation_ids"]), len(params["generation_ids"]), "checked")
    return results


def _preview(store: Store, params: dict, progress: Progress):
    """The personalized thumbnail and clip of one item for one user, as reviewable outputs."""
    from core.editor.service import generate_personalized

    progress.update(0, 3, "indexing what the preview needs")
    _index_needed(store, params.get("spec"), params["user_id"], [params["item_id"]], progress)
    results = []
    for done, task in enumerate(("thumbnail", "clip")):
        progress.update(done + 1, 3, f"personalized {task}")
        progress.check_cancelled()
        results.append(generate_personalized(store, task=task, progress=progress.silent_child(),
                                             **params))
    progress.update(3, 3, "done")
    return results


def _index_needed(store: Store, spec: str | None, user_id: str | None, item_ids: list[str],
                  progress: Progress) -> None:
    """Index the items and the user's likes that a generation needs, if a full index has not."""
    from core.editor.history import liked_items
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus

    needed = [*item_ids, *(liked_items(store, user_id) if user_id else [])]
    if needed:
        index_corpus(store, load_encoder(spec), progress=progress.silent_child(), only=needed)


def _block_previews(progress: Progress):
    """The diffusion service's on_block callback: each finished block becomes a preview."""
    def on_block(done: int, total: int, frames) -> None:
        progress.preview(frames, f"block {done} of {total}")
    return on_block


def _diffusion(function_name: str, item_needed: bool, per_block: bool,
               pipeline_function: str | None = None) -> JobFunction:
    """A job kind for one of the diffusion tasks: every parameter travels in the job (so a
    retry reproduces it) except `spec`, the encoder used to index what the task needs. With a
    `pipeline` parameter (a pretrained pipeline folder) the task runs `pipeline_function` of
    core.diffusion.pipeline_tasks instead of the bundled model, in the same job kind."""
    def run(store: Store, params: dict, progress: Progress):
        from core.diffusion import pipeline_tasks, service

        params = dict(params)
        spec = params.pop("spec", None)
        progress.update(0, 1, "indexing what the generation needs")
        _index_needed(store, spec, params.get("user_id"),
                      [params["item_id"]] if item_needed else [], progress)
        extra = {"on_block": _block_previews(progress)} if per_block else {}
        if pipeline_function and params.get("pipeline"):
            return getattr(pipeline_tasks, pipeline_function)(store, progress=progress,
                                                              encoder=spec, **extra, **params)
        params.pop("pipeline", None)
        return getattr(service, function_name)(store, progress=progress, **extra, **params)
    return run


def _batch(store: Store, params: dict, progress: Progress):
    """Many generations of one task; each is screened, made, recorded and checked
    (core.batch.run), in this process or on Ray (`ray`: an address or 'local')."""
    from core.batch.orders import BatchRequest
    from core.batch.run import run_batch

    params = dict(params)
    ray, workers = params.pop("ray", None), params.pop("workers", 2)
    return run_batch(store, BatchRequest(**params), progress, ray, workers).as_dict()


def _evaluate(store: Store, params: dict, progress: Progress):
    from core.editor.service import resolve_model_id
    from core.evaluation.cosine import evaluate

    params = dict(params)
    model_id = resolve_model_id(store, params.pop("model", "bundled"))
    return evaluate(store, model_id, progress=progress, **params)


def _export(store: Store, params: dict, progress: Progress):
    from core.export.gate import export_generations

    return export_generations(store, progress=progress, **params)


def _train_clip(store: Store, params: dict, progress: Progress):
    from core.encoders.train import train_clip

    return train_clip(progress=progress, **params)


def _train_recommender(store: Store, params: dict, progress: Progress):
    from core.recommender.service import train_on_corpus

    report = train_on_corpus(store, progress=progress, **params)
    for name in ("MMGCN", "BPR-MF"):
        report[name]["training"].pop("validation_curve", None)
    return report


# Every task that makes a generation runs through one protocol (screen, make, check).
GENERATION_KINDS: dict[str, JobFunction] = {
    "generate": _generate,
    "preview": _preview,
    "style": _style,
    "revise": _diffusion("generate_revision", item_needed=False, per_block=True,
                         pipeline_function="generate_pipeline_revision"),
    "create": _diffusion("generate_creation", item_needed=False, per_block=True,
                         pipeline_function="generate_pipeline_creation"),
    "thumbnail-gen": _diffusion("generate_thumbnail_image", item_needed=True, per_block=False),
}

JOB_KINDS: dict[str, JobFunction] = {
    "demo": _demo,
    "import": _import,
    "index": _index,
    **{kind: made_and_checked(kind, make) for kind, make in GENERATION_KINDS.items()},
    "batch": _batch,
    "instruct": _instruct,
    "check": _check,
    "evaluate": _evaluate,
    "export": _export,
    "train-clip": _train_clip,
    "train-recommender": _train_recommender,
    **OPERATOR_KINDS,     # trainings, fairness, audit verify, verify a file, purge expired
}


def jsonable(value: Any) -> Any:
    return asdict(value) if is_dataclass(value) else value
