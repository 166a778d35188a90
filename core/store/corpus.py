"""Queries on the corpus that the CLI, the GUI and later stages share."""
from __future__ import annotations

import json
import math
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from core.store.database import Store

if TYPE_CHECKING:
    from core.media.probe import VideoInfo

ITEM_LIST_KEYS = ("id", "title", "source", "status", "error", "width", "height", "duration_s",
                  "fps", "frames")
INTERACTION_KINDS = ("click", "like", "dislike", "dwell", "rating")
TEST_FRACTION = 0.2
BULK_ROWS = 50_000
BULK_CACHE_KIB = 256 * 1024     # page cache for bulk inserts (an upper bound)


def counts(store: Store) -> dict[str, int]:
    """`generec info --json`: items, failed items, items without media, users, interactions,
    indexed items."""
    one = lambda sql: store.conn.execute(sql).fetchone()[0]  # noqa: E731
    return {
        "items": one("SELECT COUNT(*) FROM items"),
        "failed": one("SELECT COUNT(*) FROM items WHERE status = 'failed'"),
        "no_media": one("SELECT COUNT(*) FROM items WHERE status = 'no-media'"),
        "users": one("SELECT COUNT(*) FROM users"),
        "interactions": one("SELECT COUNT(*) FROM interactions"),
        "indexed": one("SELECT COUNT(DISTINCT item_id) FROM embeddings WHERE kind = 'frame'"),
    }


def item_count(store: Store, at_most: int | None = None) -> int:
    """How many items the corpus has; with `at_most`, counting stops there (a bounded read,
    for deciding on the GUI thread whether a corpus is large)."""
    if at_most is None:
        return store.conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    return store.conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM items LIMIT ?)",
                              (at_most,)).fetchone()[0]


def mark_item_failed(store: Store, item_id: str, error: str) -> None:
    """An item whose video could not be read: kept, with the reason, out of every task."""
    store.conn.execute("UPDATE items SET status = 'failed', error = ? WHERE id = ?",
                       (error, item_id))


def insert_pending_item(store: Store, item_id: str, title: str, path: str) -> None:
    """A new video's item, `pending` until it is probed. Call inside a transaction."""
    store.conn.execute(
        "INSERT INTO items (id, title, source, path, status) VALUES (?, ?, 'human', ?, 'pending')",
        (item_id, title, path))


def mark_item_ok(store: Store, item_id: str, thumbnail_path: str, info: VideoInfo) -> None:
    """An item whose video was probed and checked: `ok`, with its thumbnail and probe fields."""
    store.conn.execute(
        "UPDATE items SET status = 'ok', error = NULL, thumbnail_path = ?, width = ?, "
        "height = ?, duration_s = ?, fps = ?, frames = ?, codec = ?, rotation = ?, "
        "has_audio = ? WHERE id = ?",
        (thumbnail_path, info.width, info.height, info.duration_s, info.fps, info.frames,
         info.codec, info.rotation, int(info.has_audio), item_id))


def set_item_title(store: Store, item_id: str, title: str) -> None:
    store.conn.execute("UPDATE items SET title = ? WHERE id = ?", (title, item_id))


def item_duration(store: Store, item_id: str) -> float:
    row = store.conn.execute("SELECT duration_s FROM items WHERE id = ?", (item_id,)).fetchone()
    return (row[0] if row else None) or 0.0


def list_items(store: Store, extra: Iterable[str] = ()) -> list[dict[str, Any]]:
    columns = ", ".join((*ITEM_LIST_KEYS, *extra))
    rows = store.conn.execute(f"SELECT {columns} FROM items ORDER BY id").fetchall()
    return [dict(row) for row in rows]


BROWSER_KEYS = ("id", "title", "source", "status", "licence", "thumbnail_path", "error")


def browser_rows(store: Store, chunk: int = 20_000) -> Iterator[list[tuple]]:
    """What the corpus browser shows of every item (the keys of BROWSER_KEYS), in title order
    (case-insensitive, then id), `chunk` rows at a time."""
    cursor = store.conn.cursor()
    cursor.row_factory = None                   # plain tuples: a million rows, no Row objects
    cursor.execute(f"SELECT {', '.join(BROWSER_KEYS)} FROM items "
                   f"ORDER BY title COLLATE NOCASE, id")
    while rows := cursor.fetchmany(chunk):
        yield rows


