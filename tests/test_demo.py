import json
from collections import Counter

import numpy as np

from core.demo.render import render_segment
from core.demo.spec import build_spec, item_affinity
from core.media import iter_frames, probe
from core.store import open_store
from core.store.corpus import counts, list_items


def test_default_spec_meets_the_corpus_targets():
    spec = build_spec()
    assert len(spec.items) >= 240 and len(spec.users) >= 160 and len(spec.interactions) >= 6000
    assert set(Counter(r["kind"] for r in spec.interactions)) == {"click", "like", "dislike",
                                                                  "dwell"}
    for item in spec.items:
        assert 48 <= item.n_frames <= 128
        assert len(item.segments) >= 3
        for a, b in zip(item.segments, item.segments[1:]):
            assert a["scene"] != b["scene"] and a["shape"] != b["shape"] and a["colour"] != b["colour"]
    assert any(not item.consent_derivatives for item in spec.items)
    assert any(item.consent_derivatives for item in spec.items)


def test_spec_and_frames_are_deterministic_for_a_seed():
    a, b, c = build_spec(30, 10, seed=7), build_spec(30, 10, seed=7), build_spec(30, 10, seed=8)
    assert a.interactions == b.interactions and a.users == b.users
    assert [i.segments for i in a.items] == [i.segments for i in b.items]
    assert a.interactions != c.interactions
    seg = a.items[0].segments[0]
    first = render_segment(seg, 5, 11)
    second = render_segment(seg, 5, 11)
    assert all(np.array_equal(x, y) for x, y in zip(first, second))


def test_likes_follow_the_hidden_preferences():
    spec = build_spec(120, 60, seed=1)
    items = {item.id: item for item in spec.items}
    users = {user["id"]: user for user in spec.users}
    by_kind = {"like": [], "dislike": []}
    for row in spec.interactions:
        if row["kind"] in by_kind:
            by_kind[row["kind"]].append(item_affinity(users[row["user_id"]]["truth"],
                                                      items[row["item_id"]]))
    assert np.mean(by_kind["like"]) > np.mean(by_kind["dislike"]) + 0.5


def test_built_demo_corpus(small_demo):
    with open_store(small_demo) as store:
        info = counts(store)
        assert (info["items"], info["users"], info["failed"]) == (12, 8, 0)
        assert info["interactions"] > 100
        items = list_items(store, extra=("path", "thumbnail_path", "licence"))
        splits = dict(store.conn.execute(
            "SELECT split, COUNT(*) FROM interactions GROUP BY split").fetchall())
        assert splits["test"] > 0 and splits["train"] > 3 * splits["test"]
        truth = json.loads(store.conn.execute("SELECT truth FROM users LIMIT 1").fetchone()[0])
        assert set(truth) == {"colours", "shapes", "scenes"}
        segments = store.conn.execute(
            "SELECT item_id, COUNT(*), MIN(caption != '') FROM segments GROUP BY item_id").fetchall()
        assert len(segments) == 12 and all(n >= 3 and has_caption for _, n, has_caption in segments)
        assert store.conn.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'demo.build'"
                                  ).fetchone()[0] == 1
    for item in items:
        info = probe(item["path"])
        assert info.codec == "h264" and min(info.width, info.height) >= 256
        assert 48 <= info.frames <= 128 and info.frames == item["frames"]
    # segments are visually distinct: mean colour changes at each cut
    frames = [f.image.astype(float) for f in iter_frames(items[0]["path"], max_side=64)]
    with open_store(small_demo) as store:
        cuts = [row[0] for row in store.conn.execute(
            "SELECT end_s FROM segments WHERE item_id = ? ORDER BY idx", (items[0]["id"],))][:-1]
    fps = probe(items[0]["path"]).fps
    assert fps == 16
    for cut in cuts:
        k = int(round(cut * fps))
        assert np.abs(frames[k] - frames[k - 1]).mean() > 3 * np.abs(frames[k - 1] - frames[k - 2]).mean()


def test_building_twice_adds_nothing(small_demo):
    from core.demo.build import build_demo

    with open_store(small_demo) as store:
        before = counts(store)
        build_demo(store, n_items=12, n_users=8, seed=3)
        assert counts(store) == before
