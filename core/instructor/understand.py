"""Understand one instruction: intent, style, topic and clip length, by cue words (after typo
correction) backed by similarity to prototype phrasings (character trigrams), plus a few
rules for the cases where one cue outweighs the rest."""
from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from core.instructor.lexicon import CUES, PROTOTYPES, STYLE_SYNONYMS

INTENTS = ("retrieve", "thumbnail", "clip", "style", "revise", "create", "chat")
SIMILARITY_WEIGHT = 3.0
STOPWORDS = {"the", "a", "an", "this", "that", "it", "one", "video", "clip", "please", "pls",
             "me", "my", "of", "with", "some", "just", "only", "in", "to", "for"}
TOPIC_PATTERN = re.compile(
    r"\b(?:of|with|about|showing|featuring|where|containing|has|have)\s+(?:the|a|an|some|my)?\s*"
    r"(?P<topic>[a-z][a-z ]*?)(?:\s+(?:in|as|with|at the end|please|pls|style|look)\b.*)?$")
ALIASES = {"vid": "video", "vids": "videos", "pic": "picture", "thx": "thanks"}
SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)\b")


@dataclass
class Understanding:
    intent: str
    style: str | None = None
    topic: str | None = None
    clip_seconds: float | None = None
    confidence: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[str, ...]:
    words = {w for cues in CUES.values() for w in cues}
    words |= {w for names in STYLE_SYNONYMS.values() for n in names for w in n.split()}
    words |= {"video", "videos", "clip", "clips", "please", "cartoon", "thumbnail"}
    return tuple(sorted(w for w in words if len(w) >= 4))


def tokens(text: str) -> list[str]:
    """Lower-case words, each corrected to a known word when it is a likely typo of one."""
    out = []
    for word in re.findall(r"[a-z0-9']+", text.lower().replace("’", "'")):
        word = word.replace("'", "")
        if len(word) >= 4 and word not in _vocabulary():
            close = difflib.get_close_matches(word, _vocabulary(), n=1, cutoff=0.8)
            word = close[0] if close else word
        out.append(word)
    return out


def find_style(words: list[str]) -> str | None:
    joined = " " + " ".join(words) + " "
    for style, names in STYLE_SYNONYMS.items():
        if any(f" {name} " in joined for name in names):
            return style
    return None


def _trigrams(text: str) -> Counter:
    padded = f"  {text.lower()}  "
    return Counter(padded[i:i + 3] for i in range(len(padded) - 2))


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(a[k] * b[k] for k in a if k in b)
    norm = (sum(v * v for v in a.values()) * sum(v * v for v in b.values())) ** 0.5
    return dot / norm if norm else 0.0


@lru_cache(maxsize=1)
def _prototype_vectors() -> dict[str, list[Counter]]:
    return {intent: [_trigrams(p) for p in phrases] for intent, phrases in PROTOTYPES.items()}


def similarity(text: str) -> dict[str, float]:
    vector = _trigrams(text)
    return {intent: max(_cosine(vector, p) for p in protos)
            for intent, protos in _prototype_vectors().items()}


def topic_of(words: list[str]) -> str | None:
    match = TOPIC_PATTERN.search(" ".join(words))
    if not match:
        return None
    topic = [w for w in match.group("topic").split() if w not in STOPWORDS]
    return " ".join(topic) or None


def understand(text: str) -> Understanding:
    words = [ALIASES.get(w, w) for w in tokens(text)]
    style = find_style(words)
    scores = {intent: sum(CUES[intent].get(w, 0.0) for w in words) for intent in INTENTS}
    for intent, value in similarity(" ".join(words)).items():
        scores[intent] += SIMILARITY_WEIGHT * value
    joined = " ".join(words)
    # Rules where one cue settles it. A named style in a request to create is a parameter.
    creating = (re.search(r"\b(create|generate|produce|render)\b.*\b(video|clip|animation|short|"
                          r"film|movie)\b", joined)
                or re.search(r"\b(make|create|generate)\b.*\b(new|brand)\b|from scratch", joined)
                or re.search(r"\bmake( me)? (a|an)\b.*\b(video|clip|animation)\b.*"
                             r"\b(of|about|with|showing)\b", joined))
    if creating:
        scores["create"] += 4.0
    elif style:
        scores["style"] += 4.0
    if re.search(r"\bmake (it|this|the \w+) (more|less|\w+er)\b", joined):
        scores["revise"] += 2.5
    if re.search(r"\b(find|search|show|recommend|suggest|browse)\b.*\b(videos|clips|more|similar|other)\b", joined):
        scores["retrieve"] += 2.0
    seconds = SECONDS.search(joined)
    if seconds:
        scores["clip"] += 2.0
    task_scores = {k: v for k, v in scores.items() if k != "chat"}
    if max(task_scores.values()) < 1.5:
        scores["chat"] += 2.0
    intent = max(scores, key=scores.get)
    ranked = sorted(scores.values(), reverse=True)
    confidence = (ranked[0] - ranked[1]) / (ranked[0] + 1e-6)
    topic = topic_of(words) if intent in ("clip", "thumbnail", "create", "retrieve") else None
    return Understanding(intent, style if intent in ("style", "create") else None, topic,
                         float(seconds.group(1)) if seconds and intent == "clip" else None,
                         round(confidence, 3), {k: round(v, 3) for k, v in scores.items()})
