"""Out-of-domain honesty (issue 12): a bundled diffusion model used on real clips says, in the
generation's record and in the review card, that it was trained on another corpus; on a demo
clip it does not."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from core.diffusion.domain import (domain_paths, frechet_from_stats, gaussian, nearest_cosine,
                                   read_domain, write_domain)
from core.store import open_store


def _revise_and_check(db, item_id):
    from core.diffusion import service
    from core.editor.generations import get_generation
    from core.fidelity.base import run_checks
    from core.fidelity.checks import authenticity

    with open_store(db) as store:
        made = service.generate_revision(store, None, item_id, "none", steps=1, max_seconds=0.5)
        card = run_checks(store, made["generation_id"], [authenticity])[0]
        generation = get_generation(store, made["generation_id"])
    return generation, card


def with_real_clip(demo_db, shared_media, tmp_path):
    """A copy of the demo corpus plus bikes.mp4, indexed: the domain check compares the whole
    source video's indexed frames with the training frames."""
    from core.corpus.importer import import_folder
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus

    from test_screening_shilling import copy_db

    db = copy_db(demo_db, tmp_path / "corpus.db")
    folder = tmp_path / "clips"
    folder.mkdir()
    shutil.copy(shared_media / "bikes.mp4", folder / "bikes.mp4")
    with open_store(db) as store:
        import_folder(store, folder)
        index_corpus(store, load_encoder("bundled"), n_frames=16)
    return db


def test_revision_of_a_real_clip_warns_and_of_a_demo_clip_does_not(small_demo, shared_media, tmp_path):
    from core.diffusion.domain import preflight
    from core.diffusion.models import BUNDLED_DIR

    stats = read_domain(BUNDLED_DIR / "video.safetensors")
    assert stats is not None and stats.seeds == [0] and "seed 0" in stats.corpus
    db = with_real_clip(small_demo, shared_media, tmp_path)
    with open_store(db) as store:
        demo_item = store.conn.execute("SELECT id FROM items WHERE id LIKE 'demo-%' ORDER BY id LIMIT 1").fetchone()[0]
        assert preflight(store, "revise", "bikes") is not None
        assert preflight(store, "revise", demo_item) is None
    real, card = _revise_and_check(db, "bikes")
    domain = real["params"]["domain"]
    assert domain["in_domain"] is False and domain["nn_cosine"] < domain["threshold"]
    assert "this model was trained on" in domain["warning"]
    assert "results on these videos are unreliable" in domain["warning"]
    assert f"generec train-video-model --db {db}" in domain["warning"]
    assert real["provenance"]["params"]["domain"] == domain   # the exported provenance too
    # warn, or fail where the revision kept too little of the clip (issue 15's replacement rule)
    assert card["status"] in ("warn", "fail") and domain["warning"] in card["evidence"]["text"]

    demo, card = _revise_and_check(db, demo_item)
    assert demo["params"]["domain"]["in_domain"] is True
    assert demo["params"]["domain"]["warning"] is None
    assert "this model was trained on" not in card["evidence"]["text"]


def test_domain_statistics_round_trip_and_distance(tmp_path):
    rng = np.random.default_rng(0)
    train = np.abs(rng.normal(size=(500, 8)))   # one orthant: the opposite one is far
    checkpoint = tmp_path / "video.safetensors"
    write_domain(checkpoint, train / np.linalg.norm(train, axis=1, keepdims=True),
                 "demo corpus (seed 0)", [0], "enc", threshold=0.9)
    assert all(p.is_file() for p in domain_paths(checkpoint))
    stats = read_domain(checkpoint)
    assert stats.frames == 500 and stats.seeds == [0] and len(stats.reference) == 63
    assert nearest_cosine(stats, stats.reference[:5]) == pytest.approx(1.0, abs=1e-3)
    assert nearest_cosine(stats, -stats.reference[:5]) <= 0.0
    a, b = rng.normal(size=(500, 8)), rng.normal(size=(500, 8))
    near = frechet_from_stats(*gaussian(a), *gaussian(b))
    far = frechet_from_stats(*gaussian(a), *gaussian(b + 2.0))
    assert near < 0.5 and far == pytest.approx(32.0, abs=3)
