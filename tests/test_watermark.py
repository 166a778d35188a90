"""The invisible watermark on content where dwtDctSvd's U channel clips: greyscale frames that
are mostly pure white (like the old cartoon GIF in shared/media, whose payload was lost)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.fidelity.checks.authenticity import psnr
from core.fidelity.watermark import REPEAT, SCALES, embed, read_payload, watermark_video
from core.media import write_video


def cartoon_frame(k: int, size: tuple[int, int] = (320, 272)) -> np.ndarray:
    """Greyscale drawing on pure white with pure black outlines, moving a little per frame."""
    w, h = size
    grey = np.full((h, w), 255, np.uint8)
    cv2.ellipse(grey, (110 + 3 * k, 140), (70, 50), 0, 0, 360, 0, 4)
    cv2.ellipse(grey, (110 + 3 * k, 140), (30, 20), 0, 0, 360, 150, -1)
    cv2.rectangle(grey, (200, 40 + 2 * k), (290, 120 + 2 * k), 0, -1)
    cv2.putText(grey, "POLKA", (40, 250), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    return np.repeat(grey[:, :, None], 3, axis=2)


@pytest.fixture(scope="module")
def cartoon(tmp_path_factory):
    path = tmp_path_factory.mktemp("cartoon") / "cartoon.mp4"
    return write_video(path, (cartoon_frame(k) for k in range(12)), fps=10)


def test_payload_survives_h264_on_white_greyscale_frames(cartoon, tmp_path):
    """Embed + H.264 + read as the export gate does it, for several payloads."""
    rng = np.random.default_rng(7)
    for k in range(4):
        payload = rng.integers(0, 256, 6, dtype=np.uint8).tobytes()
        found = read_payload(watermark_video(cartoon, tmp_path / f"m{k}.mp4", payload))
        assert found["payload"] == payload.hex() and found["agreement"] >= 0.9


def test_library_decoder_reads_the_mark_and_white_stays_close():
    """The format stays invisible-watermark's dwtDctSvd (its own decoder reads it), and the
    mark costs little on white: luma moves only where the colour would clip."""
    from imwatermark import WatermarkDecoder

    frame = cartoon_frame(0)
    payload = bytes.fromhex("c0ffee123456")
    marked = embed(frame, payload)
    decoded = WatermarkDecoder("bytes", len(payload) * 8 * REPEAT).decode(
        np.ascontiguousarray(marked[:, :, ::-1]), "dwtDctSvd", scales=SCALES)
    assert decoded == payload * REPEAT
    assert psnr(marked, frame) > 36
