"""The optional Ray path: `generec index --ray` on a real local Ray cluster (127.0.0.1) gives
the in-process path's embeddings, a rerun adds nothing, a killed worker loses nothing, shards
merge idempotently, and without Ray the command says how to install it."""
import json
import os
import shutil
import signal
import sys

import numpy as np
import pytest

from core.store.embeddings import from_blob
from scale_helpers import copy_corpus

FRAMES = 4


def embeddings(db) -> dict:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        vectors = {tuple(r[:3]): from_blob(r[3]) for r in conn.execute(
            "SELECT item_id, kind, idx, vector FROM embeddings")}
        times = conn.execute("SELECT item_id, idx, t_s FROM frames ORDER BY 1, 2").fetchall()
    finally:
        conn.close()
    return {"vectors": vectors, "times": times}


def assert_same(ours: dict, theirs: dict) -> None:
    assert ours["times"] == theirs["times"]
    assert set(ours["vectors"]) == set(theirs["vectors"])
    for key, vector in theirs["vectors"].items():
        np.testing.assert_allclose(ours["vectors"][key], vector, atol=2e-3, err_msg=str(key))


@pytest.fixture(scope="module")
def in_process(small_demo, tmp_path_factory):
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus
    from core.store import open_store

    db = copy_corpus(small_demo, tmp_path_factory.mktemp("in-process") / "corpus.db")
    with open_store(db) as store:
        index_corpus(store, load_encoder("bundled"), n_frames=FRAMES)
    return db


