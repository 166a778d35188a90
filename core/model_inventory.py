"""The model manager: local weights (bundled, in the user data folder, beside the corpus) with
their sha256, and whether the checkpoints a corpus was indexed with are still on disk unchanged."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from core.hashing import file_sha256
from core.paths import RESOURCES, data_home, media_dir
from core.progress import Progress
from core.store import Store
from core.store.models import list_models

WEIGHT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin", ".ckpt")


def weight_folders(db_path: str | Path | None) -> list[Path]:
    folders = [RESOURCES, data_home() / "models"]
    if db_path is not None:
        folders.append(media_dir(db_path) / "models")
    return [f for f in folders if f.is_dir()]


def local_weights(db_path: str | Path | None, progress: Progress | None = None) -> list[dict[str, Any]]:
    """Every weight file under the weight folders: path, size in bytes, sha256."""
    progress = progress or Progress()
    files = sorted({p for folder in weight_folders(db_path) for p in folder.rglob("*")
                    if p.is_file() and p.suffix in WEIGHT_SUFFIXES})
    found = []
    for done, path in enumerate(files):
        progress.check_cancelled()
        progress.update(done, len(files), path.name)
        found.append({"path": str(path), "bytes": path.stat().st_size, "sha256": file_sha256(path)})
    progress.update(len(files), len(files), "hashed")
    return found


def verify_models(store: Store, weights: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each model the corpus registered, with `state`: "verified" when a local file has the
    sha256 it was indexed with, "missing" when none has, "unchecked" when none was recorded
    (a model fetched by name)."""
    by_sha = {w["sha256"]: w["path"] for w in weights}
    out = []
    for model in list_models(store):
        if not model["sha256"]:
            state, path = "unchecked", None
        else:
            path = by_sha.get(model["sha256"])
            state = "verified" if path else "missing"
        out.append({**model, "state": state, "path": path})
    return out
