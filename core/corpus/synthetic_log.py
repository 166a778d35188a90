"""A synthetic MicroLens-format log, for tests and benchmarks (the real files are not
redistributable): `pairs.tsv` (`user<TAB>item item ...`, each user's likes in order) and
`titles.csv` (`item,title`).

How it is made (all from one seed):
- Items belong to latent topics, each a (colour, shape, scene) triple from the demo corpus's
  vocabulary, so the bundled encoder's text tower can read them; an item's title names its
  topic's words (one of them swapped for another topic's now and then) and a hashtag.
  Popularity within a topic is Zipf-like.
- Each user prefers one to three topics. A sequence starts in a preferred topic; each next like
  stays in the previous like's topic (a session) or returns to a preferred one, and sometimes
  is the next episode of the previous item (item k+1 of the same topic): the order carries
  information that a sequential model can use and a set-based one cannot.
- A few items are fresh: they only ever appear as some user's last like, so under
  leave-one-out they are cold (no training interactions); only their title can place them.
- At least 5 likes per user (as in MicroLens), no item twice in a sequence.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.demo.vocabulary import COLOURS, SCENE_TITLES, SCENES, SHAPES

FILLER = ("wow", "watch this", "so good", "new", "today", "vlog", "must see", "part two",
          "my favourite", "again")


@dataclass(frozen=True)
class SyntheticLog:
    pairs: Path
    titles: Path
    users: int
    items: int
    interactions: int
    topics: int


@dataclass(frozen=True)
class LogSettings:
    users: int = 50_000
    items: int = 20_000
    mean_likes: float = 7.2         # 50,000 x 7.2 = 360,000
    min_likes: int = 5
    topics: int = 60
    stay_in_topic: float = 0.55     # next like from the previous like's topic
    next_episode: float = 0.3       # next like is the previous item's successor in its topic
    fresh_items: float = 0.03       # share of items that only appear as a last like
    fresh_last: float = 0.12        # chance that a user's last like is a fresh item
    zipf: float = 0.9
    seed: int = 0


def write_synthetic_log(folder: str | Path, settings: LogSettings = LogSettings()) -> SyntheticLog:
    s = settings
    rng = np.random.default_rng(s.seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    triples = [(c, sh, sc) for c in COLOURS for sh in SHAPES for sc in SCENES]
    topics = [triples[k] for k in rng.choice(len(triples), s.topics, replace=False)]
    # items sorted by topic: topic t holds items start[t] .. start[t+1]-1, the fresh ones last
    item_topic = np.sort(rng.integers(0, s.topics, s.items))
    start = np.searchsorted(item_topic, np.arange(s.topics + 1))
    fresh = np.zeros(s.items, bool)
    weights = np.zeros(s.items)
    for t in range(s.topics):
        n = start[t + 1] - start[t]
        n_fresh = int(round(n * s.fresh_items))
        fresh[start[t + 1] - n_fresh:start[t + 1]] = True
        weights[start[t]:start[t + 1] - n_fresh] = 1.0 / np.arange(1, n - n_fresh + 1) ** s.zipf
    cdf, fresh_cdf = _topic_cdfs(weights * ~fresh, start), _topic_cdfs(fresh.astype(float), start)

    n_prefs = rng.integers(1, 4, s.users)
    prefs = rng.integers(0, s.topics, (s.users, 3))
    lengths = s.min_likes + rng.poisson(s.mean_likes - s.min_likes, s.users)
    longest = int(lengths.max())
    seq = np.full((s.users, longest), -1, np.int64)
    for pos in range(longest):
        active = np.flatnonzero(lengths > pos)
        last = lengths[active] - 1 == pos
        topic = prefs[active, rng.integers(0, n_prefs[active])]
        item = np.full(len(active), -1, np.int64)
        if pos > 0:
            prev = seq[active, pos - 1]
            valid = prev >= 0                   # -1: a repeat was dropped there
            stay = (rng.random(len(active)) < s.stay_in_topic) & valid
            topic = np.where(stay, item_topic[prev], topic)
            # the last like follows the same process as the others: a held-out item drawn
            # otherwise (never a next episode) would make the test unlike the validation
            episode = (rng.random(len(active)) < s.next_episode) & valid
            successor = prev + 1
            ok = episode & (successor < s.items)
            ok[ok] &= (item_topic[successor[ok]] == item_topic[prev[ok]]) & ~fresh[successor[ok]]
            item[ok] = successor[ok]
        for _attempt in range(8):       # draw again where the item is a repeat
            todo = item < 0
            if pos > 0:
                todo |= (seq[active, :pos] == item[:, None]).any(axis=1)
            if not todo.any():
                break
            use_fresh = todo & last & (rng.random(len(active)) < s.fresh_last)
            use_fresh &= fresh_cdf[start[topic + 1] - 1] > topic
            for mask, table in ((todo & ~use_fresh, cdf), (use_fresh, fresh_cdf)):
                draws = topic[mask] + rng.random(mask.sum())
                item[mask] = np.minimum(np.searchsorted(table, draws, side="right"), s.items - 1)
        repeat = (seq[active, :pos] == item[:, None]).any(axis=1) if pos > 0 else False
        seq[active, pos] = np.where(repeat, -1, item)

    users = [f"{u + 1}" for u in range(s.users)]
    item_ids = [f"{i + 1}" for i in range(s.items)]
    n_interactions = 0
    with (folder / "pairs.tsv").open("w", encoding="utf-8") as out:
        for u, row in enumerate(seq):
            row = row[row >= 0]
            n_interactions += len(row)
            out.write(f"{users[u]}\t{' '.join(item_ids[i] for i in row)}\n")
    with (folder / "titles.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["item", "title"])
        for i in range(s.items):
            writer.writerow([item_ids[i], _title(topics[item_topic[i]], topics, rng)])
    return SyntheticLog(folder / "pairs.tsv", folder / "titles.csv", s.users, s.items,
                        n_interactions, s.topics)


def _topic_cdfs(weights: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per topic t, the cumulative weights of its items scaled into [t, t + 1): a draw for
    topic t is `searchsorted(cdf, t + u)` with u uniform in [0, 1)."""
    cdf = np.zeros(len(weights))
    for t in range(len(start) - 1):
        w = weights[start[t]:start[t + 1]]
        if w.sum() > 0:
            cdf[start[t]:start[t + 1]] = t + np.cumsum(w) / w.sum()
        else:
            cdf[start[t]:start[t + 1]] = t
    return cdf


def _title(topic: tuple[str, str, str], topics: list, rng: np.random.Generator) -> str:
    colour, shape, scene = topic
    if rng.random() < 0.2:                  # a word from another topic: titles are noisy
        other = topics[rng.integers(len(topics))]
        colour, shape, scene = [(colour, other[0], scene), (colour, shape, other[2]),
                                (other[0], shape, scene)][rng.integers(3)]
    words = [colour, shape, SCENE_TITLES[scene]]
    if rng.random() < 0.5:
        words.append(FILLER[rng.integers(len(FILLER))])
    return " ".join(words) + f" #{scene}{shape}"
