"""Shilling signal: were the likes that guided a generation planted?

The guiding likes are the generation user's training likes (what t̄ and the recommender learn
from). Three statistics, thresholds in `rules["safety"]["shilling"]`:

- own burst: the most training likes the user gave within any `burst_window_s`, counted only
  when the account was younger than `young_account_days` at the burst. Fires at
  `min_burst_likes` or more (a freshly made account that likes a list of items at once).
- young co-likers: distinct other accounts that liked one of the guiding items within
  `co_like_window_s` of this user's like of it while younger than `young_account_days`.
  Fires at `min_young_co_likers` or more (a burst of likes from young accounts).
- near-identical histories: Jaccard similarity of the user's whole like history with every
  other account's, among histories of at least `min_history_likes` likes; reports the maximum
  and the number of accounts at `similar_jaccard` or above. Fires at `min_similar_accounts`
  or more (coordinated injection copies one profile many times).

Account age comes from `users.attributes["account_created"]` (Unix seconds) where present,
else `users.created_at`; a like recorded before the account's creation (an imported history)
has an unknown age and never counts as young. Status: pass when nothing fires; fail when the
similarity statistic fires together with a burst statistic (coordinated and fresh); warn
otherwise. Score: the share of statistics that did not fire.
"""
from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Iterable

import numpy as np

from core.store import Store
from core.store.corpus import assign_splits, insert_interactions, items_with_video
from core.store.fidelity import (co_like_times, co_liker_like_times, first_like_times,
                                 insert_users_with_attributes, user_creation_rows)

DAY_S = 86400.0


def _account_created(store: Store, user_ids: Iterable[str]) -> dict[str, float | None]:
    created: dict[str, float | None] = {}
    for user_id, attributes, created_at in user_creation_rows(store, user_ids):
        value = json.loads(attributes or "{}").get("account_created")
        if value is None and created_at:
            value = datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp()
        created[user_id] = float(value) if value is not None else None
    return created


def _young(created: float | None, ts: float, young_s: float) -> bool:
    return created is not None and 0.0 <= ts - created < young_s


def _densest_window(times: list[float], window_s: float) -> tuple[int, float | None]:
    """The most events within any `window_s`, and when that window starts."""
    times = sorted(times)
    best, start, left = 0, None, 0
    for right, t in enumerate(times):
        while t - times[left] > window_s:
            left += 1
        if right - left + 1 > best:
            best, start = right - left + 1, times[left]
    return best, start


def _similar_histories(store: Store, user_id: str, min_likes: int, threshold: float) -> dict:
    mine = {item for _, item, _ in first_like_times(store, user_id)}
    if len(mine) < min_likes:
        return {"history_likes": len(mine), "max_jaccard": None, "similar_accounts": [],
                "note": f"fewer than {min_likes} likes: similarity not assessed"}
    others: dict[str, set[str]] = {}
    for other, item, _ in co_liker_like_times(store, user_id, mine):
        others.setdefault(other, set()).add(item)
    scores = {other: len(mine & items) / len(mine | items)
              for other, items in others.items() if len(items) >= min_likes}
    similar = sorted((o for o, j in scores.items() if j >= threshold), key=lambda o: -scores[o])
    return {"history_likes": len(mine), "max_jaccard": round(max(scores.values(), default=0.0), 4),
            "similar_accounts": similar}


