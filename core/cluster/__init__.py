"""The optional Ray path (DESIGN.md section 1): the same jobs over Ray Data, results as Parquet
shards merged into SQLite by one writer. Needs the `cluster` extra."""
from __future__ import annotations

from core.errors import InputError

INSTALL_HINT = "pip install 'generec-studio[cluster]'"


class ClusterUnavailable(InputError):
    """Ray (or pyarrow) is not installed; the message says how to install it."""


def require_ray():
    """The `ray` module, or a ClusterUnavailable that says how to install the extra."""
    try:
        import pyarrow  # noqa: F401
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ClusterUnavailable(f"--ray needs Ray Data, which is not installed ({exc.name}); "
                                 f"install the cluster extra: {INSTALL_HINT}") from exc
    return ray
