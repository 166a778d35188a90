"""The recommender on the corpus: train and save it, store User_Emb, and score items for a
user, with the content-only path for items the model has never seen (new AI items)."""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from core.editor.service import resolve_model_id
from core.encoders.encoder import file_sha256
from core.errors import InputError
from core.paths import media_dir
from core.progress import Progress
from core.recommender.dataset import RecDataset, from_corpus
from core.store import Store
from core.store.embeddings import latest_model, record_model, save_user_vectors

SPEC_PREFIX = "mmgcn@"
# User_Emb of the leave-one-out protocol's best model on validation (user vectors only)
USER_EMB_PREFIX = "user-emb@"


def train_on_corpus(store: Store, encoder: str | None = None, epochs: int = 200,
                    progress: Progress | None = None) -> dict:
    """Train MMGCN (and the baselines, for the report) on the corpus's likes; save MMGCN,
    register it and store its user embeddings."""
    import torch
    from safetensors.torch import save_file

    from core.recommender.mmgcn import normalised_adjacency
    from core.recommender.train import compare

    encoder_id = resolve_model_id(store, encoder)
    data = from_corpus(store, encoder_id)
    report, model = compare(data, epochs=epochs, progress=progress)
    folder = media_dir(store.path) / "models"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / ".mmgcn.partial.safetensors"
    config = {"users": data.users, "items": data.items, "dim": model.dim,
              "features": {m: int(x.shape[1]) for m, x in data.features.items()},
              "train": data.train.tolist(), "encoder": encoder_id}
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp),
              metadata={"config": json.dumps(config)})
    sha = file_sha256(tmp)
    path = folder / f"mmgcn-{sha[:12]}.safetensors"
    tmp.replace(path)
    model_id = f"mmgcn:{sha[:12]}"
    features = {m: torch.from_numpy(x) for m, x in data.features.items()}
    with torch.no_grad():
        users, _ = model(features, normalised_adjacency(data.n_users, data.n_items, data.train))
    metrics = {k: report["MMGCN"][k] for k in ("recall@10", "ndcg@10", "precision@10")}
    with store.transaction():
        record_model(store, model_id, SPEC_PREFIX + encoder_id, sha, model.dim, str(path),
                     json.dumps(metrics))
        save_user_vectors(store, model_id, list(zip(data.users, users.numpy())))
        store.audit("recommender.trained", model_id, metrics)
    report["model_id"] = model_id
    return report


def train_loo_on_corpus(store: Store, encoder: str | None = None, models: tuple[str, ...] | None = None,
                        seed: int = 0, grid: dict | None = None, overrides: dict | None = None,
                        progress: Progress | None = None) -> dict:
    """The leave-one-out protocol on the corpus's likes (items with and without video); the
    user states of the model best on validation become the corpus's User_Emb."""
    from core.recommender.loo import loo_from_corpus
    from core.recommender.loo_train import MODELS, compare_loo

    data = loo_from_corpus(store, encoder, progress)
    report, best = compare_loo(data, models or MODELS, seed, grid, overrides, progress)
    out = report.as_dict()
    out["encoder"] = data.encoder
    if best is not None:
        out["user_emb"] = record_user_emb(store, data.encoder, data.users, best.name,
                                          best.user_states, report.models[best.name])
    return out


def record_user_emb(store: Store, encoder_id: str, users: list[str], name: str,
                    states: np.ndarray, result) -> dict:
    """Store a model's user states as User_Emb (`user-emb@ENCODER`, newest wins)."""
    import hashlib

    from core.store.embeddings import record_model, save_user_vectors

    states = np.ascontiguousarray(states, np.float32)
    sha = hashlib.sha256(states.tobytes()).hexdigest()
    model_id = f"{name.lower()}:{sha[:12]}"
    metrics = {"protocol": "leave-one-out", "model": name, "validation": result.validation,
               "test": result.metrics, "config": result.config}
    with store.transaction():
        record_model(store, model_id, USER_EMB_PREFIX + encoder_id, sha, states.shape[1], None,
                     json.dumps(metrics))
        save_user_vectors(store, model_id, list(zip(users, states)))
        store.audit("recommender.user_emb", model_id,
                    {"model": name, "validation_hr@10": result.validation["hr@10"]})
    return {"model_id": model_id, "model": name, "dim": int(states.shape[1]),
            "validation_hr@10": result.validation["hr@10"]}


def user_emb_source(store: Store, encoder_id: str):
    """The models row (id, spec, path) User_Emb comes from: the newest of the time-split
    MMGCN and the leave-one-out protocol's best model, or None."""
    from core.store.embeddings import latest_model

    return latest_model(store, [SPEC_PREFIX + encoder_id, USER_EMB_PREFIX + encoder_id])


