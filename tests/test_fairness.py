import json
import math

import pytest

from core.cli import main
from core.editor.generations import record_generation
from core.fidelity.base import CheckResult, load_rules, run_checks
from core.fidelity.checks import fairness
from core.fidelity.checks.fairness import exposure, outcome_parity
from core.fidelity.registry import CHECKS
from core.store.reviews import insert_review
from core.store import open_store
from test_screening_shilling import copy_db

MEDIA = "path, status, width, height, duration_s, fps, frames, codec, rotation, has_audio"


def test_exposure_of_a_constructed_ranking():
    groups = {"a1": "ai", "a2": "ai", "h1": "human", "h2": "human", "h3": "human", "h4": "human"}
    stats = exposure(["a1", "h1", "a2", "h2", "h3", "h4"], groups, k=3)
    w = [1.0, 1 / math.log2(3), 0.5]                      # ranks 1, 2, 3
    ai_exposure = (w[0] + w[2]) / sum(w)
    assert stats["ai"]["pool_share"] == pytest.approx(2 / 6, abs=1e-4)
    assert (stats["ai"]["top_k"], stats["human"]["top_k"]) == (2, 1)
    assert stats["ai"]["top_k_share"] == pytest.approx(2 / 3, abs=1e-4)
    assert stats["ai"]["exposure"] == pytest.approx(ai_exposure, abs=1e-4)         # 0.7075
    assert stats["ai"]["exposure_ratio"] == pytest.approx(ai_exposure * 3, abs=1e-3)  # 2.1226
    assert stats["human"]["exposure"] == pytest.approx(1 - ai_exposure, abs=1e-4)
    assert stats["human"]["exposure_ratio"] == pytest.approx((1 - ai_exposure) * 6 / 4, abs=1e-3)
    # A group in the pool but not in the top-K gets no exposure.
    assert exposure(["h1", "h2", "a1"], groups, k=2)["ai"] == {
        "pool_share": pytest.approx(1 / 3, abs=1e-4), "top_k": 0, "top_k_share": 0.0,
        "exposure": 0.0, "exposure_ratio": 0.0}


def test_fairness_is_registered_and_not_blocking():
    assert fairness in CHECKS and (fairness.name, fairness.blocking) == ("fairness", False)


def test_fairness_check_on_a_real_generation_with_ai_items_ranked_in(indexed_demo, tmp_path):
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus

    with open_store(copy_db(indexed_demo, tmp_path / "c.db")) as store:
        parents = [r[0] for r in store.conn.execute("SELECT id FROM items ORDER BY id LIMIT 3")]
        ai_items = []
        with store.transaction():
            for parent in parents:   # exported generations enter the corpus as AI items
                gen = record_generation(store, "clip", "u0002", parent, {}, {}, [])
                store.conn.execute(
                    f"INSERT INTO items (id, title, source, parent_id, creator_id, {MEDIA}) "
                    f"SELECT ?, title || ' (AI)', 'ai', id, creator_id, {MEDIA} FROM items WHERE id = ?",
                    (gen, parent))
                ai_items.append(gen)
        index_corpus(store, load_encoder("bundled"), n_frames=16, only=ai_items)
        with store.transaction():
            gen = record_generation(store, "thumbnail", "u0001", parents[0], {}, {}, [])
        [result] = run_checks(store, gen, [fairness])
        evidence = result["evidence"]
        seen = store.conn.execute("SELECT COUNT(DISTINCT item_id) FROM interactions "
                                  "WHERE user_id = 'u0001'").fetchone()[0]
        assert result["status"] in ("pass", "warn") and evidence["ranker"] == "content similarity"
        assert evidence["pool"] == 80 - seen + 3 and len(evidence["top_k"]) == 10
        assert evidence["ai_share_pool"] == pytest.approx(3 / evidence["pool"], abs=1e-4)
        in_top = sum(i in ai_items for i in evidence["top_k"])
        assert evidence["ai_share_top_k"] == pytest.approx(in_top / 10)
        for grouping in ("by_source", "by_creator_group"):
            assert sum(g["exposure"] for g in evidence[grouping].values()) == pytest.approx(1, abs=1e-3)
            assert sum(g["top_k"] for g in evidence[grouping].values()) == 10
        assert set(evidence["by_creator_group"]) == {"established", "emerging"}
        stored = store.conn.execute("SELECT status FROM checks WHERE generation_id = ? AND name = "
                                    "'fairness'", (gen,)).fetchone()[0]
        assert stored == result["status"]


