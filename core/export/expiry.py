"""Expiry of AI content: an optional date set on export, carried in the provenance record and
the C2PA manifest; `purge_expired` removes expired AI items (never human ones) from the corpus
and deletes their files in the media folder. Times are UTC, 'YYYY-MM-DDTHH:MM:SSZ'."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core.errors import GenerecError, InputError
from core.paths import media_dir
from core.store import Store
from core.store.exports import clear_item_references, delete_ai_item, expired_ai_items


def format_instant(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str, field: str) -> datetime:
    """An ISO 8601 date or date-time; without a zone it is UTC, a bare date its midnight."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{field}: {text!r} is not an ISO 8601 date (e.g. 2030-01-31 or "
                         f"2030-01-31T12:00:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def expiry_from(expires_in_days: float | None = None, expires_at: str | None = None,
                now: datetime | None = None) -> str | None:
    """The expiry to record, from either a number of days or a date; None for none."""
    now = now or datetime.now(timezone.utc)
    if expires_in_days is not None and expires_at is not None:
        raise InputError("give --expires-in or --expires-at, not both")
    if expires_in_days is not None:
        if expires_in_days <= 0:
            raise InputError(f"--expires-in: {expires_in_days} days is not in the future")
        return format_instant(now + timedelta(days=expires_in_days))
    if expires_at is None:
        return None
    moment = parse_instant(expires_at, "--expires-at")
    if moment <= now:
        raise InputError(f"--expires-at: {expires_at} is not in the future")
    return format_instant(moment)


def purge_expired(store: Store, now: datetime | None = None, dry_run: bool = False) -> dict:
    """Remove AI items whose expiry has passed: rows in one transaction (interactions,
    frames and embeddings cascade; references from other rows are cleared), an audit entry
    each, then their files inside the media folder. Exported copies elsewhere are listed,
    not deleted: they left this installation."""
    now_text = format_instant(now or datetime.now(timezone.utc))
    rows = expired_ai_items(store, now_text)
    media = media_dir(store.path).resolve()
    removed = []
    for row in rows:
        paths = {Path(p) for p in (row["path"], row["thumbnail_path"], row["output_path"]) if p}
        removed.append({"item_id": row["id"], "expires_at": row["expires_at"],
                        "files": sorted(str(p) for p in paths if p.resolve().is_relative_to(media)),
                        "kept_outside_media": sorted(str(p) for p in paths
                                                     if not p.resolve().is_relative_to(media))})
    if not dry_run and removed:
        try:
            with store.transaction():
                for entry in removed:
                    # a generation made from it, an AI item derived from it, an instruction
                    # about it keep the id as text in their provenance, not as a reference
                    clear_item_references(store, entry["item_id"])
                    delete_ai_item(store, entry["item_id"])
                    store.audit("item.purged", entry["item_id"],
                                {"expires_at": entry["expires_at"], "now": now_text,
                                 "files": entry["files"]})
        except sqlite3.IntegrityError as exc:
            raise GenerecError(f"nothing was purged: a row still needs an expired item "
                               f"({exc})") from exc
        for entry in removed:      # after the commit: a crash leaves files, never dangling rows
            for name in entry["files"]:
                Path(name).unlink(missing_ok=True)
    return {"now": now_text, "dry_run": dry_run, "removed": removed}

