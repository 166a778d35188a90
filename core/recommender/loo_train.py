"""The leave-one-out protocol: Popularity, BPR-MF, LightGCN, MMGCN and SASRec, each tuned and
early-stopped on validation only, then ranked over the full item set on the test items.

- Early stopping: validation HR@10 after each epoch, on a fixed sample of at most
  `VALIDATION_SAMPLE` evaluated users; the weights of the best epoch are kept; training stops
  after `patience` epochs without a gain.
- Tuning: a small grid per model (`GRID`); the configuration with the best validation HR@10
  wins. The test items are read once, by the final evaluation.
- Ranking: every item the user interacted with before the target is excluded (for the test
  also the validation item); the target's rank counts the items scored above it, plus half the
  ties. HR@K = rank < K; NDCG@K = 1 / log2(rank + 2) when rank < K. cold_hr@10 is HR@10 over
  the users whose test item has no training interactions.
- Seeds fixed: each run seeds torch and numpy from `seed`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from core.progress import Progress
from core.recommender import LOO_MODELS
from core.recommender.baselines import LightGCN, SASRec
from core.recommender.loo import LooData
from core.recommender.mmgcn import BPRMF, MMGCN, normalised_adjacency
from core.recommender.train import bpr_epoch, fit_with_early_stopping

KS = (10, 20)
VALIDATION_SAMPLE = 5_000
EVAL_BATCH = 1024
MODELS = LOO_MODELS

# Shared settings, then the grid searched per model on validation HR@10.
PAIRWISE = {"dim": 64, "lr": 5e-3, "batch": 4096, "max_epochs": 80, "patience": 5, "l2": 1e-3}
MMGCN_ID_DROPOUT = 0.2    # as SASRec's id_dropout: trains the content path that cold items use
# SASRec: lr 1e-3 with patience 5 stopped MovieLens 100K at validation HR@10 0.06; lr 3e-3 with
# patience 10 reached 0.158 (still rising at 60 epochs)
SEQUENTIAL = {"dim": 64, "lr": 3e-3, "batch": 256, "max_epochs": 60, "patience": 10,
              "negatives": 256, "blocks": 2, "heads": 1, "dropout": 0.2, "max_len": 50,
              "id_dropout": 0.2, "min_steps": 20}
GRID = {
    "BPR-MF": [{"l2": 1e-3}, {"l2": 1e-2}],
    "LightGCN": [{"l2": 1e-4}, {"l2": 1e-3}],
    "MMGCN": [{"l2": 1e-4}, {"l2": 1e-3}],
    "SASRec": [{"dropout": 0.2}, {"dropout": 0.5}],
}


@dataclass
class ModelResult:
    name: str
    metrics: dict[str, float]             # test: hr@10, ndcg@10, hr@20, ndcg@20, cold_hr@10
    validation: dict[str, float]          # the same on the validation items
    config: dict = field(default_factory=dict)
    epochs: int = 0
    training_s: float = 0.0               # the chosen configuration's training
    tuning_s: float = 0.0                 # every configuration of the grid
    evaluation_s: float = 0.0             # full ranking of the test items, every user
    training_cpu_s: float = 0.0           # the same in this process's CPU time: what the wall
    evaluation_cpu_s: float = 0.0         # time would be on an idle core (one thread)
    tried: list[dict] = field(default_factory=list)   # config and validation HR@10 of each


@dataclass
class LooReport:
    dataset: str
    users: int
    items: int
    data: dict
    models: dict[str, ModelResult]
    best: str                             # best validation HR@10 among models with user states
    seed: int = 0
    protocol: str = "leave-one-out"

    def as_dict(self) -> dict:
        out = {"protocol": self.protocol, "dataset": self.dataset, "users": self.users,
               "items": self.items, **{k: v for k, v in self.data.items()
                                       if k not in ("users", "items")},
               "seed": self.seed, "best_on_validation": self.best}
        for name, result in self.models.items():
            out[name] = {**result.metrics, "training_s": result.training_s,
                         "tuning_s": result.tuning_s, "evaluation_s": result.evaluation_s,
                         "training_cpu_s": result.training_cpu_s,
                         "evaluation_cpu_s": result.evaluation_cpu_s,
                         "epochs": result.epochs,
                         "validation": result.validation, "config": result.config,
                         "tried": result.tried}
        return out


@dataclass
class Trained:
    """A trained model and what the report and User_Emb need from it."""
    name: str
    scorer: "Scorer"
    user_states: np.ndarray | None       # U x d, the user representations (None: Popularity)
    config: dict
    epochs: int
    seconds: float
    best_validation: float
    cpu_seconds: float = 0.0


# -- ranking ------------------------------------------------------------------------------

class Scorer:
    def scores(self, users: np.ndarray, split: str) -> torch.Tensor:  # B x I
        raise NotImplementedError


class FactorScorer(Scorer):
    def __init__(self, users: torch.Tensor, items: torch.Tensor) -> None:
        self.users, self.items = users.detach(), items.detach()

    def scores(self, users: np.ndarray, split: str) -> torch.Tensor:
        return self.users[torch.as_tensor(users)] @ self.items.T


class PopularityScorer(Scorer):
    def __init__(self, counts: np.ndarray) -> None:
        self.counts = torch.as_tensor(counts, dtype=torch.float32)

    def scores(self, users: np.ndarray, split: str) -> torch.Tensor:
        return self.counts.expand(len(users), -1)


class SequenceScorer(Scorer):
    def __init__(self, model: SASRec, data: LooData, features: dict[str, torch.Tensor]) -> None:
        self.model, self.data = model, data
        model.eval()
        with torch.no_grad():
            self.table = model.item_table(SASRec.padded(features))

    def states(self, users: np.ndarray, split: str) -> torch.Tensor:
        history = self.data.history(split)
        with torch.no_grad():
            return self.model.user_state(_left_padded([history[u] for u in users],
                                                      self.model.max_len), self.table)

    def scores(self, users: np.ndarray, split: str) -> torch.Tensor:
        return self.states(users, split) @ self.table[1:].T


def _left_padded(sequences: list[np.ndarray], max_len: int) -> torch.Tensor:
    """B x L of item index + 1, the last `max_len` items of each, padded with 0 on the left."""
    length = max(1, min(max_len, max((len(s) for s in sequences), default=1)))
    out = np.zeros((len(sequences), length), np.int64)
    for row, seq in enumerate(sequences):
        tail = seq[-length:]
        if len(tail):
            out[row, length - len(tail):] = tail + 1
    return torch.from_numpy(out)


def rank_targets(data: LooData, scorer: Scorer, split: str, users: np.ndarray,
                 batch: int = EVAL_BATCH, progress: Progress | None = None) -> np.ndarray:
    """The 0-based rank of each user's `split` target among all items, history excluded."""
    history, targets = data.history(split), data.targets(split)
    ranks = np.zeros(len(users), np.float64)
    for start in range(0, len(users), batch):
        if progress is not None:
            progress.check_cancelled()
        chunk = users[start:start + batch]
        with torch.no_grad():
            scores = scorer.scores(chunk, split).clone()
            lengths = [len(history[u]) for u in chunk]
            rows = torch.from_numpy(np.repeat(np.arange(len(chunk)), lengths))
            cols = torch.from_numpy(np.concatenate([history[u] for u in chunk]).astype(np.int64))
            target = torch.as_tensor(targets[chunk])
            keep = cols != target[rows]              # an item liked again stays rankable
            scores[rows[keep], cols[keep]] = -torch.inf
            t = scores[torch.arange(len(chunk)), target][:, None]
            greater = (scores > t).sum(1)
            ties = (scores == t).sum(1) - 1
        ranks[start:start + len(chunk)] = (greater + ties / 2).numpy()
    return ranks


