"""Observable UI state shared by the docks: which corpus, user, item and generation are
selected (krita-ai-diffusion's model/ layer: properties with change signals, no logic)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal


class AppState(QObject):
    user_changed = Signal(str)
    item_changed = Signal(str)
    generation_changed = Signal(str)
    corpus_changed = Signal()          # items, users or generations were added or changed

    def __init__(self, db_path: Path, encoder: str = "bundled") -> None:
        super().__init__()
        self.db_path = Path(db_path)
        self.encoder = encoder
        self.user_id = ""
        self.item_id = ""
        self.generation_id = ""

    def set_user(self, user_id: str) -> None:
        if user_id != self.user_id:
            self.user_id = user_id
            self.user_changed.emit(user_id)

    def set_item(self, item_id: str) -> None:
        if item_id != self.item_id:
            self.item_id = item_id
            self.item_changed.emit(item_id)

    def set_generation(self, generation_id: str) -> None:
        if generation_id != self.generation_id:
            self.generation_id = generation_id
            self.generation_changed.emit(generation_id)