def user_emb_vectors(store: Store, encoder_id: str) -> dict[str, np.ndarray]:
    """User_Emb per user, L2-normalised; empty when no recommender is trained."""
    from core.store.embeddings import user_vectors

    row = user_emb_source(store, encoder_id)
    if row is None:
        return {}
    if row["spec"].startswith(SPEC_PREFIX):
        try:
            recommender = load_recommender(store, encoder_id)
        except InputError:
            return {}
        vectors = dict(zip(recommender.users, recommender.user_reps[list(recommender.users.values())]))
    else:
        vectors = user_vectors(store, row["id"])
    return {u: (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)
            for u, v in vectors.items()}


@dataclass
class Recommender:
    """A trained MMGCN with the corpus's current items: items it was trained on use their
    graph representation, others the content-only path."""
    model_id: str
    users: dict[str, int]
    item_ids: list[str]
    user_reps: np.ndarray          # U x d
    item_reps: np.ndarray          # I x d (current corpus items)
    visual: np.ndarray             # I x f, the visual features the reps were built from
    model: object

    def score_values(self, user_id: str) -> np.ndarray:
        """The user's score of every item, in `item_ids` order."""
        if user_id not in self.users:
            raise InputError(f"user {user_id!r} is unknown to recommender {self.model_id}")
        return self.item_reps @ self.user_reps[self.users[user_id]]

    def scores_with_visual(self, user_id: str, rows: np.ndarray, visual: np.ndarray) -> np.ndarray:
        """PS: the prediction with the items' visual feature replaced (graph messages fixed)."""
        import torch

        with torch.no_grad():
            shift = self.model.content_shift("visual", torch.from_numpy(self.visual[rows]),
                                             torch.from_numpy(visual.astype(np.float32))).numpy()
        return (self.item_reps[rows] + shift) @ self.user_reps[self.users[user_id]]


def latest_recommender(store: Store, encoder_id: str):
    """The models row (id, spec, path) of the latest MMGCN trained on encoder `encoder_id`, or None."""
    return latest_model(store, [SPEC_PREFIX + encoder_id])


def load_recommender(store: Store, encoder_id: str) -> Recommender:
    """The latest MMGCN trained on features of encoder `encoder_id` (a model id)."""
    row = latest_recommender(store, encoder_id)
    if row is None:        # said before importing torch: the browser's fallback stays light
        raise InputError("no trained recommender for this encoder; run 'generec train-recommender'")
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    from core.recommender.mmgcn import MMGCN, normalised_adjacency

    with safe_open(row["path"], "pt") as handle:
        config = json.loads(handle.metadata()["config"])
    model = MMGCN(len(config["users"]), len(config["items"]), config["features"], config["dim"])
    model.load_state_dict(load_file(row["path"]))
    model.eval()
    current: RecDataset = from_corpus(store, encoder_id)
    trained_row = {item_id: r for r, item_id in enumerate(config["items"])}
    known = [r for r, item_id in enumerate(current.items) if item_id in trained_row]
    cold = [r for r, item_id in enumerate(current.items) if item_id not in trained_row]
    train_pairs = np.array(config["train"], np.int64).reshape(-1, 2)
    features = {m: np.zeros((len(config["items"]), d), np.float32) for m, d in config["features"].items()}
    for m in features:
        for r in known:
            features[m][trained_row[current.items[r]]] = current.features[m][r]
    with torch.no_grad():
        users, items = model({m: torch.from_numpy(x) for m, x in features.items()},
                             normalised_adjacency(len(config["users"]), len(config["items"]), train_pairs))
        item_reps = np.zeros((len(current.items), config["dim"]), np.float32)
        item_reps[known] = items.numpy()[[trained_row[current.items[r]] for r in known]]
        if cold:
            item_reps[cold] = model.cold_items(
                {m: torch.from_numpy(current.features[m][cold]) for m in features}).numpy()
    return Recommender(row["id"], {u: k for k, u in enumerate(config["users"])}, current.items,
                       users.numpy(), item_reps, current.features["visual"], model)


def predicted_score_table(store: Store, encoder: str | None, user_id: str):
    """What the corpus browser sorts by (a ScoreTable): MMGCN's scores when one is trained for
    this encoder and knows the user, otherwise the content similarity to the user's liked
    thumbnails."""
    from core.recommender.content import ScoreTable, content_score_table

    encoder_id = resolve_model_id(store, encoder)
    try:
        recommender = load_recommender(store, encoder_id)
    except InputError:
        return content_score_table(store, encoder_id, user_id)
    if user_id not in recommender.users:
        return content_score_table(store, encoder_id, user_id)
    return ScoreTable(list(recommender.item_ids), recommender.score_values(user_id))


def predicted_scores(store: Store, encoder: str | None, user_id: str) -> dict[str, float]:
    return predicted_score_table(store, encoder, user_id).as_dict()
