"""The resident fp16 frame matrix: its one-pass scan against numpy's Eq. 1 / Eq. 2, its
writer (append, overwrite, crash), indexing keeping it in step with SQLite, and the
synthetic-scale generator."""
import json

import numpy as np
import pytest

import core.store.frame_matrix as fm
from core.editor.personalize import frame_scores, window_scores
from core.store.embeddings import FrameIndex, from_blob
from core.store.frame_matrix import FrameMatrix, MatrixRow, MatrixWriter
from scale_helpers import copy_corpus


def random_matrix(tmp_path, rng, counts, n_max=12, dim=32) -> FrameMatrix:
    frames = rng.normal(size=(len(counts), n_max, dim)).astype(np.float16)
    frames[np.arange(n_max)[None, :] >= np.asarray(counts)[:, None]] = 0
    times = np.tile(np.arange(n_max, dtype=np.float32), (len(counts), 1))
    writer = MatrixWriter(tmp_path / "m", "m", dim, n_max, "test")
    writer.write_block(frames, times, np.asarray(counts), np.full(len(counts), 10.0),
                       [f"i{k}" for k in range(len(counts))])
    writer.commit()
    return FrameMatrix(tmp_path / "m")


def numpy_picks(matrix: FrameMatrix, user, clip_len, stride):
    index = FrameIndex("m", matrix.item_ids, np.asarray(matrix.frames, np.float32),
                       np.asarray(matrix.counts, np.int64), np.asarray(matrix.times),
                       np.asarray(matrix.durations), np.zeros((matrix.rows, matrix.dim)))
    scores = frame_scores(index, user)
    means, _ = window_scores(scores, index.counts, clip_len, stride)
    return scores, means


@pytest.fixture
def torch_scan(monkeypatch):
    monkeypatch.setenv("GENEREC_SCAN", "torch")
    monkeypatch.setattr(fm, "_KERNEL", [])
    yield
    monkeypatch.setattr(fm, "_KERNEL", [])


@pytest.mark.parametrize("clip_len,stride", [(4, 1), (4, 3), (20, 1), (1, 2)])
def test_the_c_scan_picks_what_numpy_picks(tmp_path, clip_len, stride):
    if fm.kernel_name() != "c":
        pytest.skip("the C scan is not built here (no compiler at install)")
    rng = np.random.default_rng(clip_len * 10 + stride)
    matrix = random_matrix(tmp_path, rng, rng.integers(1, 13, 500))
    user = rng.normal(size=matrix.dim).astype(np.float32)
    picks = matrix.scan(user, clip_len, stride, threads=2)
    scores, means = numpy_picks(matrix, user, clip_len, stride)
    assert picks.kernel == "c"
    np.testing.assert_array_equal(picks.frame_idx, scores.argmax(axis=1))
    np.testing.assert_array_equal(picks.clip_start, means.argmax(axis=1))
    np.testing.assert_allclose(picks.frame_score, scores.max(axis=1), atol=1e-5)
    np.testing.assert_allclose(picks.clip_score, means.max(axis=1), atol=1e-5)
    assert (picks.clip_end - picks.clip_start == np.minimum(clip_len, matrix.counts)).all()


def test_the_torch_fallback_agrees_where_the_choice_is_clear(tmp_path, torch_scan):
    rng = np.random.default_rng(7)
    matrix = random_matrix(tmp_path, rng, rng.integers(1, 13, 300))
    user = rng.normal(size=matrix.dim).astype(np.float32)
    picks = matrix.scan(user, 4, 1)
    scores, means = numpy_picks(matrix, user, 4, 1)
    assert picks.kernel == "torch"
    ranked = np.sort(np.where(np.isfinite(scores), scores, -1e9), axis=1)
    clear = ranked[:, -1] - ranked[:, -2] > 0.05          # fp16 products round at ~1e-2 here
    assert clear.sum() > 200
    np.testing.assert_array_equal(picks.frame_idx[clear], scores.argmax(axis=1)[clear])
    np.testing.assert_allclose(picks.frame_score, scores.max(axis=1), atol=0.05)


def test_the_writer_overwrites_appends_and_forgets_an_unpublished_append(tmp_path):
    rng = np.random.default_rng(1)
    row = lambda i, n: MatrixRow(i, np.arange(n, dtype=np.float32),  # noqa: E731
                                 rng.normal(size=(n, 8)).astype(np.float32), 5.0)
    writer = MatrixWriter(tmp_path / "m", "m", 8, 6, "index")
    first = [row("a", 6), row("b", 3)]
    writer.write_rows(first)
    writer.commit()
    writer = MatrixWriter(tmp_path / "m", "m", 8, 6, "index")
    again = row("a", 2)
    writer.write_rows([again, row("c", 4)])
    writer.commit()
    matrix = FrameMatrix(tmp_path / "m")
    assert matrix.item_ids == ["a", "b", "c"] and list(matrix.counts) == [2, 3, 4]
    np.testing.assert_array_equal(matrix.frames[0, :2], again.vectors.astype(np.float16))
    assert not matrix.frames[0, 2:].any()
    assert matrix.manifest["frames_total"] == 9
    # an append that never reached the manifest (a crash) is dropped by the next writer
    MatrixWriter(tmp_path / "m", "m", 8, 6, "index").write_rows([row("d", 5)])
    writer = MatrixWriter(tmp_path / "m", "m", 8, 6, "index")
    writer.write_rows([row("e", 1)])
    writer.commit()
    matrix = FrameMatrix(tmp_path / "m")
    assert matrix.item_ids == ["a", "b", "c", "e"] and list(matrix.counts) == [2, 3, 4, 1]
    assert (tmp_path / "m" / "frames.f16").stat().st_size == 4 * 6 * 8 * 2


