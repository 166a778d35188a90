import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SHARED_MEDIA = ROOT.parent / "shared" / "media"


@pytest.fixture(autouse=True)
def generec_home(tmp_path, monkeypatch):
    """Keep every test away from the real user data folder."""
    monkeypatch.setenv("GENEREC_HOME", str(tmp_path / "home"))


@pytest.fixture(scope="session")
def shared_media() -> Path:
    if not (SHARED_MEDIA / "fire2.mp4").is_file():
        pytest.skip(f"real media clips not found at {SHARED_MEDIA} (the shared/ folder beside "
                    f"the checkout)")
    return SHARED_MEDIA


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> Path:
    """A small demo corpus, built once per session: 12 items, 8 users."""
    from core.demo.build import build_demo
    from core.store import open_store

    db = tmp_path_factory.mktemp("demo") / "corpus.db"
    with open_store(db) as store:
        build_demo(store, n_items=12, n_users=8, seed=3)
    return db


@pytest.fixture(scope="session")
def indexed_small_demo(small_demo, tmp_path_factory) -> Path:
    """A copy of the small demo indexed with the bundled encoder, 8 frames per item. Tests that
    change it work on their own copy (scale_helpers.copy_corpus)."""
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus
    from core.store import open_store
    from scale_helpers import copy_corpus

    db = copy_corpus(small_demo, tmp_path_factory.mktemp("indexed") / "corpus.db")
    with open_store(db) as store:
        index_corpus(store, load_encoder("bundled"), n_frames=8)
    return db


@pytest.fixture(scope="session")
def local_checkpoint(tmp_path_factory):
    """A user's own open_clip weights: a standard architecture saved as safetensors."""
    import open_clip
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-S-32-alt", pretrained=None)
    path = tmp_path_factory.mktemp("weights") / "my-clip.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path


@pytest.fixture(scope="session")
def indexed_demo(tmp_path_factory):
    """80 items and 12 users (each has seen 42 items, so 38 are left to recommend), indexed."""
    from core.demo.build import build_demo
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus
    from core.store import open_store

    db = tmp_path_factory.mktemp("indexed") / "corpus.db"
    with open_store(db) as store:
        build_demo(store, n_items=80, n_users=12, seed=5)
        index_corpus(store, load_encoder("bundled"), n_frames=16)
    return db


@pytest.fixture(scope="module")
def ray_cluster():
    """A real local Ray cluster on 127.0.0.1 with 2 CPUs, for one test module (stopped after
    it, so that its processes do not idle through the rest of the suite)."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install "
                                      "'generec-studio[cluster]')")
    from core.cluster.runtime import start_ray

    ray, started = start_ray("local", 2)
    assert ray.is_initialized()
    yield ray
    if started:
        ray.shutdown()
