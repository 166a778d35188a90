"""The corpus browser's columns and queries (core.corpus.browser), without Qt."""
from __future__ import annotations

import numpy as np
import pytest

from core.corpus.browser import ItemColumns, ItemQuery, corpus_snapshot, visible_rows
from core.store import open_store

ITEMS = [
    {"id": "b2", "title": "Blue circles", "source": "human", "status": "ok", "licence": "CC-BY"},
    {"id": "a1", "title": "apple stars", "source": "ai", "status": "ok", "licence": None},
    {"id": "c3", "title": "Red circles", "source": "human", "status": "failed",
     "licence": "CC0", "error": "c3.mp4: cannot decode"},
    {"id": "d4", "title": "blue circles", "source": "human", "status": "ok", "licence": "CC-BY"},
]


def ids(columns: ItemColumns, rows: np.ndarray) -> list[str]:
    return [columns.ids[k] for k in rows]


def test_rows_come_in_title_order_without_case_and_filters_combine():
    columns = ItemColumns.from_items(ITEMS)
    assert ids(columns, visible_rows(columns, ItemQuery())) == ["a1", "b2", "d4", "c3"]
    assert ids(columns, visible_rows(columns, ItemQuery(text="CIRCLES"))) == ["b2", "d4", "c3"]
    assert ids(columns, visible_rows(columns, ItemQuery(text="d4"))) == ["d4"]   # ids match too
    assert ids(columns, visible_rows(columns, ItemQuery(text="circles", status="ok"))) == ["b2", "d4"]
    assert ids(columns, visible_rows(columns, ItemQuery(source="ai"))) == ["a1"]
    assert ids(columns, visible_rows(columns, ItemQuery(licence="unknown"))) == ["a1"]
    assert ids(columns, visible_rows(columns, ItemQuery(licence="GPL"))) == []
    assert columns.categories["licence"].values == ("CC-BY", "CC0", "unknown")
    assert columns.item(columns.position("c3")) == {**ITEMS[2], "thumbnail_path": None}
    assert columns.position("zz") is None and columns.position("") is None


def test_preference_order_puts_the_best_first_ties_by_title_and_unscored_last():
    columns = ItemColumns.from_items(ITEMS)
    scores = columns.align(["zz", "c3", "b2", "d4"], np.array([5.0, 0.9, 0.1, 0.1]))
    query = ItemQuery(by_preference=True)
    assert ids(columns, visible_rows(columns, query, scores)) == ["c3", "b2", "d4", "a1"]
    assert ids(columns, visible_rows(columns, ItemQuery(), scores)) == ["a1", "b2", "d4", "c3"]
    assert ids(columns, visible_rows(columns, query, None)) == ["a1", "b2", "d4", "c3"]
    assert ids(columns, visible_rows(columns, ItemQuery(text="blue", by_preference=True),
                                     scores)) == ["b2", "d4"]


def test_an_empty_corpus_has_no_rows():
    columns = ItemColumns.from_items([])
    assert len(columns) == 0 and len(visible_rows(columns, ItemQuery(text="x", source="ai"))) == 0


def test_snapshot_of_a_real_corpus_matches_its_item_list(small_demo):
    from core.store.corpus import list_items

    with open_store(small_demo) as store:
        snapshot = corpus_snapshot(store)
        items = list_items(store, extra=("licence", "thumbnail_path"))
    columns = snapshot.columns
    assert snapshot.summary["items"] == len(columns) == len(items) == 12
    assert len(snapshot.users) == 8
    expected = sorted(items, key=lambda item: (item["title"].lower(), item["id"]))
    assert list(columns.ids) == [item["id"] for item in expected]
    for k, item in enumerate(expected):
        assert columns.item(k) == {key: item[key] if key != "licence" else item[key] or "unknown"
                                   for key in columns.item(k)}


@pytest.mark.parametrize("n", [200_000])
def test_a_large_list_filters_in_one_vectorised_pass(n):
    """Not a timing test: checks the answer on a list large enough that a per-row Python
    filter would be the slow path the browser replaced."""
    items = [{"id": f"i{k:06d}", "title": f"clip {k % 1000:03d}", "source": "human",
              "status": "ok"} for k in range(n)]
    columns = ItemColumns.from_items(items)
    rows = visible_rows(columns, ItemQuery(text="clip 007"))
    assert len(rows) == n // 1000
    assert all(columns.titles[k] == "clip 007" for k in rows)
    scores = columns.align([f"i{k:06d}" for k in range(n)], np.arange(n, dtype=float))
    best = visible_rows(columns, ItemQuery(text="clip 007", by_preference=True), scores)
    assert columns.ids[best[0]] == f"i{n - 1000 + 7:06d}"
