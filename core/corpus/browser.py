"""The corpus browser's list as columns, filtered and sorted with numpy (issue 17).

A million items as a million Python dicts, filtered and compared one Python call at a time,
froze the GUI for seconds. Here the list is loaded once per reload into arrays; a filter is one
vectorised substring search and a few integer comparisons (about 30 ms for 1,000,000 items),
and the preference sort one argsort. numpy releases the GIL for both, so the GUI thread keeps
painting while a worker computes the visible rows. No Qt here: desktop/corpus_model.py shows
the rows `visible_rows` selects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from core.gc_control import collection_paused
from core.store import Store
from core.store.corpus import BROWSER_KEYS, browser_rows, counts, list_users

ANY = "any"
FILTER_FIELDS = ("source", "status", "licence")
UNKNOWN_LICENCE = "unknown"
CHUNK = 20_000        # rows per GIL-holding step


@dataclass(frozen=True)
class Category:
    """A column of few distinct values: one small integer per item, values sorted."""
    values: tuple[str, ...]
    codes: np.ndarray

    def matches(self, value: str) -> np.ndarray | None:
        """Which items hold `value`; None when every item passes (`any`)."""
        if value == ANY:
            return None
        if value not in self.values:
            return np.zeros(len(self.codes), dtype=bool)
        return self.codes == self.values.index(value)


class _CategoryBuilder:
    """Codes a column chunk by chunk, in the order values first appear; sorted at the end."""

    def __init__(self) -> None:
        self.code_of: dict[str, int] = {}
        self.parts: list[np.ndarray] = []

    def add(self, values: tuple) -> None:
        code_of = self.code_of
        self.parts.append(np.fromiter((code_of.setdefault(v, len(code_of)) for v in values),
                                      dtype=np.int32, count=len(values)))

    def build(self) -> Category:
        values = sorted(self.code_of)
        remap = np.zeros(len(values), dtype=np.int32)
        for rank, value in enumerate(values):
            remap[self.code_of[value]] = rank
        codes = np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int32)
        return Category(tuple(values), remap[codes])


@dataclass(frozen=True)
class ItemColumns:
    """Every item of the corpus, in title order."""
    ids: tuple[str, ...]
    titles: tuple[str, ...]
    thumbnails: tuple[str | None, ...]
    errors: tuple[str | None, ...]
    categories: dict[str, Category]
    haystack: tuple[np.ndarray, ...]   # lower-cased "title id" in chunks: the text filter's
    #                                    input (one 150 MB array would be copied in one step)
    id_order: np.ndarray = field(repr=False)     # argsort of the ids
    sorted_ids: np.ndarray = field(repr=False)   # the ids in that order, for binary search

    @classmethod
    def load(cls, store: Store) -> ItemColumns:
        # Millions of new tuples would trigger collections that each walk all of them while
        # holding the GIL (stalls growing to 100 ms); they form no cycles, so none is needed.
        with collection_paused():
            return cls.of_chunks(browser_rows(store))

    @classmethod
    def from_items(cls, items: list[dict]) -> ItemColumns:
        """Columns of item dicts (with at least id and title), as `load` orders them."""
        items = sorted(items, key=lambda item: (item["title"].lower(), item["id"]))
        return cls.of_chunks([[tuple(item.get(key) for key in BROWSER_KEYS) for item in items]])

    @classmethod
    def of_chunks(cls, chunks: Iterable[list[tuple]]) -> ItemColumns:
        """Columns from rows (values in BROWSER_KEYS order, title order), a chunk at a time:
        no single step holds the GIL for long, so the GUI thread keeps painting while a
        worker loads a million items."""
        kept = {key: [] for key in ("id", "title", "thumbnail_path", "error")}
        builders = {name: _CategoryBuilder() for name in FILTER_FIELDS}
        haystack, id_parts = [], []
        for rows in filter(None, chunks):
            chunk = dict(zip(BROWSER_KEYS, zip(*rows)))
            chunk["licence"] = tuple(v or UNKNOWN_LICENCE for v in chunk["licence"])
            for key, column in kept.items():
                column.extend(chunk[key])
            for name, builder in builders.items():
                builder.add(chunk[name])
            id_parts.append(np.array(chunk["id"], dtype=str))
            haystack.append(np.strings.lower(np.strings.add(np.strings.add(
                np.array(chunk["title"], dtype=str), " "), id_parts[-1])))
        # sorted ids, not a dict, find items: growing a million-key dict rehashes it in one
        # GIL-held step
        id_array = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=str)
        id_order = np.argsort(id_array, kind="stable")
        return cls(tuple(kept["id"]), tuple(kept["title"]), tuple(kept["thumbnail_path"]),
                   tuple(kept["error"]),
                   {name: builder.build() for name, builder in builders.items()},
                   tuple(haystack), id_order, id_array[id_order])

    def __len__(self) -> int:
        return len(self.ids)

    def position(self, item_id: str) -> int | None:
        """The index of an item in the columns; None when the corpus has no such item."""
        k = int(np.searchsorted(self.sorted_ids, item_id))
        found = k < len(self.sorted_ids) and self.sorted_ids[k] == item_id
        return int(self.id_order[k]) if found else None

    def value(self, name: str, k: int) -> str:
        category = self.categories[name]
        return category.values[category.codes[k]]

    def item(self, k: int) -> dict:
        """Item k as the dict a tile paints."""
        return {"id": self.ids[k], "title": self.titles[k], "thumbnail_path": self.thumbnails[k],
                "error": self.errors[k], **{name: self.value(name, k) for name in FILTER_FIELDS}}

    def align(self, item_ids: Sequence[str], values: np.ndarray) -> np.ndarray:
        """`values` of `item_ids` aligned with the columns; -inf (listed last) where an item has
        none. Looked up by binary search a chunk at a time: no long GIL hold."""
        aligned = np.full(len(self), -np.inf)
        if not len(self):
            return aligned
        for lo in range(0, len(item_ids), CHUNK):
            ids = np.array(item_ids[lo:lo + CHUNK], dtype=str)
            k = np.minimum(np.searchsorted(self.sorted_ids, ids), len(self) - 1)
            found = self.sorted_ids[k] == ids
            aligned[self.id_order[k[found]]] = np.asarray(values[lo:lo + CHUNK])[found]
        return aligned


@dataclass(frozen=True)
class ItemQuery:
    """What the operator asked to see: a text filter, one value per filter field (or `any`),
    and the order."""
    text: str = ""
    source: str = ANY
    status: str = ANY
    licence: str = ANY
    by_preference: bool = False


def visible_rows(columns: ItemColumns, query: ItemQuery,
                 scores: np.ndarray | None = None) -> np.ndarray:
    """Indices into `columns` of the items `query` shows, in the order it shows them: title
    order, or highest score first (ties in title order) when sorting by preference with
    scores at hand."""
    keep = np.ones(len(columns), dtype=bool)
    text = query.text.strip().lower()
    if text:
        keep &= np.concatenate([np.strings.find(part, text) >= 0 for part in columns.haystack]
                               or [np.zeros(0, dtype=bool)])
    for name in FILTER_FIELDS:
        match = columns.categories[name].matches(getattr(query, name))
        if match is not None:
            keep &= match
    rows = np.flatnonzero(keep)
    if query.by_preference and scores is not None:
        rows = rows[np.argsort(-scores[rows], kind="stable")]
    return rows


@dataclass(frozen=True)
class CorpusSnapshot:
    """What the main window shows of a corpus when it (re)loads it."""
    columns: ItemColumns
    summary: dict[str, int]
    users: list[dict]


def corpus_snapshot(store: Store) -> CorpusSnapshot:
    return CorpusSnapshot(ItemColumns.load(store), counts(store), list_users(store))
