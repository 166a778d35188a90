"""Metrics of the diffusion tasks, in the shape of the thumbnail section of `evaluate`:
Cosine@K under the `paper` and `heldout` protocols, PS@K where a recommender is trained, and a
Fréchet distance on the encoder's clip features between generated and real clips.

- revision: the first `clip_frames` frames of each drawn item, revised (SDEdit) conditioned on
  User_Hist, on User_Emb (the thumbnails of the items the corpus's recommender ranks first), or
  on nothing (Unconditional), against the unrevised Original; on the
  demo corpus also the share of revised frames whose judged shape is the source frame's
  (`shape_kept`: a revision, not a replacement);
- creation: clips made from noise conditioned on User_Hist, User_Emb or nothing;
- thumbnail_generation: the thumbnail model's output with the user's liked thumbnails retrieved
  (Generated) or without them (Unconditional), against the Eq. 1 selection (CLIP) and Original;
  a model with a source channel starts from a frame (see `_thumbnail_task`).

Users are drawn from the test users (`core/evaluation/judged.py`); the validation users serve
`bench/bench_video_diffusion.py`, which chooses strength, guidance and steps. On the demo corpus
every output also gets the judged preference hit (an attribute classifier that did not condition
it labels every output frame), and each created clip an instruction hit: creation adds methods
conditioned on an instruction drawn from the user's true preferences ("red circles on a
beach"), with the instruction alone (Instruction) and with User_Hist (User_Hist+Instruction);
the other methods' instruction hit is their chance of showing the same by themselves.

"Fréchet distance on the encoder's clip features" (FD-enc): each clip is described by the mean
and the standard deviation of its frames' encoder embeddings; this is not I3D FVD."""
from __future__ import annotations

import numpy as np

from core.diffusion.conditioning import Condition, with_exemplars
from core.errors import InputError
from core.evaluation import GENERATIVE_TASKS
from core.progress import Progress
from core.store import Store

CHUNK = 32


def evaluate_generative(store: Store, encoder_id: str, ks: tuple[int, ...] = (5,), users: int = 24,
                        seed: int = 0, steps: int = 10, strength: float | None = None,
                        guidance: float | None = None, clip_frames: int = 8,
                        source_guidance: float | None = None,
                        tasks: tuple[str, ...] = GENERATIVE_TASKS,
                        i3d: str | None = None, progress: Progress | None = None,
                        users_split: str = "test") -> dict:
    from core.diffusion.data import build_frame_bank
    from core.diffusion.models import liked_thumbnails
    from core.diffusion.service import model_for
    from core.evaluation.cosine import _recommender, _users
    from core.evaluation.judged import split_users
    from core.store.embeddings import load_frame_index

    progress = progress or Progress()
    encoder = index_encoder(store, encoder_id)
    index = load_frame_index(store, encoder_id)
    bank = build_frame_bank(store, encoder)
    rng = np.random.default_rng(seed)
    everyone = _users(store, index)
    split = split_users([u.id for u in everyone])
    pool = [u for u in everyone if u.heldout is not None and len(u.candidates)
            and (users_split == "all" or u.id in getattr(split, users_split))]
    if not pool:
        raise InputError(f"no {users_split} user has held-out likes; nothing to evaluate")
    chosen = [pool[i] for i in sorted(rng.choice(len(pool), min(users, len(pool)), replace=False))]
    pairs = [(u, int(r)) for u in chosen
             for r in rng.choice(u.candidates, min(max(ks), len(u.candidates)), replace=False)]
    context = _Context(store, encoder, index, bank, pairs, ks, _recommender(store, encoder_id, index),
                       rng)
    context.judge = _judge_for(pairs)
    if i3d:
        from core.evaluation.i3d import load_i3d

        context.i3d = load_i3d(i3d)
    report: dict = {"generative": {"users": len(chosen), "users_split": users_split, "k": list(ks),
                                   "steps": steps, "clip_frames": clip_frames,
                                   "encoder": encoder.model_id}}
    context.liked = liked_thumbnails(store, encoder_id)
    if {"revision", "creation"} & set(tasks):
        video = _try(model_for, store, "video")
        for task in ("revision", "creation"):
            if task in tasks:
                progress.update(len(report), 4, task)
                report[task] = (_video_task(context, video, task, steps, strength, guidance,
                                            clip_frames, progress, source_guidance)
                                if not isinstance(video, str)
                                else {"skipped": video})
    if "thumbnail_generation" in tasks:
        progress.update(3, 4, "thumbnail generation")
        thumb = _try(model_for, store, "thumbnail")
        report["thumbnail_generation"] = (
            _thumbnail_task(context, thumb, context.liked, steps, guidance)
            if not isinstance(thumb, str) else {"skipped": thumb})
    progress.update(4, 4, "done")
    return report