def shilling_signal(store: Store, generation: dict, rules: dict) -> dict:
    """{"status", "score", "text", "spans", "statistics", "accounts"} for one generation."""
    cfg = rules["safety"]["shilling"]
    young_s = cfg["young_account_days"] * DAY_S
    user_id = generation.get("user_id")
    guiding = {item: ts for _, item, ts in first_like_times(store, user_id, "train")}
    if not user_id or not guiding:
        return {"status": "pass", "score": None, "text": "no likes guided this generation",
                "spans": [], "statistics": {}, "accounts": []}
    # Own burst from a young account.
    burst, burst_start = _densest_window(list(guiding.values()), cfg["burst_window_s"])
    own_created = _account_created(store, [user_id]).get(user_id)
    own_young = burst_start is not None and _young(own_created, burst_start, young_s)
    # Young accounts that liked the same items around the same time.
    co_likes = co_like_times(store, user_id, guiding)
    near = [(other, ts) for other, item, ts in co_likes
            if abs(ts - guiding[item]) <= cfg["co_like_window_s"]]
    created = _account_created(store, {other for other, _ in near})
    young_co = sorted({other for other, ts in near if _young(created.get(other), ts, young_s)})
    similarity = _similar_histories(store, user_id, cfg["min_history_likes"], cfg["similar_jaccard"])

    fired = {
        "own_burst": own_young and burst >= cfg["min_burst_likes"],
        "young_co_likers": len(young_co) >= cfg["min_young_co_likers"],
        "near_identical_histories": len(similarity["similar_accounts"]) >= cfg["min_similar_accounts"],
    }
    statistics = {
        "guiding_likes": len(guiding),
        "own_burst_likes": burst, "own_account_young_at_burst": own_young,
        "co_likers_in_window": len({other for other, _ in near}), "young_co_likers": len(young_co),
        "max_jaccard": similarity["max_jaccard"],
        "similar_accounts": len(similarity["similar_accounts"]), "fired": fired,
    }
    accounts = sorted(set(young_co) | set(similarity["similar_accounts"]))[:20]
    n_fired = sum(fired.values())
    score = 1.0 - n_fired / len(fired)
    if not n_fired:
        return {"status": "pass", "score": score, "spans": [], "statistics": statistics,
                "accounts": [], "text": f"no shilling signal in {len(guiding)} guiding likes "
                f"(max history similarity {similarity['max_jaccard']})"}
    coordinated = fired["near_identical_histories"] and (fired["own_burst"] or fired["young_co_likers"])
    parts = []
    if fired["own_burst"]:
        parts.append(f"{burst} likes within {cfg['burst_window_s']:g} s from an account "
                     f"under {cfg['young_account_days']} days old")
    if fired["young_co_likers"]:
        parts.append(f"{len(young_co)} young accounts liked the same items at the same time")
    if fired["near_identical_histories"]:
        parts.append(f"{len(similarity['similar_accounts'])} accounts with near-identical like "
                     f"histories (Jaccard >= {cfg['similar_jaccard']}, max {similarity['max_jaccard']})")
    return {"status": "fail" if coordinated else "warn", "score": score, "spans": [],
            "statistics": statistics, "accounts": accounts,
            "text": "possible shilling: " + "; ".join(parts)}


def inject_shilling_accounts(store: Store, target_items: list[str], n_accounts: int = 10,
                             n_filler: int = 1, now: float | None = None, seed: int = 0,
                             prefix: str = "shill") -> list[str]:
    """What an attacker does: create `n_accounts` accounts now, each liking every target item
    (plus `n_filler` random other items as camouflage) within a few minutes. For tests and
    red-team demos; returns the new account ids."""
    rng = np.random.default_rng(seed)
    now = time.time() if now is None else now
    catalogue = [i for i in items_with_video(store) if i not in set(target_items)]
    ids, rows = [], []
    for k in range(n_accounts):
        user_id = f"{prefix}-{seed}-{k:04d}"
        ids.append(user_id)
        filler = rng.choice(catalogue, size=min(n_filler, len(catalogue)), replace=False).tolist()
        t = now + float(rng.uniform(0, 600))
        for item in rng.permutation(list(target_items) + filler).tolist():
            t += float(rng.uniform(5, 30))
            rows += [{"user_id": user_id, "item_id": item, "kind": kind, "value": 1.0,
                      "timestamp": round(t, 3)} for kind in ("click", "like")]
    with store.transaction():
        insert_users_with_attributes(store, [(u, u, json.dumps({"account_created": now})) for u in ids])
        insert_interactions(store, rows)
        assign_splits(store, ids)
    return ids
