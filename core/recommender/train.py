"""Training with BPR and sampled negatives, early stopping on a validation split, and the
ranking metrics (Recall, NDCG, Precision at 10) against held-out positives."""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from core.progress import Progress
from core.recommender.dataset import RecDataset
from core.recommender.mmgcn import BPRMF, MMGCN, normalised_adjacency

K = 10


def ranking_metrics(scores: np.ndarray, data: RecDataset, truth: dict[int, set[int]],
                    k: int = K) -> dict[str, float]:
    """scores: users x items. Known training positives are never recommended."""
    scores = scores.copy()
    for u, items in data.known().items():
        scores[u, list(items)] = -np.inf
    for u, items in data.validation.items():
        if truth is not data.validation:
            scores[u, list(items)] = -np.inf
    recall, ndcg, precision = [], [], []
    discounts = 1 / np.log2(np.arange(2, k + 2))
    for u, relevant in truth.items():
        if not relevant:
            continue
        top = np.argpartition(-scores[u], k)[:k]
        top = top[np.argsort(-scores[u, top])]
        hits = np.array([i in relevant for i in top], float)
        recall.append(hits.sum() / len(relevant))
        precision.append(hits.sum() / k)
        ndcg.append((hits * discounts).sum() / discounts[: min(len(relevant), k)].sum())
    return {f"recall@{k}": round(float(np.mean(recall)), 4),
            f"ndcg@{k}": round(float(np.mean(ndcg)), 4),
            f"precision@{k}": round(float(np.mean(precision)), 4)}


def popularity_scores(data: RecDataset) -> np.ndarray:
    counts = np.bincount(data.train[:, 1], minlength=data.n_items).astype(np.float32)
    return np.tile(counts, (data.n_users, 1))


def bpr_epoch(model: torch.nn.Module, pairs: np.ndarray, n_items: int, features, adjacency,
              optimiser, batch: int, l2: float, rng: np.random.Generator,
              progress: Progress) -> None:
    """One pass over the positive (user, item) pairs with BPR, one uniformly sampled negative
    per positive, and an L2 penalty on the representations in the batch."""
    order = rng.permutation(len(pairs))
    for step in range(max(1, math.ceil(len(pairs) / batch))):
        progress.check_cancelled()
        rows = pairs[order[step * batch:(step + 1) * batch]]
        users, positives = torch.as_tensor(rows[:, 0]), torch.as_tensor(rows[:, 1])
        negatives = torch.as_tensor(rng.integers(0, n_items, len(rows)))
        user_rep, item_rep = model(features, adjacency)
        u, p, n = user_rep[users], item_rep[positives], item_rep[negatives]
        loss = -torch.nn.functional.logsigmoid((u * p).sum(-1) - (u * n).sum(-1)).mean()
        loss = loss + l2 * (u.pow(2).sum() + p.pow(2).sum() + n.pow(2).sum()) / len(rows)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


def fit_with_early_stopping(model: torch.nn.Module, epochs: int, patience: int, run_epoch,
                            validate, progress: Progress, label: str,
                            history: list[float] | None = None) -> float:
    """Run epochs until `patience` of them bring no better validation score; keep the best
    epoch's weights. Appends each epoch's score to `history`; returns the best score."""
    history = [] if history is None else history
    best, best_state, waited = -math.inf, None, 0
    for _ in range(epochs):
        model.train()
        run_epoch()
        score = validate()
        history.append(round(score, 4))
        progress.update(len(history), epochs, f"{label} {score:.4f}")
        if score > best:
            best, waited = score, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return best


def train_model(model: torch.nn.Module, data: RecDataset, epochs: int = 200, lr: float = 5e-3,
                batch: int = 2048, weight_decay: float = 1e-3, patience: int = 10,
                seed: int = 0, progress: Progress | None = None) -> dict:
    """BPR with one uniformly sampled negative per positive; keeps the weights of the epoch
    with the best validation recall."""
    progress = progress or Progress()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    features = {m: torch.from_numpy(x) for m, x in data.features.items()}
    adjacency = normalised_adjacency(data.n_users, data.n_items, data.train)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    started = time.time()

    def run_epoch() -> None:
        bpr_epoch(model, data.train, data.n_items, features, adjacency, optimiser, batch,
                  weight_decay, rng, progress)

    def validate() -> float:
        if not data.validation:
            return -len(history)
        return ranking_metrics(predict(model, data, features, adjacency), data,
                               data.validation)[f"recall@{K}"]

    history: list[float] = []
    best = fit_with_early_stopping(model, epochs, patience, run_epoch, validate, progress,
                                   f"{model.kind} validation recall", history)
    return {"epochs": len(history), "best_validation_recall": round(best, 4),
            "seconds": round(time.time() - started, 1), "validation_curve": history}


def predict(model: torch.nn.Module, data: RecDataset, features=None, adjacency=None) -> np.ndarray:
    model.eval()
    if features is None:
        features = {m: torch.from_numpy(x) for m, x in data.features.items()}
    if adjacency is None:
        adjacency = normalised_adjacency(data.n_users, data.n_items, data.train)
    with torch.no_grad():
        users, items = model(features, adjacency)
        return (users @ items.T).numpy()


def compare(data: RecDataset, epochs: int = 200, dim: int = 64, seed: int = 0,
            progress: Progress | None = None) -> tuple[dict, MMGCN]:
    """Train MMGCN and BPR-MF on the same split; report them with popularity."""
    progress = progress or Progress()
    data.hold_out_validation(seed)
    dims = {m: x.shape[1] for m, x in data.features.items()}
    torch.manual_seed(seed)     # the same initialisation whatever ran before in this process
    mmgcn = MMGCN(data.n_users, data.n_items, dims, dim=dim)
    mmgcn_run = train_model(mmgcn, data, epochs=epochs, seed=seed, progress=progress)
    torch.manual_seed(seed)
    mf = BPRMF(data.n_users, data.n_items, dim=dim)
    mf_run = train_model(mf, data, epochs=epochs, seed=seed, progress=progress)
    report = {
        "MMGCN": {**ranking_metrics(predict(mmgcn, data), data, data.test), "training": mmgcn_run},
        "Popularity": ranking_metrics(popularity_scores(data), data, data.test),
        "BPR-MF": {**ranking_metrics(predict(mf, data), data, data.test), "training": mf_run},
        "protocol": "time-split", "split": data.split, "dataset": data.name, "users": data.n_users, "items": data.n_items,
        "train_positives": int(len(data.train)),
    }
    return report, mmgcn
