"""Review cards show their evidence: boxes drawn on the frame they refer to, matched text
highlighted in its context (the real window, offscreen)."""
import re

import numpy as np
import pytest

pytest.importorskip("PySide6")
from PySide6.QtGui import QImage  # noqa: E402

from core.editor.generations import record_generation  # noqa: E402
from core.editor.outputs import cut_clip  # noqa: E402
from core.errors import InputError  # noqa: E402
from core.fidelity.base import run_checks  # noqa: E402
from core.fidelity.evidence import frame_rgb, text_excerpts  # noqa: E402
from core.media import iter_frames  # noqa: E402
from core.store import open_store  # noqa: E402
from core.store.corpus import get_item  # noqa: E402
from desktop.review_dock import BOX_COLOUR, HIGHLIGHT  # noqa: E402
import test_gui  # noqa: E402

pytestmark = pytest.mark.gui
# The main window's fixtures: a copy of the small demo, windows closed at teardown, no leaked threads.
corpus_copy, open_window, no_leaked_threads = (test_gui.corpus_copy, test_gui.open_window,
                                               test_gui.no_leaked_threads)
TITLE = "Reach me at jo@example.com for the full cut"
BOX = {"frame": 5, "box": [40, 60, 120, 90], "label": "face", "score": 0.91}


@pytest.fixture
def generation_with_evidence(corpus_copy, tmp_path):
    """A clip generation whose title holds an e-mail address (privacy finds a span) and a
    stored result with a box on frame 5 of its output."""
    with open_store(corpus_copy) as store:
        with store.transaction():
            store.conn.execute("UPDATE items SET title = ? WHERE id = 'demo-0002'", (TITLE,))
        clip = cut_clip(get_item(store, "demo-0002")["path"], 0.0, 1.0, tmp_path / "clip.mp4")
        with store.transaction():
            gen = record_generation(store, "clip", "u0001", "demo-0002",
                                    {"start_s": 0.0, "end_s": 1.0}, {}, [], str(clip))
        run_checks(store, gen)
        with store.transaction():
            store.conn.execute(
                "INSERT INTO checks (generation_id, name, version, blocking, status, score, "
                "evidence) VALUES (?, 'safety', '1', 1, 'warn', 0.91, ?)",
                (gen, '{"text": "a face on frame 5", "boxes": [%s]}' % str(BOX).replace("'", '"')))
    return gen, clip


def _array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def test_card_draws_the_box_on_its_frame_and_highlights_the_span(
        qtbot, open_window, corpus_copy, generation_with_evidence):
    import cv2

    gen, clip = generation_with_evidence
    window = open_window(corpus_copy)
    window.show()
    assert window.review.current() == gen
    cards = {window.review.cards.itemAt(k).widget().name: window.review.cards.itemAt(k).widget()
             for k in range(window.review.cards.count())}
    thumb = cards["safety"].thumbnails[5]
    qtbot.waitUntil(lambda: not thumb.pixmap().isNull(), timeout=10000)
    drawn = _array(thumb.pixmap().toImage())
    frame = [f.image for f in iter_frames(clip)][5]
    plain = cv2.resize(frame, drawn.shape[1::-1], interpolation=cv2.INTER_AREA).astype(int)
    scale = drawn.shape[1] / frame.shape[1]
    x0, y0, w, h = (round(v * scale) for v in BOX["box"])
    border = np.concatenate([drawn[y0, x0 + 3:x0 + w - 3], drawn[y0 + h, x0 + 3:x0 + w - 3],
                             drawn[y0 + 3:y0 + h - 3, x0], drawn[y0 + 3:y0 + h - 3, x0 + w]])
    under = np.concatenate([plain[y0, x0 + 3:x0 + w - 3], plain[y0 + h, x0 + 3:x0 + w - 3],
                            plain[y0 + 3:y0 + h - 3, x0], plain[y0 + 3:y0 + h - 3, x0 + w]])
    red = np.array([int(BOX_COLOUR[k:k + 2], 16) for k in (1, 3, 5)])
    assert (np.abs(border - under).sum(axis=1) > 60).mean() > 0.8, "the box was not drawn"
    assert (np.abs(border - red).max(axis=1) < 60).mean() > 0.8
    inside = (slice(y0 + 4, y0 + h - 4), slice(x0 + 4, x0 + w - 4))
    assert np.abs(drawn[inside] - plain[inside]).mean() < 12, "the frame under the box is the frame"
    spans = cards["privacy"].spans.text()
    assert re.findall(f"background-color:{HIGHLIGHT}'>([^<]*)</span>", spans) == ["jo@example.com"]
    assert "Reach me at " in spans and "title" in spans
    qtbot.waitUntil(lambda: window.is_warm, timeout=60000)   # no warm-up left to start later


def test_frame_by_index_and_text_excerpts(generation_with_evidence, tmp_path):
    _gen, clip = generation_with_evidence
    assert frame_rgb(clip, 15).shape == (256, 256, 3)
    with pytest.raises(InputError, match=r"clip\.mp4: has no frame 16 \(it has 16\)"):
        frame_rgb(clip, 16)
    [excerpt] = text_excerpts([{"text": "jo@example.com", "span": [12, 26], "where": "title"}],
                              {"title": TITLE})
    assert (excerpt["before"], excerpt["match"], excerpt["after"]) == (
        "Reach me at ", "jo@example.com", " for the full cut")
    [stale] = text_excerpts([{"text": "a@b.org", "span": [0, 7], "where": "instructions"}], {})
    assert stale["match"] == "a@b.org" and stale["before"] == ""
