"""Where things live: the user data folder, the default corpus, bundled resources."""
from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "GeneRecStudio"


def _resources_dir() -> Path:
    """`resources/` beside the packages in a source checkout; in a PyInstaller bundle, the
    `resources/` folder the spec copies into the bundle's data folder (`sys._MEIPASS`)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if getattr(sys, "frozen", False) and bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


RESOURCES = _resources_dir()


def data_home() -> Path:
    """The user data folder; `GENEREC_HOME` overrides the platform default."""
    override = os.environ.get("GENEREC_HOME")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    return data_home() / "corpus.db"


def media_dir(db_path: str | os.PathLike) -> Path:
    """Folder beside a corpus database that holds its videos, thumbnails and outputs."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.stem + "_media")