class _Context:
    def __init__(self, store, encoder, index, bank, pairs, ks, recommender, rng) -> None:
        self.store, self.encoder, self.index, self.bank = store, encoder, index, bank
        self.pairs, self.ks, self.recommender, self.rng = pairs, ks, recommender, rng
        self.bank_row = {item_id: i for i, item_id in enumerate(bank.item_ids)}
        self.i3d = None
        self.judge = None
        self.liked: dict[str, np.ndarray] = {}   # user -> liked thumbnails' embeddings

    def judged(self, result: dict, method: str, outputs, wanted: list | None = None,
               sources: list | None = None) -> list:
        """Judged preference hit (and, given the instructions' attributes, instruction hit;
        given the sources' judged attributes, the share of frames whose judged shape is the
        source frame's) of one output (frames) per pair, into result["judged_hit"],
        result["instruction_hit"] and result["shape_kept"]; with the instructions, also each
        attribute's share on its own (result["instruction_attributes"]), which says what an
        instruction hit lacks. Returns each output's attributes."""
        from core.evaluation.judged import (ATTRIBUTES, HitTable, attribute_share,
                                            instruction_share, judged_attrs, preference_share,
                                            shape_share)

        if self.judge is None:
            return []
        table, asked, kept, judged = HitTable(), HitTable(), HitTable(), []
        parts = {name: HitTable() for name in ATTRIBUTES}
        for n, ((user, _), frames) in enumerate(zip(self.pairs, outputs)):
            attrs = judged_attrs(self.judge.judge(list(frames)))
            judged.append(attrs)
            table.add(method, user.id, preference_share(attrs, user.truth))
            if wanted is not None:
                asked.add(method, user.id, instruction_share(attrs, wanted[n]))
                for name in ATTRIBUTES:
                    parts[name].add(method, user.id, attribute_share(attrs, wanted[n], name))
            if sources is not None:
                kept.add(method, user.id, shape_share(attrs, sources[n]))
        result.setdefault("judged_hit", {}).update(table.summary())
        if wanted is not None:
            result.setdefault("instruction_hit", {}).update(asked.summary())
            for name, part in parts.items():
                result.setdefault("instruction_attributes", {}).setdefault(name, {}).update(part.summary())
        if sources is not None:
            result.setdefault("shape_kept", {}).update(kept.summary())
        return judged

    def scores(self, embeddings: list[np.ndarray]) -> dict:
        """Cosine@K (paper, heldout) and PS@K of one output per pair (each n x d frames)."""
        out: dict = {"paper": {}, "heldout": {}}
        per_user: dict[str, dict[str, list[float]]] = {}
        ps_user: dict[str, list[float]] = {}
        for (user, row), frames in zip(self.pairs, embeddings):
            entry = per_user.setdefault(user.id, {"paper": [], "heldout": []})
            entry["paper"].append(float((frames @ user.history).mean()))
            entry["heldout"].append(float((frames @ user.heldout).mean()))
            if self.recommender is not None and user.id in self.recommender.users:
                means = self.index.frames[row, :self.index.counts[row]].mean(axis=0)
                visual = np.concatenate([frames.mean(axis=0), means])[None]
                ps_user.setdefault(user.id, []).append(
                    float(self.recommender.scores_with_visual(user.id, np.array([row]), visual)[0]))
        for protocol in ("paper", "heldout"):
            out[protocol] = {f"cosine@{k}": _mean_of_users([v[protocol][:k] for v in per_user.values()])
                             for k in self.ks}
        if ps_user:
            out["ps"] = {f"ps@{k}": _mean_of_users([v[:k] for v in ps_user.values()]) for k in self.ks}
        return out