def get_item(store: Store, item_id: str) -> dict[str, Any] | None:
    row = store.conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
    return dict(row) if row else None


def list_users(store: Store) -> list[dict[str, Any]]:
    rows = store.conn.execute("SELECT id, name, attributes FROM users ORDER BY id").fetchall()
    return [{**dict(r), "attributes": json.loads(r["attributes"])} for r in rows]


def user_history(store: Store, user_id: str) -> list[dict[str, Any]]:
    rows = store.conn.execute(
        "SELECT i.item_id, i.kind, i.value, i.timestamp, i.split, it.title, it.thumbnail_path "
        "FROM interactions i JOIN items it ON it.id = i.item_id WHERE i.user_id = ? "
        "ORDER BY i.timestamp, i.id", (user_id,)).fetchall()
    return [dict(r) for r in rows]


def item_ids(store: Store) -> set[str]:
    return {r[0] for r in store.conn.execute("SELECT id FROM items")}


def add_no_media_items(store: Store, new: list[tuple[str, str, str | None]],
                       titles: dict[str, str]) -> int:
    """Add items without a video, (id, title, cover image path or None) each, as `no-media`;
    retitle existing `no-media` items from `titles`. Returns how many were added. Call inside
    a transaction."""
    before = store.conn.total_changes
    store.conn.executemany(
        "INSERT OR IGNORE INTO items (id, title, source, path, thumbnail_path, status) "
        "VALUES (?, ?, 'human', '', ?, 'no-media')", new)
    added = store.conn.total_changes - before
    store.conn.executemany("UPDATE items SET title = ? WHERE id = ? AND status = 'no-media'",
                           [(t, i) for i, t in titles.items()])
    return added


def give_video(store: Store, item_id: str, path: str, title: str | None) -> None:
    """A `no-media` item's video has arrived: it becomes `pending` with that file."""
    store.conn.execute("UPDATE items SET path = ?, status = 'pending', thumbnail_path = NULL, "
                       "title = COALESCE(?, title) WHERE id = ? AND status = 'no-media'",
                       (path, title, item_id))


def require_frames(store: Store, item_id: str, task: str) -> dict[str, Any]:
    """The item, when it has a usable video; otherwise a clear InputError for `task`."""
    from core.errors import InputError

    item = get_item(store, item_id)
    if item is None:
        raise InputError(f"unknown item {item_id!r}")
    if item["status"] == "no-media":
        raise InputError(f"item {item_id!r} has no video (imported from an interactions or "
                         f"titles file, status no-media): {task} needs its frames")
    if item["status"] != "ok":
        raise InputError(f"item {item_id!r} is {item['status']}"
                         f"{': ' + item['error'] if item['error'] else ''}; {task} needs its frames")
    return item


def recommendable_items(store: Store) -> list[str]:
    """Items a recommender ranks: those with a video (`ok`) or without one (`no-media`)."""
    return [r[0] for r in store.conn.execute(
        "SELECT id FROM items WHERE status IN ('ok', 'no-media') ORDER BY id")]


def ordered_likes(store: Store) -> list[tuple[str, str]]:
    """(user, item) of every like, each user's in time order (ties: the order of import)."""
    return [tuple(r) for r in store.conn.execute(
        "SELECT user_id, item_id FROM interactions WHERE kind = 'like' "
        "ORDER BY user_id, timestamp, id")]


def insert_users(store: Store, user_ids: Iterable[str]) -> None:
    store.conn.executemany("INSERT OR IGNORE INTO users (id, name) VALUES (?, ?)",
                           [(u, u) for u in user_ids])


def insert_interactions(store: Store, rows: Iterable[dict[str, Any]]) -> int:
    """Add interactions, ignoring exact repeats; returns how many were new. Call inside a
    transaction together with the users and items they name."""
    before = store.conn.total_changes
    rows = list(rows)
    if len(rows) > BULK_ROWS:
        # A million rows thrash SQLite's default 2 MB page cache on three indexes; inserting
        # each user's rows together (stable: ties keep the order of import) keeps them local.
        store.conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        rows.sort(key=itemgetter("user_id", "timestamp"))
    fields = itemgetter("user_id", "item_id", "kind", "value", "timestamp")
    store.conn.executemany(
        "INSERT OR IGNORE INTO interactions (user_id, item_id, kind, value, timestamp, split) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        ((*fields(row), row.get("split", "train")) for row in rows),
    )
    return store.conn.total_changes - before


