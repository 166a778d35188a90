"""Issue 13's revision pairs: the demo renderer draws a segment window twice, as it is and in
the user's favourite colour, and a video model with source channels learns from them; a model
without those channels starts it with zero weights there."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.demo.render import render_segment
from core.demo.spec import build_spec
from core.diffusion import video_model
from core.diffusion.recolour import RecolourPairs, cover_colour, favourite_colours, recolour_pairs
from core.diffusion.trainer import TrainSettings, train
from core.store import open_store

ATTRS = {"scene": "beach", "shape": "star", "colour": "red", "motion": "sliding", "count": 2}
DIMS = {"hist": 8, "emb": 4, "text": 8}
TINY_VIDEO = {**video_model.DEFAULT_CONFIG, "channels": [16, 32, 32], "attention_head_dim": 16,
              "cond_dims": DIMS}


def test_a_window_renders_as_the_same_frames_of_the_whole_segment():
    whole = render_segment(ATTRS, 20, seed=4)
    window = render_segment(ATTRS, 20, seed=4, indices=range(6, 10))
    assert all(np.array_equal(a, b) for a, b in zip(whole[6:10], window))


def test_recolouring_changes_the_objects_and_nothing_else():
    red = np.stack(render_segment(ATTRS, 20, seed=4, indices=range(5, 7)))
    blue = np.stack(render_segment({**ATTRS, "colour": "blue"}, 20, seed=4, indices=range(5, 7)))
    changed = np.any(red != blue, axis=-1)
    assert 0.005 < changed.mean() < 0.2             # two stars' worth of pixels, not the scene
    assert np.all(red[changed][:, 0] >= blue[changed][:, 0])   # red became less red there


def test_the_favourite_colour_is_the_one_most_liked_covers_show():
    spec = build_spec(n_items=30, n_users=4, seed=2)
    items = {item.id: item for item in spec.items}
    by_colour: dict[str, list[str]] = {}
    for item in spec.items:
        by_colour.setdefault(cover_colour(item), []).append(item.id)
    common, rare = sorted(by_colour, key=lambda c: -len(by_colour[c]))[:2]
    liked = {"u": by_colour[rare][:1] + by_colour[common][:2]}
    assert favourite_colours(items, liked) == {"u": common}


def test_pairs_keep_shape_and_scene_and_leave_a_favourite_coloured_source_alone():
    spec = build_spec(n_items=20, n_users=2, seed=3)
    pairs = RecolourPairs(spec.items, {"a": "green", "b": "purple"}, size=32, window=8)
    rng = np.random.default_rng(0)
    seen = {"same": 0, "recoloured": 0}
    for _ in range(40):
        pair = pairs.sample(rng)
        assert pair.source.shape == pair.target.shape == (8, 32, 32, 3)
        same = np.array_equal(pair.source, pair.target)
        seen["same" if same else "recoloured"] += 1
        if not same:      # only some pixels change
            assert np.mean(np.any(pair.source != pair.target, axis=-1)) < 0.3
    assert seen["same"] and seen["recoloured"]


def test_recolour_pairs_come_from_the_spec_that_built_the_corpus(small_demo):
    with open_store(small_demo) as store:
        pairs = recolour_pairs(store, size=32, window=8)
    spec = build_spec(n_items=12, n_users=8, seed=3)
    assert {item.id for item, _ in pairs.segments} <= {item.id for item in spec.items}
    assert pairs.users and set(pairs.users) <= {u["id"] for u in spec.users}


def test_a_model_grown_from_one_without_source_channels_computes_what_it_did(tmp_path):
    """Also without liked-token attention: those blocks start at zero output."""
    from core.diffusion.checkpoint import save_weights

    torch.manual_seed(0)
    old_config = {**TINY_VIDEO, "source": False, "liked_tokens": 0}
    old = video_model.VideoDenoiser(old_config).eval()
    save_weights(old, tmp_path / "old.safetensors", old_config)
    x0, past = torch.rand(2, 12, 64, 64) * 2 - 1, torch.rand(2, 12, 64, 64) * 2 - 1
    cond = {"hist": torch.randn(2, 8), "emb": torch.zeros(2, 4), "text": torch.zeros(2, 8),
            "present": torch.tensor([[1.0, 0, 0], [1.0, 0, 0]])}

    def batch(rng, n):
        return x0[:n], {"past": past[:n], "past_given": torch.ones(n), "cond": cond,
                        "source": x0[:n], "source_given": torch.ones(n)}

    grown = video_model.VideoDenoiser(TINY_VIDEO)
    report = train(grown, batch, "video", tmp_path / "run",
                   TrainSettings(steps=1, batch=2, lr=1e-12, warmup=1,
                                 init=str(tmp_path / "old.safetensors")))
    assert report["continued_from"]["added"] == ["liked_tokens", "source"]
    assert report["continued_from"]["grown_weights"] == ["unet.conv_in.weight"]
    assert report["continued_from"]["new_weights"] == len(
        [k for k in grown.state_dict() if k.startswith("liked_attention.")]) > 0
    grown.eval()
    t = torch.tensor([300, 700])
    liked = {"liked": torch.randn(2, 8, 8), "liked_mask": torch.tensor([[1.0] * 3 + [0] * 5] * 2)}
    with torch.no_grad():
        before = old(x0, past, torch.ones(2), t, cond)
        after = grown(x0, past, torch.ones(2), t, {**cond, **liked}, source=torch.rand_like(x0),
                      source_given=torch.ones(2))
        # once trained away from zero, the liked thumbnails change the prediction
        for block in grown.liked_attention:
            torch.nn.init.normal_(block.attention.out_proj.weight, std=0.5)
        moved = grown(x0, past, torch.ones(2), t, {**cond, **liked}, source=x0,
                      source_given=torch.ones(2))
        unmoved = grown(x0, past, torch.ones(2), t, cond, source=x0, source_given=torch.ones(2))
    assert torch.allclose(before, after, atol=1e-3)
    assert not torch.allclose(moved, unmoved, atol=1e-3)
    with pytest.raises(Exception, match="another configuration"):
        train(video_model.VideoDenoiser({**TINY_VIDEO, "past": 2}), batch, "video",
              tmp_path / "other", TrainSettings(steps=1, init=str(tmp_path / "old.safetensors")))


def test_revision_batches_give_the_source_and_keep_it_without_a_user(small_demo):
    from core.diffusion.data import FrameBank
    from core.diffusion.training import VideoBatches

    with open_store(small_demo) as store:
        pairs = recolour_pairs(store, size=16, window=8)
    frames = np.random.default_rng(0).integers(0, 255, (20, 16, 16, 3), dtype=np.uint8)
    bank = FrameBank(["x"], np.array([0, 20]), frames, np.eye(20, 8, dtype=np.float32),
                     np.zeros(20, np.int32), ["a caption"], np.ones((1, 8), np.float32))
    hist = {u: np.full(8, 0.35, np.float32) for u in pairs.users}
    config = {**TINY_VIDEO, "size": 16}
    liked = {u: np.random.default_rng(2).random((3, 8), dtype=np.float32) for u in hist}
    batches = VideoBatches(bank, config, hist, {}, {"x": list(hist)}, pairs, liked)
    x, kwargs = batches(np.random.default_rng(1), 64)
    given = kwargs["source_given"].bool()
    assert 10 < int(given.sum()) < 54                       # about half are revision pairs
    assert torch.all(kwargs["source"][~given] == -1)        # absent sources are blank
    no_user = given & (kwargs["cond"]["present"][:, 0] == 0)
    assert no_user.any()
    assert torch.equal(x[no_user], kwargs["source"][no_user])   # nothing to change without a user
    # a user's User_Hist comes with their liked thumbnails to attend to; no user, none
    with_user = given & (kwargs["cond"]["present"][:, 0] == 1)
    assert torch.all(kwargs["cond"]["liked_mask"][with_user].sum(1) == 3)
    assert torch.all(kwargs["cond"]["liked_mask"][no_user] == 0)
    # the recoloured pixels weigh more in the loss; nothing else does
    from core.diffusion.training import CHANGED_WEIGHT

    weight = kwargs.pop("loss_weight")
    changed = (x - kwargs["source"]).abs() > 0.08
    assert torch.all(weight[~given] == 1) and torch.all(weight[no_user] == 1)
    assert torch.all(weight[given][changed[given]] == CHANGED_WEIGHT)
    without = VideoBatches(bank, {**config, "source": False}, hist, {}, {"x": list(hist)}, pairs)
    assert "source" not in without(np.random.default_rng(1), 4)[1]


def test_thumbnail_batches_revise_single_frames_from_the_users_liked_thumbnails(small_demo):
    from core.diffusion import thumbnail_model
    from core.diffusion.data import FrameBank
    from core.diffusion.training import ThumbnailBatches

    with open_store(small_demo) as store:
        pairs = recolour_pairs(store, size=16, window=1)
    item_ids = sorted({item.id for item, _ in pairs.segments})
    frames = np.random.default_rng(0).integers(0, 255, (4 * len(item_ids), 16, 16, 3), dtype=np.uint8)
    bank = FrameBank(item_ids, np.arange(0, 4 * len(item_ids) + 1, 4), frames,
                     np.ones((len(frames), 8), np.float32) / np.sqrt(8),
                     np.zeros(len(frames), np.int32), ["a caption"], np.ones((1, 8), np.float32))
    liked = {u: np.ones((3, 8), np.float32) for u in pairs.users}
    hist = {u: np.ones(8, np.float32) for u in pairs.users}
    config = {**thumbnail_model.DEFAULT_CONFIG, "size": 16, "embed_dim": 8}
    x, kwargs = ThumbnailBatches(bank, config, hist, {}, liked, pairs)(np.random.default_rng(2), 64)
    given = kwargs["source_given"].bool()
    assert x.shape == kwargs["source"].shape == (64, 3, 16, 16)
    assert 40 < int(given.sum()) < 64                       # most are revision pairs
    users = kwargs["mask"][:, config["item_tokens"]:].sum(dim=1) > 0
    no_user = given & ~users
    assert no_user.any() and torch.equal(x[no_user], kwargs["source"][no_user])
    assert (given & users).any()
