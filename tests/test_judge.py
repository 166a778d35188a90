"""The independent judge (issue 12): its accuracy on frames of a seed it never saw, its
independence from the conditioning encoder, and the judged hit in `evaluate`."""
from __future__ import annotations

import numpy as np
import pytest

from core.evaluation import judge as judge_module
from core.evaluation.judged import interval, is_validation_user, split_users
from core.store import open_store

UNSEEN_SEED = 106   # neither the judge's training, validation or test seed, nor any model's


def test_bundled_judge_is_at_least_95_percent_right_per_attribute_on_an_unseen_seed():
    from core.encoders.train import HELDOUT_SEED, TRAIN_SEED
    from core.evaluation.seeds import EVALUATION_SEED

    seen = {*judge_module.TRAIN_SEEDS, judge_module.VALIDATION_SEED, judge_module.TEST_SEED}
    assert UNSEEN_SEED not in seen
    assert not seen & {TRAIN_SEED, HELDOUT_SEED, EVALUATION_SEED}
    judge = judge_module.load_judge()
    frames, labels = judge_module.labelled_frames(UNSEEN_SEED, 30, stride=6)
    accuracy = judge_module.accuracy(judge, frames, labels)
    assert len(frames) > 300
    assert all(v >= 0.95 for v in accuracy.values()), accuracy
    report = judge.report
    assert report["seeds"]["train"] == list(judge_module.TRAIN_SEEDS)
    assert min(report["test_accuracy"].values()) >= 0.95


def test_judge_is_another_architecture_than_the_conditioning_encoder():
    import torch

    judge = judge_module.load_judge()
    assert isinstance(judge.net, torch.nn.Module)
    assert "open_clip" not in type(judge.net).__module__
    assert (judge_module.BUNDLED_DIR / "judge.safetensors").stat().st_size < 1_000_000
    # Noise is not confidently a shape: the confidence threshold leaves it unlabelled.
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(16)]
    judged = judge.judge(noise)
    assert len(judged) == 16


def test_interval_and_user_split():
    out = interval([0.0, 1.0, 0.5, 0.5])
    assert out["mean"] == 0.5 and out["users"] == 4
    half = 1.96 * np.std([0.0, 1.0, 0.5, 0.5], ddof=1) / 2
    assert out["ci95"] == [round(0.5 - half, 4), round(0.5 + half, 4)]
    assert interval([]) is None
    ids = [f"u{k:04d}" for k in range(1, 401)]
    split = split_users(ids)
    assert set(split.validation).isdisjoint(split.test) and len(split.validation) + len(split.test) == 400
    assert 0.18 < len(split.validation) / 400 < 0.32
    assert split_users(list(reversed(ids))).validation == sorted(split.validation, reverse=True)
    assert all(is_validation_user(u) for u in split.validation)


def test_evaluate_reports_judged_hit_with_intervals_and_the_judge_agrees_with_the_truth(indexed_demo):
    from core.editor.service import resolve_model_id
    from core.evaluation.cosine import evaluate

    with open_store(indexed_demo) as store:
        report = evaluate(store, resolve_model_id(store), ks=(5,), runs=2)
    assert report["user_split"]["reported"] == "test"
    assert report["users"] == report["user_split"]["test"]
    assert min(report["judge"]["accuracy"].values()) >= 0.95
    assert report["seeds"]["evaluation"] == [5] and report["seeds"]["unseen_by_bundled_models"]
    for task in ("thumbnail", "clip"):
        judged, truth = report[task]["judged_hit"], report[task]["preference_hit"]
        assert set(judged) == set(truth)
        for method, value in judged.items():
            lo, hi = value["ci95"]
            assert 0 <= lo <= value["mean"] <= hi <= 1 and value["users"] == report["users"]
            # A judge that is right on ~all frames gives nearly the ground-truth hit rate.
            assert value["mean"] == pytest.approx(truth[method], abs=0.06)


def test_instruction_shares_whole_and_by_attribute():
    from core.evaluation.judged import attribute_share, instruction_share

    wanted = ("red", "circle", "beach")
    frames = [("red", "circle", "beach"), ("red", "square", "beach"), ("blue", None, "beach"),
              ("red", "circle", None)]
    assert instruction_share(frames, wanted) == 0.25
    assert attribute_share(frames, wanted, "colour") == 0.75
    assert attribute_share(frames, wanted, "shape") == 0.5
    assert attribute_share(frames, wanted, "scene") == 0.75
    assert attribute_share([], wanted, "scene") == 0.0