def assign_splits(store: Store, user_ids: Iterable[str] | None = None,
                  test_fraction: float = TEST_FRACTION) -> None:
    """Hold out the latest `test_fraction` of each user's feedback events by time.

    Rows that share a timestamp (a click and a like on one view) stay on the same side.
    """
    sql = "SELECT id, user_id, timestamp, split FROM interactions"
    params: tuple = ()
    if user_ids is not None:
        ids = list(user_ids)
        if not ids:
            return
        sql += f" WHERE user_id IN ({', '.join('?' * len(ids))})"
        params = tuple(ids)
    updates = []
    rows = store.conn.execute(sql + " ORDER BY user_id, timestamp", params)
    for _, events in groupby(rows, key=itemgetter(1)):     # one user's events, by time
        events = list(events)
        times = sorted({event[2] for event in events})
        held_out = int(len(times) * test_fraction)
        cut = times[len(times) - held_out] if held_out else math.inf   # first held-out time
        for row_id, _, ts, now in events:
            split = "test" if ts >= cut else "train"
            if split != now:        # only rows whose side changes: most of an import stays
                updates.append((split, row_id))
    store.conn.executemany("UPDATE interactions SET split = ? WHERE id = ?", updates)


def list_generations(store: Store, user_id: str | None = None,
                     with_output_only: bool = True) -> list[dict[str, Any]]:
    """Newest first; pending ones are what the review panel works through."""
    sql = ("SELECT g.id, g.task, g.user_id, g.item_id, g.output_path, g.status, g.scores, "
           "g.params, g.created_at, i.title FROM generations g LEFT JOIN items i "
           "ON i.id = g.item_id WHERE 1 = 1")
    params: list = []
    if user_id is not None:
        sql += " AND g.user_id = ?"
        params.append(user_id)
    if with_output_only:
        sql += " AND g.output_path IS NOT NULL"
    rows = store.conn.execute(sql + " ORDER BY g.created_at DESC, g.id", params).fetchall()
    return [{**dict(r), "scores": json.loads(r["scores"]), "params": json.loads(r["params"])}
            for r in rows]


def user_summary(store: Store, user_id: str) -> dict[str, Any]:
    """Counts of feedback, the categories and creators liked most, and (demo corpus only) the
    hidden ground-truth preferences."""
    row = store.conn.execute("SELECT attributes, truth FROM users WHERE id = ?",
                             (user_id,)).fetchone()
    if row is None:
        raise KeyError(user_id)
    kinds = dict(store.conn.execute(
        "SELECT kind, COUNT(*) FROM interactions WHERE user_id = ? GROUP BY kind", (user_id,)))
    top = lambda column: [r[0] for r in store.conn.execute(  # noqa: E731
        f"SELECT it.{column} FROM interactions i JOIN items it ON it.id = i.item_id "
        f"WHERE i.user_id = ? AND i.kind = 'like' AND it.{column} IS NOT NULL "
        f"GROUP BY it.{column} ORDER BY COUNT(*) DESC, it.{column} LIMIT 3", (user_id,))]
    return {"attributes": json.loads(row["attributes"]), "feedback": kinds,
            "top_categories": top("category"), "top_creators": top("creator_id"),
            "truth": json.loads(row["truth"]) if row["truth"] else None}


def latest_generations(store: Store, user_id: str, item_id: str) -> dict[str, dict[str, Any]]:
    """The newest generation with an output per task for one user and item."""
    latest: dict[str, dict[str, Any]] = {}
    for row in list_generations(store, user_id):
        if row["item_id"] == item_id and row["task"] not in latest:
            latest[row["task"]] = row
    return latest


def item_segments(store: Store, item_id: str) -> list[tuple[float, float]]:
    return [(start, end) for start, end, _ in captioned_segments(store, item_id)]


