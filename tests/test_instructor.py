import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from core.cli import main
from core.instructor.instructor import instruct, settings
from core.instructor.understand import INTENTS, understand
from core.store import open_store

DATA = Path(__file__).resolve().parent / "data" / "instructions.csv"


def test_intent_accuracy_on_the_labelled_set(capsys):
    rows = list(csv.DictReader(DATA.open(encoding="utf-8")))
    assert len(rows) >= 150
    confusion: dict[str, Counter] = defaultdict(Counter)
    style_hits = style_total = 0
    for row in rows:
        u = understand(row["text"])
        confusion[row["intent"]][u.intent] += 1
        if row["intent"] == "style" and row["style"] and u.intent == "style":
            style_total += 1
            style_hits += u.style == row["style"]
    correct = sum(confusion[i][i] for i in confusion)
    accuracy = correct / len(rows)
    with capsys.disabled():
        print(f"\nintent accuracy {accuracy:.3f} on {len(rows)} phrasings; style names "
              f"{style_hits}/{style_total}")
        print("true \\ predicted " + " ".join(f"{i[:8]:>8}" for i in INTENTS))
        for truth in INTENTS:
            print(f"{truth:<17}" + " ".join(f"{confusion[truth][p]:>8}" for p in INTENTS))
    assert accuracy >= 0.9
    assert style_hits >= 0.9 * style_total


def test_parameters_are_extracted():
    assert understand("create a landscape video in cartoon style").style == "cartoon"
    clip = understand("only show me the part with the tiger")
    assert (clip.intent, clip.topic) == ("clip", "tiger")
    assert understand("cut it to 10 seconds").clip_seconds == 10
    assert understand("make it look like a cartton").style == "cartoon"     # typo


@pytest.fixture
def corpus(small_demo, tmp_path):
    import shutil

    with open_store(small_demo) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(small_demo, tmp_path / "c.db")
    return tmp_path / "c.db"


def _dislikes(store, user_id: str, n: int) -> None:
    latest = store.conn.execute("SELECT MAX(timestamp) FROM interactions").fetchone()[0]
    items = [r[0] for r in store.conn.execute("SELECT id FROM items LIMIT ?", (n,))]
    with store.transaction():
        store.conn.execute("DELETE FROM interactions WHERE user_id = ? AND kind = 'dislike'", (user_id,))
        for k, item in enumerate(items):
            store.conn.execute("INSERT INTO interactions (user_id, item_id, kind, timestamp) "
                               "VALUES (?, ?, 'dislike', ?)", (user_id, item, latest + k))


def test_dislikes_start_the_generator_without_a_request(corpus):
    trigger = settings()["dislike_trigger"]
    with open_store(corpus) as store:
        _dislikes(store, "u0001", trigger)
        _dislikes(store, "u0002", trigger - 2)
        unhappy = instruct(store, "u0001", "hi there", with_guidance=False)
        content = instruct(store, "u0002", "hi there", with_guidance=False)
    assert unhappy["decision"] == "generate" and f"{trigger} dislikes" in unhappy["reason"]
    assert content["decision"] == "retrieve"


def test_a_question_and_its_answer_in_the_next_turn(corpus):
    with open_store(corpus) as store:
        first = instruct(store, "u0003", "change the style of this", "demo-0001", with_guidance=False)
        assert first["question"].startswith("Which style") and len(first["options"]) == 6
        second = instruct(store, "u0003", "yes, the second one", with_guidance=False)
        assert second["resolved_from_previous"] and second["intent"] == "style"
        assert second["parameters"]["style"] == first["options"][1]
        assert second["item_id"] == "demo-0001" and second["question"] is None
        no_item = instruct(store, "u0003", "cut out the boring part", with_guidance=False)
        assert no_item["question"].startswith("Which video")
        turns = store.conn.execute("SELECT COUNT(*) FROM instructions WHERE user_id = 'u0003' "
                                   "AND response IS NOT NULL").fetchone()[0]
        assert turns == 3


def test_cli_instruct_json(corpus, capsys):
    assert main(["instruct", "--db", str(corpus), "--user", "u0004", "--item", "demo-0002",
                 "make this one look like a cartoon", "--json"]) == 0
    response = json.loads(capsys.readouterr().out)
    assert (response["decision"], response["intent"]) == ("generate", "style")
    assert response["parameters"]["style"] == "cartoon"
    assert len(response["guidance"]["text_embedding"]) == 128
    assert main(["instruct", "--db", str(corpus), "--user", "ghost", "hello"]) == 2
