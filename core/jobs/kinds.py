"""What each job kind runs: `kind -> fn(store, params, progress) -> JSON-able result`.

Imports happen inside each function so that the GUI never pays for torch at start-up.
"""
from __future__ import annotations

from dataclasses import asdict, is_dataclass
from typing import Any, Callable

from core.progress import Progress
from core.store import Store

JobFunction = Callable[[Store, dict, Progress], Any]


def _demo(store: Store, params: dict, progress: Progress):
    from core.demo.build import build_demo

    return build_demo(store, progress=progress, **params)


def _import(store: Store, params: dict, progress: Progress):
    from core.corpus.importer import import_folder

    return import_folder(store, progress=progress, **params).as_dict()


def _index(store: Store, params: dict, progress: Progress):
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus

    params = dict(params)
    encoder = load_encoder(params.pop("model", "bundled"))
    return index_corpus(store, encoder, progress=progress, **params).as_dict()


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
        results[generation_id] = {r["name"]: r["status"] for r in run_checks(store, generation_id)}
    progress.update(len(params["generation_ids"]), len(params["generation_ids"]), "checked")
    return results


def _preview(store: Store, params: dict, progress: Progress):
    """The personalized thumbnail and clip of one item for one user, as reviewable outputs."""
    from core.editor.history import liked_items
    from core.editor.service import generate_personalized
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus

    # Index what this preview needs (the item and the user's likes) if a full index has not.
    needed = [params["item_id"], *liked_items(store, params["user_id"])]
    progress.update(0, 3, "indexing what the preview needs")
    index_corpus(store, load_encoder(params.get("spec")), progress=progress.silent_child(),
                 only=needed)
    results = []
    for done, task in enumerate(("thumbnail", "clip")):
        progress.update(done + 1, 3, f"personalized {task}")
        progress.check_cancelled()
        results.append(generate_personalized(store, task=task, progress=progress.silent_child(),
                                             **params))
    progress.update(3, 3, "done")
    return results


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


JOB_KINDS: dict[str, JobFunction] = {
    "demo": _demo,
    "import": _import,
    "index": _index,
    "generate": _generate,
    "preview": _preview,
    "style": _style,
    "instruct": _instruct,
    "check": _check,
    "evaluate": _evaluate,
    "export": _export,
    "train-clip": _train_clip,
    "train-recommender": _train_recommender,
}


def jsonable(value: Any) -> Any:
    return asdict(value) if is_dataclass(value) else value
