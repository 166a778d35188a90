"""Where approved AI items land in a user's ranking (issue 19's per-user panel): the
computation in core.user_ranking and its view, View → AI items in the user's ranking."""
import shutil
from pathlib import Path

import pytest

from core.store import open_store
from core.user_ranking import ai_items_in_ranking

USER = "u0001"


@pytest.fixture
def ranked_corpus(small_demo, tmp_path) -> Path:
    """The small demo with u0001 keeping one like (so content similarity can rank) and
    nothing else, so every other indexed item is in their pool; the pool's second item becomes
    an approved, exported AI item made for u0003."""
    from core.encoders import load_encoder
    from core.encoders.indexing import index_corpus
    from core.recommender.service import predicted_scores

    db = tmp_path / "corpus.db"
    with open_store(small_demo) as store:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(small_demo, db)
    with open_store(db) as store:
        index_corpus(store, load_encoder("bundled"), n_frames=4)
        scored = predicted_scores(store, None, USER)
        keep = store.conn.execute(
            "SELECT rowid, item_id FROM interactions WHERE user_id = ? AND kind = 'like' "
            "AND split = 'train' ORDER BY rowid", (USER,)).fetchall()
        keep = next(r for r in keep if r[1] in scored)
        store.conn.execute("DELETE FROM interactions WHERE user_id = ? AND rowid != ?",
                           (USER, keep[0]))
        pool = sorted((i for i in scored if i != keep[1]), key=lambda i: (-scored[i], i))
        ai_item = ai_items_in_ranking(store, USER).items[1].item_id
        store.conn.execute("UPDATE items SET source = 'ai' WHERE id = ?", (ai_item,))
        store.conn.execute("INSERT INTO generations (id, task, user_id, item_id, status) "
                           "VALUES (?, 'clip', 'u0003', ?, 'exported')", (ai_item, keep[1]))
        store.conn.commit()
    return db


def test_ai_items_get_their_position_in_the_users_ranking(ranked_corpus):
    from core.recommender.service import predicted_scores

    with open_store(ranked_corpus) as store:
        ranking = ai_items_in_ranking(store, USER)
        scores = predicted_scores(store, None, USER)
        seen = {r[0] for r in store.conn.execute(
            "SELECT item_id FROM interactions WHERE user_id = ?", (USER,))}
        small = ai_items_in_ranking(store, USER, k=1)
    assert len(ranking.items) >= 3
    assert [i.position for i in ranking.items] == list(range(1, len(ranking.items) + 1))
    assert [i.item_id for i in ranking.items] == sorted(
        (i for i in scores if i not in seen), key=lambda i: (-scores[i], i))
    assert all(a.score >= b.score for a, b in zip(ranking.items, ranking.items[1:]))
    assert ranking.ranker == "content similarity" and ranking.k == 10
    (ai,) = ranking.ai_items
    assert (ai.position, ai.source, ai.made_for) == (2, "ai", "u0003")
    assert ai.score == pytest.approx(scores[ai.item_id])
    assert ranking.ai_in_top_k == 1 and ranking.best_ai_position == 2
    assert small.ai_in_top_k == 0 and small.best_ai_position == 2
    assert all(i.made_for == "" for i in ranking.items if i.source == "human")


def test_ranking_action_is_listed_everywhere():
    from desktop.actions import BY_KEY, VIEWS, commands

    spec = BY_KEY["view.ranking"]
    assert spec.shortcut and spec.menu == "View" and "ranking" in VIEWS
    assert any(row["key"] == "view.ranking" for row in commands())


@pytest.mark.gui
def test_ranking_view_shows_where_the_ai_item_lands(qtbot, ranked_corpus, tmp_path):
    pytest.importorskip("PySide6")
    from PySide6.QtCharts import QScatterSeries
    from PySide6.QtCore import QSettings

    from desktop.main_window import MainWindow

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    window = MainWindow(ranked_corpus, build_demo_if_empty=False)
    qtbot.addWidget(window)
    try:
        window.show()
        qtbot.waitUntil(lambda: window.is_warm, timeout=180000)
        window.state.set_user(USER)
        window.actions_by_key["view.ranking"].trigger()    # as the menu and the palette do
        qtbot.waitUntil(lambda: window.ranking.ranking is not None, timeout=60000)
        view = window.ranking
        assert window._docks["Ranking"].isVisible()
        assert view.table.rowCount() == 1 and view.table.item(0, 0).text() == "2"
        assert view.table.item(0, 2).text() == "u0003"
        points = {s.name(): [(p.x(), p.y()) for p in s.points()]
                  for s in view.chart.chart().series() if isinstance(s, QScatterSeries)}
        assert [x for x, _ in points["approved AI items"]] == [2.0]
        assert len(points["human items"]) == len(view.ranking.items) - 1
        assert "1 in the top 10" in view.status.text()
        # another user: the panel follows the selection
        view.ranking = None
        window.state.set_user("u0003")
        qtbot.waitUntil(lambda: view.ranking is not None or "no ranking" in view.status.text(),
                        timeout=60000)
        assert "u0003" in view.status.text()
        # a user with nothing liked: the failure is said in the panel (on the GUI thread)
        with open_store(ranked_corpus) as store, store.transaction():
            store.conn.execute("INSERT INTO users (id) VALUES ('u9999')")
        window.state.set_user("u9999")
        qtbot.waitUntil(lambda: "no ranking" in view.status.text(), timeout=60000)
        assert "u9999" in view.status.text() and view.table.rowCount() == 0
    finally:
        window.close()
