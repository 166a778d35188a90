"""Who is acting: the name that reviews and audit-log entries carry.

Precedence: an explicit name (`--reviewer`, the GUI's settings), then the `GENEREC_REVIEWER`
environment variable, then the operating-system user."""
from __future__ import annotations

import getpass
import os


def operator_name(explicit: str | None = None) -> str:
    if explicit and explicit.strip():
        return explicit.strip()
    if os.environ.get("GENEREC_REVIEWER", "").strip():
        return os.environ["GENEREC_REVIEWER"].strip()
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database entry (some containers)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"