def metrics_of(ranks: np.ndarray, cold: np.ndarray | None = None) -> dict[str, float]:
    out = {}
    for k in KS:
        hit = ranks < k
        out[f"hr@{k}"] = round(float(hit.mean()), 4) if len(ranks) else 0.0
        out[f"ndcg@{k}"] = round(float(np.where(hit, 1 / np.log2(ranks + 2), 0).mean()), 4) \
            if len(ranks) else 0.0
    if cold is not None:
        out["cold_hr@10"] = round(float((ranks[cold] < 10).mean()), 4) if cold.any() else None
        out["cold_users"] = int(cold.sum())
    return out


def evaluate(data: LooData, scorer: Scorer, split: str, users: np.ndarray | None = None,
             progress: Progress | None = None) -> dict[str, float]:
    users = data.evaluated if users is None else users
    ranks = rank_targets(data, scorer, split, users, progress=progress)
    cold = ~data.warm[data.targets(split)[users]]
    return metrics_of(ranks, cold)


# -- training -----------------------------------------------------------------------------

def _seed(seed: int) -> np.random.Generator:
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def train_pairwise(name: str, data: LooData, config: dict, val_users: np.ndarray, seed: int,
                   progress: Progress) -> Trained:
    """BPR-MF, LightGCN or MMGCN with BPR: one uniformly sampled negative per positive."""
    started = time.time()
    rng = _seed(seed)
    features = {m: torch.from_numpy(x) for m, x in data.features.items()}
    adjacency = normalised_adjacency(data.n_users, data.n_items, data.train)
    dim = config["dim"]
    if name == "BPR-MF":
        model = BPRMF(data.n_users, data.n_items, dim)
    elif name == "LightGCN":
        model = LightGCN(data.n_users, data.n_items, dim)
    else:
        model = MMGCN(data.n_users, data.n_items, {m: x.shape[1] for m, x in features.items()},
                      dim, warm=torch.from_numpy(data.warm))
        model.id_dropout = config.setdefault("id_dropout", MMGCN_ID_DROPOUT)
    optimiser = torch.optim.Adam(model.parameters(), lr=config["lr"])

    def run_epoch() -> None:
        bpr_epoch(model, data.train, data.n_items, features, adjacency, optimiser,
                  config["batch"], config["l2"], rng, progress)

    def scorer() -> FactorScorer:
        with torch.no_grad():
            return FactorScorer(*model(features, adjacency))

    def validate() -> float:
        model.eval()
        return metrics_of(rank_targets(data, scorer(), "valid", val_users))["hr@10"]

    history: list[float] = []
    best = fit_with_early_stopping(model, config["max_epochs"], config["patience"], run_epoch,
                                   validate, progress, f"{name}: validation HR@10", history)
    epochs = len(history)
    final = scorer()
    return Trained(name, final, final.users.numpy(), config, epochs,
                   round(time.time() - started, 1), best)


