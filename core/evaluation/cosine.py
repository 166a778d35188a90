"""Cosine@K for personalized thumbnails and clips (DESIGN.md section 4).

For each user and run, K items the user never interacted with are drawn; each method yields a
thumbnail (one frame embedding) or a clip (its frames' embeddings); the item's score is the
mean cosine between those and the embeddings of the user's liked thumbnails, which is the dot
product with their (unnormalised) mean. Users are averaged, then runs.

Protocols: `paper` selects with the training likes and scores against them too; `heldout`
selects with the training likes and scores against the held-out likes. On the demo corpus,
`preference_hit` is the share of selected frames that show a colour or shape the user truly
prefers (for a clip, the share of its frames).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.editor.history import liked_items, thumbnail_embeddings
from core.editor.personalize import DEFAULT_CLIP_LEN, frame_scores, window_scores
from core.errors import InputError
from core.progress import Progress
from core.store import Store
from core.store.corpus import interacted_item_ids, user_ids
from core.store.embeddings import FrameIndex, load_frame_index
from core.store.evaluation import user_truths

THUMBNAIL_METHODS = ("Random Frame", "Original", "CLIP")
CLIP_METHODS = ("Random", "1st Clip", "Unclipped", "CLIP")


@dataclass
class _User:
    id: str
    select: np.ndarray          # t̄ from training likes (normalised)
    history: np.ndarray         # mean of training-liked thumbnails (for `paper`)
    heldout: np.ndarray | None  # mean of held-out-liked thumbnails
    candidates: np.ndarray      # rows of the frame index the user never interacted with
    truth: dict | None


def _mean(vectors: np.ndarray) -> np.ndarray | None:
    return vectors.mean(axis=0) if len(vectors) else None


def _users(store: Store, index: FrameIndex) -> list[_User]:
    users = []
    row_of = {item_id: r for r, item_id in enumerate(index.item_ids)}
    truths = user_truths(store)
    for user_id in user_ids(store):
        train = _mean(thumbnail_embeddings(store, index.model_id, liked_items(store, user_id)))
        if train is None:
            continue
        test = _mean(thumbnail_embeddings(store, index.model_id, liked_items(store, user_id, "test")))
        seen = interacted_item_ids(store, user_id)
        candidates = np.array([r for item_id, r in row_of.items() if item_id not in seen])
        users.append(_User(user_id, train / np.linalg.norm(train), train, test, candidates,
                           truths.get(user_id)))
    return users


def _frame_hits(store: Store, index: FrameIndex) -> tuple[np.ndarray, list] | None:
    """Per frame, and per original thumbnail, the true (colour, shape, scene) of the segment shown."""
    from core.store.evaluation import segment_attributes, thumbnail_times

    segments = segment_attributes(store)
    if not segments:
        return None
    thumb_t = thumbnail_times(store)

    def at(item_id: str, t: float | None):
        for start, end, attrs in segments.get(item_id, []):
            if t is not None and start <= t < end + 1e-6:
                return (attrs["colour"], attrs["shape"], attrs["scene"])
        return (None, None, None)

    frames = np.empty(index.times.shape, dtype=object)
    for i, item_id in enumerate(index.item_ids):
        for k in range(index.times.shape[1]):
            frames[i, k] = at(item_id, float(index.times[i, k]))
    originals = [at(item_id, thumb_t.get(item_id)) for item_id in index.item_ids]
    return frames, originals


def evaluate(store: Store, model_id: str, ks: tuple[int, ...] = (5, 10), runs: int = 10,
             seed: int = 0, clip_len: int = DEFAULT_CLIP_LEN, progress: Progress | None = None,
             users_split: str = "test") -> dict:
    """Cosine@K, PS@K, the ground-truth and the judged preference hit of thumbnail selection
    and clipping, on the test users (or `users_split="validation"`, or "all")."""
    from core.evaluation.judged import HitTable, split_users

    progress = progress or Progress()
    index = load_frame_index(store, model_id)
    all_users = _users(store, index)
    split = split_users([u.id for u in all_users])
    users = [u for u in all_users if users_split == "all" or u.id in getattr(split, users_split)]
    if not users:
        raise InputError("no user has a liked item in the training split; nothing to evaluate")
    hits = _frame_hits(store, index)
    judging = _judging(store, index, hits, progress) if hits is not None else None
    recommender = _recommender(store, model_id, index)
    k_max = max(ks)
    protocols = ("paper", "heldout", "ps") if recommender else ("paper", "heldout")
    sums = {task: {protocol: {m: {k: [] for k in ks} for m in methods} for protocol in protocols}
            for task, methods in (("thumbnail", THUMBNAIL_METHODS), ("clip", CLIP_METHODS))}
    hit_sums = {"thumbnail": {m: [] for m in THUMBNAIL_METHODS},
                "clip": {m: [] for m in CLIP_METHODS}}
    judged_tables = {"thumbnail": HitTable(), "clip": HitTable()}
    valid = np.arange(index.frames.shape[1])[None, :] < index.counts[:, None]
    for u_pos, user in enumerate(users):
        progress.check_cancelled()
        progress.update(u_pos, len(users), user.id)
        select = frame_scores(index, user.select)                       # I x N
        clip_means, clip_len_eff = window_scores(select, index.counts, clip_len)
        targets = {"paper": user.history, "heldout": user.heldout}
        scored = {p: (index.frames @ t if t is not None else None) for p, t in targets.items()}
        thumb_scored = {p: (index.thumbnails @ t if t is not None else None) for p, t in targets.items()}
        for run in range(runs):
            rng = np.random.default_rng([seed, run, u_pos])
            if len(user.candidates) == 0:
                continue
            rows = rng.choice(user.candidates, size=min(k_max, len(user.candidates)), replace=False)
            picks = _picks(rows, select, clip_means, clip_len_eff, index.counts, rng)
            for protocol, frame_cos in scored.items():
                if frame_cos is None:
                    continue
                values = _method_values(rows, picks, frame_cos, thumb_scored[protocol], valid)
                for task, methods in values.items():
                    for method, per_item in methods.items():
                        for k in ks:
                            sums[task][protocol][method][k].append((run, float(np.mean(per_item[:k]))))
            if recommender is not None and user.id in recommender.users:
                values = _ps_values(recommender, user.id, rows, picks, index)
                for task, methods in values.items():
                    for method, per_item in methods.items():
                        for k in ks:
                            sums[task]["ps"][method][k].append((run, float(np.mean(per_item[:k]))))
            if hits is not None and user.truth is not None:
                for task, methods in _item_hits(rows, picks, hits, index.counts, user.truth).items():
                    for method, shares in methods.items():
                        hit_sums[task][method].extend(shares)
                if judging is not None:
                    judged_hits = _item_hits(rows, picks, (judging.frames, judging.originals),
                                             index.counts, user.truth)
                    for task, methods in judged_hits.items():
                        for method, shares in methods.items():
                            for share in shares:
                                judged_tables[task].add(method, user.id, share)
    progress.update(len(users), len(users), "done")
    result: dict = {}
    for task in sums:
        result[task] = {}
        for protocol, methods in sums[task].items():
            metric = "ps" if protocol == "ps" else "cosine"
            result[task][protocol] = {
                method: {f"{metric}@{k}": _average_users_then_runs(values[k], runs) for k in ks}
                for method, values in methods.items()}
        if hits is not None:
            result[task]["preference_hit"] = {m: round(float(np.mean(v)), 4) if v else None
                                              for m, v in hit_sums[task].items()}
        if judging is not None:
            result[task]["judged_hit"] = judged_tables[task].summary()
    result.update({"encoder": model_id, "users": len(users), "runs": runs,
                   "clip_len": clip_len, "k": list(ks),
                   "user_split": {**split.as_dict(), "reported": users_split},
                   "recommender": recommender.model_id if recommender else None})
    if judging is not None:
        result["judge"] = judging.report
    from core.evaluation.seeds import seed_report
    from core.store.evaluation import demo_seeds

    result["seeds"] = seed_report(demo_seeds(store))
    return result


@dataclass
class _Judging:
    frames: dict
    originals: dict
    report: dict


def _judging(store: Store, index: FrameIndex, hits, progress: Progress) -> _Judging | None:
    """The bundled judge's labels of every indexed frame and original thumbnail, and its
    accuracy against the segments' true attributes on this corpus."""
    from core.evaluation.judge import BUNDLED_DIR, NAME, load_judge
    from core.evaluation.judged import judge_accuracy, judge_index

    if not (BUNDLED_DIR / f"{NAME}.safetensors").is_file():
        return None
    judge = load_judge()
    judged = judge_index(store, index, judge, progress=progress.silent_child())
    truth_frames, truth_originals = hits
    rows = range(len(index.item_ids))
    truth = {r: list(truth_frames[r, :index.counts[r]]) + [truth_originals[r]] for r in rows}
    labels = {r: judged.frames[r] + [judged.originals[r]] for r in rows}
    report = {"model": judge.model_id,
              "architecture": judge.report.get("architecture"),
              "training_seeds": judge.report.get("seeds"),
              **judge_accuracy(labels, truth),
              "accuracy_on_its_test_seed": judge.report.get("test_accuracy")}
    return _Judging(judged.frames, judged.originals, report)