def test_fairness_check_says_why_it_cannot_measure(small_demo, tmp_path):
    with open_store(copy_db(small_demo, tmp_path / "c.db")) as store:
        with store.transaction():
            gen = record_generation(store, "thumbnail", "u0001", "demo-0001", {}, {}, [])
            anonymous = record_generation(store, "thumbnail", None, "demo-0001", {}, {}, [])
        [result] = run_checks(store, gen, [fairness])
        assert result["status"] == "warn" and "exposure not measured" in result["evidence"]["text"]
        assert run_checks(store, anonymous, [fairness])[0]["status"] == "pass"


class Verdict:
    """A blocking check whose verdict the test chooses per generation."""
    name, blocking, version = "verdict", True, "0"

    def __init__(self, failing: set[str]):
        self.failing = failing

    def run(self, candidate, context) -> CheckResult:
        return CheckResult("fail" if candidate.generation["id"] in self.failing else "pass")


def test_outcome_parity_across_user_groups(small_demo, tmp_path, capsys):
    db = copy_db(small_demo, tmp_path / "c.db")
    with open_store(db) as store:
        groups = {u: json.loads(a)["group"] for u, a in store.conn.execute("SELECT id, attributes FROM users")}
        a_user = next(u for u, g in sorted(groups.items()) if g == "A")
        b_user = next(u for u, g in sorted(groups.items()) if g == "B")
        with store.transaction():
            gens = {u: [record_generation(store, "clip", u, "demo-0001", {}, {}, []) for _ in range(4)]
                    for u in (a_user, b_user)}
        failing = {gens[b_user][0], gens[b_user][1]}
        for gen in gens[a_user] + gens[b_user][:3]:        # one of B's is never checked
            run_checks(store, gen, [Verdict(failing)])
        with store.transaction():      # approvals as the review trail records them
            for gen in gens[a_user][:3] + gens[b_user][2:3]:
                insert_review(store, gen, "approve", "fine", None, "tester", None, "approved")
        report = outcome_parity(store, gens[a_user] + gens[b_user])
    by_group = report["attributes"]["group"]
    assert by_group["groups"]["A"] == {"generations": 4, "approved": 3, "checked": 4, "passed": 4,
                                       "approved_rate": 0.75, "passed_rate": 1.0}
    assert by_group["groups"]["B"] == {"generations": 4, "approved": 1, "checked": 3, "passed": 1,
                                       "approved_rate": 0.25, "passed_rate": pytest.approx(1 / 3, abs=1e-4)}
    assert by_group["approved_gap"] == 0.5 and by_group["passed_gap"] == pytest.approx(2 / 3, abs=1e-4)
    assert "approved rate differs by 50% across group" in report["flags"]
    assert sum(g["generations"] for g in report["attributes"]["age_band"]["groups"].values()) == 8
    assert main(["fairness", "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(report))


def test_age_bands_follow_the_rules():
    from core.fidelity.checks.fairness import _user_group

    bands = load_rules()["fairness"]["age_bands"]
    assert [_user_group({"age": a}, "age_band", bands) for a in (13, 18, 34, 35, 60)] == \
        ["<18", "18-34", "18-34", "35-54", "55+"]
    assert _user_group({}, "age_band", bands) == "unknown" and _user_group({}, "group", bands) == "unknown"
