"""Looks right at 1280 x 800 (issue 19): one app launch under Xvfb renders every dock and
view (`--screenshots DIR`); each image is non-blank, no label or button is clipped, and the
main window fits the screen."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget  # noqa: E402

from desktop.screenshot import CAPTURES, clipped_texts  # noqa: E402
from test_gui import corpus_copy  # noqa: E402,F401

pytestmark = pytest.mark.gui
ROOT = Path(__file__).resolve().parent.parent
SCREEN = (1280, 800)


def test_clipped_texts_finds_a_squeezed_label_and_button(qtbot):
    """The checker the screenshot test relies on: it flags text that does not fit, and only that."""
    window = QWidget()
    qtbot.addWidget(window)
    row = QHBoxLayout(window)
    label, button = QLabel("a label with a long text"), QPushButton("A long button text")
    row.addWidget(label)
    row.addWidget(button)
    window.show()
    qtbot.waitExposed(window)
    assert clipped_texts(window) == []
    label.setFixedWidth(30)
    button.setFixedWidth(30)
    found = clipped_texts(window)
    assert len(found) == 2 and "QLabel" in found[0] and "QPushButton" in found[1], found
    label.setProperty("elided", True)     # elided on purpose: not reported
    assert len(clipped_texts(window)) == 1


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_every_dock_and_view_fits_1280x800_unclipped(corpus_copy, tmp_path):  # noqa: F811
    import cv2

    out = tmp_path / "shots"
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", f"-screen 0 {SCREEN[0]}x{SCREEN[1]}x24", sys.executable,
         "main.py", "--db", str(corpus_copy), "--screenshots", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
        env={**os.environ, "QT_QPA_PLATFORM": "xcb", "XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert report["screen"] == list(SCREEN)
    assert report["window"][0] <= SCREEN[0] and report["window"][1] <= SCREEN[1], report
    # A window whose minimum is larger than the screen squeezes its docks into each other.
    assert report["window_minimum"][0] <= SCREEN[0] and report["window_minimum"][1] <= SCREEN[1]
    assert set(report["views"]) == set(CAPTURES)
    problems = {}
    for name, view in report["views"].items():
        image = cv2.imread(str(out / view["png"]))
        assert image is not None, name
        assert image.shape[0] >= 100 and image.shape[1] >= 300, (name, image.shape)
        assert image.shape[1] <= SCREEN[0] and image.shape[0] <= SCREEN[1], (name, image.shape)
        # non-blank: text and controls, not one flat colour
        assert image.std() > 8, (name, image.std())
        assert len(set(map(tuple, image.reshape(-1, 3)[::5].tolist()))) > 50, name
        if view["clipped"]:
            problems[name] = view["clipped"]
    assert not problems, json.dumps(problems, indent=1)
