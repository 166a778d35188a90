"""Opening a corpus: WAL, foreign keys, schema version and migrations."""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import sqlite_utils

from core.errors import SchemaError
from core.store.schema import MIGRATIONS, SCHEMA_VERSION


class Store:
    """One connection to a corpus database. Open one per thread; SQLite serialises writers."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        self.db = sqlite_utils.Database(conn)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise SchemaError(f"{self.path}: not a usable SQLite database ({exc})") from exc
        except SchemaError:
            conn.close()
            raise

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        if self.schema_version == SCHEMA_VERSION:
            return
        # Take the write lock before reading the version again, so that two processes opening
        # a new corpus at once do not both migrate it. A migration applies whole or not at all.
        # Foreign keys are off meanwhile (the pragma is a no-op inside a transaction), so that a
        # migration may rebuild a table as SQLite documents (dropping a parent table with them
        # on would cascade); the foreign key check below stands in for them.
        self.conn.execute("PRAGMA foreign_keys = OFF")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            version = self.schema_version
            if version > SCHEMA_VERSION:
                raise SchemaError(
                    f"{self.path}: schema version {version} was written by a newer GeneRec "
                    f"Studio; this version understands up to {SCHEMA_VERSION}. Upgrade the app.")
            if version == 0 and self.db.table_names():
                raise SchemaError(f"{self.path}: holds tables but is not a GeneRec Studio corpus")
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _statements(MIGRATIONS[target - 1]):
                    self.conn.execute(statement)
            broken = self.conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise SchemaError(f"{self.path}: migrating to version {SCHEMA_VERSION} would "
                                  f"break {len(broken)} foreign key(s), first in table "
                                  f"{broken[0][0]!r}; nothing was changed")
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        finally:
            self.conn.execute("PRAGMA foreign_keys = ON")

    # -- transactions and the audit log ---------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator["Store"]:
        """All writes inside commit together or not at all (nested blocks use savepoints)."""
        with self.db.atomic():
            yield self

    def audit(self, action: str, target: str | None = None, details: dict[str, Any] | None = None,
              actor: str = "") -> None:
        """Append an entry chained to the previous one (see `audit_chain`); the actor defaults
        to the operator (core.operator)."""
        from core.operator import operator_name
        from core.store.audit import entry_hash, now

        with self.transaction():
            row = self.conn.execute("SELECT hash FROM audit_log WHERE hash IS NOT NULL "
                                    "ORDER BY id DESC LIMIT 1").fetchone()
            prev = row[0] if row else ""
            entry = {"ts": now(), "actor": operator_name(actor), "action": action, "target": target,
                     "details": json.dumps(details or {}, sort_keys=True)}
            self.conn.execute(
                "INSERT INTO audit_log (ts, actor, action, target, details, prev_hash, hash) "
                "VALUES (:ts, :actor, :action, :target, :details, :prev, :hash)",
                {**entry, "prev": prev, "hash": entry_hash(prev, entry)})

    def integrity_ok(self) -> bool:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (trigger bodies hold semicolons of their own)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:60]}")


def open_store(path: str | Path) -> Store:
    return Store(path)
