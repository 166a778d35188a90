"""The leave-one-out protocol: the split, full ranking, the five models, User_Emb from the best
one on validation."""
import json

import numpy as np
import pytest
import torch

from core.cli import main
from core.recommender.loo import LooData
from core.recommender.loo_train import (FactorScorer, compare_loo, evaluate, metrics_of,
                                        rank_targets)
from core.store import open_store

ALL = ("Popularity", "BPR-MF", "LightGCN", "MMGCN", "SASRec")
KEYS = {"hr@10", "ndcg@10", "hr@20", "ndcg@20", "cold_hr@10", "training_s"}


def _data(sequences, n_items, features=None):
    return LooData("t", [f"u{k}" for k in range(len(sequences))], [f"i{k}" for k in range(n_items)],
                   [np.array(s, np.int64) for s in sequences],
                   features or {"text": np.eye(n_items, dtype=np.float32)})


def test_last_like_is_test_the_one_before_validation():
    data = _data([[0, 1, 2, 3], [4, 5], [5, 6, 0]], 7)
    assert list(data.evaluated) == [0, 2]                      # user 1 has only 2 likes
    assert list(data.valid_target) == [2, -1, 6] and list(data.test_target) == [3, -1, 0]
    assert sorted(map(tuple, data.train.tolist())) == [(0, 0), (0, 1), (1, 4), (1, 5), (2, 5)]
    assert list(data.history("test")[0]) == [0, 1, 2] and list(data.history("valid")[0]) == [0, 1]
    assert list(data.warm) == [True, True, False, False, True, True, False]
    assert data.describe()["cold_test_users"] == 1             # user 0's test item 3


def test_full_ranking_excludes_history_and_splits_ties():
    data = _data([[0, 1, 2, 3], [4, 5, 6, 1]], 8)
    scores = torch.tensor([[9.0, 8, 7, 5, 5, 5, 1, 0],    # history 0, 1 excluded (valid: 2)
                           [9.0, 1, 8, 7, 6, 6, 5, 0]])
    scorer = FactorScorer(torch.eye(2), scores.T)
    test = rank_targets(data, scorer, "test", np.array([0, 1]))
    # user 0, target 3 (score 5): history 0, 1, 2 excluded; ties with items 4 and 5 -> 0 + 2/2
    # user 1, target 1 (score 1): history 4, 5, 6 excluded; items 0, 2, 3 above -> 3
    assert list(test) == [1.0, 3.0]
    valid = rank_targets(data, scorer, "valid", np.array([0, 1]))
    assert list(valid) == [0.0, 3.0]            # user 0: target 2 (7) is the top after 0, 1
    m = metrics_of(np.array([0.0, 3.0, 15.0, 40.0]), cold=np.array([True, False, False, True]))
    assert m["hr@10"] == 0.5 and m["hr@20"] == 0.75 and m["cold_hr@10"] == 0.5
    assert m["ndcg@10"] == round((1 + 1 / np.log2(5)) / 4, 4)


def test_sasrec_learns_order_that_set_models_cannot():
    """Each user walks a chain i, i+1, i+2, ... from a random start: the next item is
    determined by the last one, which a sequence model can learn and popularity cannot."""
    rng = np.random.default_rng(0)
    n_items = 60
    sequences = [list((rng.integers(n_items) + np.arange(6)) % n_items) for _ in range(400)]
    data = _data(sequences, n_items)
    report, best = compare_loo(data, ("Popularity", "SASRec"), grid={"SASRec": [{}]},
                               overrides={"max_epochs": 12, "patience": 3, "max_len": 8,
                                          "lr": 5e-3, "min_steps": 8})
    assert report.models["SASRec"].metrics["hr@10"] > 0.9
    assert report.models["Popularity"].metrics["hr@10"] < 0.4
    assert best.name == "SASRec" and best.user_states.shape == (400, 64)


