"""The instructor: an instruction plus the user's feedback and conversation become a decision
(retrieve only, or start the generator), an intent with its parameters, guidance signals, and
where something is missing, one clarifying question. Every turn is stored per user, so that a
second turn ("yes, the second one") resolves against the first."""
from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import datetime, timezone

from core.editor.style import PRESETS
from core.errors import InputError
from core.instructor.lexicon import ORDINALS
from core.instructor.understand import Understanding, tokens, understand
from core.paths import RESOURCES
from core.store import Store
from core.store.corpus import existing_users
from core.store.instructions import (human_dislikes_since, insert_instruction,
                                     last_response_json, latest_feedback_time)

GENERATOR_INTENTS = ("thumbnail", "clip", "style", "revise", "create")
NEEDS_ITEM = ("thumbnail", "clip", "style", "revise")


def settings() -> dict:
    return json.loads((RESOURCES / "instructor.json").read_text())


def recent_dislikes(store: Store, user_id: str, window_days: float) -> int:
    """Dislikes of human-made items in the window before the user's latest feedback."""
    latest = latest_feedback_time(store, user_id)
    if latest is None:
        return 0
    return human_dislikes_since(store, user_id, latest - window_days * 86400)


def _last_question(store: Store, user_id: str) -> dict | None:
    text = last_response_json(store, user_id)
    if text is None:
        return None
    response = json.loads(text)
    return response if response.get("question") else None


def _answer(text: str, question: dict) -> str | None:
    """The option a follow-up picks, by ordinal ("the second one") or by name."""
    words = tokens(text)
    options = question["options"]
    for word in words:
        if word in ORDINALS and options:
            return options[ORDINALS[word]] if ORDINALS[word] < len(options) else None
    joined = " ".join(words).replace("_", " ")
    for option in options:
        if option.replace("_", " ") in joined:
            return option
    return None


def _question(u: Understanding, item_id: str | None) -> tuple[str | None, list[str]]:
    if u.intent == "style" and not u.style:
        labels = ", ".join(p.label.lower() for p in PRESETS.values())
        return f"Which style would you like: {labels}?", list(PRESETS)
    if u.intent in NEEDS_ITEM and not item_id:
        return "Which video should I work on? Select one in the corpus.", []
    if u.intent == "create" and not u.topic:
        return "What should the new video show?", []
    return None, []


def instruct(store: Store, user_id: str, text: str, item_id: str | None = None,
             with_guidance: bool = True) -> dict:
    if user_id not in existing_users(store, [user_id]):
        raise InputError(f"unknown user {user_id!r}")
    if not text.strip():
        raise InputError("empty instruction")
    previous = _last_question(store, user_id)
    picked = _answer(text, previous) if previous else None
    if picked is not None:                       # a follow-up that answers the last question
        u = Understanding(**{**previous["understanding"], "style": picked})
        item_id = item_id or previous.get("item_id")
    else:
        u = understand(text)
    config = settings()
    dislikes = recent_dislikes(store, user_id, config["window_days"])
    explicit = u.intent in GENERATOR_INTENTS
    implicit = not explicit and dislikes >= config["dislike_trigger"]
    if explicit:
        reason = f"explicit request ({u.intent})"
    elif implicit:
        reason = (f"{dislikes} dislikes of human-made items in the last {config['window_days']} "
                  f"days (trigger: {config['dislike_trigger']})")
    else:
        reason = "no request for generated content; retrieving human-made items"
    question, options = _question(u, item_id) if explicit else (None, [])
    response = {
        "decision": "generate" if explicit or implicit else "retrieve",
        "reason": reason,
        "intent": u.intent,
        "generator_task": u.intent if explicit else ("create" if implicit else None),
        "parameters": {"style": u.style, "topic": u.topic, "clip_seconds": u.clip_seconds},
        "item_id": item_id,
        "question": question,
        "options": options,
        "recent_dislikes": dislikes,
        "understanding": asdict(u),
        "resolved_from_previous": picked is not None,
    }
    with store.transaction():
        insert_instruction(store, user_id, item_id, text.strip(), response)
        store.audit("instruction.understood", user_id, {"intent": u.intent,
                                                        "decision": response["decision"]})
    if with_guidance:
        response["guidance"] = _guidance(store, user_id, u, text)
    return response


def _guidance(store: Store, user_id: str, u: Understanding, text: str) -> dict:
    """The text embedding that steers the generator, and the user's history vector."""
    from core.editor.history import history_vector
    from core.editor.service import resolve_model_id
    from core.encoders import load_encoder

    prompt = " ".join(x for x in (PRESETS[u.style].label.lower() if u.style else None, u.topic) if x) \
        or re.sub(r"\s+", " ", text.strip())
    encoder = load_encoder("bundled")
    guidance = {"text": prompt, "encoder": encoder.model_id,
                "text_embedding": [round(float(v), 5) for v in encoder.encode_texts([prompt])[0]]}
    try:
        user = history_vector(store, resolve_model_id(store), user_id)
        guidance["user_vector"] = [round(float(v), 5) for v in user]
    except InputError as exc:
        guidance["user_vector"] = None
        guidance["user_vector_missing"] = str(exc)
    guidance["created_at"] = datetime.now(timezone.utc).isoformat()
    return guidance
