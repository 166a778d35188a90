"""Queries of the pipeline tasks (issue 14): what the user's liked items look like and are
called, for an IP-Adapter's image prompt and a creation's text prompt."""
from __future__ import annotations

from typing import Any, Iterable

from core.store.corpus import _rows_for_ids
from core.store.database import Store


def item_covers(store: Store, item_ids: Iterable[str]) -> list[dict[str, Any]]:
    """id, title and thumbnail_path of each of the items that exist, in the order given."""
    ids = list(item_ids)
    rows = {r[0]: {"id": r[0], "title": r[1], "thumbnail_path": r[2]} for r in _rows_for_ids(
        store, "SELECT id, title, thumbnail_path FROM items WHERE id IN ({})", ids)}
    return [rows[i] for i in ids if i in rows]
