"""Batch generation, split so that the heavy part can run anywhere.

The driver *prepares* one `Order` per (user, item) pair from the corpus: the Eq. 1 / Eq. 2
choice, the caption to burn in, the user's diffusion condition. `make` turns an order into an
output file without any database, in this process or on a Ray worker. The one writer then
*records* the generation and runs every check on it (core.batch.run). An order's generation id
is a hash of what it asks for (task, user, item, options), so a rerun skips what is recorded and
makes only what is missing.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.store import Store

BATCH_TASKS = ("thumbnail", "clip", "style", "revise")
# Which options each task takes; every option is part of an order's identity.
TASK_OPTIONS = {"thumbnail": (), "clip": ("clip_len",), "style": ("style",),
                "revise": ("signal", "instruction", "strength", "steps", "guidance", "seed",
                           "max_seconds", "checkpoint")}


@dataclass
class BatchRequest:
    task: str
    users: list[str] | None = None      # None: every user with a like
    items: list[str] | None = None      # None: every item with a video
    options: dict[str, Any] = field(default_factory=dict)
    spec: str = "bundled"               # the encoder whose index Eq. 1 / Eq. 2 use

    def __post_init__(self) -> None:
        if self.task not in BATCH_TASKS:
            raise InputError(f"unknown batch task {self.task!r}; expected one of "
                             f"{', '.join(BATCH_TASKS)}")
        unknown = set(self.options) - set(TASK_OPTIONS[self.task])
        if unknown:
            raise InputError(f"batch --task {self.task} takes no {', '.join(sorted(unknown))}")
        if self.task == "style":
            from core.editor.style import PRESETS

            if self.options.get("style") not in PRESETS:
                raise InputError(f"batch --task style needs --style, one of {', '.join(PRESETS)}")


@dataclass
class Order:
    """One generation, ready to make without the corpus database."""
    generation_id: str
    task: str
    user_id: str | None
    item_id: str
    source: str                 # the item's video
    out: str                    # where the output goes
    params: dict                # recorded with the generation
    scores: dict
    models: list[dict]
    work: dict                  # what `make` needs besides the source (a choice, a condition)


@dataclass
class Made:
    """A made output and everything its generation record needs (a Parquet shard row holds it
    as JSON), or the reason it could not be made."""
    generation_id: str
    task: str
    user_id: str | None
    item_id: str
    output_path: str
    params: dict
    scores: dict
    models: list[dict]
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, default=float)

    @classmethod
    def from_json(cls, text: str) -> "Made":
        return cls(**json.loads(text))


def batch_generation_id(task: str, user_id: str | None, item_id: str, options: dict) -> str:
    key = json.dumps([task, user_id, item_id, options], sort_keys=True)
    return "gen-" + hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass
class Plan:
    orders: list[Order]
    pairs: int                                  # (user, item) pairs asked for
    already_made: int                           # pairs recorded by an earlier run
    skipped: Counter = field(default_factory=Counter)    # reason -> pairs


def prepare(store: Store, request: BatchRequest) -> Plan:
    """Every order of the request that is not recorded yet; pairs that cannot be made are
    counted by reason (an unknown item, one without a video, a user with no likes, ...)."""
    from core.store.corpus import (existing_generations, existing_users, items_with_video,
                                   users_with_likes)

    users = request.users if request.users is not None else users_with_likes(store)
    items = request.items if request.items is not None else items_with_video(store)
    plan = Plan([], len(users) * len(items), 0)
    known = existing_users(store, users)
    if len(known) < len(users):
        plan.skipped["unknown user"] += (len(users) - len(known)) * len(items)
        users = [u for u in users if u in known]
    usable = _usable_items(store, request, items, len(users), plan)
    ids = {(u, i): batch_generation_id(request.task, u, i, request.options)
           for u in users for i in usable}
    done = existing_generations(store, ids.values())
    plan.already_made = sum(1 for g in ids.values() if g in done)
    todo: dict[str, list[str]] = {}
    for (user_id, item_id), generation_id in ids.items():
        if generation_id not in done:
            todo.setdefault(user_id, []).append(item_id)
    prepare_user = {"thumbnail": _personal, "clip": _personal, "style": _styled,
                    "revise": _revised}[request.task]
    context: dict = {}
    for user_id, item_ids in todo.items():
        try:
            plan.orders += prepare_user(store, request, user_id, usable, item_ids, ids, context)
        except InputError as exc:          # this user cannot be served: say why, go on
            # one entry per reason, not per user ("the user has no liked items ...")
            plan.skipped[str(exc).replace(f"user {user_id!r}", "the user")] += len(item_ids)
    return plan


def _usable_items(store: Store, request: BatchRequest, items: list[str], n_users: int,
                  plan: Plan) -> dict:
    """item id -> its video path, for the items the task can use."""
    from core.editor.service import resolve_model_id
    from core.store.corpus import item_paths, item_statuses
    from core.store.embeddings import items_without_embeddings

    status = item_statuses(store, items)
    usable = {i: None for i in items if status.get(i) == "ok"}
    for item_id in items:
        if item_id not in usable:
            reason = ("unknown item" if item_id not in status else
                      "item without a video (no-media)" if status[item_id] == "no-media" else
                      f"item {status[item_id]}")
            plan.skipped[reason] += n_users
    if request.task in ("thumbnail", "clip") and usable:
        model_id = resolve_model_id(store, request.spec)
        for item in items_without_embeddings(store, model_id, list(usable)):
            del usable[item["id"]]
            plan.skipped[f"item not indexed with {request.spec}"] += n_users
    paths = item_paths(store, list(usable))
    return {i: paths[i] for i in usable}


def _out(store: Store, generation_id: str, suffix: str) -> str:
    from core.editor.generations import generation_path

    return str(generation_path(store, generation_id, suffix))


def _personal(store, request, user_id, paths, item_ids, ids, _context) -> list[Order]:
    """Eq. 1 / Eq. 2 for the user against all of their items at once."""
    from core.editor.personalize import DEFAULT_CLIP_LEN
    from core.editor.service import (OUTPUT_SUFFIX, encoder_models, personal_params,
                                     personalize)

    task = request.task
    clip_len = request.options.get("clip_len", DEFAULT_CLIP_LEN)
    choices = personalize(store, user_id, task, item_ids, request.spec, clip_len, record=False)
    models = encoder_models(store, choices[0]["encoder"]) if choices else []
    orders = []
    for choice in choices:
        generation_id = ids[(user_id, choice["item_id"])]
        orders.append(Order(generation_id, task, user_id, choice["item_id"],
                            paths[choice["item_id"]], _out(store, generation_id, OUTPUT_SUFFIX[task]),
                            personal_params(choice), {"cosine": choice["score"]}, models,
                            {"choice": choice}))
    return orders


def _styled(store, request, user_id, paths, item_ids, ids, _context) -> list[Order]:
    from core.store.corpus import first_caption

    style = request.options["style"]
    models = [{"role": "style", "id": f"opencv:{style}", "spec": style}]
    orders = []
    for item_id in item_ids:
        generation_id = ids[(user_id, item_id)]
        params = {"style": style, "caption": first_caption(store, item_id), "ai_label": True}
        orders.append(Order(generation_id, "style", user_id, item_id, paths[item_id],
                            _out(store, generation_id, ".mp4"), params, {}, models, params))
    return orders


def _revised(store, request, user_id, paths, item_ids, ids, context) -> list[Order]:
    """The user's condition once; the model, its options and each item's domain check."""
    from core.diffusion.domain import check_item
    from core.diffusion.service import (exemplar_params, model_for, provenance_models,
                                        revision_options, user_condition)

    opts = request.options
    if "model" not in context:
        context["model"] = model_for(store, "video", opts.get("checkpoint"))
    model = context["model"]
    signal, instruction = opts.get("signal", "User_Hist"), opts.get("instruction", "")
    cond = user_condition(store, model, user_id, signal, instruction)
    options = revision_options(opts.get("strength"), None, opts.get("steps"),
                               opts.get("guidance"), opts.get("seed", 0))
    orders = []
    for item_id in item_ids:
        generation_id = ids[(user_id, item_id)]
        params = {"signal": signal, "instruction": instruction, **exemplar_params(cond),
                  **options, "domain": check_item(store, model, item_id, [])}   # from the frame index
        orders.append(Order(generation_id, "revise", user_id, item_id, paths[item_id],
                            _out(store, generation_id, ".mp4"), params, {},
                            provenance_models(model),
                            {"checkpoint": str(model.path), "cond": cond, "options": options,
                             "max_seconds": opts.get("max_seconds")}))
    return orders


def make(order: Order, progress=None) -> Made:
    """The output file of one order, with no database; a media or input error becomes the
    Made's `error` (the batch goes on). `progress` lets a revision stop between steps."""
    from core.errors import GenerecError

    made = Made(order.generation_id, order.task, order.user_id, order.item_id, order.out,
                dict(order.params), dict(order.scores), order.models)
    Path(order.out).parent.mkdir(parents=True, exist_ok=True)
    try:
        if order.task in ("thumbnail", "clip"):
            from core.editor.service import write_personal_output

            write_personal_output(order.task, order.source, order.work["choice"], Path(order.out))
        elif order.task == "style":
            from core.editor.restyle import restyle_video

            work = order.work
            result = restyle_video(order.source, order.out, work["style"], work["caption"],
                                   work["ai_label"])
            made.scores.update(flicker=result.flicker, source_flicker=result.source_flicker)
        else:
            made.params.update(_revise(order, progress))
    except GenerecError as exc:
        made.error = f"{order.item_id}: {exc}"
    return made


def _revise(order: Order, progress) -> dict:
    from core.diffusion.service import model_at, revise_file

    work = order.work
    model = model_at("video", Path(work["checkpoint"]))
    added, _frames = revise_file(model, order.source, work["cond"], work["options"],
                                 Path(order.out), work["max_seconds"], progress)
    return added
