"""`generec batch` (issue 17): many generations of one task, each recorded once and checked, in
this process or on a real local Ray cluster with the same results; a rerun adds nothing, a
cancelled run resumes, a shard merges once, bad ids are counted by reason."""
import json

import pytest

from core.batch.orders import BatchRequest, make, prepare
from core.batch.run import run_batch
from core.errors import Cancelled, InputError
from core.progress import Progress
from core.store import open_store
from scale_helpers import copy_corpus

USERS = ["u0001", "u0003"]


def recorded(db, task) -> dict:
    """(user, item) -> (params, output file exists, checks current) of the task's generations."""
    from pathlib import Path

    from core.fidelity.review import check_state
    from core.store.corpus import list_generations

    with open_store(db) as store:
        return {(g["user_id"], g["item_id"]): (g["params"], Path(g["output_path"]).is_file(),
                                               check_state(store, g["id"]).current)
                for g in list_generations(store) if g["task"] == task}


def test_a_thumbnail_batch_equals_single_generations_and_a_rerun_adds_nothing(indexed_small_demo, tmp_path):
    from core.editor.service import generate_personalized

    db = copy_corpus(indexed_small_demo, tmp_path / "corpus.db")
    with open_store(db) as store:
        summary = run_batch(store, BatchRequest("thumbnail", USERS, None))
        again = run_batch(store, BatchRequest("thumbnail", USERS, None))
        single = generate_personalized(store, "u0001", "demo-0005", "thumbnail")
    assert summary.pairs == 2 * 12 and summary.made + sum(summary.skipped.values()) == 24
    assert summary.made >= 12 and not summary.failed
    assert (again.made, again.already_made) == (0, summary.made)
    made = recorded(db, "thumbnail")
    assert len(made) == summary.made          # the single generation's pair is one of them
    assert all(exists and current for _, exists, current in made.values())
    batch_params = made[("u0001", "demo-0005")][0]
    assert batch_params["t_s"] == single["t_s"] and batch_params["frame_idx"] == single["frame_idx"]
    checks = sum(summary.checks.values())
    assert checks == summary.made * len({k.split(":")[0] for k in summary.checks})


def test_bad_ids_are_counted_by_reason_and_bad_options_refused(indexed_small_demo, tmp_path):
    db = copy_corpus(indexed_small_demo, tmp_path / "corpus.db")
    with open_store(db) as store:
        with store.transaction():
            store.conn.execute("UPDATE items SET status = 'failed', error = 'corrupt' "
                               "WHERE id = 'demo-0002'")
        plan = prepare(store, BatchRequest("clip", ["u0001", "nobody"],
                                           ["demo-0001", "demo-0002", "no-such-item"]))
        styled = prepare(store, BatchRequest("style", ["nobody", "u0001"], ["demo-0001"],
                                             {"style": "neon"}))
    assert plan.pairs == 6 and plan.skipped["unknown user"] == 3
    assert plan.skipped["unknown item"] == 1 and plan.skipped["item failed"] == 1
    assert [(o.user_id, o.item_id) for o in plan.orders] == [("u0001", "demo-0001")]
    assert styled.skipped["unknown user"] == 1          # a style needs no likes, but a user
    assert [(o.user_id, o.item_id) for o in styled.orders] == [("u0001", "demo-0001")]
    with pytest.raises(InputError, match="needs --style"):
        BatchRequest("style", None, None)
    with pytest.raises(InputError, match="takes no strength"):
        BatchRequest("thumbnail", None, None, {"strength": 0.5})


def test_a_cancelled_batch_keeps_what_it_made_and_a_rerun_finishes(indexed_small_demo, tmp_path):
    db = copy_corpus(indexed_small_demo, tmp_path / "corpus.db")

    class CancelAfterThree(Progress):
        def on_update(self, done, total, message):
            if done >= 3:
                self.cancel()

    request = BatchRequest("style", ["u0001"], None, {"style": "cartoon"})
    with open_store(db) as store:
        with pytest.raises(Cancelled):
            run_batch(store, request, CancelAfterThree())
    assert len(recorded(db, "style")) == 3              # each recorded whole, with its checks
    with open_store(db) as store:
        rest = run_batch(store, request)
    assert (rest.made, rest.already_made) == (9, 3)
    made = recorded(db, "style")
    assert len(made) == 12 and all(exists and current for _, exists, current in made.values())


def test_a_batch_shard_merges_once(indexed_small_demo, tmp_path):
    pytest.importorskip("pyarrow", reason="the cluster extra is not installed")
    from core.batch.run import BatchSummary
    from core.cluster.batch import batch_shard_dir, merge_leftover_shards, write_shard

    db = copy_corpus(indexed_small_demo, tmp_path / "corpus.db")
    with open_store(db) as store:
        orders = prepare(store, BatchRequest("thumbnail", ["u0001"], None)).orders[:3]
        shard = write_shard(batch_shard_dir(store.path), [make(o) for o in orders])
        copy = shard.with_name("again.parquet")
        copy.write_bytes(shard.read_bytes())
        first = BatchSummary("thumbnail")
        assert merge_leftover_shards(store, first) == 2       # both files: the same three rows
        rerun = run_batch(store, BatchRequest("thumbnail", ["u0001"], None))
    assert (first.made, first.already_made) == (3, 3)
    assert rerun.already_made == 3 and rerun.made == len(recorded(db, "thumbnail")) - 3
    assert not list(batch_shard_dir(db).glob("*.parquet"))


def test_ray_batch_equals_in_process(ray_cluster, indexed_small_demo, tmp_path):
    ours_db = copy_corpus(indexed_small_demo, tmp_path / "ray.db")
    theirs_db = copy_corpus(indexed_small_demo, tmp_path / "local.db")
    request = BatchRequest("clip", USERS, None, {"clip_len": 4})
    with open_store(ours_db) as store:
        summary = run_batch(store, request, ray="local")
        again = run_batch(store, request, ray="local")
    with open_store(theirs_db) as store:
        local = run_batch(store, request)
    assert summary.ray["shards_merged"] >= 2 and summary.made == local.made > 0
    assert (again.made, again.ray) == (0, None)          # nothing missing: Ray is not started
    ours, theirs = recorded(ours_db, "clip"), recorded(theirs_db, "clip")
    assert {k: v[0] for k, v in ours.items()} == {k: v[0] for k, v in theirs.items()}
    assert all(exists and current for _, exists, current in ours.values())


def test_cli_batch_is_a_recorded_job(indexed_small_demo, tmp_path, capsys):
    from core.cli import main

    db = copy_corpus(indexed_small_demo, tmp_path / "corpus.db")
    users = tmp_path / "users.txt"
    users.write_text("# two users\nu0001\n\nu0003\n")
    assert main(["batch", "--db", str(db), "--task", "thumbnail", "--users", str(users),
                 "--items", "all", "--json", "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["made"] == len(recorded(db, "thumbnail")) > 0
    with open_store(db) as store:
        from core.jobs import list_jobs

        job = list_jobs(store)[0]
    assert (job["kind"], job["origin"], job["state"]) == ("batch", "cli", "done")
    assert job["params"]["users"] == USERS and job["params"]["items"] is None
    assert main(["batch", "--db", str(db), "--task", "clip", "--users", "all", "--items", "all",
                 "--strength", "0.5"]) == 2
    assert "takes no --strength" in capsys.readouterr().err
