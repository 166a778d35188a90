"""Where approved AI items land in one user's ranking: the per-user panel of the operator's
app (issue 19). The ranking is the fairness check's (`core.fidelity.checks.fairness.
ranked_pool`): the catalogue's items with status ok that the user has not interacted with,
best first by the corpus browser's predicted score (MMGCN when one is trained for the
encoder, else content similarity to the liked thumbnails). AI items are the catalogue's items
with source 'ai': generations that were approved and exported into the corpus."""
from __future__ import annotations

from dataclasses import dataclass

from core.store import Store
from core.store.recommender import catalogue_sources


@dataclass(frozen=True)
class RankedItem:
    item_id: str
    position: int      # 1 = the user's first recommendation
    score: float       # the ranker's score
    source: str        # "human" or "ai"
    title: str
    made_for: str      # for an AI item, the user its generation was made for ("" otherwise)


@dataclass(frozen=True)
class UserRanking:
    user_id: str
    ranker: str                      # the MMGCN model's id, or "content similarity"
    k: int                           # the fairness check's top-K
    items: tuple[RankedItem, ...]    # the whole ranked pool, best first

    @property
    def ai_items(self) -> tuple[RankedItem, ...]:
        return tuple(i for i in self.items if i.source == "ai")

    @property
    def ai_in_top_k(self) -> int:
        return sum(i.position <= self.k for i in self.ai_items)

    @property
    def best_ai_position(self) -> int | None:
        return self.ai_items[0].position if self.ai_items else None


def ai_items_in_ranking(store: Store, user_id: str, encoder: str | None = None,
                        k: int | None = None) -> UserRanking:
    """The user's ranked pool with each item's position, score and source; raises InputError
    where nothing can rank (no index for the encoder, no liked item to compare with)."""
    from core.fidelity.base import load_rules
    from core.fidelity.checks.fairness import ranked_pool
    from core.recommender.service import predicted_scores

    pool, ranker = ranked_pool(store, user_id, encoder)
    scores = predicted_scores(store, encoder, user_id)
    catalogue = catalogue_sources(store)   # item id -> (source, title, user it was made for)
    items = tuple(RankedItem(item_id, position, float(scores[item_id]),
                             catalogue[item_id][0], catalogue[item_id][1], catalogue[item_id][2])
                  for position, item_id in enumerate(pool, start=1))
    return UserRanking(user_id, ranker, k or load_rules()["fairness"]["top_k"], items)