def test_cold_items_are_ranked_by_content():
    """Items 50..59 are cold (test items only); their titles (one-hot topic features) match
    the topic of each user's likes, so MMGCN finds them and BPR-MF cannot."""
    rng = np.random.default_rng(1)
    topics, n_warm = 10, 50
    topic = np.r_[np.arange(n_warm) % topics, np.arange(10)]
    features = {"text": np.eye(topics, dtype=np.float32)[topic]}
    sequences = []
    for _ in range(300):
        t = rng.integers(topics)
        liked = list(rng.choice(np.flatnonzero(topic[:n_warm] == t), 4, replace=False))
        sequences.append(liked + [n_warm + t])
    data = _data(sequences, 60, features)
    assert not data.warm[n_warm:].any()
    report, _ = compare_loo(data, ("BPR-MF", "MMGCN"), grid={"BPR-MF": [{}], "MMGCN": [{}]},
                            overrides={"max_epochs": 15, "patience": 3, "batch": 256})
    assert report.models["MMGCN"].metrics["cold_hr@10"] > 0.5
    assert report.models["BPR-MF"].metrics["cold_hr@10"] < report.models["MMGCN"].metrics["cold_hr@10"]


@pytest.fixture(scope="module")
def log_corpus(tmp_path_factory):
    from core.corpus.importer import import_folder
    from core.corpus.synthetic_log import LogSettings, write_synthetic_log

    folder = tmp_path_factory.mktemp("loo")
    log = write_synthetic_log(folder / "log", LogSettings(users=200, items=120, topics=8, seed=2))
    (folder / "empty").mkdir()
    with open_store(folder / "c.db") as store:
        import_folder(store, folder / "empty", log.pairs, log.titles)
    return folder / "c.db"


def test_train_recommender_leave_one_out_reports_every_model_and_records_user_emb(log_corpus, capsys):
    assert main(["train-recommender", "--db", str(log_corpus), "--protocol", "leave-one-out",
                 "--epochs", "2", "--no-tuning", "--json", "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["protocol"] == "leave-one-out"
    assert (report["users"], report["items"]) == (200, 120)
    for name in ALL:
        assert set(report[name]) >= KEYS, name
        assert all(0 <= report[name][k] <= 1 for k in ("hr@10", "ndcg@10", "hr@20", "ndcg@20"))
        assert report[name]["hr@20"] >= report[name]["hr@10"]
    assert report["features"]["text"] > 0 and "visual" not in report["features"]
    emb = report["user_emb"]
    assert emb["model"] == report["best_on_validation"] != "Popularity"
    assert emb["validation_hr@10"] == max(report[n]["validation"]["hr@10"] for n in ALL[1:])
    from core.diffusion.models import recommender_id
    from core.diffusion.signals import user_emb

    with open_store(log_corpus) as store:
        vectors = user_emb(store, report["encoder"])
        assert recommender_id(store, report["encoder"]) == emb["model_id"]
        titled = store.conn.execute("SELECT COUNT(*) FROM embeddings WHERE kind = 'title'").fetchone()[0]
    assert len(vectors) == 200 and titled == 120
    assert all(abs(np.linalg.norm(v) - 1) < 1e-3 for v in vectors.values())


def test_same_seed_same_figures(log_corpus):
    from core.recommender.loo import loo_from_corpus

    with open_store(log_corpus) as store:
        data = loo_from_corpus(store)
    runs = [compare_loo(data, ("BPR-MF",), grid={"BPR-MF": [{}]}, overrides={"max_epochs": 2})[0]
            for _ in range(2)]
    assert runs[0].models["BPR-MF"].metrics == runs[1].models["BPR-MF"].metrics
    # a scorer that ties every item ranks each target in the middle, not at the top
    flat = evaluate(data, FactorScorer(torch.zeros(200, 2), torch.zeros(120, 2)), "test")
    assert flat["hr@20"] == 0.0


def test_time_split_json_names_its_protocol(tmp_path, capsys):
    ml = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "data" / "movielens-100k"
    if not (ml / "ua.base").is_file():
        pytest.skip(f"MovieLens 100K not at {ml}")
    assert main(["train-recommender", "--movielens", str(ml), "--epochs", "1", "--json",
                 "--quiet"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["protocol"] == "time-split" and "ua.base" in report["split"]
