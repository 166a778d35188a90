"""Queries of the evaluation: segment ground truth, item media, model specs, demo seeds."""
from __future__ import annotations

import json

from core.store.database import Store


def segment_attributes(store: Store) -> dict[str, list[tuple[float, float, dict]]]:
    """Per item, (start_s, end_s, attributes) of each segment whose attributes are known."""
    segments: dict[str, list] = {}
    for item_id, start, end, attrs in store.conn.execute(
            "SELECT item_id, start_s, end_s, attributes FROM segments "
            "WHERE attributes IS NOT NULL ORDER BY item_id, idx"):
        segments.setdefault(item_id, []).append((start, end, json.loads(attrs)))
    return segments


def thumbnail_times(store: Store) -> dict[str, float | None]:
    return dict(store.conn.execute("SELECT id, thumbnail_t_s FROM items"))


def item_media(store: Store, item_ids: list[str]) -> dict[str, dict]:
    """Path, thumbnail path and probe fields of the given items."""
    out = {}
    ids = list(dict.fromkeys(item_ids))
    for s in range(0, len(ids), 500):
        chunk = ids[s:s + 500]
        for row in store.conn.execute(
                "SELECT id, path, thumbnail_path, width, height, duration_s, fps, frames, codec, "
                f"rotation, has_audio FROM items WHERE id IN ({', '.join('?' * len(chunk))})", chunk):
            out[row[0]] = dict(row)
    return out


def model_spec(store: Store, model_id: str) -> str | None:
    """The encoder spec that indexed this corpus under `model_id`."""
    row = store.conn.execute("SELECT spec FROM models WHERE id = ?", (model_id,)).fetchone()
    return row[0] if row else None


def demo_builds(store: Store) -> list[dict]:
    """The demo corpora built into this database, as the audit log records them: one dict with
    seed, items and users per distinct seed, in build order."""
    builds: dict[int, dict] = {}
    for (details,) in store.conn.execute(
            "SELECT details FROM audit_log WHERE action = 'demo.build' ORDER BY id"):
        entry = json.loads(details or "{}")
        if entry.get("seed") is not None:
            builds.setdefault(int(entry["seed"]), entry)
    return list(builds.values())


def demo_seeds(store: Store) -> list[int]:
    """The seeds of the demo corpora built into this database (from the audit log)."""
    return [int(build["seed"]) for build in demo_builds(store)]


def user_truths(store: Store) -> dict[str, dict]:
    """The hidden ground-truth preferences of demo users."""
    return {user_id: json.loads(truth) for user_id, truth in store.conn.execute(
        "SELECT id, truth FROM users WHERE truth IS NOT NULL ORDER BY id")}
