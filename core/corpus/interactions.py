"""Parse interaction files: CSV `user,item,kind,value,timestamp`, MicroLens-style CSV
`user,item,timestamp` or `item,user,timestamp` (each row a like), or MicroLens-style TSV
`user<TAB>item item item` (each pair a like, in order). Bad rows are reported, not fatal: each
as a `RowError` whose `reason` groups it for the summary."""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from core.errors import InputError
from core.store.corpus import INTERACTION_KINDS

CSV_HEADER = ["user", "item", "kind", "value", "timestamp"]
# MicroLens's pairs files: likes with a time, in either column order
LIKE_HEADERS = (["user", "item", "timestamp"], ["item", "user", "timestamp"])


@dataclass(frozen=True)
class RowError:
    """One skipped row: `reason` is its kind (what the summary counts), `message` the full text."""
    file: str
    line: int
    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class ParsedInteractions:
    rows: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_timestamp(text: str) -> float:
    """Unix seconds, or an ISO 8601 date-time (UTC when no zone is given)."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"bad timestamp {text!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.timestamp()
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"bad timestamp {text!r}")
    return value


def read_interactions(path: str | Path, known_items: set[str] | None = None,
                      known_users: set[str] | None = None) -> ParsedInteractions:
    """Rows naming items outside `known_items` or users outside `known_users` (each when
    given) are errors that name the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read interactions ({exc})") from exc
    lines = text.splitlines()
    if not lines:
        raise InputError(f"{path}: empty interactions file")
    header = [h.strip().lower().removesuffix("_id") for h in lines[0].split(",")]
    if header == CSV_HEADER:
        parsed = _parse_csv(path, lines)
    elif header in LIKE_HEADERS:
        parsed = _parse_like_csv(path, lines, header.index("user"), header.index("item"))
    elif "\t" in lines[0]:
        parsed = _parse_tsv(path, lines)
    else:
        raise InputError(f"{path}: unrecognised interactions format; expected a CSV with header "
                         f"'{','.join(CSV_HEADER)}' or 'user,item,timestamp', or TSV lines "
                         f"'user<TAB>item item ...'")
    if known_items is None and known_users is None:
        return ParsedInteractions([row for _, row in parsed.rows], parsed.errors)
    good = []
    for where, row in parsed.rows:
        if known_items is not None and row["item_id"] not in known_items:
            parsed.error(where, "unknown item", f"unknown item {row['item_id']!r}")
        elif known_users is not None and row["user_id"] not in known_users:
            parsed.error(where, "unknown user", f"unknown user {row['user_id']!r}")
        else:
            good.append(row)
    return ParsedInteractions(good, parsed.errors)


@dataclass
class _Located:
    path: Path
    rows: list[tuple[int, dict]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def error(self, line: int, reason: str, message: str) -> None:
        self.errors.append(RowError(str(self.path), line, reason, message))


class _BadRow(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _csv_rows(out: _Located, lines: list[str], n_fields: int):
    """(line number, stripped fields) of each non-blank row with `n_fields` fields."""
    strip = str.strip
    for line_no, fields in enumerate(csv.reader(lines[1:]), start=2):
        if not fields or not "".join(fields).strip():
            continue
        if len(fields) != n_fields:
            out.error(line_no, "wrong number of fields",
                      f"expected {n_fields} fields, got {len(fields)}")
            continue
        yield line_no, list(map(strip, fields))


def _timestamp(text: str) -> float:
    try:       # the common case first: Unix seconds (a million rows a minute, issue 17)
        value = float(text)
        if 0 <= value < math.inf:
            return value
    except ValueError:
        pass
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise _BadRow("bad timestamp", str(exc)) from None


def _parse_csv(path: Path, lines: list[str]) -> _Located:
    out = _Located(path)
    for line_no, (user, item, kind, value, ts) in _csv_rows(out, lines, len(CSV_HEADER)):
        try:
            if not user or not item:
                raise _BadRow("empty id", "empty user" if not user else "empty item")
            if kind not in INTERACTION_KINDS:
                raise _BadRow("unknown kind", f"unknown kind {kind!r} (expected one of "
                                              f"{', '.join(INTERACTION_KINDS)})")
            number = float(value) if value else 1.0
            if not math.isfinite(number):
                raise ValueError
        except _BadRow as exc:
            out.error(line_no, exc.reason, str(exc))
            continue
        except ValueError:
            out.error(line_no, "bad value", f"bad value {value!r}")
            continue
        try:
            row = {"user_id": user, "item_id": item, "kind": kind, "value": number,
                   "timestamp": _timestamp(ts)}
        except _BadRow as exc:
            out.error(line_no, exc.reason, str(exc))
            continue
        out.rows.append((line_no, row))
    return out


def _parse_like_csv(path: Path, lines: list[str], user_col: int, item_col: int) -> _Located:
    out = _Located(path)
    for line_no, fields in _csv_rows(out, lines, 3):
        user, item = fields[user_col], fields[item_col]
        if not user or not item:
            out.error(line_no, "empty id", "empty user" if not user else "empty item")
            continue
        try:
            ts = _timestamp(fields[2])
        except _BadRow as exc:
            out.error(line_no, exc.reason, str(exc))
            continue
        out.rows.append((line_no, {"user_id": user, "item_id": item, "kind": "like",
                                   "value": 1.0, "timestamp": ts}))
    return out


def _parse_tsv(path: Path, lines: list[str]) -> _Located:
    """No timestamps in this format: the order of items gives them (one second apart)."""
    out = _Located(path)
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[0].strip():
            out.error(line_no, "wrong number of fields",
                      f"expected 'user<TAB>item item ...', got {len(fields)} field(s)")
            continue
        user = fields[0].strip()
        for position, item in enumerate(fields[1].split()):
            out.rows.append((line_no, {"user_id": user, "item_id": item, "kind": "like",
                                       "value": 1.0, "timestamp": float(position)}))
    return out


def read_titles(path: str | Path) -> dict[str, str]:
    """Titles CSV `item,title` (a header row is optional)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read titles ({exc})") from exc
    if rows and [c.strip().lower().removesuffix("_id") for c in rows[0][:2]] == ["item", "title"]:
        rows = rows[1:]
    titles = {}
    for line_no, row in enumerate(rows, start=1):
        if len(row) < 2:
            raise InputError(f"{path}:{line_no}: expected 'item,title'")
        titles[row[0].strip()] = ",".join(row[1:]).strip()
    return titles


def read_user_ids(path: str | Path) -> set[str]:
    """Users CSV whose first column is the user id (header `user` or `id` optional)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = [r for r in csv.reader(handle) if r and r[0].strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read users ({exc})") from exc
    if rows and rows[0][0].strip().lower() in ("user", "id", "user_id"):
        rows = rows[1:]
    return {r[0].strip() for r in rows}
