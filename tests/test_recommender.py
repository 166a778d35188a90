import json
import shutil

import numpy as np
import pytest
import torch

from core.cli import main
from core.recommender.dataset import from_corpus, from_movielens
from core.recommender.mmgcn import MMGCN, normalised_adjacency
from core.recommender.train import compare, train_model
from core.store import open_store

MOVIELENS = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "data" / "movielens-100k"


@pytest.fixture
def demo_copy(indexed_demo, tmp_path):
    with open_store(indexed_demo) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    target = tmp_path / "c.db"
    shutil.copy(indexed_demo, target)
    shutil.copytree(indexed_demo.with_name("corpus_media"), tmp_path / "c_media")
    return target


def test_training_updates_the_id_embeddings(indexed_demo):
    from core.editor.service import resolve_model_id

    with open_store(indexed_demo) as store:
        data = from_corpus(store, resolve_model_id(store))
    data.hold_out_validation()
    model = MMGCN(data.n_users, data.n_items, {m: x.shape[1] for m, x in data.features.items()}, dim=16)
    before = (model.user_id.weight.detach().clone(), model.item_id.weight.detach().clone())
    run = train_model(model, data, epochs=3, patience=5)
    assert run["epochs"] == 3
    assert not torch.allclose(before[0], model.user_id.weight)
    assert not torch.allclose(before[1], model.item_id.weight)


def test_cold_items_get_finite_scores_that_depend_on_content():
    torch.manual_seed(0)
    model = MMGCN(4, 5, {"visual": 8, "text": 3}, dim=8)
    pairs = np.array([[0, 0], [1, 1], [2, 2], [3, 3]])
    features = {"visual": torch.randn(5, 8), "text": torch.randn(5, 3)}
    with torch.no_grad():
        users, _ = model(features, normalised_adjacency(4, 5, pairs))
        cold_a = model.cold_items({"visual": torch.randn(1, 8), "text": torch.randn(1, 3)})
        cold_b = model.cold_items({"visual": torch.randn(1, 8), "text": torch.randn(1, 3)})
    score_a, score_b = float(users[0] @ cold_a[0]), float(users[0] @ cold_b[0])
    assert np.isfinite(score_a) and np.isfinite(score_b) and score_a != score_b


@pytest.mark.skipif(not (MOVIELENS / "ua.base").is_file(), reason=f"MovieLens 100K not at {MOVIELENS}")
def test_movielens_split_and_report_shape():
    data = from_movielens(MOVIELENS)
    assert (data.n_items, len(data.train)) == (1682, 49906)      # ratings >= 4 in ua.base
    assert sum(len(v) for v in data.test.values()) > 4000
    report, _ = compare(data, epochs=2, dim=16)
    for name in ("MMGCN", "Popularity", "BPR-MF"):
        assert set(report[name]) >= {"recall@10", "ndcg@10", "precision@10"}
        assert all(0 <= report[name][k] <= 1 for k in ("recall@10", "ndcg@10", "precision@10"))
    assert report["Popularity"]["recall@10"] > 0.05
    assert "ua.base" in report["split"]


def test_train_recommender_then_ps_and_predicted_scores(demo_copy, capsys):
    assert main(["train-recommender", "--db", str(demo_copy), "--epochs", "8", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) >= {"MMGCN", "Popularity", "BPR-MF", "split"}
    with open_store(demo_copy) as store:
        users = store.conn.execute("SELECT COUNT(*) FROM user_embeddings WHERE model_id = ?",
                                   (report["model_id"],)).fetchone()[0]
        assert users == 12
    assert main(["evaluate", "--db", str(demo_copy), "--runs", "2", "--generative", "skip", "--json"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    for task, methods in (("thumbnail", 3), ("clip", 4)):
        ps = evaluation[task]["ps"]
        assert len(ps) == methods
        assert all(set(v) == {"ps@5", "ps@10"} and np.isfinite(v["ps@5"]) for v in ps.values())
    from core.recommender.service import predicted_scores

    with open_store(demo_copy) as store:
        scores = predicted_scores(store, "bundled", "u0001")
    assert len(scores) == 80 and all(np.isfinite(v) for v in scores.values())


def test_new_ai_item_is_ranked_with_human_items(demo_copy):
    """A generated clip exported into the corpus has no interactions: content-only scoring."""
    from core.editor.service import generate_personalized
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus
    from core.export.gate import export_generation
    from core.fidelity.base import run_checks
    from core.fidelity.review import record_decision
    from core.recommender.service import predicted_scores, train_on_corpus

    with open_store(demo_copy) as store:
        train_on_corpus(store, epochs=3)
        made = generate_personalized(store, "u0002", "demo-0005", "clip", clip_len=4)
        run_checks(store, made["generation_id"])
        record_decision(store, made["generation_id"], "approve", "fine",
                        override_reason="a blocking check may fail on demo licences; not under test")
        export_generation(store, made["generation_id"], demo_copy.parent / "out")
        index_corpus(store, load_encoder("bundled"), n_frames=8)
        scores = predicted_scores(store, "bundled", "u0002")
    assert made["generation_id"] in scores and np.isfinite(scores[made["generation_id"]])
    assert len(scores) == 81