def train_sasrec(data: LooData, config: dict, val_users: np.ndarray, seed: int,
                 progress: Progress) -> Trained:
    started = time.time()
    rng = _seed(seed)
    features = {m: torch.from_numpy(x) for m, x in data.features.items()}
    longest = max(len(s) for s in data.train_seqs)
    max_len = max(2, min(config["max_len"], longest))
    model = SASRec(data.n_items, {m: x.shape[1] for m, x in features.items()},
                   torch.from_numpy(data.warm), config["dim"], max_len, config["blocks"],
                   config["heads"], config["dropout"], config["id_dropout"])
    padded = SASRec.padded(features)
    optimiser = torch.optim.Adam(model.parameters(), lr=config["lr"])
    trainable = [s for s in data.train_seqs if len(s) >= 2]
    inputs = _left_padded([s[:-1] for s in trainable], max_len)
    targets = _left_padded([s[1:] for s in trainable], max_len)
    # at most `batch` sequences a step, and at least `min_steps` steps an epoch (small data)
    batch = max(8, min(config["batch"], len(trainable) // config["min_steps"]))
    n_neg = config["negatives"]

    def run_epoch() -> None:
        order = torch.from_numpy(rng.permutation(len(trainable)))
        for start in range(0, len(trainable), batch):
            progress.check_cancelled()
            rows = order[start:start + batch]
            inp, tgt = inputs[rows], targets[rows]
            h = model.states(inp, model.embed(inp, padded))
            mask = tgt > 0
            h, tgt = h[mask], tgt[mask]
            negatives = torch.as_tensor(rng.integers(0, data.n_items, n_neg)) + 1
            logits = torch.cat([(h * model.embed(tgt, padded)).sum(-1, keepdim=True),
                                h @ model.embed(negatives, padded).T], 1)
            logits[:, 1:] = logits[:, 1:].masked_fill(negatives[None] == tgt[:, None], -torch.inf)
            loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(h), dtype=torch.long))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()

    def validate() -> float:
        return metrics_of(rank_targets(data, SequenceScorer(model, data, features), "valid",
                                       val_users))["hr@10"]

    history: list[float] = []
    best = fit_with_early_stopping(model, config["max_epochs"], config["patience"], run_epoch,
                                   validate, progress, "SASRec: validation HR@10", history)
    epochs = len(history)
    final = SequenceScorer(model, data, features)
    everyone = np.arange(data.n_users)
    states = torch.cat([final.states(everyone[k:k + EVAL_BATCH], "test")
                        for k in range(0, data.n_users, EVAL_BATCH)]).numpy()
    return Trained("SASRec", final, states, {**config, "max_len": max_len, "batch": batch}, epochs,
                   round(time.time() - started, 1), best)