def _recommender(store: Store, model_id: str, index: FrameIndex):
    """The trained MMGCN for PS@K, or None when there is none yet."""
    from core.recommender.service import load_recommender

    try:
        recommender = load_recommender(store, model_id)
    except InputError:
        return None
    assert recommender.item_ids == index.item_ids
    return recommender


def _ps_values(recommender, user_id: str, rows, picks, index: FrameIndex) -> dict:
    """PS: the recommender's score with the item's thumbnail feature replaced by the selected
    frame's embedding (for a clip, the mean of its frames)."""
    frames = index.frames[rows]                                           # K x N x d
    counts = index.counts[rows]
    means = frames.sum(axis=1) / np.maximum(counts, 1)[:, None]
    r = np.arange(len(rows))
    length = picks["clip_len"]

    def clip_mean(starts):
        return np.stack([frames[i, s:s + length[i]].mean(axis=0) for i, s in enumerate(starts)])

    def ps(selected):
        visual = np.concatenate([selected, means], axis=1)
        return recommender.scores_with_visual(user_id, rows, visual)

    return {
        "thumbnail": {"Random Frame": ps(frames[r, picks["thumb_random"]]),
                      "Original": ps(index.thumbnails[rows]),
                      "CLIP": ps(frames[r, picks["thumb_clip"]])},
        "clip": {"Random": ps(clip_mean(picks["clip_random"])),
                 "1st Clip": ps(clip_mean(np.zeros(len(rows), int))),
                 "Unclipped": ps(means),
                 "CLIP": ps(clip_mean(picks["clip_clip"]))},
    }