def test_indexing_keeps_the_matrix_equal_to_sqlite_and_personalize_reads_it(indexed_small_demo):
    from core.editor.personalize import select_clips, select_thumbnails
    from core.editor.service import personalize, resolve_model_id
    from core.editor.history import history_vector
    from core.store import open_store
    from core.store.embeddings import load_frame_index
    from core.store.frame_matrix import matrix_dir, open_frame_matrix

    with open_store(indexed_small_demo) as store:
        model_id = resolve_model_id(store)
        folder = matrix_dir(store.path, model_id)
        assert json.loads((folder / "manifest.json").read_text())["source"] == "index"
        matrix = open_frame_matrix(store, model_id)
        index = load_frame_index(store, model_id)
        assert matrix.rows == len(index.item_ids) == 12
        rows = [matrix.item_ids.index(i) for i in index.item_ids]
        for r, item_id in zip(rows, index.item_ids):
            blobs = [from_blob(b) for (b,) in store.conn.execute(
                "SELECT vector FROM embeddings WHERE model_id = ? AND item_id = ? AND "
                "kind = 'frame' ORDER BY idx", (model_id, item_id))]
            np.testing.assert_array_equal(np.asarray(matrix.frames[r, :len(blobs)], np.float32),
                                          np.stack(blobs))
        user_id = store.conn.execute("SELECT user_id FROM interactions WHERE kind = 'like' "
                                     "ORDER BY user_id LIMIT 1").fetchone()[0]
        user = history_vector(store, model_id, user_id)
        for task, expected in (("thumbnail", select_thumbnails(index, user)),
                               ("clip", select_clips(index, user, 4, 2))):
            got = personalize(store, user_id, task, clip_len=4, stride=2, record=False)
            assert [c["item_id"] for c in got] == [c.item_id for c in expected]
            for choice, want in zip(got, expected):
                for key, value in vars(want).items():
                    assert choice[key] == pytest.approx(value, abs=1e-5), (task, key)


def test_the_matrix_catches_up_with_sqlite_after_a_lost_update(indexed_small_demo, tmp_path):
    from core.editor.service import resolve_model_id
    from core.store import open_store
    from core.store.frame_matrix import matrix_dir, open_frame_matrix

    db = copy_corpus(indexed_small_demo, tmp_path / "corpus.db")     # its matrix is damaged below
    with open_store(db) as store:
        model_id = resolve_model_id(store)
        folder = matrix_dir(store.path, model_id)
        full = open_frame_matrix(store, model_id)
        expected = {i: np.asarray(full.frames[k]) for k, i in enumerate(full.item_ids)}
        # as if the app died after SQLite's commit of the last 5 items, before the matrix's
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest.update(rows=7, frames_total=int(np.asarray(full.counts[:7]).sum()))
        (folder / "manifest.json").write_text(json.dumps(manifest))
        assert FrameMatrix(folder).rows == 7
        caught_up = open_frame_matrix(store, model_id)
        assert sorted(caught_up.item_ids) == sorted(expected)
        for k, item_id in enumerate(caught_up.item_ids):
            np.testing.assert_array_equal(caught_up.frames[k], expected[item_id])
        # a missing matrix is rebuilt from SQLite
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
        assert sorted(open_frame_matrix(store, model_id).item_ids) == sorted(expected)


def test_the_synthetic_scale_corpus_is_deterministic_resumable_and_personalizable(tmp_path):
    from core.demo.synthetic_scale import build_synthetic_scale
    from core.editor.service import personalize
    from core.store import open_store
    from core.store.frame_matrix import matrix_dir

    with open_store(tmp_path / "a.db") as a, open_store(tmp_path / "b.db") as b:
        made = build_synthetic_scale(a, 9000, 6, frames=8, dim=16)
        build_synthetic_scale(b, 8192, 6, frames=8, dim=16)      # stopped after one block
        build_synthetic_scale(b, 9000, 6, frames=8, dim=16)      # resumed
        ma = FrameMatrix(matrix_dir(a.path, made.model_id))
        mb = FrameMatrix(matrix_dir(b.path, made.model_id))
        assert ma.rows == mb.rows == 9000 and ma.item_ids == mb.item_ids
        np.testing.assert_array_equal(ma.frames, mb.frames)
        assert 4 <= ma.counts.min() and ma.counts.max() <= 8
        norms = np.linalg.norm(np.asarray(ma.frames[0, :ma.counts[0]], np.float32), axis=1)
        np.testing.assert_allclose(norms, 1.0, atol=1e-2)
        assert (np.diff(ma.times[0, :ma.counts[0]]) > 0).all()
        assert a.conn.execute("SELECT COUNT(*) FROM items WHERE status = 'no-media'"
                              ).fetchone()[0] == 9000
        picks = personalize(a, "u0000001", "clip", spec=made.model_id, clip_len=4, record=False)
        assert len(picks) == 9000 and all(p["end_idx"] - p["start_idx"] == 4 for p in picks)