def captioned_segments(store: Store, item_id: str) -> list[tuple[float, float, str]]:
    """(start_s, end_s, caption) of each of the item's segments, in order."""
    return [(r[0], r[1], r[2]) for r in store.conn.execute(
        "SELECT start_s, end_s, caption FROM segments WHERE item_id = ? ORDER BY idx", (item_id,))]


def human_videos(store: Store) -> list[dict[str, Any]]:
    """id, path and title of every usable (`ok`) item that is not AI-made, by id."""
    return [dict(r) for r in store.conn.execute(
        "SELECT id, path, title FROM items WHERE status = 'ok' AND source != 'ai' ORDER BY id")]


def item_paths(store: Store, item_ids: list[str]) -> dict[str, str]:
    """Item id -> media path, for the items of `item_ids` that exist."""
    return {r[0]: r[1] for r in _rows_for_ids(store, "SELECT id, path FROM items WHERE id IN ({})",
                                              item_ids)}


def items_with_video(store: Store) -> list[str]:
    """Items whose frames tasks can use (status `ok`), by id."""
    return [r[0] for r in store.conn.execute("SELECT id FROM items WHERE status = 'ok' ORDER BY id")]


def user_ids(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT id FROM users ORDER BY id")]


def liked_item_ids(store: Store, user_id: str, split: str | None = "train") -> list[str] | None:
    """The items a user liked (in one split, or all), by id; None for an unknown user."""
    if store.conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone() is None:
        return None
    sql = "SELECT DISTINCT item_id FROM interactions WHERE user_id = ? AND kind = 'like'"
    params: tuple = (user_id,)
    if split is not None:
        sql += " AND split = ?"
        params += (split,)
    return [r[0] for r in store.conn.execute(sql + " ORDER BY item_id", params)]


def interacted_item_ids(store: Store, user_id: str) -> set[str]:
    """The items the user has any feedback on (every kind, both splits)."""
    return {r[0] for r in store.conn.execute(
        "SELECT DISTINCT item_id FROM interactions WHERE user_id = ?", (user_id,))}


def training_likers(store: Store) -> dict[str, list[str]]:
    """item id -> the users who liked it in the training split."""
    out: dict[str, list[str]] = {}
    for user_id, item_id in store.conn.execute(
            "SELECT DISTINCT user_id, item_id FROM interactions WHERE kind = 'like' "
            "AND split = 'train' ORDER BY item_id, user_id"):
        out.setdefault(item_id, []).append(user_id)
    return out


def users_with_likes(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute(
        "SELECT DISTINCT user_id FROM interactions WHERE kind = 'like' ORDER BY user_id")]


def _rows_for_ids(store: Store, sql: str, ids: Iterable[str], params: Sequence = ()) -> list[tuple]:
    """`sql` (with one `IN ({})`) over ids in chunks below SQLite's bound-parameter limit;
    `params` bind the placeholders before the `IN`."""
    ids, rows = list(ids), []
    for start in range(0, len(ids), 900):
        chunk = ids[start:start + 900]
        rows += store.conn.execute(sql.format(",".join("?" * len(chunk))),
                                   (*params, *chunk)).fetchall()
    return rows


def existing_generations(store: Store, generation_ids: Iterable[str]) -> set[str]:
    """Those of the ids that are recorded generations."""
    return {r[0] for r in _rows_for_ids(store, "SELECT id FROM generations WHERE id IN ({})",
                                         generation_ids)}


def existing_users(store: Store, user_ids: Iterable[str]) -> set[str]:
    """Those of the ids that are users."""
    return {r[0] for r in _rows_for_ids(store, "SELECT id FROM users WHERE id IN ({})", user_ids)}


def item_statuses(store: Store, item_ids: Iterable[str]) -> dict[str, str]:
    """item id -> status, for those of the ids that are items."""
    return {r[0]: r[1] for r in _rows_for_ids(store, "SELECT id, status FROM items WHERE id IN ({})",
                                              item_ids)}


def first_caption(store: Store, item_id: str) -> str:
    """The caption of the item's first segment ('' where it has none)."""
    row = store.conn.execute("SELECT caption FROM segments WHERE item_id = ? ORDER BY idx LIMIT 1",
                             (item_id,)).fetchone()
    return (row[0] or "") if row else ""