def _video_task(ctx: _Context, model, task: str, steps: int, strength, guidance, clip_frames: int,
                progress: Progress, source_guidance: float | None = None) -> dict:
    from core.diffusion import video
    from core.diffusion.service import EXEMPLARS_WITHOUT_TOKENS, creation_options, revision_options

    revising = task == "revision"
    # the app's defaults for what is not given
    options = (revision_options(strength, None, steps, guidance, 0, source_guidance) if revising
               else creation_options(None, steps, guidance, 0))

    sources = []
    for _, row in ctx.pairs:
        span = ctx.bank.item_frames(ctx.bank_row[ctx.index.item_ids[row]])
        clip = ctx.bank.frames[span][:clip_frames]
        sources.append(np.concatenate([clip, np.repeat(clip[-1:], clip_frames - len(clip), 0)]))
    sources = np.stack(sources)
    methods = {"Original": None} if revising else {}
    methods.update({"Unconditional": lambda u: Condition(),
                    "User_Hist": lambda u: Condition(hist=u.select, liked=ctx.liked.get(u.id))})
    tokens = model.config.get("liked_tokens") or EXEMPLARS_WITHOUT_TOKENS
    if ctx.recommender is not None:      # User_Emb: the thumbnails the recommender ranks first
        methods["User_Emb"] = lambda u: with_exemplars(
            Condition(preference=ctx.recommender.score_values(u.id)), ctx.index.thumbnails, tokens)
    wanted = None
    if task == "creation" and ctx.judge is not None:
        wanted, texts = _instructions(ctx)
        methods["Instruction"] = lambda u, n: with_exemplars(
            Condition(text=texts[n]), ctx.index.thumbnails, tokens)
        methods["User_Hist+Instruction"] = lambda u, n: with_exemplars(
            Condition(hist=u.select, liked=ctx.liked.get(u.id), text=texts[n]),
            ctx.index.thumbnails, tokens)
    result: dict = {"paper": {}, "heldout": {}, "ps": {}, "frechet": {}}
    # the real reference comes from one random half of the items; Real_half, as many real
    # clips as there are outputs from the other half, says what FD-enc real clips reach
    half_a, half_b = np.array_split(ctx.rng.permutation(len(ctx.bank.item_ids)), 2)
    starts = real_clip_starts(ctx.bank, ctx.rng, clip_frames, 256, items=half_b)
    real = clip_features([ctx.bank.embeddings[s:s + clip_frames] for s in starts])
    other_half = real_clip_starts(ctx.bank, ctx.rng, clip_frames, len(ctx.pairs), items=half_a)
    result["frechet"]["Real_half"] = round(frechet_distance(
        clip_features([ctx.bank.embeddings[s:s + clip_frames] for s in other_half]), real), 4)
    if ctx.i3d is not None:
        from core.evaluation.i3d import i3d_features

        real_i3d = i3d_features(ctx.i3d, [ctx.bank.frames[s:s + clip_frames] for s in starts])
        result["fvd_i3d"] = {"Real_half": round(frechet_distance(i3d_features(
            ctx.i3d, [ctx.bank.frames[s:s + clip_frames] for s in other_half]), real_i3d), 4)}
    source_attrs = None
    for method, condition in methods.items():
        progress.check_cancelled()
        if condition is None:
            outputs = sources
        else:
            conds = [condition(u, n) if method.endswith("Instruction") else condition(u)
                     for n, (u, _) in enumerate(ctx.pairs)]
            outputs = np.concatenate([
                video.run_blocks(model, clip_frames, conds[s:s + CHUNK],
                                 sources[s:s + CHUNK] if revising else None,
                                 strength=options["strength"], sampler=options["sampler"],
                                 steps=options["steps"], guidance=options["guidance"], seed=s,
                                 source_guidance=options.get("source_guidance", 1.0), progress=None)
                for s in range(0, len(conds), CHUNK)])
        embeddings = [ctx.encoder.encode_images(list(clip)) for clip in outputs]
        _merge(result, method, ctx.scores(embeddings))
        judged = ctx.judged(result, method, outputs, wanted, source_attrs)
        if condition is None:
            source_attrs = judged      # the Original's frames: what revisions should keep
        result["frechet"][method] = round(frechet_distance(clip_features(embeddings), real), 4)
        if ctx.i3d is not None:
            result["fvd_i3d"][method] = round(frechet_distance(
                i3d_features(ctx.i3d, list(outputs)), real_i3d), 4)
    result["frechet_name"] = "Fréchet distance on the encoder's clip features (FD-enc), not I3D FVD"
    return result


