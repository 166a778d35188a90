import numpy as np
import pytest

from core.editor.history import history_vector
from core.editor.personalize import select_clips, select_thumbnails, window_scores
from core.errors import InputError
from core.store import open_store
from core.store.embeddings import FrameIndex


def random_index(rng, counts, n_max=12, dim=16) -> FrameIndex:
    frames = np.zeros((len(counts), n_max, dim), np.float32)
    times = np.zeros((len(counts), n_max), np.float32)
    for i, n in enumerate(counts):
        v = rng.normal(size=(n, dim))
        frames[i, :n] = v / np.linalg.norm(v, axis=1, keepdims=True)
        times[i, :n] = (np.arange(n) + 0.5) * 2.0 / n
    return FrameIndex("m", [f"i{i}" for i in range(len(counts))], frames,
                      np.array(counts), times, np.full(len(counts), 2.0, np.float32),
                      np.zeros((len(counts), dim), np.float32))


def unit(rng, dim=16):
    v = rng.normal(size=dim)
    return v / np.linalg.norm(v)


def test_eq1_matches_brute_force():
    rng = np.random.default_rng(0)
    index = random_index(rng, [12, 5, 1, 9, 12])
    user = unit(rng)
    for choice, frames, n in zip(select_thumbnails(index, user), index.frames, index.counts):
        scores = [float(frames[k] @ user) for k in range(n)]   # padding never wins
        assert choice.frame_idx == int(np.argmax(scores))
        assert choice.score == pytest.approx(max(scores), abs=1e-5)


def brute_force_clip(frames, n, user, clip_len, stride):
    length = min(clip_len, n)
    starts = sorted(set(range(0, n - length + 1, stride)) | {n - length})
    means = [np.mean(frames[s:s + length], axis=0) @ user for s in starts]
    best = int(np.argmax(means))
    return starts[best], starts[best] + length, float(means[best])


@pytest.mark.parametrize("clip_len,stride", [(8, 1), (4, 3), (5, 2), (20, 1), (1, 1)])
def test_eq2_matches_brute_force(clip_len, stride):
    rng = np.random.default_rng(clip_len * 10 + stride)
    counts = [12, 7, 3, 1, 10, 12]
    index = random_index(rng, counts)
    user = unit(rng)
    for choice, frames, n in zip(select_clips(index, user, clip_len, stride), index.frames, counts):
        start, end, score = brute_force_clip(frames, n, user, clip_len, stride)
        assert (choice.start_idx, choice.end_idx) == (start, end)
        assert choice.score == pytest.approx(score, abs=1e-5)


def test_clip_boundaries_at_start_and_end_of_a_video():
    rng = np.random.default_rng(3)
    index = random_index(rng, [12, 12])
    user = unit(rng)
    # item 0 shows the user's taste in its first frames, item 1 in its last ones
    index.frames[0, :4] = user
    index.frames[1, 8:12] = user
    first, last = select_clips(index, user, clip_len=4, stride=3)   # 8 is not a multiple of 3
    assert (first.start_idx, first.start_s) == (0, 0.0)
    assert (last.start_idx, last.end_idx) == (8, 12)
    assert last.end_s == pytest.approx(2.0)   # the end of the video, in seconds
    assert last.start_s == pytest.approx(8 * 2.0 / 12, abs=1e-4)


def test_item_with_fewer_frames_than_the_clip_is_one_window():
    rng = np.random.default_rng(4)
    index = random_index(rng, [3])
    choice = select_clips(index, unit(rng), clip_len=8)[0]
    assert (choice.start_idx, choice.end_idx, choice.start_s, choice.end_s) == (0, 3, 0.0, 2.0)


def test_window_scores_reject_nonsense_lengths():
    with pytest.raises(ValueError):
        window_scores(np.zeros((1, 4)), np.array([4]), 0)


def test_users_with_one_or_no_likes(tmp_path):
    from core.store.embeddings import register_model, save_item_embeddings

    with open_store(tmp_path / "c.db") as store, store.transaction():
        register_model(store, "m", "spec", None, 4)
        store.conn.execute("INSERT INTO users (id) VALUES ('lonely'), ('one')")
        store.conn.execute("INSERT INTO items (id, path, status) VALUES ('a', '/a', 'ok')")
        save_item_embeddings(store, "m", "a", [0.5], np.eye(4)[:1], np.eye(4)[1], None)
        store.conn.execute("INSERT INTO interactions (user_id, item_id, kind, timestamp) "
                           "VALUES ('one', 'a', 'like', 1)")
    with open_store(tmp_path / "c.db") as store:
        with pytest.raises(InputError, match="'lonely' has no liked items"):
            history_vector(store, "m", "lonely")
        with pytest.raises(InputError, match="unknown user 'ghost'"):
            history_vector(store, "m", "ghost")
        assert history_vector(store, "m", "one") == pytest.approx(np.eye(4)[1])