def _train(name: str, data: LooData, config: dict, val_users: np.ndarray, seed: int,
           progress: Progress) -> Trained:
    if name == "SASRec":
        return train_sasrec(data, config, val_users, seed, progress)
    return train_pairwise(name, data, config, val_users, seed, progress)


def _timed(call):
    """(result, wall seconds, CPU seconds of this process)."""
    started, cpu = time.time(), time.process_time()
    out = call()
    return out, round(time.time() - started, 1), round(time.process_time() - cpu, 1)


def compare_loo(data: LooData, models: tuple[str, ...] = MODELS, seed: int = 0,
                grid: dict[str, list[dict]] | None = None, overrides: dict | None = None,
                progress: Progress | None = None) -> tuple[LooReport, Trained | None]:
    """Train, tune and rank every model; returns the report and the model whose user states
    scored best on validation (for User_Emb)."""
    progress = progress or Progress()
    grid = GRID if grid is None else grid
    rng = np.random.default_rng(seed)
    val_users = data.evaluated if len(data.evaluated) <= VALIDATION_SAMPLE else \
        np.sort(rng.choice(data.evaluated, VALIDATION_SAMPLE, replace=False))
    results: dict[str, ModelResult] = {}
    chosen: dict[str, Trained] = {}
    for name in models:
        if name == "Popularity":
            scorer = PopularityScorer(data.item_counts)
            test, seconds, cpu = _timed(lambda: evaluate(data, scorer, "test", progress=progress))
            results[name] = ModelResult(name, test, evaluate(data, scorer, "valid"),
                                        {"scores": "training interactions per item"},
                                        evaluation_s=seconds, evaluation_cpu_s=cpu)
            continue
        base = dict(SEQUENTIAL if name == "SASRec" else PAIRWISE)
        base.update(overrides or {})
        tried, best, tuning = [], None, time.time()
        for point in grid.get(name, [{}]):
            config = {**base, **point}
            cpu = time.process_time()
            run = _train(name, data, config, val_users, seed, progress)
            run.cpu_seconds = round(time.process_time() - cpu, 1)
            tried.append({**point, "validation_hr@10": round(run.best_validation, 4),
                          "epochs": run.epochs, "training_s": run.seconds,
                          "training_cpu_s": run.cpu_seconds})
            if best is None or run.best_validation > best.best_validation:
                best = run
        chosen[name] = best
        tuning = round(time.time() - tuning, 1)
        test, seconds, cpu = _timed(lambda: evaluate(data, best.scorer, "test", progress=progress))
        results[name] = ModelResult(name, test, evaluate(data, best.scorer, "valid"),
                                    best.config, best.epochs, best.seconds, tuning, seconds,
                                    best.cpu_seconds, cpu, tried)
    with_states = [n for n in chosen if chosen[n].user_states is not None]
    best_name = max(with_states, key=lambda n: (results[n].validation["hr@10"],
                                                results[n].validation["ndcg@10"]), default=None)
    report = LooReport(data.name, data.n_users, data.n_items, data.describe(), results,
                       best_name, seed)
    return report, chosen.get(best_name)