def _thumbnail_task(ctx: _Context, model, liked: dict, steps: int, guidance) -> dict:
    """Generated: with the user's liked thumbnails; Unconditional: without. A model with a
    source channel starts Generated from the Eq. 1 frame and Unconditional from the creator's
    cover (without a user there is no Eq. 1); Generated_from_Original starts from the cover
    with the user's tokens, which isolates what the tokens change."""
    from core.diffusion import thumbnail

    result: dict = {"paper": {}, "heldout": {}, "ps": {}}
    index = ctx.index
    item_frames = [index.frames[row, :index.counts[row]] for _, row in ctx.pairs]
    picked = [int(np.argmax(index.frames[row, :index.counts[row]] @ u.select)) for u, row in ctx.pairs]
    likes, nobody = [liked.get(u.id) for u, _ in ctx.pairs], [None] * len(ctx.pairs)
    methods = {"Generated": (likes, None), "Unconditional": (nobody, None)}
    if model.config.get("source"):
        selected, covers = _start_frames(ctx, picked, model.config["size"])
        methods = {"Generated": (likes, selected), "Unconditional": (nobody, covers),
                   "Generated_from_Original": (likes, covers)}
    for method, (users_likes, starts) in methods.items():
        images = np.concatenate([
            thumbnail.generate_thumbnails(model, item_frames[s:s + CHUNK], users_likes[s:s + CHUNK],
                                          steps=steps, guidance=guidance or thumbnail.DEFAULT_GUIDANCE,
                                          seed=s, sources=None if starts is None else starts[s:s + CHUNK])
            for s in range(0, len(ctx.pairs), CHUNK)])
        _merge(result, method, ctx.scores([ctx.encoder.encode_images([im]) for im in images]))
        ctx.judged(result, method, [[im] for im in images])
    selected = [index.frames[row, k][None] for k, (_, row) in zip(picked, ctx.pairs)]
    _merge(result, "CLIP", ctx.scores(selected))
    _merge(result, "Original", ctx.scores([index.thumbnails[row][None] for _, row in ctx.pairs]))
    if ctx.judge is not None:
        _judge_selection(ctx, result, picked)
    return result


def _start_frames(ctx: _Context, picked: list[int], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the Eq. 1 frame and the creator's cover (the Eq. 1 frame where an item has no
    cover) at the model's working size."""
    from core.diffusion.data import to_working
    from core.media import frame_at, read_image
    from core.store.evaluation import item_media

    media = item_media(ctx.store, sorted({ctx.index.item_ids[row] for _, row in ctx.pairs}))
    selected, covers = [], []
    for k, (_, row) in zip(picked, ctx.pairs):
        item = media[ctx.index.item_ids[row]]
        frame = to_working(frame_at(item["path"], float(ctx.index.times[row, k]), max_side=128), size)
        selected.append(frame)
        covers.append(to_working(read_image(item["thumbnail_path"]), size)
                      if item["thumbnail_path"] else frame)
    return np.stack(selected), np.stack(covers)