def _average_users_then_runs(entries: list[tuple[int, float]], runs: int) -> float | None:
    by_run: dict[int, list[float]] = {}
    for run, value in entries:
        by_run.setdefault(run, []).append(value)
    if not by_run:
        return None
    return round(float(np.mean([np.mean(v) for v in by_run.values()])), 4)


def _picks(rows, select, clip_means, clip_len_eff, counts, rng) -> dict:
    """Which frame or window each method takes for each drawn item."""
    n = counts[rows]
    starts_valid = np.isfinite(clip_means[rows])
    random_start = np.array([rng.choice(np.flatnonzero(v)) for v in starts_valid])
    return {
        "thumb_random": np.array([rng.integers(c) for c in n]),
        "thumb_clip": select[rows].argmax(axis=1),
        "clip_random": random_start,
        "clip_clip": clip_means[rows].argmax(axis=1),
        "clip_len": clip_len_eff[rows],
    }


def _method_values(rows, picks, frame_cos, thumb_cos, valid) -> dict:
    r = np.arange(len(rows))
    cos = frame_cos[rows]                                    # K x N
    length = picks["clip_len"]

    def window(starts):
        return np.array([cos[i, s:s + length[i]].mean() for i, s in enumerate(starts)])

    return {
        "thumbnail": {
            "Random Frame": cos[r, picks["thumb_random"]],
            "Original": thumb_cos[rows],
            "CLIP": cos[r, picks["thumb_clip"]],
        },
        "clip": {
            "Random": window(picks["clip_random"]),
            "1st Clip": window(np.zeros(len(rows), int)),
            "Unclipped": np.array([cos[i][valid[row]].mean() for i, row in enumerate(rows)]),
            "CLIP": window(picks["clip_clip"]),
        },
    }


def _share(shown: list[float], start: int, length: int) -> float:
    """Share of the frames of a window that show a preferred attribute."""
    return float(np.mean(shown[start:start + length]))


def _item_hits(rows, picks, hits, counts, truth) -> dict:
    """Per task and method, the share of each drawn item's yielded frames that show a preferred
    colour or shape, by the attributes in `hits` (the segments' truth, or the judge's labels)."""
    from core.evaluation.judged import shows_preferred

    frames, originals = hits
    out = {"thumbnail": {m: [] for m in THUMBNAIL_METHODS}, "clip": {m: [] for m in CLIP_METHODS}}
    thumbs, clips = out["thumbnail"], out["clip"]
    for i, row in enumerate(rows):
        shown = [float(shows_preferred(a, truth)) for a in frames[row][:counts[row]]]
        length = picks["clip_len"][i]
        thumbs["Random Frame"].append(shown[picks["thumb_random"][i]])
        thumbs["Original"].append(float(shows_preferred(originals[row], truth)))
        thumbs["CLIP"].append(shown[picks["thumb_clip"][i]])
        clips["Random"].append(_share(shown, picks["clip_random"][i], length))
        clips["1st Clip"].append(_share(shown, 0, length))
        clips["Unclipped"].append(float(np.mean(shown)))
        clips["CLIP"].append(_share(shown, picks["clip_clip"][i], length))
    return out