def test_without_ray_the_command_says_how_to_install_it(small_demo, tmp_path, monkeypatch,
                                                        capsys):
    from core.cli import main
    from core.cluster import ClusterUnavailable, require_ray

    monkeypatch.setitem(sys.modules, "ray", None)      # as if not installed
    with pytest.raises(ClusterUnavailable, match=r"generec-studio\[cluster\]"):
        require_ray()
    db = copy_corpus(small_demo, tmp_path / "corpus.db")
    assert main(["index", "--ray", "local", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'generec-studio[cluster]'" in err and len(err.strip().splitlines()) == 1


def test_a_shard_merges_once_however_often_it_is_merged(in_process, small_demo, tmp_path):
    pytest.importorskip("pyarrow", reason="the cluster extra is not installed")
    from core.cluster.index import ClusterIndexSummary, EmbedBatch, merge_shard
    from core.encoders import load_encoder
    from core.store import open_store
    from core.store.embeddings import items_without_embeddings, register_model

    db = copy_corpus(small_demo, tmp_path / "corpus.db")
    encoder = load_encoder("bundled")
    with open_store(db) as store:
        with store.transaction():
            register_model(store, encoder.model_id, encoder.spec, encoder.sha256, encoder.dim)
        items = items_without_embeddings(store, encoder.model_id)
        worker = EmbedBatch("bundled", encoder.model_id, FRAMES, 64, str(tmp_path / "shards"))
        out = worker({"item": np.array([json.dumps(i) for i in items[:5]])})
        shard = tmp_path / "shards" / os.path.basename(out["shard"][0])
        shutil.copy(shard, tmp_path / "again.parquet")
        first = ClusterIndexSummary(encoder.model_id)
        merge_shard(store, encoder.model_id, shard, first, FRAMES)
        second = ClusterIndexSummary(encoder.model_id)
        merge_shard(store, encoder.model_id, tmp_path / "again.parquet", second, FRAMES)
    assert (first.indexed, first.frames, second.indexed, second.skipped_present) == \
        (5, 5 * FRAMES, 0, 5)
    assert not shard.exists()
    ours, theirs = embeddings(db), embeddings(in_process)
    five = {i["id"] for i in items[:5]}
    assert len(ours["vectors"]) == 5 * (FRAMES + 2)      # frames, thumbnail, title per item
    assert_same(ours, {"times": [t for t in theirs["times"] if t[0] in five],
                       "vectors": {k: v for k, v in theirs["vectors"].items() if k[0] in five}})


def test_ray_indexing_equals_in_process_and_a_rerun_adds_nothing(ray_cluster, in_process,
                                                                 small_demo, tmp_path):
    from core.cluster.index import index_on_ray, shard_dir
    from core.editor.service import personalize
    from core.store import open_store
    from core.store.frame_matrix import open_frame_matrix

    db = copy_corpus(small_demo, tmp_path / "corpus.db")
    with open_store(db) as store:
        summary = index_on_ray(store, "bundled", "local", n_frames=FRAMES, workers=2,
                               items_per_task=3)
        assert (summary.indexed, summary.frames, summary.failed) == (12, 12 * FRAMES, [])
        assert summary.shards_merged == 4
        assert not list(shard_dir(store.path, summary.model_id).glob("*.parquet"))
        again = index_on_ray(store, "bundled", "local", n_frames=FRAMES, workers=2)
        assert (again.indexed, again.shards_merged) == (0, 0)
        assert open_frame_matrix(store, summary.model_id).rows == 12
        user = store.conn.execute("SELECT user_id FROM interactions WHERE kind = 'like' "
                                  "ORDER BY user_id LIMIT 1").fetchone()[0]
        ours = personalize(store, user, "thumbnail", record=False)
    assert_same(embeddings(db), embeddings(in_process))
    with open_store(in_process) as store:
        theirs = personalize(store, user, "thumbnail", record=False)
    assert [(c["item_id"], c["frame_idx"]) for c in ours] == \
        [(c["item_id"], c["frame_idx"]) for c in theirs]


def embedding_actors() -> list[int]:
    """Ray names an actor's process after its class (ray::MapWorker(MapBatches(EmbedBatch)))."""
    pids = []
    for entry in os.listdir("/proc"):
        try:
            title = open(f"/proc/{entry}/cmdline", "rb").read() if entry.isdigit() else b""
        except OSError:
            continue
        if b"EmbedBatch" in title and int(entry) != os.getpid():
            pids.append(int(entry))
    return sorted(pids)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the actor in /proc")
def test_a_worker_killed_mid_run_loses_and_doubles_nothing(ray_cluster, in_process, small_demo,
                                                           tmp_path):
    from core.cluster.index import index_on_ray
    from core.progress import Progress
    from core.store import open_store

    killed = []

    class KillOnce(Progress):
        def on_update(self, done, total, message):
            if done and not killed:          # after the first shard is merged
                pids = embedding_actors()
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])

    db = copy_corpus(small_demo, tmp_path / "corpus.db")
    runs = []
    with open_store(db) as store:
        try:
            runs.append(index_on_ray(store, "bundled", "local", n_frames=FRAMES, workers=2,
                                     items_per_task=2, progress=KillOnce()))
        except Exception as exc:             # Ray gave up on the batch: a rerun finishes it
            runs.append(exc)
            runs.append(index_on_ray(store, "bundled", "local", n_frames=FRAMES, workers=2))
    assert killed, "no worker was killed"
    ours = embeddings(db)
    assert len(ours["times"]) == 12 * FRAMES
    assert_same(ours, embeddings(in_process))


def test_cli_ray_indexing_is_a_recorded_job_like_the_guis(ray_cluster, in_process, small_demo,
                                                          tmp_path, capsys):
    from core.cli import main
    from core.jobs import list_jobs
    from core.store import open_store

    db = copy_corpus(small_demo, tmp_path / "corpus.db")
    args = ["index", "--ray", "local", "--workers", "2", "--frames", str(FRAMES), "--db", str(db),
            "--json", "--quiet"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["indexed"], summary["ray"]["address"]) == (12, "local")
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["indexed"] == 0          # a rerun adds nothing
    with open_store(db) as store:
        jobs = list_jobs(store)
    assert [(j["kind"], j["origin"], j["state"]) for j in jobs] == [("index", "cli", "done")] * 2
    assert jobs[0]["params"] == {"model": "bundled", "n_frames": FRAMES, "batch": 64,
                                 "ray": "local", "workers": 2}
    assert_same(embeddings(db), embeddings(in_process))