def _judge_selection(ctx: _Context, result: dict, picked: list[int]) -> None:
    """Judged hit of the Eq. 1 frame and of the original thumbnail of each pair."""
    from core.evaluation.judged import HitTable, judge_index, shows_preferred

    judged = judge_index(ctx.store, ctx.index, ctx.judge, [row for _, row in ctx.pairs])
    for method, attrs in (("CLIP", [judged.frames[row][k] for k, (_, row) in zip(picked, ctx.pairs)]),
                          ("Original", [judged.originals[row] for _, row in ctx.pairs])):
        table = HitTable()
        for (user, _), a in zip(ctx.pairs, attrs):
            table.add(method, user.id, float(shows_preferred(a, user.truth)))
        result.setdefault("judged_hit", {}).update(table.summary())


def _instructions(ctx: _Context) -> tuple[list[tuple], list[np.ndarray]]:
    """Per pair, an instruction naming a colour, shape and scene the user truly prefers, as the
    app would pass it ("create a video of red circles on a beach"), and its text embedding."""
    from core.demo.vocabulary import SCENE_PHRASES, plural

    wanted, texts = [], []
    for n, (user, _) in enumerate(ctx.pairs):
        rng = np.random.default_rng([12, n])
        attrs = (str(rng.choice(user.truth["colours"])), str(rng.choice(user.truth["shapes"])),
                 str(rng.choice(user.truth["scenes"])))
        wanted.append(attrs)
        texts.append(f"create a video of {attrs[0]} {plural(attrs[1])} {SCENE_PHRASES[attrs[2]]}")
    return wanted, list(ctx.encoder.encode_texts(texts))


def _judge_for(pairs):
    """The bundled judge where every drawn user has ground-truth preferences (demo corpora)."""
    from core.evaluation.judge import BUNDLED_DIR, NAME, load_judge

    if not pairs or any(u.truth is None for u, _ in pairs):
        return None
    if not (BUNDLED_DIR / f"{NAME}.safetensors").is_file():
        return None
    return load_judge()


def index_encoder(store: Store, encoder_id: str):
    """The encoder that made the corpus's index under `encoder_id` (not always the bundled one)."""
    from core.encoders.encoder import load_encoder
    from core.store.evaluation import model_spec

    spec = model_spec(store, encoder_id)
    if spec is None:
        raise InputError(f"the corpus has no embeddings from encoder {encoder_id}")
    encoder = load_encoder(spec)
    if encoder.model_id != encoder_id:
        raise InputError(f"encoder {spec!r} now loads as {encoder.model_id}, but the index was "
                         f"made by {encoder_id}; re-run 'generec index --model {spec}'")
    return encoder


def _merge(result: dict, method: str, scores: dict) -> None:
    for protocol, values in scores.items():
        result.setdefault(protocol, {})[method] = values


def real_clip_starts(bank, rng: np.random.Generator, length: int, count: int,
                     items=None) -> list[int]:
    """First frames (bank rows) of up to `count` random real clips of `length` frames, from
    the bank's items with these indices (all by default)."""
    items = np.arange(len(bank.item_ids)) if items is None else np.asarray(items)
    starts = []
    for _ in range(count):
        span = bank.item_frames(int(items[rng.integers(len(items))]))
        if span.stop - span.start >= length:
            starts.append(span.start + int(rng.integers(span.stop - span.start - length + 1)))
    return starts


def clip_features(embeddings: list[np.ndarray]) -> np.ndarray:
    return np.stack([np.concatenate([e.mean(axis=0), e.std(axis=0)]) for e in embeddings])


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature rows."""
    from core.diffusion.domain import frechet_from_stats, gaussian

    return frechet_from_stats(*gaussian(a), *gaussian(b))


def _mean_of_users(values: list[list[float]]) -> float | None:
    values = [np.mean(v) for v in values if v]
    return round(float(np.mean(values)), 4) if values else None


def _try(function, *args):
    try:
        return function(*args)
    except InputError as exc:
        return str(exc)
